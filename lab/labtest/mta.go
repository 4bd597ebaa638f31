package labtest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gofrs/flock"
)

// MTA is the lab's mail hop for the IRR tests: exim4 on loopback, relaying
// each simulated IRR database's mail domain to that database's SMTP port and
// delivering mail for ReplyAddress into Maildir.
type MTA struct {
	// Address is exim's SMTP host:port, where netrecon submits its mail.
	Address string `json:"address"`
	// ReplyAddress is the address whose mail lands in Maildir: the From of
	// netrecon's submissions, so the registries' replies come back there.
	ReplyAddress string `json:"replyAddress"`
	// Maildir is the folder (new/, cur/, tmp/) replies are delivered into.
	Maildir string `json:"maildir"`
	// Databases are the simulated IRR databases exim relays to; a test
	// starts drivers/irrsim with exactly these names, domains and ports.
	Databases []IRRDatabase `json:"databases"`
}

// IRRDatabase is one simulated IRR database as the lab's MTA knows it.
type IRRDatabase struct {
	Name       string `json:"name"`       // "JPIRR"
	MailDomain string `json:"mailDomain"` // "jpirr.irrsim.test"; submissions go to auto-dbm@ it
	Whois      string `json:"whois"`      // host:port the simulator's whois listens on
	SMTP       string `json:"smtp"`       // host:port the simulator's SMTP listens on
}

// LoadMTA returns the lab's MTA, or ends the test through Missing when the lab
// or its MTA is not there. The simulator's ports are fixed by the lab, so two
// tests (in any package) that start it would collide: LoadMTA also holds a
// lock on them until the test ends, and a second test waits for it.
func LoadMTA(t testing.TB) MTA {
	t.Helper()
	lab := Load(t)
	if lab == nil {
		return MTA{}
	}
	m := lab.MTAConfig
	if m == nil || m.Address == "" || m.Maildir == "" || len(m.Databases) == 0 {
		Missing(t, "labtest: %s has no mta (exim4); restart the lab with this lab/lab.sh: bash lab/lab.sh up 4", lab.Path)
		return MTA{}
	}
	lock := flock.New(filepath.Join(filepath.Dir(m.Maildir), "irrsim.lock"))
	if err := lock.Lock(); err != nil {
		t.Fatalf("labtest: lock the simulator's ports: %v", err)
	}
	t.Cleanup(func() { lock.Unlock() })
	if err := resetMTA(filepath.Dir(m.Maildir), m.Maildir); err != nil {
		t.Fatalf("labtest: %v", err)
	}
	return *m
}

// resetMTA starts a test on a clean mail hop: an earlier test's mail that
// exim still holds (its simulator closed mid-delivery, or answered 451) would
// otherwise reach this test's simulator on the same ports, exim's record of
// that simulator being down would defer this test's first mails ("retry
// time not reached"), and its replies would sit in the Maildir. Under the
// lock no other test's simulator runs, so exim's queue, its retry records
// and the Maildir are all left over; exim forgets a message whose spool
// files are gone.
func resetMTA(dir, maildir string) error {
	var paths []string
	for _, pattern := range []string{"spool/input/*", "spool/msglog/*", "spool/db/retry*", "spool/db/wait-*"} {
		m, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			return err
		}
		paths = append(paths, m...)
	}
	for _, sub := range []string{"new", "cur"} {
		m, err := filepath.Glob(filepath.Join(maildir, sub, "*"))
		if err != nil {
			return err
		}
		paths = append(paths, m...)
	}
	for _, p := range paths {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("reset the lab MTA: %w", err)
		}
	}
	return nil
}

// Database returns the lab's IRR database called name.
func (m MTA) Database(name string) (IRRDatabase, bool) {
	for _, d := range m.Databases {
		if d.Name == name {
			return d, true
		}
	}
	return IRRDatabase{}, false
}

// Replies returns the paths of the mails delivered into the Maildir so far
// (new/ and cur/), sorted by name, which Maildir makes the delivery order.
func (m MTA) Replies() ([]string, error) {
	var paths []string
	for _, sub := range []string{"new", "cur"} {
		ents, err := os.ReadDir(filepath.Join(m.Maildir, sub))
		if err != nil {
			return nil, fmt.Errorf("maildir %s: %w", m.Maildir, err)
		}
		for _, e := range ents {
			paths = append(paths, filepath.Join(m.Maildir, sub, e.Name()))
		}
	}
	return paths, nil
}
