package render

import (
	"maps"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/schema"
)

// ietfKeys are the lists of the IETF modules the built-in templates use, as
// the modules netconfd ships define them (ietf-interfaces@2014-05-08,
// ietf-ip@2014-06-16, ietf-routing@2016-11-04 and its unicast augments), plus
// the ietf-netconf-monitoring lists drivers read to see who is logged in.
// The leaves of type identityref among them are marked IdentityLeaf: only
// there is a value "prefix:local" an identity (configtree.Parse).
func ietfKeys() configtree.Keys {
	return configtree.Keys{
		"/interfaces/interface":                                                            {"name"},
		"/interfaces/interface/ipv4/address":                                               {"ip"},
		"/interfaces/interface/ipv4/neighbor":                                              {"ip"},
		"/interfaces/interface/ipv6/address":                                               {"ip"},
		"/interfaces/interface/ipv6/neighbor":                                              {"ip"},
		"/interfaces-state/interface":                                                      {"name"},
		"/routing/control-plane-protocols/control-plane-protocol":                          {"type", "name"},
		"/routing/control-plane-protocols/control-plane-protocol/static-routes/ipv4/route": {"destination-prefix"},
		"/routing/control-plane-protocols/control-plane-protocol/static-routes/ipv6/route": {"destination-prefix"},
		"/routing/ribs/rib":                                                                {"name"},
		"/routing-state/control-plane-protocols/control-plane-protocol":                    {"type", "name"},
		"/routing-state/ribs/rib":                                                          {"name"},
		"/netconf-state/sessions/session":                                                  {"session-id"},
		"/netconf-state/datastores/datastore":                                              {"name"},
		"/netconf-state/schemas/schema":                                                    {"identifier", "version", "format"},
		// bgp-customer, in the OpenConfig models (openconfig-routing-policy,
		// openconfig-bgp under openconfig-network-instance): yuma123 ships no
		// IETF BGP or policy module.
		"/routing-policy/defined-sets/prefix-sets/prefix-set":                                                                   {"name"},
		"/routing-policy/defined-sets/prefix-sets/prefix-set/prefixes/prefix":                                                   {"ip-prefix", "masklength-range"},
		"/routing-policy/policy-definitions/policy-definition":                                                                  {"name"},
		"/routing-policy/policy-definitions/policy-definition/statements/statement":                                             {"name"},
		"/network-instances/network-instance":                                                                                   {"name"},
		"/network-instances/network-instance/protocols/protocol":                                                                {"identifier", "name"},
		"/network-instances/network-instance/protocols/protocol/identifier":                                                     {configtree.IdentityLeaf},
		"/network-instances/network-instance/protocols/protocol/config/identifier":                                              {configtree.IdentityLeaf},
		"/network-instances/network-instance/protocols/protocol/bgp/neighbors/neighbor":                                         {"neighbor-address"},
		"/network-instances/network-instance/protocols/protocol/bgp/neighbors/neighbor/afi-safis/afi-safi":                      {"afi-safi-name"},
		"/network-instances/network-instance/protocols/protocol/bgp/neighbors/neighbor/afi-safis/afi-safi/afi-safi-name":        {configtree.IdentityLeaf},
		"/network-instances/network-instance/protocols/protocol/bgp/neighbors/neighbor/afi-safis/afi-safi/config/afi-safi-name": {configtree.IdentityLeaf},

		"/interfaces/interface/type":                                         {configtree.IdentityLeaf},
		"/interfaces-state/interface/type":                                   {configtree.IdentityLeaf},
		"/routing/control-plane-protocols/control-plane-protocol/type":       {configtree.IdentityLeaf},
		"/routing-state/control-plane-protocols/control-plane-protocol/type": {configtree.IdentityLeaf},
		"/routing/ribs/rib/address-family":                                   {configtree.IdentityLeaf},
		"/routing-state/ribs/rib/address-family":                             {configtree.IdentityLeaf},
		"/netconf-state/schemas/schema/format":                               {configtree.IdentityLeaf},
		"/netconf-state/sessions/session/transport":                          {configtree.IdentityLeaf},
	}
}

// junosKeys are the Junos configuration lists the built-in templates use. In
// Junos XML every list entry is keyed by its <name> child.
func junosKeys() configtree.Keys {
	return configtree.Keys{
		"/configuration/interfaces/interface":                                        {"name"},
		"/configuration/interfaces/interface/unit":                                   {"name"},
		"/configuration/interfaces/interface/unit/family/inet/address":               {"name"},
		"/configuration/interfaces/interface/unit/family/inet6/address":              {"name"},
		"/configuration/routing-instances/instance":                                  {"name"},
		"/configuration/routing-instances/instance/interface":                        {"name"},
		"/configuration/routing-instances/instance/routing-options/static/route":     {"name"},
		"/configuration/routing-instances/instance/routing-options/rib":              {"name"},
		"/configuration/routing-instances/instance/routing-options/rib/static/route": {"name"},
		"/configuration/routing-options/static/route":                                {"name"},
		"/configuration/routing-options/rib":                                         {"name"},
		"/configuration/routing-options/rib/static/route":                            {"name"},
		// bgp-customer: its prefix lists, import policy and session.
		"/configuration/policy-options/prefix-list":                                   {"name"},
		"/configuration/policy-options/prefix-list/prefix-list-item":                  {"name"},
		"/configuration/policy-options/policy-statement":                              {"name"},
		"/configuration/policy-options/policy-statement/term":                         {"name"},
		"/configuration/policy-options/policy-statement/term/from/prefix-list-filter": {"list_name"},
		"/configuration/protocols/bgp/group":                                          {"name"},
		"/configuration/protocols/bgp/group/neighbor":                                 {"name"},
		"/configuration/routing-instances/instance/protocols/bgp/group":               {"name"},
		"/configuration/routing-instances/instance/protocols/bgp/group/neighbor":      {"name"},
	}
}

// Keys returns the list key table for a platform: the built-in lists of that
// platform merged with the Lists of the given service types (user-defined
// types name the lists their templates create). Drivers and the simulator parse
// device replies with the same table, so a list entry has the same path on
// both sides of a diff. A user-defined entry never overrides a built-in one;
// New reports such a clash. An unknown platform gets only the types' lists.
func Keys(platform string, types map[string]*schema.ServiceType) configtree.Keys {
	var k configtree.Keys
	switch platform {
	case schema.PlatformIETF:
		k = ietfKeys()
	case schema.PlatformJunos:
		k = junosKeys()
	default:
		k = configtree.Keys{}
	}
	builtin := maps.Clone(k)
	// Sorted kinds make the winner of a clash between two user types stable.
	for _, kind := range sortedKeys(types) {
		t := types[kind]
		if t == nil {
			continue
		}
		for path, keys := range t.Lists {
			if _, ok := builtin[path]; ok {
				continue
			}
			if _, ok := k[path]; ok {
				continue
			}
			k[path] = append([]string(nil), keys...)
		}
	}
	return k
}
