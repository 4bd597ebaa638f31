package netsim

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// RFC 6242 framing. The hello is always sent with the end-of-message marker
// ([RFC6242 4.1]); once both peers have advertised base:1.1, every later
// message in both directions uses chunked framing ([RFC6242 4.2]).
//
// [RFC6242 4.1]: https://www.rfc-editor.org/rfc/rfc6242#section-4.1
// [RFC6242 4.2]: https://www.rfc-editor.org/rfc/rfc6242#section-4.2

// endOfMessage terminates a message in base:1.0 framing.
const endOfMessage = "]]>]]>"

// maxChunkDigits bounds the chunk-size field: RFC 6242 caps a chunk at
// 4294967295 octets, ten decimal digits.
const maxChunkDigits = 10

// maxChunkSize is the largest chunk-size RFC 6242 allows.
const maxChunkSize = 4294967295

// errTooBig is a message longer than the framer's limit; the session ends,
// since the rest of the stream cannot be resynchronised cheaply.
var errTooBig = errors.New("netconf message exceeds size limit")

// framingError is a byte stream that breaks RFC 6242 framing. The peer that
// sees one closes the session ([RFC6242 4.2]: a framing error is fatal).
type framingError struct {
	Msg string
}

func (e *framingError) Error() string { return "netconf framing: " + e.Msg }

// frameReader reads whole NETCONF messages from a stream.
type frameReader struct {
	br      *bufio.Reader
	chunked bool
	limit   int // largest message accepted, in bytes
}

func newFrameReader(r io.Reader, limit int) *frameReader {
	return &frameReader{br: bufio.NewReader(r), limit: limit}
}

// ReadMessage returns the next message without its framing. io.EOF means the
// peer closed the stream between messages.
func (f *frameReader) ReadMessage() ([]byte, error) {
	if f.chunked {
		return readChunked(f.br, f.limit)
	}
	return readEndOfMessage(f.br, f.limit)
}

// readEndOfMessage reads up to and excluding "]]>]]>".
func readEndOfMessage(br *bufio.Reader, limit int) ([]byte, error) {
	var buf []byte
	marker := []byte(endOfMessage)
	for {
		b, err := br.ReadByte()
		if err != nil {
			if errors.Is(err, io.EOF) && len(bytes.TrimSpace(buf)) > 0 {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
		buf = append(buf, b)
		if b == '>' && bytes.HasSuffix(buf, marker) {
			return buf[:len(buf)-len(marker)], nil
		}
		if len(buf) > limit+len(marker) {
			return nil, errTooBig
		}
	}
}

// readChunked reads one chunked-framing message: one or more
// "\n#<size>\n<data>" chunks ended by "\n##\n".
func readChunked(br *bufio.Reader, limit int) ([]byte, error) {
	var msg []byte
	first := true
	for {
		size, err := readChunkHeader(br, first)
		if err != nil {
			return nil, err
		}
		if size == 0 {
			if first {
				// An end-of-chunks marker right away is a message without
				// any chunk, which the ABNF forbids (chunk+).
				return nil, &framingError{Msg: "end-of-chunks without a chunk"}
			}
			return msg, nil
		}
		first = false
		if size > uint64(limit-len(msg)) {
			return nil, errTooBig
		}
		start := len(msg)
		msg = append(msg, make([]byte, size)...)
		if _, err := io.ReadFull(br, msg[start:]); err != nil {
			return nil, unexpectedEOF(err)
		}
	}
}

// readChunkHeader reads "\n#<size>\n" and returns size, or "\n##\n" and
// returns 0. Between messages a clean EOF is io.EOF; anywhere else it is
// io.ErrUnexpectedEOF.
func readChunkHeader(br *bufio.Reader, first bool) (uint64, error) {
	b, err := br.ReadByte()
	if err != nil {
		if first {
			return 0, err
		}
		return 0, unexpectedEOF(err)
	}
	if b != '\n' {
		return 0, &framingError{Msg: fmt.Sprintf("expected LF before chunk header, got %q", b)}
	}
	if b, err = br.ReadByte(); err != nil {
		return 0, unexpectedEOF(err)
	}
	if b != '#' {
		return 0, &framingError{Msg: fmt.Sprintf("expected '#' in chunk header, got %q", b)}
	}
	var digits []byte
	for {
		if b, err = br.ReadByte(); err != nil {
			return 0, unexpectedEOF(err)
		}
		if b == '\n' {
			break
		}
		if b == '#' && len(digits) == 0 {
			// "\n##" must be followed by LF to end the chunks.
			if b, err = br.ReadByte(); err != nil {
				return 0, unexpectedEOF(err)
			}
			if b != '\n' {
				return 0, &framingError{Msg: "malformed end-of-chunks marker"}
			}
			if first {
				return 0, &framingError{Msg: "end-of-chunks without a chunk"}
			}
			return 0, nil
		}
		// chunk-size = 1*DIGIT1 0*DIGIT: no leading zero, no sign.
		if b < '0' || b > '9' || (len(digits) == 0 && b == '0') {
			return 0, &framingError{Msg: fmt.Sprintf("invalid chunk-size byte %q", b)}
		}
		digits = append(digits, b)
		if len(digits) > maxChunkDigits {
			return 0, &framingError{Msg: "chunk-size too long"}
		}
	}
	if len(digits) == 0 {
		return 0, &framingError{Msg: "empty chunk-size"}
	}
	n, err := strconv.ParseUint(string(digits), 10, 64)
	if err != nil || n > maxChunkSize {
		return 0, &framingError{Msg: "chunk-size out of range"}
	}
	return n, nil
}

func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// writeMessage frames msg and writes it in one call, so that a message is
// never interleaved with another on the channel.
func writeMessage(w io.Writer, msg []byte, chunked bool) error {
	var buf bytes.Buffer
	buf.Grow(len(msg) + 32)
	if chunked {
		if len(msg) > 0 {
			fmt.Fprintf(&buf, "\n#%d\n", len(msg))
			buf.Write(msg)
		}
		buf.WriteString("\n##\n")
	} else {
		buf.Write(msg)
		buf.WriteString(endOfMessage)
	}
	_, err := w.Write(buf.Bytes())
	return err
}
