package reconcile

import (
	"errors"
	"fmt"
	"testing"
)

func TestDeviceErrNamesTheDeviceOnce(t *testing.T) {
	lost := fmt.Errorf("pe1: lock: %w (closed connection)", ErrSessionLost)
	for _, tc := range []struct {
		op   string
		err  error
		want string
	}{
		{"dial", errors.New("no route to host"), "pe1: dial: no route to host"},
		{"lock candidate", lost, "pe1: lock candidate: lock: session lost (closed connection)"},
		{"lock", lost, "pe1: lock: session lost (closed connection)"},
		{"commit", &LockHeldError{Device: "pe1", Target: "candidate", HeldBy: "7"}, "pe1: commit: lock candidate: denied, held by session 7"},
		{"get-config", errors.New("pe10: x"), "pe1: get-config: pe10: x"},
	} {
		got := DeviceErr("pe1", tc.op, tc.err)
		if got.Error() != tc.want {
			t.Errorf("DeviceErr(%q, %v) = %q, want %q", tc.op, tc.err, got, tc.want)
		}
		if !errors.Is(got, tc.err) {
			t.Errorf("DeviceErr(%q, %v) does not unwrap to it", tc.op, tc.err)
		}
	}
	if !errors.Is(DeviceErr("pe1", "lock candidate", lost), ErrSessionLost) {
		t.Error("ErrSessionLost is lost through DeviceErr")
	}
}
