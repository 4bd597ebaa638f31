package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/drivers/netconf"
	"github.com/netrecon/netrecon/lab/labtest"
	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/render"
)

// A live plan against the real server after an operator configured part of a
// service by hand, with one value different, plus an interface of their own:
// the plan shows exactly the missing nodes as creations and the differing
// leaf as an update, and nothing of the operator's own interface.
func TestLivePlanOnLabAfterHandEdits(t *testing.T) {
	lab := labtest.Load(t)
	devs := lab.Devices()
	d := devs[0]
	vlan := 3100 + rand.IntN(800)
	tg := crashTarget{user: lab.Username(), creds: "      keyFile: " + lab.KeyFile() + "\n", knownHosts: lab.KnownHosts(),
		devices: []crashDevice{{d.Name, d.Address, d.Port}}}
	repo := crashRepo(t, tg, vlan)
	sub := fmt.Sprintf("ge-9/9/9.%d", vlan)
	foreign := fmt.Sprintf("ge-8/8/8.%d", vlan)

	// The operator's hand edits, sent with a plain client: the service's
	// sub-interface with another description and no address, and an
	// interface of their own.
	ifNS := `xmlns="urn:ietf:params:xml:ns:yang:ietf-interfaces"`
	ianaift := `xmlns:ianaift="urn:ietf:params:xml:ns:yang:iana-if-type"`
	hand, err := configtree.Parse(strings.NewReader(fmt.Sprintf(`<interfaces %s>
	  <interface><name>%s</name><type %s>ianaift:l2vlan</type><description>typed by hand</description><enabled>true</enabled></interface>
	  <interface><name>%s</name><type %s>ianaift:l2vlan</type><description>operator's own</description></interface>
	</interfaces>`, ifNS, sub, ianaift, foreign, ianaift)), "hand", render.Keys("ietf", nil))
	if err != nil {
		t.Fatal(err)
	}
	auth, err := netconf.KeyFileAuth(lab.KeyFile())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := netconf.Dial(ctx, netconf.Target{Device: d.Name, Address: d.Address, Port: d.Port, Username: lab.Username(), Auth: auth, KnownHosts: lab.KnownHosts()},
		netconf.WithKeys(render.Keys("ietf", nil)), netconf.WithSettleAfterHello(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	// Cleanups run last-first: the hand edits are removed, then the session closes.
	t.Cleanup(func() { s.Close(ctx) })
	edit := func(tree *configtree.Tree, from *configtree.Tree) {
		t.Helper()
		if err := s.Lock(ctx, reconcile.Candidate); err != nil {
			t.Fatal(err)
		}
		defer s.Unlock(ctx, reconcile.Candidate)
		if err := s.EditConfig(ctx, reconcile.Candidate, configtree.Diff(from, tree)); err != nil {
			t.Fatal(err)
		}
		if err := s.Commit(ctx, reconcile.CommitOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	edit(hand, configtree.New())
	t.Cleanup(func() {
		gone := hand.Clone()
		gone.SetOwner("test")
		edit(configtree.New(), gone)
	})

	code, out, errs := netrecon(t, "plan", repo, "-o", "json", "--state", t.TempDir(), "--known-hosts", lab.KnownHosts(), "--settle-after-hello", "100ms")
	if code != 2 {
		t.Fatalf("exit %d, want 2 (changes)\n%s%s", code, out, errs)
	}
	var doc struct {
		Devices []struct {
			Name    string
			Changes []struct {
				Action, Path  string
				Before, After *string
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range doc.Devices[0].Changes {
		if strings.Contains(c.Path, foreign) {
			t.Errorf("the operator's own interface is in the plan: %s %s", c.Action, c.Path)
		}
		got = append(got, c.Action+" "+strings.TrimPrefix(c.Path, "/interfaces/interface[name="+sub+"]"))
	}
	slices.Sort(got)
	want := []string{
		"create /ipv4/address[ip=100.127." + fmt.Sprint(vlan%250) + ".1]",
		"create /ipv4/address[ip=100.127." + fmt.Sprint(vlan%250) + ".1]/prefix-length",
		"update /description",
	}
	if !slices.Equal(got, want) {
		t.Errorf("plan changes:\n  %s\nwant exactly:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}
