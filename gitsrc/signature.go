package gitsrc

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Policy says which commits the daemon may apply.
type Policy struct {
	// Keyring holds armored OpenPGP public keys; every new commit must be
	// signed by one of them. "" means no signature policy.
	Keyring string
}

// UnsignedCommitError names the first commit, oldest first, that the
// signature policy refuses. Nothing past it may be applied: a later signed
// commit does not vouch for the unsigned one under it.
type UnsignedCommitError struct {
	Commit string // full ID
	Reason string // e.g. "not signed", "signed by a key that is not in the keyring"
}

func (e *UnsignedCommitError) Error() string {
	return fmt.Sprintf("commit %s is refused by the signature policy: %s", e.Commit, e.Reason)
}

// RewrittenHistoryError means the branch's head no longer contains the commit
// the daemon last applied: the applied history was rewritten (a force-push).
// Applying the new head could silently undo reviewed changes, so a human must
// decide: restore the branch, or record the new head as accepted.
type RewrittenHistoryError struct {
	Applied, Head string // full commit IDs
}

func (e *RewrittenHistoryError) Error() string {
	return fmt.Sprintf("branch head %s does not contain the applied commit %s: its history was rewritten (force-push?); refusing to apply until a human restores the branch or accepts the new history", short(e.Head), short(e.Applied))
}

// CheckAdvance decides whether the daemon may move from the applied commit to
// head: head must contain applied (no rewritten history), then every commit
// between them must satisfy the policy (see VerifyRange). applied "" is the
// first sync.
func (m *Mirror) CheckAdvance(ctx context.Context, applied, head string, p Policy) error {
	if applied != "" {
		ok, err := m.IsAncestor(ctx, applied, head)
		if err != nil {
			return err
		}
		if !ok {
			return &RewrittenHistoryError{Applied: applied, Head: head}
		}
	}
	return m.VerifyRange(ctx, applied, head, p)
}

// VerifyRange checks that every commit reachable from to and not from from,
// merge commits and the commits they bring in included, carries a valid
// OpenPGP signature by a key of p.Keyring. It returns an *UnsignedCommitError
// naming the oldest refused commit (parents before children). Checking only
// the head, as Argo CD does, would let an unsigned commit under a signed head
// reach the network.
//
// from "" means the whole history of to: the first sync of a repo vouches for
// every commit in it. A repo that began signing late needs a trusted starting
// point instead, given as from (and recorded by the daemon as applied).
// With an empty Keyring there is no policy and VerifyRange accepts anything.
func (m *Mirror) VerifyRange(ctx context.Context, from, to string, p Policy) error {
	if p.Keyring == "" {
		return nil
	}
	keyring, err := readKeyring(p.Keyring)
	if err != nil {
		return fmt.Errorf("signature policy: %w", err)
	}
	commits, err := m.between(ctx, from, to)
	if err != nil {
		return err
	}
	for _, c := range commits {
		if err := ctx.Err(); err != nil {
			return err
		}
		if reason := refusal(c, keyring); reason != "" {
			return &UnsignedCommitError{Commit: c.Hash.String(), Reason: reason}
		}
	}
	return nil
}

// readKeyring checks the policy's keys and returns them as one armored block.
// Keys exported one by one and pasted together are several blocks, and an
// OpenPGP reader (go-git's Commit.Verify included) stops after the first: the
// other keys would be silently distrusted.
func readKeyring(armored string) (string, error) {
	const begin = "-----BEGIN PGP "
	var keys openpgp.EntityList
	rest := armored
	for {
		i := strings.Index(rest, begin)
		if i < 0 {
			break
		}
		rest = rest[i:]
		block := rest
		if j := strings.Index(rest[len(begin):], begin); j >= 0 {
			block, rest = rest[:len(begin)+j], rest[len(begin)+j:]
		} else {
			rest = ""
		}
		if !strings.HasPrefix(block, begin+"PUBLIC KEY BLOCK-----") {
			// Above all, a private key has no business in a policy.
			kind, _, _ := strings.Cut(strings.TrimPrefix(block, "-----BEGIN "), "-----")
			return "", fmt.Errorf("the keyring holds a %s; give only public keys", kind)
		}
		es, err := openpgp.ReadArmoredKeyRing(strings.NewReader(block))
		if err != nil {
			return "", fmt.Errorf("read keyring: %w", err)
		}
		keys = append(keys, es...)
	}
	if len(keys) == 0 {
		return "", errors.New("the keyring holds no armored public key")
	}
	var buf strings.Builder
	w, err := armor.Encode(&buf, openpgp.PublicKeyType, nil)
	if err != nil {
		return "", err
	}
	for _, e := range keys {
		if err := e.Serialize(w); err != nil {
			return "", fmt.Errorf("keyring: key %X: %w", e.PrimaryKey.Fingerprint, err)
		}
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// refusal says why the policy refuses c, or "" when c is signed by a key of
// the keyring.
func refusal(c *object.Commit, keyring string) string {
	if c.PGPSignature == "" {
		return "not signed"
	}
	if strings.HasPrefix(strings.TrimSpace(c.PGPSignature), "-----BEGIN SSH SIGNATURE") {
		return "signed with an SSH key; the policy takes OpenPGP signatures"
	}
	_, err := c.Verify(keyring)
	switch {
	case err == nil:
		return ""
	case errors.Is(err, pgperrors.ErrUnknownIssuer):
		return "signed by a key that is not in the keyring"
	case errors.Is(err, pgperrors.ErrKeyExpired):
		return "signed by an expired key"
	case errors.Is(err, pgperrors.ErrSignatureExpired):
		return "the signature has expired"
	}
	return "bad signature: " + err.Error()
}

// between lists the commits reachable from to and not from from, parents
// before children, so the first refused one is the oldest.
func (m *Mirror) between(ctx context.Context, from, to string) ([]*object.Commit, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	excluded := map[plumbing.Hash]bool{}
	if from != "" {
		err := m.walk(ctx, from, func(c *object.Commit) (bool, error) {
			excluded[c.Hash] = true
			return true, nil
		})
		if err != nil {
			return nil, err
		}
	}
	top, err := m.commit(to)
	if err != nil {
		return nil, err
	}
	if excluded[top.Hash] {
		return nil, nil
	}
	// Depth-first, emitting a commit once all its parents are out: a
	// topological order, oldest first. An explicit stack, since a long
	// linear history would be as deep as it is long.
	type frame struct {
		c    *object.Commit
		next int // index of the next parent to visit
	}
	var out []*object.Commit
	seen := map[plumbing.Hash]bool{top.Hash: true}
	stack := []frame{{c: top}}
	for len(stack) > 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		f := &stack[len(stack)-1]
		if f.next == len(f.c.ParentHashes) {
			out = append(out, f.c)
			stack = stack[:len(stack)-1]
			continue
		}
		ph := f.c.ParentHashes[f.next]
		f.next++
		if seen[ph] || excluded[ph] {
			continue
		}
		seen[ph] = true
		pc, err := m.git.CommitObject(ph)
		if err != nil {
			return nil, fmt.Errorf("commit %s: parent %s: %w", short(f.c.Hash.String()), short(ph.String()), err)
		}
		stack = append(stack, frame{c: pc})
	}
	return out, nil
}
