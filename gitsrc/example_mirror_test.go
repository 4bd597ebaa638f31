package gitsrc_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/netrecon/netrecon/gitsrc"
)

// The daemon's loop around a Mirror: fetch, refuse a rewritten or unsigned
// history, and read only the commit it checked.
func ExampleMirror() {
	ctx := context.Background()
	m, err := gitsrc.OpenMirror(ctx, "https://git.example.com/netops/intent.git", "main", "/var/lib/netrecon/intent.git",
		gitsrc.WithBasicAuth("x-access-token", os.Getenv("NETRECON_GIT_TOKEN")))
	if err != nil {
		fmt.Println(err) // never holds the token
		return
	}
	keyring, err := os.ReadFile("/etc/netrecon/signers.asc")
	if err != nil {
		fmt.Println(err)
		return
	}
	applied := "" // the last applied commit, from the journal; "" before the first sync

	head, err := m.Fetch(ctx)
	if err != nil {
		fmt.Println(err) // retry later
		return
	}
	var rewritten *gitsrc.RewrittenHistoryError
	var unsigned *gitsrc.UnsignedCommitError
	switch err := m.CheckAdvance(ctx, applied, head, gitsrc.Policy{Keyring: string(keyring)}); {
	case errors.As(err, &rewritten), errors.As(err, &unsigned):
		fmt.Println("alarm, a human must decide:", err) // retrying does not help
		return
	case err != nil:
		fmt.Println(err)
		return
	}
	rev, err := m.Revision(head)
	if err != nil {
		fmt.Println(err)
		return
	}
	fsys, err := rev.FS()
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = fsys // load, render, plan and apply rev.Commit; then record it as applied
}
