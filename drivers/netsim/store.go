package netsim

import (
	"bytes"
	"slices"
	"strconv"
	"time"

	"github.com/netrecon/netrecon/configtree"
)

// This file is the simulator's only contact with configtree: datastores are
// *configtree.Tree values, never changed in place once stored, so a reader
// may keep one after releasing the device lock.

func emptyTree() *configtree.Tree { return configtree.New() }

func cloneTree(t *configtree.Tree) *configtree.Tree {
	if t == nil || t.Root == nil {
		return configtree.New()
	}
	return t.Clone()
}

// parseConfig reads a standalone <config> or <data> document (see elem.standalone).
func parseConfig(doc []byte, keys configtree.Keys) (*configtree.Tree, error) {
	return configtree.ParseData(bytes.NewReader(doc), "config", keys)
}

// applyEdit applies an edit-config payload (a standalone <config> document) to
// a copy of t and returns the copy: t itself never changes, which gives
// rollback-on-error for free.
func applyEdit(t *configtree.Tree, doc []byte, defaultOp string, keys configtree.Keys, q configtree.EditQuirks) (*configtree.Tree, error) {
	return configtree.ApplyEditQuirks(t, bytes.NewReader(doc), "edit-config", keys, defaultOp, q)
}

// selectTree applies a subtree filter: the content of <filter>. An element
// there without a namespace of its own matches any namespace (RFC 6241
// 6.2.1), which is why it is not wrapped to inherit the base namespace.
func selectTree(t *configtree.Tree, filter []byte) (*configtree.Tree, error) {
	f, err := configtree.ParseFilter(bytes.NewReader(filter), "filter")
	if err != nil {
		return nil, err
	}
	return t.Select(f), nil
}

// writeTree writes t's top-level elements.
func writeTree(b *bytes.Buffer, t *configtree.Tree) error {
	return t.WriteXML(b, configtree.WriteOptions{})
}

// withState returns a tree holding the children of config and state, for
// <get>; neither input is changed.
func withState(config *configtree.Tree, state *configtree.Node) *configtree.Tree {
	var kids []*configtree.Node
	if config != nil && config.Root != nil {
		kids = append(kids, config.Root.Children...)
	}
	kids = append(kids, state)
	return &configtree.Tree{Root: &configtree.Node{Children: kids}}
}

// monitoringState builds /netconf-state/sessions of ietf-netconf-monitoring
// ([RFC6022 2.1.3]); d.mu must be held.
//
// [RFC6022 2.1.3]: https://www.rfc-editor.org/rfc/rfc6022#section-2.1.3
func (d *Device) monitoringState() *configtree.Node {
	sessions := &configtree.Node{Name: "sessions", Space: nsMonitoring}
	add := func(id uint32, user, host string, login time.Time) {
		sessions.Children = append(sessions.Children, &configtree.Node{
			Name: "session", Space: nsMonitoring, Keys: []string{"session-id"},
			Children: []*configtree.Node{
				leaf("session-id", strconv.FormatUint(uint64(id), 10)),
				// transport is an identityref: ncm:netconf-ssh.
				{Name: "transport", Space: nsMonitoring, Leaf: true, Value: "netconf-ssh", ValueSpace: nsMonitoring},
				leaf("username", user),
				leaf("source-host", host),
				leaf("login-time", login.Format(time.RFC3339)),
			},
		})
	}
	for _, id := range sortedIDs(d.sessions) {
		s := d.sessions[id]
		add(s.id, s.user, s.host, s.login)
	}
	for _, o := range d.operators {
		// A documentation address (RFC 5737): the operator's workstation.
		add(o.id, o.user, "192.0.2.10", o.login)
	}
	return &configtree.Node{Name: "netconf-state", Space: nsMonitoring, Children: []*configtree.Node{sessions, d.schemasState()}}
}

func leaf(name, value string) *configtree.Node {
	return &configtree.Node{Name: name, Space: nsMonitoring, Leaf: true, Value: value}
}

func sortedIDs(m map[uint32]*session) []uint32 {
	ids := make([]uint32, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
