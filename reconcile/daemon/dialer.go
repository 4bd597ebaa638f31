package daemon

import (
	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/schema"
)

// Credentials is the daemon's policy for the devices' credential references,
// handed to Options.Dialer: cmd/netrecon builds the one dialer the CLI and the
// daemon share, and this is what the daemon adds to it.
type Credentials struct {
	// Env holds credentials.env_file's values: a passwordEnv reference is
	// looked up here first, then in the process environment.
	Env map[string]string
	// OnInsecureFile refuses a credential file its group or others may
	// access, unless credentials.allow_insecure_files (then it warns once).
	OnInsecureFile func(*schema.InsecureFileError) error
}

// dialerFor returns the Dialer for the devices of in (list keys depend on its
// service types).
func (d *Daemon) dialerFor(in *schema.Intent) reconcile.Dialer {
	return d.opts.Dialer(in, d.credentials())
}

func (d *Daemon) credentials() Credentials {
	return Credentials{Env: d.env, OnInsecureFile: d.insecureFile}
}
