package secretref

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/schema"
)

// Unknown is a secret leaf's live value as netrecon shows it when the value
// is none of the device's secrets.
const Unknown = "(secret: another value)"

// placeholderRE matches what Placeholder writes; the reference is checked
// by the schema (#SecretRef).
var placeholderRE = regexp.MustCompile(`^\(secret ((?:env:[A-Za-z_][A-Za-z0-9_]*)|(?:file:/[^)]+))\)$`)

// Placeholder is how a secret reference stands in the desired tree.
func Placeholder(ref string) string { return "(secret " + ref + ")" }

// Ref returns the reference of a placeholder value.
func Ref(value string) (string, bool) {
	m := placeholderRE.FindStringSubmatch(value)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// Resolver returns the secret a reference names. Its errors name the
// reference, never a value.
type Resolver func(ref string) (string, error)

// Resolve is schema.SecretRef's resolver, as a Resolver.
func Resolve(ref string) (string, error) {
	v, err := schema.SecretRef(ref).Resolve()
	return string(v), err
}

// SecretLeaf reports whether a leaf of this name holds a secret on the
// platforms netrecon renders: Junos authentication-key, OpenConfig
// auth-password, and names like them.
func SecretLeaf(name string) bool {
	n := strings.ToLower(name)
	if n == "key" || strings.HasSuffix(n, "-key") || strings.HasSuffix(n, "_key") {
		return true
	}
	for _, w := range []string{"password", "secret", "md5", "psk", "passphrase"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// Refs returns the secret references of a device's services in an intent:
// what its sessions may meet on reads.
func Refs(in *schema.Intent, device string) []string {
	var out []string
	for _, s := range in.Services {
		if s.Kind != schema.KindBGPCustomer || !contains(s.Devices, device) {
			continue
		}
		if k, ok := s.Spec["session_key"].(map[string]any); ok {
			if ref, ok := k["secret"].(string); ok && ref != "" {
				out = append(out, ref)
			}
		}
	}
	return out
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// Wrap returns a Dialer whose sessions resolve placeholders on edit and mask
// secrets on read (the package comment). refs gives a device's references;
// a session asks for them at its first read or refused edit, not when it is
// dialled, so that a CLI may open its sessions while the services that hold
// the references are still being loaded.
func Wrap(next reconcile.Dialer, refs func(device string) []string, resolve Resolver) reconcile.Dialer {
	return reconcile.DialFunc(func(ctx context.Context, dev *schema.Device) (reconcile.Device, error) {
		d, err := next.Dial(ctx, dev)
		if err != nil {
			return nil, err
		}
		name := dev.Name
		return &device{Device: d, name: name, refs: sync.OnceValue(func() []string { return refs(name) }), resolve: resolve}, nil
	})
}

// device is a session with secrets handled; everything else passes through.
type device struct {
	reconcile.Device
	name    string
	refs    func() []string // the device's references, asked for once
	resolve Resolver
}

// Unwrap returns the session underneath, for reads that carry no
// configuration (the YANG modules a device advertises).
func (d *device) Unwrap() reconcile.Device { return d.Device }

// GetConfig masks secret leaves of what the device returns.
func (d *device) GetConfig(ctx context.Context, source string, filter *configtree.Tree) (*configtree.Tree, error) {
	t, err := d.Device.GetConfig(ctx, source, filter)
	if err != nil || t == nil {
		return t, err
	}
	// A reference that does not resolve matches nothing: its leaf reads as
	// Unknown, and the edit that would write it fails with the reason.
	refs := d.refs()
	known := make(map[string]string, len(refs))
	for _, ref := range refs {
		if v, err := d.resolve(ref); err == nil {
			known[v] = Placeholder(ref)
		}
	}
	t.Walk(func(_ configtree.Path, n *configtree.Node) bool {
		if n.Leaf && n.Value != "" && SecretLeaf(n.Name) {
			if p, ok := known[n.Value]; ok {
				n.Value = p
			} else if _, ok := Ref(n.Value); !ok {
				n.Value = Unknown
			}
		}
		return true
	})
	return t, nil
}

// EditConfig resolves every placeholder of changes into copies, then sends
// them; a reference that does not resolve sends nothing.
func (d *device) EditConfig(ctx context.Context, target string, changes []configtree.Change) error {
	out := make([]configtree.Change, len(changes))
	var errs []error
	failed := map[string]bool{} // a node and its leaf are two changes: one error
	for i, c := range changes {
		out[i] = c
		if c.Action == configtree.Delete || c.Node == nil {
			continue
		}
		n, err := d.resolveNode(c.Path, c.Node)
		if err != nil {
			if !failed[err.Error()] {
				failed[err.Error()] = true
				errs = append(errs, err)
			}
			continue
		}
		out[i].Node = n
		if c.Leaf {
			out[i].After = n.Value
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%s: edit-config: %w", d.name, err)
	}
	if err := d.Device.EditConfig(ctx, target, out); err != nil {
		return d.redact(err)
	}
	return nil
}

// redactedError is a device's error whose text had a secret in it (a server
// that echoes the value it refuses): the text names the reference instead.
// Unwrap still reaches the device's error, for callers that branch on its
// type; its own text is not shown by netrecon's views, which print Error().
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact replaces the device's secrets in err's text with their placeholders.
func (d *device) redact(err error) error {
	msg := err.Error()
	clean := msg
	for _, ref := range d.refs() {
		if v, rerr := d.resolve(ref); rerr == nil && v != "" {
			clean = strings.ReplaceAll(clean, v, Placeholder(ref))
		}
	}
	if clean == msg {
		return err
	}
	return &redactedError{msg: clean, err: err}
}

// resolveNode returns n, or a copy of it with its placeholders resolved.
func (d *device) resolveNode(p configtree.Path, n *configtree.Node) (*configtree.Node, error) {
	if n.Leaf {
		if n.Value == Unknown {
			return nil, fmt.Errorf("%s: cannot write back a secret netrecon never read (shown as %q)", p, Unknown)
		}
		ref, ok := Ref(n.Value)
		if !ok {
			return n, nil
		}
		v, err := d.resolve(ref)
		if err != nil {
			// The reference says which leaf; the paths of a created
			// subtree's children would lack their keys.
			return nil, err
		}
		c := *n
		c.Value = v
		return &c, nil
	}
	var cp *configtree.Node
	var errs []error
	for i, ch := range n.Children {
		r, err := d.resolveNode(configtree.Path(string(p)+"/"+ch.Name), ch)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if r != ch {
			if cp == nil {
				c := *n
				c.Children = append([]*configtree.Node(nil), n.Children...)
				cp = &c
			}
			cp.Children[i] = r
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if cp != nil {
		return cp, nil
	}
	return n, nil
}
