package daemon

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
)

func newKey(t *testing.T) (*openpgp.Entity, string) {
	t.Helper()
	e, err := openpgp.NewEntity("release", "", "release@example.net", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	aw, err := armor.Encode(&buf, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Serialize(aw); err != nil {
		t.Fatal(err)
	}
	aw.Close()
	return e, buf.String()
}

// signedCommit commits the work tree's changes signed with key (nil: unsigned).
func (l *lab) signedCommit(msg string, files map[string]string, key *openpgp.Entity) string {
	l.t.Helper()
	for name, content := range files {
		os.WriteFile(filepath.Join(l.repo, filepath.FromSlash(name)), []byte(content), 0o644)
	}
	l.git("add", "-A")
	repo, err := git.PlainOpen(l.repo)
	if err != nil {
		l.t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		l.t.Fatal(err)
	}
	sig := &object.Signature{Name: "t", Email: "t@example.net", When: time.Now()}
	h, err := wt.Commit(msg, &git.CommitOptions{Author: sig, Committer: sig, SignKey: key})
	if err != nil {
		l.t.Fatal(err)
	}
	return h.String()
}

// TestSignaturePolicy: with a keyring, a repo whose history is unsigned is
// refused outright (nothing applied, not ready); from a trusted starting point
// recorded in the journal, a signed commit is applied and an unsigned one on
// top of it is refused with an alarm naming it.
func TestSignaturePolicy(t *testing.T) {
	key, pub := newKey(t)
	l := newLab(t, exampleFiles(t))
	kr := filepath.Join(filepath.Dir(l.cfg.KnownHosts), "keyring.asc")
	os.WriteFile(kr, []byte(pub), 0o600)
	l.cfg.Signature.Keyring = kr
	root := l.git("rev-parse", "HEAD")
	d := l.start(Options{})
	ctx := context.Background()

	p := d.SyncOnce(ctx, "test")
	st := d.Status()
	if p.Commit != "" || len(p.Applied) != 0 || st.Ready || len(st.Alarms) != 1 || st.Alarms[0].Commit != root {
		t.Fatalf("unsigned history: pass %+v; ready %v alarms %+v", p, st.Ready, st.Alarms)
	}
	if l.editRPCs() != 0 {
		t.Fatal("an unsigned commit reached a device")
	}

	// An operator vouches for the root as the starting point.
	if err := d.Journal().SetState(ctx, KeyCommit, root); err != nil {
		t.Fatal(err)
	}
	d.Close()
	d = l.start(Options{})
	signed := l.signedCommit("signed change", map[string]string{acme: strings.Replace(l.read(acme), "Tokyo HQ", "Tokyo signed", 1)}, key)
	if p := d.SyncOnce(ctx, "test"); p.Commit != signed || len(p.Applied) != 3 {
		t.Fatalf("signed commit: %+v", p)
	}
	if len(d.Status().Alarms) != 0 {
		t.Errorf("alarms: %+v", d.Status().Alarms)
	}
	unsigned := l.signedCommit("unsigned change", map[string]string{acme: strings.Replace(l.read(acme), "Tokyo signed", "Tokyo unsigned", 1)}, nil)
	p = d.SyncOnce(ctx, "test")
	st = d.Status()
	if p.Commit != signed || len(p.Applied) != 0 || len(st.Alarms) != 1 || st.Alarms[0].Commit != unsigned ||
		!strings.Contains(st.Alarms[0].Message, "not signed") {
		t.Fatalf("unsigned commit: pass %+v alarms %+v", p, st.Alarms)
	}
	l.assertConvergedAt(signed)
}

// assertConvergedAt is assertConverged for the intent of another commit.
func (l *lab) assertConvergedAt(commit string) {
	l.t.Helper()
	l.git("checkout", "-q", commit)
	defer l.git("checkout", "-q", "main")
	l.assertConverged()
}
