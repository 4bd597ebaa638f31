package whois

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// transcript reads testdata/<name>: query → the answer recorded for it.
func transcript(t testing.TB, name string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]string)
	var q string
	var ans strings.Builder
	flush := func() {
		if q != "" {
			out[q] = ans.String()
		}
		ans.Reset()
	}
	for _, line := range strings.SplitAfter(string(b), "\n") {
		switch {
		case strings.HasPrefix(line, "#"), line == "":
		case strings.HasPrefix(line, ">"):
			flush()
			q = strings.TrimSpace(line[1:])
		default:
			ans.WriteString(line)
		}
	}
	flush()
	return out
}

// serve answers IRRd queries from answers on a loopback listener, as an
// IRRd in multiple-command mode does, and returns its address.
func serve(t *testing.T, answers map[string]string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					q := strings.TrimSpace(line)
					if q == "!!" {
						continue
					}
					a, ok := answers[q]
					if !ok {
						a = "F unknown query\n"
					}
					if _, err := c.Write([]byte(a)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func TestSessionQueries(t *testing.T) {
	addr := serve(t, transcript(t, "radb-session.txt"))
	ctx := context.Background()
	s, err := Dial(ctx, addr, Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Sources(ctx, "RADB"); err != nil {
		t.Fatal(err)
	}
	m, err := s.Members(ctx, "AS-EXAMPLE")
	if err != nil || !slices.Equal(m, []string{"AS64496", "AS64497", "AS64498"}) {
		t.Fatalf("members = %v, %v", m, err)
	}
	if _, err := s.Members(ctx, "AS-MISSING"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), "!iAS-MISSING,1") {
		t.Fatalf("missing set: %v", err)
	}
	v4, err := s.Routes(ctx, "AS64496", false)
	if err != nil || !slices.Equal(v4, []string{"192.0.2.0/24", "198.51.100.0/25"}) {
		t.Fatalf("!g = %v, %v", v4, err)
	}
	v6, err := s.Routes(ctx, "AS64496", true)
	if err != nil || !slices.Equal(v6, []string{"2001:db8::/32"}) {
		t.Fatalf("!6 = %v, %v", v6, err)
	}
	if r, err := s.Routes(ctx, "AS64499", false); err != nil || len(r) != 0 {
		t.Fatalf("AS without routes: %v, %v", r, err)
	}
	var se *ServerError
	if _, err := s.DirectMembers(ctx, "AS-BAD"); !errors.As(err, &se) || se.Message != "Invalid source" {
		t.Fatalf("F answer: %v", err)
	}
	// A refusal leaves the session in step: the next query still works.
	if m, err := s.Members(ctx, "AS-EXAMPLE"); err != nil || len(m) != 3 {
		t.Fatalf("after F: %v, %v", m, err)
	}
}

// A server that does not answer is given up on at the deadline, and the
// error names the server and the query.
func TestSessionDeadline(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	defer close(done)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			<-done
			c.Close()
		}
	}()
	s, err := Dial(context.Background(), ln.Addr().String(), Options{Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Members(context.Background(), "AS-EXAMPLE")
	var qe *QueryError
	if !errors.As(err, &qe) || qe.Query != "!iAS-EXAMPLE,1" || qe.Server != ln.Addr().String() {
		t.Fatalf("err = %v", err)
	}
	if _, err := s.Members(context.Background(), "AS-EXAMPLE"); err == nil || !strings.Contains(err.Error(), "unusable") {
		t.Fatalf("a session whose answer may still come must not be reused: %v", err)
	}
}

// A text query reads until the server closes, and no more than MaxResponse.
func TestQueryText(t *testing.T) {
	obj, err := os.ReadFile(filepath.Join("testdata", "as-set.txt"))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 2)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			line, _ := bufio.NewReader(c).ReadString('\n')
			got <- line
			c.Write(obj)
			c.Close()
		}
	}()
	b, err := Query(context.Background(), ln.Addr().String(), "-r -T as-set AS-EXAMPLE", Options{})
	if err != nil || !bytes.Equal(b, obj) {
		t.Fatalf("answer = %q, %v", b, err)
	}
	if q := <-got; q != "-r -T as-set AS-EXAMPLE\r\n" {
		t.Errorf("sent %q", q)
	}
	if _, err := Query(context.Background(), ln.Addr().String(), "-r AS-EXAMPLE", Options{MaxResponse: 10}); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("over the limit: %v", err)
	}
	if _, err := Query(context.Background(), ln.Addr().String(), "a\nb", Options{}); err == nil {
		t.Fatal("a query with a newline was sent")
	}
}

func TestReadFramedErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "closed before an answer"},
		{"X\n", "want A<length>"},
		{"Aten\n", "not a number"},
		{"A5\nab", "cut short"},
		{"A2\nabX\n", "want C"},
		{"A99999999\n", "over the limit"},
		{strings.Repeat("A", 2000), "longer than"},
	} {
		_, err := readFramed(bufio.NewReader(strings.NewReader(tc.in)), 1<<20)
		var pe *ProtocolError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.in, err, tc.want)
		}
	}
}

func FuzzReadFramed(f *testing.F) {
	for _, a := range transcript(f, "radb-session.txt") {
		f.Add([]byte(a))
	}
	f.Add([]byte("A3\nabc\nC\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		data, err := readFramed(bufio.NewReader(bytes.NewReader(b)), 1<<16)
		if err == nil && len(data) > len(b) {
			t.Fatalf("%d bytes of data from %d bytes", len(data), len(b))
		}
	})
}
