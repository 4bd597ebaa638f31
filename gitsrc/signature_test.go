package gitsrc

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/go-git/go-git/v5/plumbing"
)

func TestVerifyRange(t *testing.T) {
	trusted, trustedPub := newKey(t, "trusted")
	other, otherPub := newKey(t, "other")
	stranger, _ := newKey(t, "stranger")

	// Each case builds a history in a work repo and says which range to check
	// and which commit, if any, must be refused (by its name in ids).
	type ids map[string]string
	for _, tc := range []struct {
		name      string
		keyring   string
		build     func(w *workRepo) ids
		from, to  string // names in ids; from "" is the first sync
		refused   string // name in ids of the commit to refuse; "" = accepted
		reasonHas string
	}{
		{
			name:    "no policy accepts unsigned commits",
			keyring: "",
			build: func(w *workRepo) ids {
				return ids{"a": w.commit("s/a", "1", nil), "b": w.commit("s/a", "2", nil)}
			},
			to: "b",
		},
		{
			name:    "all signed",
			keyring: trustedPub,
			build: func(w *workRepo) ids {
				return ids{"a": w.commit("s/a", "1", trusted), "b": w.commit("s/a", "2", trusted)}
			},
			to: "b",
		},
		{
			// The case that checking only the head (as Argo CD does) misses.
			name:    "signed head over an unsigned commit",
			keyring: trustedPub,
			build: func(w *workRepo) ids {
				return ids{
					"a":   w.commit("s/a", "1", trusted),
					"mid": w.commit("s/a", "2", nil),
					"c":   w.commit("s/a", "3", trusted),
				}
			},
			from: "a", to: "c", refused: "mid", reasonHas: "not signed",
		},
		{
			// What a head-only check sees of the same history: fine.
			name:    "the same signed head alone",
			keyring: trustedPub,
			build: func(w *workRepo) ids {
				return ids{
					"a":   w.commit("s/a", "1", trusted),
					"mid": w.commit("s/a", "2", nil),
					"c":   w.commit("s/a", "3", trusted),
				}
			},
			from: "mid", to: "c",
		},
		{
			name:    "first sync checks the whole history",
			keyring: trustedPub,
			build: func(w *workRepo) ids {
				return ids{
					"root": w.commit("s/a", "1", nil),
					"b":    w.commit("s/a", "2", trusted),
				}
			},
			to: "b", refused: "root", reasonHas: "not signed",
		},
		{
			name:    "the oldest refused commit is named",
			keyring: trustedPub,
			build: func(w *workRepo) ids {
				return ids{
					"a":     w.commit("s/a", "1", trusted),
					"first": w.commit("s/a", "2", nil),
					"later": w.commit("s/a", "3", nil),
					"d":     w.commit("s/a", "4", trusted),
				}
			},
			from: "a", to: "d", refused: "first",
		},
		{
			name:    "untrusted key",
			keyring: trustedPub,
			build: func(w *workRepo) ids {
				return ids{"a": w.commit("s/a", "1", trusted), "b": w.commit("s/a", "2", stranger)}
			},
			from: "a", to: "b", refused: "b", reasonHas: "not in the keyring",
		},
		{
			name:    "any key of the keyring",
			keyring: trustedPub + "\n" + otherPub,
			build: func(w *workRepo) ids {
				return ids{"a": w.commit("s/a", "1", trusted), "b": w.commit("s/a", "2", other)}
			},
			to: "b",
		},
		{
			name:    "a trusted start point excludes older unsigned history",
			keyring: trustedPub,
			build: func(w *workRepo) ids {
				return ids{"old": w.commit("s/a", "1", nil), "b": w.commit("s/a", "2", trusted)}
			},
			from: "old", to: "b",
		},
		{
			name:    "empty range",
			keyring: trustedPub,
			build: func(w *workRepo) ids {
				a := w.commit("s/a", "1", nil)
				return ids{"a": a}
			},
			from: "a", to: "a",
		},
		{
			// A signed merge does not vouch for what it brings in.
			name:    "unsigned commit brought in by a signed merge",
			keyring: trustedPub,
			build: func(w *workRepo) ids {
				base := w.commit("s/a", "1", trusted)
				w.checkout("feature", base)
				side := w.commit("s/b", "1", nil)
				w.checkout("main", "")
				main := w.commit("s/a", "2", trusted)
				merge := w.commit("s/b", "1", trusted, plumbing.NewHash(main), plumbing.NewHash(side))
				return ids{"base": base, "side": side, "merge": merge}
			},
			from: "base", to: "merge", refused: "side",
		},
		{
			name:    "unsigned merge of signed commits",
			keyring: trustedPub,
			build: func(w *workRepo) ids {
				base := w.commit("s/a", "1", trusted)
				w.checkout("feature", base)
				side := w.commit("s/b", "1", trusted)
				w.checkout("main", "")
				main := w.commit("s/a", "2", trusted)
				merge := w.commit("s/b", "1", nil, plumbing.NewHash(main), plumbing.NewHash(side))
				return ids{"base": base, "merge": merge}
			},
			from: "base", to: "merge", refused: "merge",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorkRepo(t)
			id := tc.build(w)
			m := openMirror(t, w.dir)
			err := m.VerifyRange(t.Context(), id[tc.from], id[tc.to], Policy{Keyring: tc.keyring})
			if tc.refused == "" {
				if err != nil {
					t.Fatalf("VerifyRange: %v", err)
				}
				return
			}
			var ue *UnsignedCommitError
			if !errors.As(err, &ue) {
				t.Fatalf("VerifyRange: %v; want an *UnsignedCommitError", err)
			}
			if ue.Commit != id[tc.refused] {
				var name string
				for n, h := range id {
					if h == ue.Commit {
						name = n
					}
				}
				t.Errorf("refused commit %s (%q); want %q", ue.Commit, name, tc.refused)
			}
			if !strings.Contains(ue.Reason, tc.reasonHas) {
				t.Errorf("reason %q; want it to say %q", ue.Reason, tc.reasonHas)
			}
		})
	}
}

// TestVerifyRangeBadKeyring: a keyring that cannot be used fails the policy,
// not a commit, so the daemon reports a configuration error.
func TestVerifyRangeBadKeyring(t *testing.T) {
	key, pub := newKey(t, "k")
	var priv bytes.Buffer
	aw, err := armor.Encode(&priv, openpgp.PrivateKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := key.SerializePrivate(aw, nil); err != nil {
		t.Fatal(err)
	}
	aw.Close()
	w := newWorkRepo(t)
	head := w.commit("s/a", "1", key)
	m := openMirror(t, w.dir)
	for _, tc := range []struct{ name, keyring, errHas string }{
		{"not a key", "not a key", "no armored public key"},
		{"broken block", "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n-----END PGP PUBLIC KEY BLOCK-----\n", "read keyring"},
		{"private key", priv.String(), "PGP PRIVATE KEY BLOCK"},
		{"private key after a public one", pub + priv.String(), "give only public keys"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := m.VerifyRange(t.Context(), "", head, Policy{Keyring: tc.keyring})
			var ue *UnsignedCommitError
			if err == nil || errors.As(err, &ue) || !strings.Contains(err.Error(), tc.errHas) {
				t.Errorf("VerifyRange: %v; want a policy error saying %q", err, tc.errHas)
			}
		})
	}
}

// TestVerifyRangeForgedSignature: a signature copied from another commit does
// not cover the forged content.
func TestVerifyRangeForgedSignature(t *testing.T) {
	key, pub := newKey(t, "k")
	w := newWorkRepo(t)
	base := w.commit("s/a", "1", key)
	signed := w.commit("s/a", "2", key)
	c, err := w.git.CommitObject(plumbing.NewHash(signed))
	if err != nil {
		t.Fatal(err)
	}
	forged := *c
	forged.Message = "something the key owner never signed"
	obj := w.git.Storer.NewEncodedObject()
	if err := forged.Encode(obj); err != nil {
		t.Fatal(err)
	}
	fh, err := w.git.Storer.SetEncodedObject(obj)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.git.Storer.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName("main"), fh)); err != nil {
		t.Fatal(err)
	}
	m := openMirror(t, w.dir)
	err = m.VerifyRange(t.Context(), base, fh.String(), Policy{Keyring: pub})
	var ue *UnsignedCommitError
	if !errors.As(err, &ue) || ue.Commit != fh.String() {
		t.Fatalf("VerifyRange: %v; want the forged commit %s refused", err, fh)
	}
	if !strings.Contains(ue.Reason, "bad signature") {
		t.Errorf("reason %q; want it to say the signature is bad", ue.Reason)
	}
}

// TestCheckAdvance plays the daemon: it applied a commit, then the branch moves.
func TestCheckAdvance(t *testing.T) {
	key, pub := newKey(t, "trusted")
	p := Policy{Keyring: pub}
	w := newWorkRepo(t)
	a := w.commit("s/a", "1", key)
	applied := w.commit("s/a", "2", key)
	m := openMirror(t, w.dir)

	if err := m.CheckAdvance(t.Context(), "", applied, p); err != nil {
		t.Fatalf("first sync: %v", err)
	}
	if err := m.CheckAdvance(t.Context(), applied, applied, p); err != nil {
		t.Errorf("no change: %v", err)
	}
	if err := m.CheckAdvance(t.Context(), a, applied, p); err != nil {
		t.Errorf("fast-forward: %v", err)
	}

	// A force-push: the branch goes back to a, and a new commit replaces the
	// applied one. Every commit is signed; the rewrite alone is refused.
	w.resetHard(a)
	rewritten := w.commit("s/a", "other", key)
	head, err := m.Fetch(t.Context())
	if err != nil || head != rewritten {
		t.Fatalf("Fetch after force-push = %s, %v; want %s", head, err, rewritten)
	}
	err = m.CheckAdvance(t.Context(), applied, head, p)
	var re *RewrittenHistoryError
	if !errors.As(err, &re) || re.Applied != applied || re.Head != head {
		t.Fatalf("CheckAdvance after force-push: %v; want a *RewrittenHistoryError{%s, %s}", err, applied, head)
	}
	if err := m.CheckAdvance(t.Context(), applied, head, Policy{}); !errors.As(err, &re) {
		t.Errorf("a rewrite must be refused without a signature policy too: %v", err)
	}

	// A daemon whose mirror was re-made after the force-push has never seen
	// the applied commit; that is a rewrite as well, not an error.
	fresh := openMirror(t, w.dir)
	if err := fresh.CheckAdvance(t.Context(), applied, head, p); !errors.As(err, &re) {
		t.Errorf("fresh mirror: %v; want a *RewrittenHistoryError", err)
	}

	// Rewritten history is refused before signatures are looked at: the
	// daemon must report the rewrite, whatever the new commits are.
	w.resetHard(a)
	unsigned := w.commit("s/a", "unsigned", nil)
	if _, err := m.Fetch(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := m.CheckAdvance(t.Context(), applied, unsigned, p); !errors.As(err, &re) {
		t.Errorf("rewrite with an unsigned commit: %v; want a *RewrittenHistoryError", err)
	}
	if err := m.CheckAdvance(t.Context(), a, unsigned, p); err == nil {
		t.Error("an unsigned commit after the applied one was accepted")
	}
}

func TestIsAncestor(t *testing.T) {
	w := newWorkRepo(t)
	a := w.commit("s/a", "1", nil)
	b := w.commit("s/a", "2", nil)
	w.checkout("feature", a)
	side := w.commit("s/b", "1", nil)
	w.checkout("main", "")
	merge := w.commit("s/b", "1", nil, plumbing.NewHash(b), plumbing.NewHash(side))
	m := openMirror(t, w.dir)
	if _, err := m.Fetch(t.Context()); err != nil {
		t.Fatal(err)
	}
	// side is not on main before the merge; the mirror knows it only as a
	// parent of the merge.
	for _, tc := range []struct {
		older, newer string
		want         bool
	}{
		{a, b, true},
		{b, b, true},
		{b, a, false},
		{side, merge, true},
		{side, b, false},
		{strings.Repeat("1", 40), merge, false},
	} {
		got, err := m.IsAncestor(t.Context(), tc.older, tc.newer)
		if err != nil || got != tc.want {
			t.Errorf("IsAncestor(%s, %s) = %v, %v; want %v", short(tc.older), short(tc.newer), got, err, tc.want)
		}
	}
	if _, err := m.IsAncestor(t.Context(), a, "main"); err == nil {
		t.Error("IsAncestor took a branch name; it must take commit IDs only")
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := m.IsAncestor(ctx, a, merge); !errors.Is(err, context.Canceled) {
		t.Errorf("IsAncestor with a cancelled context: %v", err)
	}
	if err := m.VerifyRange(ctx, "", merge, Policy{Keyring: mustKey(t)}); !errors.Is(err, context.Canceled) {
		t.Errorf("VerifyRange with a cancelled context: %v", err)
	}
}

func mustKey(t *testing.T) string {
	t.Helper()
	_, pub := newKey(t, "k")
	return pub
}
