package irrsim

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netrecon/netrecon/lab/labtest"
	"github.com/netrecon/netrecon/rpsl"
)

// whoisConn is a raw client: it sends lines and reads IRRd-framed answers.
type whoisConn struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dialWhois(t *testing.T, addr string) *whoisConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return &whoisConn{t: t, conn: c, r: bufio.NewReader(c)}
}

func (w *whoisConn) send(q string) {
	w.t.Helper()
	if _, err := io.WriteString(w.conn, q+"\n"); err != nil {
		w.t.Fatal(err)
	}
}

// answer reads one IRRd answer: the data of an "A" answer, or the status line.
func (w *whoisConn) answer() string {
	w.t.Helper()
	line, err := w.r.ReadString('\n')
	if err != nil {
		w.t.Fatalf("reading an answer: %v", err)
	}
	if !strings.HasPrefix(line, "A") {
		return strings.TrimSuffix(line, "\n")
	}
	n, err := strconv.Atoi(strings.TrimSpace(line[1:]))
	if err != nil {
		w.t.Fatalf("bad length line %q", line)
	}
	data := make([]byte, n)
	if _, err := io.ReadFull(w.r, data); err != nil {
		w.t.Fatal(err)
	}
	if end, _ := w.r.ReadString('\n'); end != "C\n" {
		w.t.Fatalf("data not followed by C: %q", end)
	}
	return strings.TrimSuffix(string(data), "\n")
}

func TestWhoisIRRdQueries(t *testing.T) {
	s := startSim(t, Options{})
	w := dialWhois(t, s.DB("JPIRR").WhoisAddr())
	w.send("!!")
	for _, tc := range []struct{ query, want string }{
		{"!s-lc", "JPIRR"},
		{"!gAS132002", "198.51.100.0/24 198.51.100.128/25"},
		{"!6as132001", "2001:db8::/32"},
		{"!gAS132009", "D"},
		{"!gFOO", "F Invalid AS number FOO: \"FOO\" is not an AS number: want AS followed by digits, e.g. AS64500"},
		{"!iAS-ACME", "AS132001 AS-ACME-SUB"},
		// AS-ACME-SUB names AS-ACME again: the cycle ends, each AS once.
		{"!iAS-NETRECON-CUSTOMERS,1", "AS132001 AS132002 AS132003"},
		{"!iAS64500:AS-TRANSIT,1", "AS132003"},
		{"!iAS-NONE,1", "D"},
		{"!a4AS-ACME", "192.0.2.0/24 198.51.100.0/24 198.51.100.128/25"},
		{"!maut-num,AS64500", "aut-num:        AS64500\nas-name:        NETRECON\nmnt-by:         MAINT-NETRECON\nsource:         JPIRR"},
		{"!mmntner,MAINT-ACME", "mntner:         MAINT-ACME\nauth:           BCRYPT-PW DummyValue  # Filtered for security\nmnt-by:         MAINT-ACME\nsource:         JPIRR"},
		{"!maut-num,AS1", "D"},
		{"!sRADB", "F One or more selected sources are unavailable: RADB"},
		{"!sJPIRR", "C"},
		{"!x", "F Unrecognised command: x"},
		{"!i", "F Missing parameter for i query"},
	} {
		w.send(tc.query)
		if got := w.answer(); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.query, got, tc.want)
		}
	}
	w.send("!q")
	if _, err := w.r.ReadByte(); err != io.EOF {
		t.Errorf("!q: connection still open (%v)", err)
	}
}

// Without !!, RFC 3912: one query, one answer, then the server closes.
func TestWhoisClosesAfterOneQuery(t *testing.T) {
	s := startSim(t, Options{})
	w := dialWhois(t, s.DB("RADB").WhoisAddr())
	w.send("!gAS132001")
	if got := w.answer(); got != "192.0.2.0/24" {
		t.Errorf("got %q", got)
	}
	if _, err := w.r.ReadByte(); err != io.EOF {
		t.Errorf("connection still open after one query without !! (%v)", err)
	}
}

func TestWhoisRIPEQueries(t *testing.T) {
	s := startSim(t, Options{})
	for _, tc := range []struct {
		query string
		keys  []string // classes and keys of the objects expected
	}{
		{"AS-ACME", []string{"as-set AS-ACME"}},
		{"-r -T as-set as-acme", []string{"as-set AS-ACME"}},
		{"-T aut-num AS-ACME", nil},
		{"-K -T route 198.51.100.0/24", []string{"route 198.51.100.0/24"}},
		{"-i mnt-by MAINT-NETRECON -T as-set", []string{"as-set AS-NETRECON-CUSTOMERS", "as-set AS64500:AS-TRANSIT"}},
		{"-s RADB AS-ACME", nil},
	} {
		w := dialWhois(t, s.DB("JPIRR").WhoisAddr())
		w.send(tc.query)
		text, err := io.ReadAll(w.r)
		if err != nil {
			t.Fatal(err)
		}
		if tc.keys == nil {
			if !strings.HasPrefix(string(text), "%  No entries found") {
				t.Errorf("%s: got %q, want no entries", tc.query, text)
			}
			continue
		}
		objs, err := rpsl.Parse(string(text))
		if err != nil {
			t.Fatalf("%s: answer does not parse: %v\n%s", tc.query, err, text)
		}
		var got []string
		for _, o := range objs {
			got = append(got, o.Class()+" "+o.Key())
		}
		if !slices.Equal(got, tc.keys) {
			t.Errorf("%s: got %q, want %q", tc.query, got, tc.keys)
		}
		if strings.HasPrefix(tc.query, "-K") && len(objs[0].Attrs) != 2 {
			t.Errorf("-K: got %v, want only the key attributes", objs[0].Attrs)
		}
	}
}

// lookPath finds a real client, or ends the test through labtest.Missing.
func lookPath(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		labtest.Missing(t, "%s not installed (Debian package %s; lab/lab.sh install)", name, name)
	}
	return p
}

// bgpq4 -j answers {"<name>": [{"prefix": "...", "exact": true}, ...]}.
func bgpq4Prefixes(t *testing.T, args ...string) []string {
	t.Helper()
	cmd := exec.Command(lookPath(t, "bgpq4"), args...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bgpq4 %v: %v", args, err)
	}
	var lists map[string][]struct {
		Prefix string `json:"prefix"`
	}
	if err := json.Unmarshal(out, &lists); err != nil {
		t.Fatalf("bgpq4 %v: output is not JSON: %v\n%s", args, err, out)
	}
	var ps []string
	for _, e := range lists["pl"] {
		ps = append(ps, e.Prefix)
	}
	return ps
}

// Debian's bgpq4 builds the prefix lists of the nested, cyclic as-set from
// the simulator, for IPv4 and IPv6, with and without -S.
func TestBgpq4BuildsPrefixLists(t *testing.T) {
	s := startSim(t, Options{})
	addr := s.DB("JPIRR").WhoisAddr()
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"-4", "AS-NETRECON-CUSTOMERS"}, []string{"192.0.2.0/24", "198.51.100.0/24", "198.51.100.128/25", "203.0.113.0/24"}},
		{[]string{"-S", "JPIRR", "-6", "AS-ACME"}, []string{"2001:db8::/32", "2001:db8:1000::/36"}},
		{[]string{"-4", "AS64500:AS-TRANSIT"}, []string{"203.0.113.0/24"}},
		{[]string{"-4", "AS132002"}, []string{"198.51.100.0/24", "198.51.100.128/25"}},
	} {
		args := append([]string{"-h", addr, "-j", "-l", "pl"}, tc.args...)
		if got := bgpq4Prefixes(t, args...); !slices.Equal(got, tc.want) {
			t.Errorf("bgpq4 %v = %q, want %q", tc.args, got, tc.want)
		}
	}
	// A change in the registry shows in the next list.
	s.DB("JPIRR").Put(mustParse(t, "route: 192.0.2.0/25\norigin: AS132001\nmnt-by: MAINT-ACME\nsource: JPIRR\n"))
	got := bgpq4Prefixes(t, "-h", addr, "-j", "-l", "pl", "-4", "AS132001")
	if want := []string{"192.0.2.0/24", "192.0.2.0/25"}; !slices.Equal(got, want) {
		t.Errorf("after a new route: %q, want %q", got, want)
	}
}

// Debian's whois reads the simulator's objects, RIPE style, as RPSL.
func TestWhoisClientReadsObjects(t *testing.T) {
	s := startSim(t, Options{})
	host, port, _ := net.SplitHostPort(s.DB("RADB").WhoisAddr())
	whois := lookPath(t, "whois")
	for _, tc := range []struct {
		args  []string
		class string
		key   string
	}{
		{[]string{"AS-NETRECON-CUSTOMERS"}, "as-set", "AS-NETRECON-CUSTOMERS"},
		{[]string{"--", "-r -T mntner MAINT-NETRECON"}, "mntner", "MAINT-NETRECON"},
		{[]string{"2001:db8:1000::/36"}, "route6", "2001:db8:1000::/36"},
	} {
		out, err := exec.Command(whois, append([]string{"-h", host, "-p", port}, tc.args...)...).Output()
		if err != nil {
			t.Fatalf("whois %v: %v", tc.args, err)
		}
		objs, err := rpsl.Parse(string(out))
		if err != nil || len(objs) != 1 {
			t.Fatalf("whois %v: %d objects, %v\n%s", tc.args, len(objs), err, out)
		}
		if objs[0].Class() != tc.class || objs[0].Key() != tc.key {
			t.Errorf("whois %v: got %s %s", tc.args, objs[0].Class(), objs[0].Key())
		}
		if strings.Contains(string(out), "$2a$") || strings.Contains(string(out), "$1$") {
			t.Errorf("whois %v shows a password hash:\n%s", tc.args, out)
		}
	}
}

func mustParse(t testing.TB, text string) *rpsl.Object {
	t.Helper()
	o, err := rpsl.ParseOne(text)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestStartRefusesBadSeedAndNames(t *testing.T) {
	_, err := Start(t.Context(), Options{Databases: []DatabaseOptions{{Name: "X", Seed: "as-set: AS-X\nmembers AS1\n"}}})
	if err == nil || !strings.Contains(err.Error(), "X: seed: 2:1:") {
		t.Errorf("bad seed: %v, want an error with its position", err)
	}
	_, err = Start(t.Context(), Options{Databases: []DatabaseOptions{{Name: "A"}, {Name: "a"}}})
	if err == nil {
		t.Error("two databases called A: no error")
	}
	if _, err := Start(t.Context(), Options{}); err == nil {
		t.Error("no databases: no error")
	}
}

// FuzzWhoisQuery: any query line gets an answer, never a panic; an IRRd-style
// answer is always framed.
func FuzzWhoisQuery(f *testing.F) {
	s := startSim(f, Options{Logger: slogDiscard()})
	for _, q := range []string{"!!", "!iAS-ACME,1", "!gAS1", "!m,", "!maut-num,", "-T as-set -i", "-s", "!a6", "!t0", "AS-ACME"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		sess := &whoisSession{db: s.DB("JPIRR"), sources: []string{"JPIRR"}, idle: time.Second}
		answer, _ := sess.handle(q)
		if !strings.HasPrefix(q, "!") || answer == "" {
			return
		}
		switch answer[0] {
		case 'A', 'C', 'D', 'F':
		default:
			t.Fatalf("%q: unframed answer %q", q, answer)
		}
	})
}

func TestWhoisEndsOverlongQuery(t *testing.T) {
	s := startSim(t, Options{})
	w := dialWhois(t, s.DB("JPIRR").WhoisAddr())
	w.send("!!")
	// The server may close before it has read all: a write error is fine.
	io.WriteString(w.conn, strings.Repeat("x", 2*maxQuery)+"\n")
	if _, err := w.r.ReadByte(); err == nil {
		t.Error("an overlong query got an answer")
	}
}
