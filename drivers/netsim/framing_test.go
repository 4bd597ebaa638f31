package netsim

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestReadChunked(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string // messages, in order
		wantErr bool     // after the messages
	}{
		{name: "rfc example", in: "\n#4\n<rpc\n#18\n message-id=\"102\"\n\n#79\n     xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\">\n  <close-session/>\n</rpc>\n##\n",
			want: []string{"<rpc message-id=\"102\"\n     xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\">\n  <close-session/>\n</rpc>"}},
		{name: "two messages", in: "\n#3\nabc\n##\n\n#1\nd\n##\n", want: []string{"abc", "d"}},
		{name: "leading zero", in: "\n#03\nabc\n##\n", wantErr: true},
		{name: "zero size", in: "\n#0\n\n##\n", wantErr: true},
		{name: "no chunk", in: "\n##\n", wantErr: true},
		{name: "sign", in: "\n#+3\nabc\n##\n", wantErr: true},
		{name: "too many digits", in: "\n#12345678901\n", wantErr: true},
		{name: "over max", in: "\n#4294967296\n", wantErr: true},
		{name: "missing LF", in: "#3\nabc\n##\n", wantErr: true},
		{name: "truncated data", in: "\n#5\nab", wantErr: true},
		{name: "bad end marker", in: "\n#3\nabc\n##x", wantErr: true},
		{name: "over limit", in: "\n#2000\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			br := bufio.NewReader(strings.NewReader(tt.in))
			for _, w := range tt.want {
				got, err := readChunked(br, 1024)
				if err != nil {
					t.Fatalf("readChunked: %v", err)
				}
				if string(got) != w {
					t.Fatalf("got %q, want %q", got, w)
				}
			}
			_, err := readChunked(br, 1024)
			if tt.wantErr {
				if err == nil || errors.Is(err, io.EOF) {
					t.Fatalf("got %v, want a framing error", err)
				}
			} else if !errors.Is(err, io.EOF) {
				t.Fatalf("after the messages: got %v, want io.EOF", err)
			}
		})
	}
}

func TestReadEndOfMessage(t *testing.T) {
	br := bufio.NewReader(strings.NewReader("<hello/>]]>]]>\n<rpc>]]>]</rpc>]]>]]>tail"))
	for _, want := range []string{"<hello/>", "\n<rpc>]]>]</rpc>"} {
		got, err := readEndOfMessage(br, 1024)
		if err != nil || string(got) != want {
			t.Fatalf("got %q, %v; want %q", got, err, want)
		}
	}
	if _, err := readEndOfMessage(br, 1024); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("truncated message: got %v, want io.ErrUnexpectedEOF", err)
	}
	if _, err := readEndOfMessage(bufio.NewReader(strings.NewReader(strings.Repeat("x", 100))), 10); !errors.Is(err, errTooBig) {
		t.Fatalf("long message: got %v, want errTooBig", err)
	}
}

func TestWriteMessageRoundTrip(t *testing.T) {
	for _, chunked := range []bool{false, true} {
		var buf bytes.Buffer
		msgs := []string{"<a/>", "<b>\n##\n</b>"}
		for _, m := range msgs {
			if err := writeMessage(&buf, []byte(m), chunked); err != nil {
				t.Fatal(err)
			}
		}
		fr := newFrameReader(&buf, 1024)
		fr.chunked = chunked
		for _, m := range msgs {
			got, err := fr.ReadMessage()
			if err != nil || string(got) != m {
				t.Fatalf("chunked=%v: got %q, %v; want %q", chunked, got, err, m)
			}
		}
	}
}

// FuzzChunkedFraming feeds arbitrary bytes to the chunked reader: it must
// never panic or allocate past its limit, and any message it accepts must
// come back the same after writing and reading it again.
func FuzzChunkedFraming(f *testing.F) {
	for _, s := range []string{
		"\n#3\nabc\n##\n",
		"\n#1\na\n#2\nbc\n##\n",
		"\n#03\nabc\n##\n",
		"\n##\n",
		"\n#4294967295\n",
		"\n#3\nab",
		"",
	} {
		f.Add([]byte(s))
	}
	const limit = 1 << 16
	f.Fuzz(func(t *testing.T, in []byte) {
		br := bufio.NewReader(bytes.NewReader(in))
		for range 8 {
			msg, err := readChunked(br, limit)
			if err != nil {
				return
			}
			if len(msg) == 0 || len(msg) > limit {
				t.Fatalf("accepted a message of %d bytes", len(msg))
			}
			var buf bytes.Buffer
			if err := writeMessage(&buf, msg, true); err != nil {
				t.Fatal(err)
			}
			again, err := readChunked(bufio.NewReader(&buf), limit)
			if err != nil || !bytes.Equal(again, msg) {
				t.Fatalf("round trip: got %q, %v; want %q", again, err, msg)
			}
		}
	})
}
