package snmp

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/netrecon/netrecon/lab/labtest"
)

// oidMaintExtend is nsExtendOutput1Line."maint" (NET-SNMP-EXTEND-MIB): the
// first line of the lab's maint file, as snmpd's "extend maint" reports it.
const oidMaintExtend = ".1.3.6.1.4.1.8072.1.3.2.3.1.1.5.109.97.105.110.116"

func labClient(t *testing.T) (*Client, labtest.SNMP) {
	t.Helper()
	agent := labtest.Load(t).SNMP()
	if agent.Address == "" {
		t.Fatal("lab.json has no snmp agent")
	}
	return newClient(t, Options{Community: agent.Community, Timeout: time.Second, Retries: 1}), agent
}

// TestLabGet reads the lab's real snmpd: one case per type of answer.
func TestLabGet(t *testing.T) {
	c, agent := labClient(t)
	ctx := context.Background()

	t.Run("sysDescr is an OctetString", func(t *testing.T) {
		v, err := c.Get(ctx, agent.Address, oidSysDescr)
		if err != nil {
			t.Fatal(err)
		}
		if !v.IsText() || v.String() != "netrecon lab PE" {
			t.Fatalf("sysDescr = %#v", v)
		}
	})
	t.Run("hrSystemNumUsers is a Gauge32", func(t *testing.T) {
		v, err := c.Get(ctx, agent.Address, strings.TrimPrefix(oidNumUsers, "."))
		if err != nil {
			t.Fatal(err)
		}
		n, err := v.Int()
		if err != nil || v.Type != "Gauge32" || n < 0 {
			t.Fatalf("hrSystemNumUsers = %#v, Int() = %d, %v", v, n, err)
		}
	})
	t.Run("extend output is the maint file", func(t *testing.T) {
		// Another test may have just written the file and snmpd caches
		// extend output for ~5 s: poll until both agree.
		deadline := time.Now().Add(15 * time.Second)
		for {
			b, err := os.ReadFile(agent.MaintFile)
			if err != nil {
				t.Fatal(err)
			}
			v, err := c.Get(ctx, agent.Address, oidMaintExtend)
			if err != nil {
				t.Fatal(err)
			}
			want := strings.TrimSpace(string(b))
			if v.IsText() && v.String() == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("extend output %#v, maint file %q", v, want)
			}
			pause(t, 500*time.Millisecond)
		}
	})
	t.Run("noSuchObject", func(t *testing.T) {
		_, err := c.Get(ctx, agent.Address, ".1.3.6.1.2.1.1.99.0")
		var ne *NoSuchError
		if !errors.As(err, &ne) || ne.Kind != NoSuchObject {
			t.Fatalf("err = %v; want noSuchObject", err)
		}
	})
	t.Run("noSuchInstance", func(t *testing.T) {
		_, err := c.Get(ctx, agent.Address, ".1.3.6.1.2.1.1.1.1") // sysDescr.1: a scalar has only .0
		var ne *NoSuchError
		if !errors.As(err, &ne) || ne.Kind != NoSuchInstance {
			t.Fatalf("err = %v; want noSuchInstance", err)
		}
	})
	t.Run("wrong community times out", func(t *testing.T) {
		bad := newClient(t, Options{Community: "not-" + agent.Community, Timeout: 200 * time.Millisecond, Retries: 1})
		_, err := bad.Get(ctx, agent.Address, oidSysDescr)
		var te *TimeoutError
		if !errors.As(err, &te) || te.Attempts != 2 {
			t.Fatalf("err = %v; want *TimeoutError after 2 attempts", err)
		}
		if strings.Contains(err.Error(), agent.Community) {
			t.Errorf("error shows the community: %v", err)
		}
	})
}

// pause waits between two polls of a value that changes on its own clock (the
// agent's cache), not for an event this test could wait on.
func pause(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case <-time.After(d):
	case <-t.Context().Done():
		t.Fatal("test ended while polling")
	}
}
