package daemon

import (
	"context"
	"fmt"

	"github.com/netrecon/netrecon/drivers/netconf"
	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/render"
	"github.com/netrecon/netrecon/schema"
)

// dialerFor returns the Dialer for the devices of in: Options.Dialer, or
// NETCONF over SSH with the inventory's credential references resolved from
// Config.Credentials.EnvFile first, then as `netrecon plan` resolves them.
func (d *Daemon) dialerFor(in *schema.Intent) reconcile.Dialer {
	if d.opts.Dialer != nil {
		return d.opts.Dialer(in)
	}
	return reconcile.DialFunc(func(ctx context.Context, dev *schema.Device) (reconcile.Device, error) {
		auth, err := d.credentials(dev)
		if err != nil {
			return nil, err
		}
		t := netconf.Target{Device: dev.Name, Address: dev.Address, Port: dev.Port, Username: dev.Credentials.Username, Auth: auth, KnownHosts: d.cfg.KnownHosts}
		opts := []netconf.Option{
			netconf.WithKeys(render.Keys(dev.Platform, in.Types)),
			netconf.WithDialTimeout(d.cfg.DialTimeout.D()),
			netconf.WithRPCTimeout(d.cfg.RPCTimeout.D()),
		}
		if d.cfg.SettleAfterHello > 0 {
			opts = append(opts, netconf.WithSettleAfterHello(d.cfg.SettleAfterHello.D()))
		}
		s, err := netconf.Dial(ctx, t, opts...)
		if err != nil {
			return nil, err
		}
		return s, nil
	})
}

func (d *Daemon) credentials(dev *schema.Device) (netconf.Auth, error) {
	if env := dev.Credentials.PasswordEnv; env != "" {
		if v, ok := d.env[env]; ok {
			return netconf.PasswordAuth(v), nil
		}
	}
	// The daemon reads commits from its mirror, never a work tree, so no
	// credential file can be inside "the repo" on this machine.
	auth, err := netconf.ResolveCredentials(dev.Credentials, "", netconf.OnInsecureFile(d.insecureFile))
	if err != nil {
		return netconf.Auth{}, fmt.Errorf("%s: credentials: %w", dev.Name, err)
	}
	return auth, nil
}
