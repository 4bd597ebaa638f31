package daemon

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netrecon/netrecon/reconcile/journal"
)

// A daemon whose journal was lost in a used state folder refuses to start:
// a new journal would own nothing it created on the devices.
func TestDaemonRefusesLostJournal(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	d, err := New(context.Background(), l.cfg, Options{Logger: testLogger(t), Dialer: l.dialer})
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	jp := filepath.Join(l.state, "journal.db")
	// The journal's marker gone as well: the mirror alone shows the folder
	// was used.
	for _, p := range []string{jp, jp + ".created"} {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	_, err = New(context.Background(), l.cfg, Options{Logger: testLogger(t), Dialer: l.dialer})
	var le *journal.LostError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), filepath.Join(l.state, "mirror")) {
		t.Fatalf("err = %v, want a *journal.LostError naming the mirror", err)
	}
	if _, err := os.Stat(jp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a journal was created: %v", err)
	}
}
