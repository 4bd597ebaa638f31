package netsim

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// With a state folder a device comes back after a restart with its host key
// and its committed configuration; a confirmed commit not yet confirmed does
// not come back.
func TestStateDirKeepsKeyAndRunning(t *testing.T) {
	state := t.TempDir()
	withState := func(o *Options) { o.StateDir = state }
	sim := startSim(t, 1, withState)
	dev := sim.Device("d1")
	key := dev.HostKey().Marshal()
	c := dialDevice(t, sim, dev)
	c.ok(`<edit-config><target><candidate/></target><config>` + ifaceA + `</config></edit-config>`)
	c.ok(`<commit/>`)
	// Written at once, not only at Close: a killed simulator keeps it.
	b, err := os.ReadFile(filepath.Join(state, "d1", "running.xml"))
	if err != nil || !strings.Contains(string(b), "ge-0/0/1") {
		t.Fatalf("running.xml after commit: %v\n%s", err, b)
	}
	// A confirmed commit pending when the simulator stops is not kept.
	c.ok(`<edit-config><target><candidate/></target><default-operation>replace</default-operation><config><system xmlns="urn:example:system"><hostname>pending</hostname></system></config></edit-config>`)
	c.ok(`<commit><confirmed/><confirm-timeout>600</confirm-timeout><persist>p1</persist></commit>`)
	c.close()
	if err := sim.Close(); err != nil {
		t.Fatal(err)
	}

	again := startSim(t, 1, withState)
	dev = again.Device("d1")
	if !bytes.Equal(dev.HostKey().Marshal(), key) {
		t.Error("the host key changed across the restart")
	}
	if got := dev.Running(); !got.Equal(mustParse(t, ifaceA)) {
		t.Errorf("running after the restart:\n%s\nwant the committed one:\n%s", got, mustParse(t, ifaceA))
	}
	if dev.ConfirmPending() {
		t.Error("a confirmed commit is pending after the restart")
	}
	// A rotated key is the new one to keep.
	if err := dev.RotateHostKey(); err != nil {
		t.Fatal(err)
	}
	rotated := dev.HostKey().Marshal()
	again.Close()
	third := startSim(t, 1, withState)
	if !bytes.Equal(third.Device("d1").HostKey().Marshal(), rotated) {
		t.Error("the rotated host key was not kept")
	}
}

func TestStateDirBadInput(t *testing.T) {
	state := t.TempDir()
	opts := Options{Username: testUser, Password: testPassword, StateDir: state, Devices: []DeviceSpec{{Name: "../x"}}}
	if _, err := Start(t.Context(), opts); err == nil || !strings.Contains(err.Error(), "cannot be a folder of the state folder") {
		t.Errorf("device ../x: %v", err)
	}
	os.MkdirAll(filepath.Join(state, "d1"), 0o700)
	os.WriteFile(filepath.Join(state, "d1", "running.xml"), []byte("<data><interfaces>"), 0o600)
	opts.Devices = []DeviceSpec{{Name: "d1"}}
	_, err := Start(t.Context(), opts)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(state, "d1", "running.xml")) {
		t.Errorf("a broken running.xml: %v", err)
	}
	t.Log(err)
}
