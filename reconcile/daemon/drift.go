package daemon

import (
	"fmt"
	"strings"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/reconcile/plan"
)

// redacted stands for the value of a secret leaf wherever the daemon shows
// or keeps one: status, journal, logs, notifications.
const redacted = "[redacted]"

// secretWords are the leaf names (or parts of them) whose values are
// secrets on the platforms netrecon knows: a BGP session's authentication
// key, a user's password, an SNMP community. A false positive hides a value
// an operator could have read with `netrecon plan`; a false negative puts a
// secret in the status: so the list errs on hiding.
var secretWords = []string{"password", "secret", "community", "token", "md5", "psk", "passphrase", "private"}

// secretLeaf reports whether the leaf at p holds a secret, by its name.
func secretLeaf(p configtree.Path) bool {
	steps, err := configtree.ParsePath(p)
	if err != nil || len(steps) == 0 {
		return true // unknown: hide
	}
	name := strings.ToLower(steps[len(steps)-1].Name)
	if name == "key" || strings.HasSuffix(name, "-key") || strings.HasSuffix(name, "_key") {
		return true
	}
	for _, w := range secretWords {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// shown is a leaf value as the daemon may show it.
func shown(p configtree.Path, v string) string {
	if secretLeaf(p) {
		return redacted
	}
	return v
}

// actionWord is a change's action in the API's words.
func actionWord(a configtree.Action) string {
	switch a {
	case configtree.Create:
		return "create"
	case configtree.Update:
		return "update"
	case configtree.Delete:
		return "delete"
	}
	return string(a)
}

// nodesOf lists what pd's changes say differs from the intent, as nodes of
// kind k: Live is what the device holds (the change's before), Desired what
// the intent wants (its after), each only where the node exists, secrets
// redacted. At most journal.MaxNodes.
func nodesOf(pd *plan.Device, k journal.NodeKind) []journal.Node {
	if pd == nil {
		return nil
	}
	out := make([]journal.Node, 0, min(len(pd.Changes), journal.MaxNodes))
	for _, c := range pd.Changes[:min(len(pd.Changes), journal.MaxNodes)] {
		n := journal.Node{Kind: k, Action: actionWord(c.Action), Path: string(c.Path), Owners: append([]string{}, c.Owners...), Leaf: c.Leaf}
		if c.Leaf {
			if c.Action != configtree.Create {
				n.Live = shown(c.Path, c.Before)
			}
			if c.Action != configtree.Delete {
				n.Desired = shown(c.Path, c.After)
			}
		}
		out = append(out, n)
	}
	return out
}

// driftMessage is a drift alarm's text: the paths, their owners, and what
// to do (heal, or change the intent).
func driftMessage(device string, nodes []journal.Node, total int) string {
	var b strings.Builder
	word := "nodes"
	if total == 1 {
		word = "node"
	}
	fmt.Fprintf(&b, "%s: %d managed %s changed by hand:", device, total, word)
	for i, n := range nodes {
		if i == 3 {
			fmt.Fprintf(&b, "; and %d more", total-3)
			break
		}
		sep := " "
		if i > 0 {
			sep = "; "
		}
		fmt.Fprintf(&b, "%s%s %s", sep, n.Action, n.Path)
		if len(n.Owners) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(n.Owners, ", "))
		}
		if n.Leaf && n.Action == "update" {
			fmt.Fprintf(&b, " is %q, intent %q", n.Live, n.Desired)
		}
	}
	b.WriteString("; drift policy is report, so it was left in place")
	return b.String()
}

// owns reports whether service renders one of nodes (of kind k).
func owns(nodes []journal.Node, service string, k journal.NodeKind) bool {
	for _, n := range nodes {
		if n.Kind != k {
			continue
		}
		for _, o := range n.Owners {
			if o == service {
				return true
			}
		}
	}
	return false
}

// serviceStateOn is a service's state on one device in state state (the
// API's view state, pending and paused included): a drifting device drifts
// only for the services that own a drifted node; a device whose changes are
// held back (deferred, failing, waiting) is held back only for the services
// whose changes those are, when the nodes say (a device that could not even
// be planned has none, and stands for all its services).
func serviceStateOn(state string, ds journal.DeviceState, service string) string {
	switch DeviceState(state) {
	case StateDrift:
		if owns(ds.Nodes, service, journal.NodeDrift) {
			return state
		}
		return string(StateInSync)
	case StateDeferred, StateFailing, StateBackoff:
		if len(ds.Nodes) == 0 || len(ds.Nodes) >= journal.MaxNodes || owns(ds.Nodes, service, journal.NodePending) {
			return state
		}
		return string(StateInSync)
	}
	return state
}

// serviceNodes are the nodes of ds that service owns.
func serviceNodes(ds journal.DeviceState, service string) []journal.Node {
	var out []journal.Node
	for _, n := range ds.Nodes {
		for _, o := range n.Owners {
			if o == service {
				out = append(out, n)
				break
			}
		}
	}
	return out
}
