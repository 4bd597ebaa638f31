package snmp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

const (
	testCommunity = "s3cret-community"
	oidSysDescr   = ".1.3.6.1.2.1.1.1.0"
	oidNumUsers   = ".1.3.6.1.2.1.25.1.5.0"
)

func newClient(t *testing.T, o Options) *Client {
	t.Helper()
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestOptionsCheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		want []string // substrings of the error; none means valid
	}{
		{"valid", Options{Community: "c"}, nil},
		{"valid with all", Options{Community: "c", Timeout: time.Second, Retries: 2, Logger: slog.Default()}, nil},
		{"no community", Options{}, []string{"Community is empty"}},
		{"negative", Options{Community: "c", Timeout: -1, Retries: -1}, []string{"Timeout -1ns is negative", "Retries -1 is negative"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.opts)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("New: no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestCommunityNeverShown(t *testing.T) {
	var logs bytes.Buffer
	o := Options{Community: testCommunity, Timeout: 50 * time.Millisecond, Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	c := newClient(t, o)
	var out bytes.Buffer
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		fmt.Fprintf(&out, verb+"\n", o)
		fmt.Fprintf(&out, verb+"\n", c)
	}
	slog.New(slog.NewTextHandler(&out, nil)).Info("opts", "o", o, "c", c)
	// A failing GET logs and returns an error: neither may hold the secret.
	agent := newFakeAgent(t, func(*gosnmp.SnmpPacket) *gosnmp.SnmpPacket { return nil })
	_, err := c.Get(context.Background(), agent.Addr(), oidSysDescr)
	if err == nil {
		t.Fatal("Get from a silent agent: no error")
	}
	out.WriteString(err.Error())
	out.Write(logs.Bytes())
	if strings.Contains(out.String(), testCommunity) {
		t.Fatalf("community shown:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "(redacted)") {
		t.Errorf("no redaction marker in:\n%s", out.String())
	}
}

func TestNormalizeOID(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{".1.3.6.1.2.1.1.1.0", ".1.3.6.1.2.1.1.1.0"},
		{"1.3.6.1.2.1.1.1.0", ".1.3.6.1.2.1.1.1.0"},
		{"1.3", ".1.3"},
		{"", ""},
		{".", ""},
		{"1", ""},
		{"1..3", ""},
		{".1.3.", ""},
		{"SNMPv2-MIB::sysDescr.0", ""},
		{"1.3.6.-1", ""},
		{"1.3.6.1.99999999999", ""},
		{" 1.3.6", ""},
	} {
		got, err := ParseOID(tc.in)
		if tc.want == "" {
			var oe *OIDError
			if !errors.As(err, &oe) {
				t.Errorf("ParseOID(%q) = %q, %v; want *OIDError", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseOID(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestBadTarget(t *testing.T) {
	c := newClient(t, Options{Community: "c"})
	for _, target := range []string{"", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:99999", ":161", "host:snmp"} {
		if _, err := c.Get(context.Background(), target, oidSysDescr); err == nil || !strings.Contains(err.Error(), "target") {
			t.Errorf("Get(%q): %v; want a target error", target, err)
		}
	}
}

// TestGetFake runs the response decoding against a fake agent, one case per
// kind of answer.
func TestGetFake(t *testing.T) {
	type check func(t *testing.T, v Value, err error)
	isInt := func(want int64) check {
		return func(t *testing.T, v Value, err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
			got, err := v.Int()
			if err != nil || got != want || !v.IsInt() || v.IsText() {
				t.Fatalf("Int() = %d, %v (%#v); want %d", got, err, v, want)
			}
			if v.String() != fmt.Sprint(want) {
				t.Errorf("String() = %q", v.String())
			}
		}
	}
	for _, tc := range []struct {
		name  string
		reply handler
		check check
	}{
		{"octet string", answer(testCommunity, gosnmp.SnmpPDU{Name: oidSysDescr, Type: gosnmp.OctetString, Value: []byte("pe1 \n")}),
			func(t *testing.T, v Value, err error) {
				if err != nil {
					t.Fatal(err)
				}
				if v.String() != "pe1 \n" || !v.IsText() || v.Type != "OctetString" || v.OID != oidSysDescr {
					t.Fatalf("got %#v", v)
				}
				var te *TypeError
				if _, err := v.Int(); !errors.As(err, &te) {
					t.Errorf("Int() of a string: %v, want *TypeError", err)
				}
			}},
		{"gauge32", answer(testCommunity, gosnmp.SnmpPDU{Name: oidSysDescr, Type: gosnmp.Gauge32, Value: uint(3)}), isInt(3)},
		{"integer", answer(testCommunity, gosnmp.SnmpPDU{Name: oidSysDescr, Type: gosnmp.Integer, Value: -7}), isInt(-7)},
		{"counter32", answer(testCommunity, gosnmp.SnmpPDU{Name: oidSysDescr, Type: gosnmp.Counter32, Value: uint(4000000000)}), isInt(4000000000)},
		{"counter64", answer(testCommunity, gosnmp.SnmpPDU{Name: oidSysDescr, Type: gosnmp.Counter64, Value: uint64(1) << 40}), isInt(1 << 40)},
		{"counter64 too big", answer(testCommunity, gosnmp.SnmpPDU{Name: oidSysDescr, Type: gosnmp.Counter64, Value: uint64(1) << 63}),
			func(t *testing.T, v Value, err error) {
				if err != nil {
					t.Fatal(err)
				}
				if _, err := v.Int(); err == nil || !strings.Contains(err.Error(), "does not fit") {
					t.Fatalf("Int() = %v; want an overflow error", err)
				}
				var te *TypeError
				if _, err := v.Bytes(); !errors.As(err, &te) {
					t.Errorf("Bytes() of a number: %v, want *TypeError", err)
				}
			}},
		{"no such object", answer(testCommunity, gosnmp.SnmpPDU{Name: oidSysDescr, Type: gosnmp.NoSuchObject}), wantNoSuch(NoSuchObject)},
		{"no such instance", answer(testCommunity, gosnmp.SnmpPDU{Name: oidSysDescr, Type: gosnmp.NoSuchInstance}), wantNoSuch(NoSuchInstance)},
		{"end of mib", answer(testCommunity, gosnmp.SnmpPDU{Name: oidSysDescr, Type: gosnmp.EndOfMibView}), wantNoSuch(EndOfMIBView)},
		{"error status", func(*gosnmp.SnmpPacket) *gosnmp.SnmpPacket {
			return &gosnmp.SnmpPacket{Error: gosnmp.GenErr, ErrorIndex: 1, Variables: []gosnmp.SnmpPDU{{Name: oidSysDescr, Type: gosnmp.Null}}}
		}, func(t *testing.T, v Value, err error) {
			var ae *AgentError
			if !errors.As(err, &ae) || ae.Status != "GenErr" || ae.Index != 1 {
				t.Fatalf("err = %v; want *AgentError GenErr", err)
			}
		}},
		{"wrong oid answered", answer(testCommunity, gosnmp.SnmpPDU{Name: oidNumUsers, Type: gosnmp.Gauge32, Value: uint(0)}),
			func(t *testing.T, v Value, err error) {
				if err == nil || !strings.Contains(err.Error(), "answered for "+oidNumUsers) {
					t.Fatalf("err = %v; want a mismatch", err)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			agent := newFakeAgent(t, tc.reply)
			c := newClient(t, Options{Community: testCommunity, Timeout: 2 * time.Second})
			v, err := c.Get(context.Background(), agent.Addr(), oidSysDescr)
			tc.check(t, v, err)
		})
	}
}

func wantNoSuch(kind Missing) func(t *testing.T, v Value, err error) {
	return func(t *testing.T, v Value, err error) {
		t.Helper()
		var ne *NoSuchError
		if !errors.As(err, &ne) || ne.Kind != kind || ne.OID != oidSysDescr {
			t.Fatalf("err = %v; want *NoSuchError %s", err, kind)
		}
	}
}

// TestTimeoutCountsAttempts: an agent that drops the request (as a v2c agent
// does for a wrong community) gets Retries+1 requests and a *TimeoutError that
// says a wrong community looks the same.
func TestTimeoutCountsAttempts(t *testing.T) {
	agent := newFakeAgent(t, answer("the-right-one"))
	c := newClient(t, Options{Community: testCommunity, Timeout: 100 * time.Millisecond, Retries: 2})
	_, err := c.Get(context.Background(), agent.Addr(), oidSysDescr)
	var te *TimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v; want *TimeoutError", err)
	}
	if te.Attempts != 3 || agent.requests.Load() != 3 {
		t.Errorf("attempts %d, agent saw %d; want 3", te.Attempts, agent.requests.Load())
	}
	if !strings.Contains(err.Error(), "wrong community") {
		t.Errorf("timeout error does not mention the community: %v", err)
	}
	var timeout interface{ Timeout() bool }
	if !errors.As(err, &timeout) || !timeout.Timeout() {
		t.Error("TimeoutError is not a Timeout() error")
	}
}

// TestCancelEndsWait: cancelling the context ends a GET waiting for its
// answer at once, not after Timeout, and the error is the context's.
func TestCancelEndsWait(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The agent cancels when the request arrives: the client is then
	// surely waiting.
	agent := newFakeAgent(t, func(*gosnmp.SnmpPacket) *gosnmp.SnmpPacket { cancel(); return nil })
	c := newClient(t, Options{Community: testCommunity, Timeout: time.Minute, Retries: 3})
	start := time.Now()
	_, err := c.Get(ctx, agent.Addr(), oidSysDescr)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v; want context.Canceled", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("Get returned %s after cancel; want at once", took)
	}
	if _, err := c.Get(ctx, agent.Addr(), oidSysDescr); !errors.Is(err, context.Canceled) {
		t.Errorf("Get with a done context: %v", err)
	}
}

func TestContextDeadline(t *testing.T) {
	agent := newFakeAgent(t, answer("other"))
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	c := newClient(t, Options{Community: testCommunity, Timeout: time.Minute})
	_, err := c.Get(ctx, agent.Addr(), oidSysDescr)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v; want context.DeadlineExceeded", err)
	}
}
