package guard

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/schema"
)

func device(name string) *schema.Device {
	return &schema.Device{Name: name, Platform: "ietf", Address: "127.0.0.1", Port: 830}
}

// deferredBy checks that err is a *DeferredError of guard whose reason holds
// every one of reason.
func deferredBy(t *testing.T, err error, guard string, reason ...string) *DeferredError {
	t.Helper()
	d, ok := IsDeferred(err)
	if !ok {
		t.Fatalf("err = %v; want a deferral by %s", err, guard)
	}
	if d.Guard != guard {
		t.Fatalf("deferred by %s (%v); want %s", d.Guard, err, guard)
	}
	for _, r := range reason {
		if !strings.Contains(d.Reason, r) {
			t.Errorf("reason %q does not say %q", d.Reason, r)
		}
	}
	return d
}

func TestMaintenance(t *testing.T) {
	for _, tc := range []struct {
		name   string
		maint  bool
		defers bool
	}{
		{"in maintenance", true, true},
		{"in service", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dev := device("pe1")
			dev.Maintenance = tc.maint
			err := Maintenance().Check(t.Context(), dev, nil)
			if !tc.defers {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			d := deferredBy(t, err, NameMaintenance, "device in maintenance (inventory)")
			if d.Device != "pe1" || d.RetryAfter != 0 || d.Err != nil {
				t.Errorf("got %+v", d)
			}
		})
	}
	if err := Maintenance().Check(t.Context(), nil, nil); err == nil || isDeferred(err) {
		t.Errorf("nil device: %v; want a plain error", err)
	}
}

func isDeferred(err error) bool { _, ok := IsDeferred(err); return ok }

func TestDeferredError(t *testing.T) {
	cause := errors.New("no answer")
	err := error(&DeferredError{Guard: NameSNMPUsers, Device: "pe1", Reason: "cannot tell", RetryAfter: 90 * time.Second, Err: cause})
	if !errors.Is(err, cause) {
		t.Error("cause not reachable with errors.Is")
	}
	if got, want := err.Error(), "pe1: deferred by guard snmp-users: cannot tell: no answer (retry in 1m30s)"; got != want {
		t.Errorf("Error() = %q\nwant      %q", got, want)
	}
	wrapped := errors.Join(errors.New("other"), err)
	if d, ok := IsDeferred(wrapped); !ok || d.Device != "pe1" {
		t.Errorf("IsDeferred through a join: %v %v", d, ok)
	}
}

// TestAll: the first deferral wins and later guards are not run; a nil guard
// and a done context stop the change without being taken for "go ahead".
func TestAll(t *testing.T) {
	var ran []string
	pass := func(name string) Guard {
		return Func(func(context.Context, *schema.Device, reconcile.Monitor) error { ran = append(ran, name); return nil })
	}
	deferring := func(name string) Guard {
		return Func(func(_ context.Context, dev *schema.Device, _ reconcile.Monitor) error {
			ran = append(ran, name)
			return &DeferredError{Guard: name, Device: dev.Name, Reason: name}
		})
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name    string
		ctx     context.Context
		guards  []Guard
		want    string // deferring guard; "" for none
		wantErr string // a plain error
		ran     []string
	}{
		{"none", t.Context(), nil, "", "", nil},
		{"all pass", t.Context(), []Guard{pass("a"), pass("b")}, "", "", []string{"a", "b"}},
		{"first deferral wins", t.Context(), []Guard{pass("a"), deferring("b"), deferring("c"), pass("d")}, "b", "", []string{"a", "b"}},
		{"nil guard", t.Context(), []Guard{pass("a"), nil, pass("c")}, "", "guard 2 of 3 is nil", []string{"a"}},
		{"done context", cancelled, []Guard{pass("a")}, "", "context canceled", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ran = nil
			err := All(tc.guards...).Check(tc.ctx, device("pe1"), nil)
			switch {
			case tc.want != "":
				deferredBy(t, err, tc.want)
			case tc.wantErr != "":
				if err == nil || isDeferred(err) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("err = %v; want a plain error saying %q", err, tc.wantErr)
				}
			case err != nil:
				t.Errorf("err = %v", err)
			}
			if strings.Join(ran, ",") != strings.Join(tc.ran, ",") {
				t.Errorf("ran %v; want %v", ran, tc.ran)
			}
		})
	}
}

// TestAllMaintenanceFirst: with the usual order, a device in maintenance is
// never asked anything over the network.
func TestAllMaintenanceFirst(t *testing.T) {
	asked := false
	network := Func(func(context.Context, *schema.Device, reconcile.Monitor) error { asked = true; return nil })
	dev := device("pe1")
	dev.Maintenance = true
	deferredBy(t, All(Maintenance(), network).Check(t.Context(), dev, nil), NameMaintenance)
	if asked {
		t.Error("the network guard ran after a deferral")
	}
}
