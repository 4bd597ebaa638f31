package netconf

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/lab/labtest"
	"github.com/netrecon/netrecon/reconcile"
)

// What yuma123 netconfd 2.13 does with RFC 6022, recorded so that a change
// of the server shows: its schema list leaves out submodules, which
// <get-schema> serves all the same, and a schema it lacks is
// operation-failed "no matches found", not the RFC's invalid-value.
func TestLabSchemas(t *testing.T) {
	env, _ := labEnv(t)
	s := env.dial(t)
	ctx := t.Context()
	list, err := s.Schemas(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, sc := range list {
		ids = append(ids, sc.Identifier)
		if sc.Format != "yang" || !sc.ServedByNETCONF() {
			t.Errorf("%+v: want a YANG schema served over NETCONF", sc)
		}
	}
	if !slices.Contains(ids, "ietf-ipv6-unicast-routing") || !slices.Contains(ids, "ietf-interfaces") {
		t.Fatalf("schemas %v lack the lab's modules", ids)
	}
	if slices.Contains(ids, "ietf-ipv6-router-advertisements") {
		t.Errorf("the list now has the submodule ietf-ipv6-router-advertisements: the quirk is gone; update lab NOTES")
	}
	text, err := s.GetSchema(ctx, "ietf-ipv6-router-advertisements", "2016-11-04", "")
	if err != nil || !strings.Contains(text, "submodule ietf-ipv6-router-advertisements") {
		t.Errorf("get-schema of the unlisted submodule = %.80q, %v", text, err)
	}
	_, err = s.GetSchema(ctx, "no-such-module", "", "")
	var re *RPCError
	if !errors.Is(err, ErrSchemaNotFound) || !errors.As(err, &re) || re.Tag != "operation-failed" {
		t.Errorf("get-schema of a missing module = %v, want yuma's operation-failed, as ErrSchemaNotFound", err)
	}
	if errors.Is(err, reconcile.ErrSessionLost) {
		t.Error("a missing schema killed the session")
	}
}

// The case validate must catch: a server without ietf-ipv6-unicast-routing
// (the lab's extra device lab-noipv6) refuses IPv6 static routes at
// edit-config with unknown-namespace, and does not list the module.
func TestLabNoIPv6RefusesIPv6Routes(t *testing.T) {
	lab := labtest.Load(t)
	d, ok := lab.Extra(labtest.NoIPv6)
	if !ok {
		labtest.Missing(t, "the lab has no extra device %s: start it with lab.sh (NETRECON_LAB_EXTRA)", labtest.NoIPv6)
		return
	}
	auth, err := KeyFileAuth(lab.KeyFile())
	if err != nil {
		t.Fatal(err)
	}
	s, err := Dial(t.Context(), labTarget(lab, d, auth), WithSettleAfterHello(labSettle), WithKeys(testKeys))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	list, err := s.Schemas(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range list {
		if sc.Identifier == "ietf-ipv6-unicast-routing" {
			t.Fatalf("%s lists ietf-ipv6-unicast-routing", d.Name)
		}
	}
	route, err := configtree.Parse(strings.NewReader(`<routing xmlns="urn:ietf:params:xml:ns:yang:ietf-routing"><control-plane-protocols><control-plane-protocol>
	<type xmlns:rt="urn:ietf:params:xml:ns:yang:ietf-routing">rt:static</type><name>default</name><static-routes>
	<ipv6 xmlns="urn:ietf:params:xml:ns:yang:ietf-ipv6-unicast-routing"><route><destination-prefix>2001:db8:1000::/48</destination-prefix>
	<next-hop><next-hop-address>2001:db8:200::2</next-hop-address></next-hop></route></ipv6>
	</static-routes></control-plane-protocol></control-plane-protocols></routing>`), "route", testKeys)
	if err != nil {
		t.Fatal(err)
	}
	lockWait(t, s, Candidate)
	defer s.Unlock(context.Background(), Candidate)
	defer s.Discard(context.Background())
	err = s.EditConfig(t.Context(), Candidate, configtree.Diff(configtree.New(), route))
	var re *RPCError
	if !errors.As(err, &re) || re.Tag != "unknown-namespace" {
		t.Fatalf("edit-config of an IPv6 route on %s = %v, want unknown-namespace", d.Name, err)
	}
}
