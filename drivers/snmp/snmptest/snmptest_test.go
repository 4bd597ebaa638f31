package snmptest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/netrecon/netrecon/drivers/snmp"
	"github.com/netrecon/netrecon/drivers/snmp/snmptest"
)

func TestAgent(t *testing.T) {
	a := snmptest.Start(t, "c")
	c, err := snmp.New(snmp.Options{Community: "c", Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a.SetGauge("1.3.6.1.2.1.25.1.5.0", 2)
	a.SetString(".1.3.6.1.2.1.1.1.0", "fake")
	if v, err := c.Get(ctx, a.Addr(), ".1.3.6.1.2.1.25.1.5.0"); err != nil || v.Type != "Gauge32" || v.String() != "2" {
		t.Errorf("gauge: %#v, %v", v, err)
	}
	if v, err := c.Get(ctx, a.Addr(), "1.3.6.1.2.1.1.1.0"); err != nil || v.String() != "fake" {
		t.Errorf("string: %#v, %v", v, err)
	}
	a.Delete("1.3.6.1.2.1.1.1.0")
	var ne *snmp.NoSuchError
	if _, err := c.Get(ctx, a.Addr(), "1.3.6.1.2.1.1.1.0"); !errors.As(err, &ne) {
		t.Errorf("deleted: %v", err)
	}
	a.SetSilent(true)
	var te *snmp.TimeoutError
	if _, err := c.Get(ctx, a.Addr(), "1.3.6.1.2.1.25.1.5.0"); !errors.As(err, &te) {
		t.Errorf("silent: %v", err)
	}
	if a.Requests() != 4 {
		t.Errorf("requests = %d, want 4", a.Requests())
	}
}
