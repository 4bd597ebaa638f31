package whois

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ErrNotFound is IRRd's "D": the key (set, AS) is not in the database.
var ErrNotFound = errors.New("key not found")

// ServerError is IRRd's "F <message>" (or "E", several copies of the key):
// the server refused the query.
type ServerError struct {
	Code    byte // 'F' or 'E'
	Message string
}

func (e *ServerError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("server answered %c", e.Code)
	}
	return fmt.Sprintf("server answered %c: %s", e.Code, e.Message)
}

// ProtocolError is an answer that does not follow the framing.
type ProtocolError struct {
	Offset int64 // bytes of the answer read before the problem
	Detail string
}

func (e *ProtocolError) Error() string {
	return fmt.Sprintf("malformed answer at byte %d: %s", e.Offset, e.Detail)
}

// readFramed reads one answer to an IRRd-style (!) query from r:
//
//	A<n>\n<n bytes>C\n   data
//	C\n                  success, no data
//	D\n                  key not found (ErrNotFound)
//	E\n, F <text>\n      *ServerError
//
// An answer longer than max bytes is refused before it is read.
func readFramed(r *bufio.Reader, max int) ([]byte, error) {
	line, err := readLine(r, 1024, 0)
	if err != nil {
		return nil, err
	}
	if line == "" {
		return nil, &ProtocolError{Detail: "empty status line"}
	}
	switch line[0] {
	case 'C':
		return nil, nil
	case 'D':
		return nil, ErrNotFound
	case 'E', 'F':
		return nil, &ServerError{Code: line[0], Message: strings.TrimSpace(line[1:])}
	case 'A':
	default:
		return nil, &ProtocolError{Detail: fmt.Sprintf("status line %q: want A<length>, C, D, E or F", clip(line))}
	}
	n, err := strconv.Atoi(line[1:])
	if err != nil || n < 0 {
		return nil, &ProtocolError{Detail: fmt.Sprintf("length %q is not a number", clip(line[1:]))}
	}
	if n > max {
		return nil, &ProtocolError{Offset: int64(len(line) + 1), Detail: fmt.Sprintf("answer of %d bytes is over the limit of %d", n, max)}
	}
	data := make([]byte, n)
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, &ProtocolError{Offset: int64(len(line) + 1), Detail: fmt.Sprintf("answer cut short: %v", err)}
	}
	end, err := readLine(r, 1024, int64(len(line)+1+n))
	if err != nil {
		return nil, err
	}
	if end == "" {
		// Servers differ on whether the length counts the data's final
		// newline; take either.
		if end, err = readLine(r, 1024, int64(len(line)+2+n)); err != nil {
			return nil, err
		}
	}
	if end != "C" {
		return nil, &ProtocolError{Offset: int64(len(line) + 1 + n), Detail: fmt.Sprintf("after the data: %q, want C", clip(end))}
	}
	return data, nil
}

// readLine reads a line of at most max bytes, without its \n (and \r).
func readLine(r *bufio.Reader, max int, off int64) (string, error) {
	var b []byte
	for {
		c, err := r.ReadByte()
		if err != nil {
			if errors.Is(err, io.EOF) {
				if len(b) == 0 {
					return "", &ProtocolError{Offset: off, Detail: "connection closed before an answer"}
				}
				return "", &ProtocolError{Offset: off + int64(len(b)), Detail: "connection closed inside a line"}
			}
			return "", err
		}
		if c == '\n' {
			return strings.TrimSuffix(string(b), "\r"), nil
		}
		if len(b) >= max {
			return "", &ProtocolError{Offset: off + int64(len(b)), Detail: fmt.Sprintf("line longer than %d bytes", max)}
		}
		b = append(b, c)
	}
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
