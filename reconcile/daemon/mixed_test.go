package daemon

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/netrecon/netrecon/api"
	"github.com/netrecon/netrecon/drivers/netconf"
	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/render"
	"github.com/netrecon/netrecon/schema"
)

// noConfirm hides :confirmed-commit from a session, as an older router
// would: its rollback is an undo from the pre-image.
type noConfirm struct{ reconcile.Device }

func (n noConfirm) Capabilities() reconcile.Capabilities {
	c := n.Device.Capabilities()
	c.ConfirmedCommit = false
	return c
}

// TestMixedDeviceAlarmsAtOnce: pe2 refuses its commit, so the change set is
// rolled back; pe1 commits plainly and its undo is cut, so it runs neither
// side. The daemon raises a device-mixed alarm for pe1 in that very pass
// (not after Alarm.AfterFailures), naming the nodes, and does not retry pe1
// as a mere bystander.
func TestMixedDeviceAlarmsAtOnce(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	rcv := newReceiver(t)
	l.cfg.Notify.URL = rcv.srv.URL
	dialer := func(in *schema.Intent, _ Credentials) reconcile.Dialer {
		return reconcile.DialFunc(func(ctx context.Context, dev *schema.Device) (reconcile.Device, error) {
			tg := netconf.Target{Device: dev.Name, Address: dev.Address, Port: dev.Port, Username: "netrecon",
				Auth: netconf.PasswordAuth(testPassword), KnownHosts: l.cfg.KnownHosts}
			s, err := netconf.Dial(ctx, tg, netconf.WithKeys(render.Keys(dev.Platform, in.Types)))
			if err != nil || dev.Name != "pe1-tyo" {
				return s, err
			}
			return noConfirm{s}, nil
		})
	}
	d := l.start(Options{Dialer: dialer})
	pe1, pe2 := l.sim.Device("pe1-tyo"), l.sim.Device("pe2-osa")
	pe1.DropConnectionAt("edit-config", 2) // the undo's edit
	pe2.RejectCommit("commit check failed: test")

	p := d.SyncOnce(context.Background(), "test")
	if !slices.Contains(p.Failed, "pe1-tyo") {
		t.Fatalf("pass: applied %v failed %v (%s)", p.Applied, p.Failed, p.Error)
	}
	var mixed *api.Alarm
	for _, a := range d.Status().Alarms {
		if a.Kind == string(AlarmDeviceMixed) && a.Device == "pe1-tyo" {
			mixed = &a
		}
	}
	if mixed == nil {
		t.Fatalf("no device-mixed alarm for pe1-tyo after one pass: %+v", d.Status().Alarms)
	}
	if !strings.Contains(mixed.Message, "mixed") || !strings.Contains(mixed.Message, "/") {
		t.Errorf("alarm message %q does not name the nodes", mixed.Message)
	}
	found := false
	for _, n := range rcv.wait(t, 1) {
		found = found || n.Event == "raised" && n.Alarm.Kind == string(AlarmDeviceMixed) && n.Alarm.Device == "pe1-tyo"
	}
	if !found {
		t.Error("the device-mixed alarm was not notified")
	}
}
