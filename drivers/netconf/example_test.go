package netconf_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/drivers/netconf"
	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/schema"
)

// Dial a device from the inventory, then change it under a lock with a
// confirmed commit, the way a reconcile step does.
func ExampleDial() {
	ctx := context.Background()
	dev := &schema.Device{Name: "pe1", Address: "192.0.2.1", Port: 830,
		Credentials: schema.Credentials{Username: "netrecon", PasswordEnv: "PE1_PASSWORD"}}
	auth, err := netconf.ResolveCredentials(dev.Credentials, "/srv/intent-repo")
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := netconf.Dial(ctx, netconf.Target{
		Device: dev.Name, Address: dev.Address, Port: dev.Port,
		Username: dev.Credentials.Username, Auth: auth,
		KnownHosts: "/etc/netrecon/known_hosts",
	}, netconf.WithLogger(slog.Default()), netconf.WithRPCTimeout(30*time.Second))
	var hk *netconf.HostKeyError
	if errors.As(err, &hk) {
		fmt.Println("host key:", hk)
		return
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close(ctx)

	var changes []configtree.Change // from configtree.Diff(live, desired)
	if err := s.Lock(ctx, netconf.Candidate); err != nil {
		var denied *reconcile.LockHeldError
		if errors.As(err, &denied) {
			fmt.Println("held by session", denied.HeldBy, "- retry later")
		}
		return
	}
	defer s.Unlock(ctx, netconf.Candidate)
	if err := s.EditConfig(ctx, netconf.Candidate, changes); err != nil {
		_ = s.Discard(ctx)
		return
	}
	if err := s.Commit(ctx, reconcile.CommitOptions{Confirmed: true, Timeout: time.Minute}); err != nil {
		_ = s.Discard(ctx)
		return
	}
	// Verify running, then confirm with a plain commit.
	_ = s.Commit(ctx, reconcile.CommitOptions{})
}
