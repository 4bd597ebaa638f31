package intentgen_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"maps"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/netrecon/netrecon/bench/intentgen"
)

func TestFilesDeterministic(t *testing.T) {
	cfg := intentgen.Config{Services: 500, Devices: 30, Seed: 7}
	a, b := intentgen.Files(cfg), intentgen.Files(cfg)
	if !maps.EqualFunc(a, b, bytes.Equal) {
		t.Fatal("two runs with the same config differ")
	}
	cfg.Seed = 8
	if maps.EqualFunc(a, intentgen.Files(cfg), bytes.Equal) {
		t.Error("seeds 7 and 8 gave the same repo; the seed should vary placement and wording")
	}
}

func TestFilesInvariants(t *testing.T) {
	for _, cfg := range []intentgen.Config{
		{Services: 0, Devices: 1},
		{Services: 1, Devices: 1},
		{Services: 25, Devices: 4, Seed: 3},
		{Services: 2000, Devices: 100, Seed: 1},
		{Services: 3001, Devices: 7, Seed: -5}, // many circuits per device, odd count
	} {
		t.Run(fmt.Sprintf("%d-%d-%d", cfg.Services, cfg.Devices, cfg.Seed), func(t *testing.T) {
			checkRepo(t, cfg, intentgen.Files(cfg))
		})
	}
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	cfg := intentgen.Config{Services: 40, Devices: 5, Seed: 2}
	if err := intentgen.Write(dir, cfg); err != nil {
		t.Fatal(err)
	}
	for name, want := range intentgen.Files(cfg) {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: written content differs from Files", name)
		}
	}
}

// The documents as the checks below need them; decoding with KnownFields also
// proves the generator writes no field outside the format.
type (
	inventory struct {
		APIVersion string   `yaml:"apiVersion"`
		Kind       string   `yaml:"kind"`
		Devices    []device `yaml:"devices"`
	}
	device struct {
		Name        string            `yaml:"name"`
		Platform    string            `yaml:"platform"`
		Address     string            `yaml:"address"`
		Port        int               `yaml:"port"`
		Site        string            `yaml:"site"`
		Role        string            `yaml:"role"`
		Labels      map[string]string `yaml:"labels"`
		Credentials struct {
			Username    string `yaml:"username"`
			PasswordEnv string `yaml:"passwordEnv"`
		} `yaml:"credentials"`
	}
	service struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Metadata   struct {
			Name     string            `yaml:"name"`
			Customer string            `yaml:"customer"`
			Labels   map[string]string `yaml:"labels"`
		} `yaml:"metadata"`
		Spec struct {
			Device      string  `yaml:"device"`
			Interface   string  `yaml:"interface"`
			VLAN        int     `yaml:"vlan"`
			Description string  `yaml:"description"`
			IPv4        string  `yaml:"ipv4"`
			IPv6        string  `yaml:"ipv6"`
			Enabled     *bool   `yaml:"enabled"`
			VRF         string  `yaml:"vrf"`
			Routes      []route `yaml:"routes"`
			// internet-access, the example's user-defined type
			Peer     string   `yaml:"peer"`
			Prefixes []string `yaml:"prefixes"`
			// bgp-customer
			Neighbor       string            `yaml:"neighbor"`
			CustomerAS     int64             `yaml:"customer_as"`
			AllowPrivateAS bool              `yaml:"allow_private_as"`
			Import         string            `yaml:"import"`
			MaxPrefix      int               `yaml:"max_prefix"`
			SessionKey     map[string]string `yaml:"session_key"`
			ProviderASSet  string            `yaml:"provider_as_set"`
			IRRDatabases   []string          `yaml:"irr_databases"`
		} `yaml:"spec"`
	}
	route struct {
		Prefix      string `yaml:"prefix"`
		NextHop     string `yaml:"nextHop"`
		Description string `yaml:"description"`
	}
)

func decode(t *testing.T, name string, data []byte, v any) {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// owned is a prefix in a routing table and the customer it belongs to.
type owned struct {
	customer, file string
}

// stats are what checkInvariants counted, for the callers' own expectations.
type stats struct {
	devices, inventoryFiles, services int
	platforms, kinds, perCustomer     map[string]int
}

func checkRepo(t *testing.T, cfg intentgen.Config, files map[string][]byte) {
	t.Helper()
	st := checkInvariants(t, files)
	for name := range files {
		if !strings.HasPrefix(name, "inventory/") && !strings.HasPrefix(name, "services/") && name != "README.md" {
			t.Errorf("unexpected file %s", name)
		}
	}
	if st.devices != cfg.Devices {
		t.Errorf("%d devices, want %d", st.devices, cfg.Devices)
	}
	if d := st.platforms["ietf"] - st.platforms["junos"]; d < 0 || d > 1 {
		t.Errorf("platforms %v, want half ietf, half junos", st.platforms)
	}
	if want := min(cfg.Devices, 10); st.inventoryFiles != want {
		t.Errorf("%d inventory files, want %d", st.inventoryFiles, want)
	}
	if st.services != cfg.Services {
		t.Errorf("%d services, want %d", st.services, cfg.Services)
	}
	if ac, sr := st.kinds["attachment-circuit"], st.kinds["static-routing"]; ac != (cfg.Services+1)/2 || sr != cfg.Services/2 {
		t.Errorf("%d circuits and %d routing services for %d services, want half each", ac, sr, cfg.Services)
	}
	for c, n := range st.perCustomer {
		if n > 10 {
			t.Errorf("customer %s has %d services, want at most 10", c, n)
		}
	}
}

// checkInvariants checks the rules of the intent format that span documents,
// from the YAML itself: unique names, unique interface+vlan per device, host
// addresses, no prefix of one customer overlapping another's in the same VRF,
// next hops inside the customer's own circuits on the same device and VRF.
// Services of the example's user-defined kind internet-access (global table)
// are checked too.
func checkInvariants(t *testing.T, files map[string][]byte) stats {
	t.Helper()
	devices := map[string]device{}
	st := stats{platforms: map[string]int{}, kinds: map[string]int{}, perCustomer: map[string]int{}}
	services := map[string]bool{}
	ports := map[string]string{}            // device|interface|vlan → file
	tables := map[string]map[string]owned{} // vrf ("" global) → prefix → owner
	// device|vrf|customer → the circuits' subnets, for next-hop checks
	subnets := map[string][]netip.Prefix{}
	var routing []string

	claim := func(file, vrf, customer string, p netip.Prefix) {
		t.Helper()
		tab := tables[vrf]
		if tab == nil {
			tab = map[string]owned{}
			tables[vrf] = tab
		}
		if o, ok := tab[p.String()]; ok && o.customer != customer {
			t.Errorf("%s: %s in VRF %q is also %s's (%s)", file, p, vrf, o.customer, o.file)
		}
		tab[p.String()] = owned{customer, file}
	}

	for _, name := range slices.Sorted(maps.Keys(files)) {
		data := files[name]
		switch {
		case strings.HasPrefix(name, "inventory/"):
			st.inventoryFiles++
			var inv inventory
			decode(t, name, data, &inv)
			if inv.APIVersion != "netrecon.io/v1" || inv.Kind != "Inventory" {
				t.Errorf("%s: apiVersion/kind %q/%q", name, inv.APIVersion, inv.Kind)
			}
			for _, d := range inv.Devices {
				if _, dup := devices[d.Name]; dup {
					t.Errorf("%s: device %s listed twice", name, d.Name)
				}
				if !isDNSLabel(d.Name) {
					t.Errorf("%s: device name %q is not a DNS label", name, d.Name)
				}
				if d.Credentials.Username == "" || d.Credentials.PasswordEnv == "" {
					t.Errorf("%s: device %s lacks credentials", name, d.Name)
				}
				devices[d.Name] = d
				st.platforms[d.Platform]++
			}
		case strings.HasPrefix(name, "services/"):
			var s service
			decode(t, name, data, &s)
			m := s.Metadata
			if services[m.Name] {
				t.Errorf("%s: service name %s used twice", name, m.Name)
			}
			services[m.Name] = true
			st.kinds[s.Kind]++
			st.perCustomer[m.Customer]++
			if !isDNSLabel(m.Name) || !isDNSLabel(m.Customer) {
				t.Errorf("%s: name %q or customer %q is not a DNS label", name, m.Name, m.Customer)
			}
			if want := "services/" + m.Customer + "/" + m.Name + ".yaml"; name != want {
				t.Errorf("%s: want the file at %s", name, want)
			}
			if s.Spec.Interface != "" {
				key := s.Spec.Device + "|" + s.Spec.Interface + "|" + fmt.Sprint(s.Spec.VLAN)
				if other, dup := ports[key]; dup {
					t.Errorf("%s: %s.%d on %s is also used by %s", name, s.Spec.Interface, s.Spec.VLAN, s.Spec.Device, other)
				}
				ports[key] = name
			}
			if _, ok := devices[s.Spec.Device]; !ok && s.Spec.Device != "" {
				// Devices are decoded first: "inventory/" sorts before "services/".
				t.Errorf("%s: unknown device %q", name, s.Spec.Device)
			}
			switch s.Kind {
			case "attachment-circuit":
				sp := s.Spec
				if sp.VLAN < 1 || sp.VLAN > 4094 {
					t.Errorf("%s: vlan %d out of range", name, sp.VLAN)
				}
				if len(sp.Description) > 200 {
					t.Errorf("%s: description longer than 200 characters", name)
				}
				for _, a := range []string{sp.IPv4, sp.IPv6} {
					if a == "" {
						continue
					}
					p := hostAddress(t, name, a)
					claim(name, sp.VRF, m.Customer, p.Masked())
					k := sp.Device + "|" + sp.VRF + "|" + m.Customer
					subnets[k] = append(subnets[k], p.Masked())
				}
				if sp.IPv4 == "" {
					t.Errorf("%s: circuit without IPv4", name)
				}
			case "static-routing":
				routing = append(routing, name)
				if n := len(s.Spec.Routes); n < 1 || n > 1000 {
					t.Errorf("%s: %d routes", name, n)
				}
			case "internet-access":
				// The example's own type: a circuit and its routes in one
				// document, in the global table.
				p := hostAddress(t, name, s.Spec.IPv4)
				claim(name, "", m.Customer, p.Masked())
				peer, err := netip.ParseAddr(s.Spec.Peer)
				if err != nil || !p.Masked().Contains(peer) || peer == p.Addr() {
					t.Errorf("%s: peer %q is not another address of %s", name, s.Spec.Peer, p.Masked())
				}
				for _, ps := range s.Spec.Prefixes {
					claim(name, "", m.Customer, netip.MustParsePrefix(ps))
				}
			case "bgp-customer":
				// A session to a router on one of the customer's links;
				// schema checks the rest.
				if _, err := netip.ParseAddr(s.Spec.Neighbor); err != nil || s.Spec.CustomerAS < 1 || s.Spec.MaxPrefix < 1 || s.Spec.Import == "" {
					t.Errorf("%s: neighbour %q, AS %d, max_prefix %d, import %q", name, s.Spec.Neighbor, s.Spec.CustomerAS, s.Spec.MaxPrefix, s.Spec.Import)
				}
			default:
				t.Errorf("%s: unexpected kind %q", name, s.Kind)
			}
		}
	}

	// Routes after all circuits: a next hop may point at any circuit file.
	for _, name := range routing {
		var s service
		decode(t, name, files[name], &s)
		k := s.Spec.Device + "|" + s.Spec.VRF + "|" + s.Metadata.Customer
		for i, r := range s.Spec.Routes {
			p, err := netip.ParsePrefix(r.Prefix)
			if err != nil || p != p.Masked() {
				t.Errorf("%s: routes[%d].prefix %q is not a network prefix", name, i, r.Prefix)
				continue
			}
			claim(name, s.Spec.VRF, s.Metadata.Customer, p)
			nh, err := netip.ParseAddr(r.NextHop)
			if err != nil {
				t.Errorf("%s: routes[%d].nextHop %q: %v", name, i, r.NextHop, err)
				continue
			}
			if !slices.ContainsFunc(subnets[k], func(sn netip.Prefix) bool { return sn.Contains(nh) }) {
				t.Errorf("%s: routes[%d].nextHop %s is in none of %s's circuits on %s, VRF %q",
					name, i, nh, s.Metadata.Customer, s.Spec.Device, s.Spec.VRF)
			}
		}
	}

	// Containment between prefixes of different customers: look every prefix's
	// supernets up in its table.
	for vrf, tab := range tables {
		for ps, o := range tab {
			p := netip.MustParsePrefix(ps)
			for bits := range p.Bits() {
				sup, _ := p.Addr().Prefix(bits)
				if other, ok := tab[sup.String()]; ok && other.customer != o.customer {
					t.Errorf("%s: %s in VRF %q lies inside %s of %s (%s)", o.file, p, vrf, sup, other.customer, other.file)
				}
			}
		}
	}

	st.devices = len(devices)
	st.services = len(services)
	return st
}

// hostAddress parses an interface address and checks it is a host of its subnet.
func hostAddress(t *testing.T, file, s string) netip.Prefix {
	t.Helper()
	p, err := netip.ParsePrefix(s)
	if err != nil {
		t.Errorf("%s: %q: %v", file, s, err)
		return p
	}
	if p.Addr() == p.Masked().Addr() {
		t.Errorf("%s: %s is the network address of its subnet", file, s)
	}
	if p.Addr().Is4() && p.Bits() < 31 {
		last := p.Masked().Addr()
		for range 1<<(32-p.Bits()) - 1 {
			last = last.Next()
		}
		if p.Addr() == last {
			t.Errorf("%s: %s is the broadcast address of its subnet", file, s)
		}
	}
	return p
}

func isDNSLabel(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for _, r := range s {
		if !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

func ExampleFiles() {
	files := intentgen.Files(intentgen.Config{Services: 4, Devices: 2, Seed: 1})
	for _, name := range slices.Sorted(maps.Keys(files)) {
		fmt.Println(name)
	}
	// Output:
	// README.md
	// inventory/osa.yaml
	// inventory/tyo.yaml
	// services/soylent-1/soylent-1-osa-1-routes.yaml
	// services/soylent-1/soylent-1-osa-1.yaml
	// services/soylent-1/soylent-1-tyo-2-routes.yaml
	// services/soylent-1/soylent-1-tyo-2.yaml
}

// readRepo reads the YAML documents of an intent repo on disk.
func readRepo(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	fsys := os.DirFS(dir)
	for _, top := range []string{"inventory", "services"} {
		err := fs.WalkDir(fsys, top, func(name string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || path.Ext(name) != ".yaml" {
				return err
			}
			files[name], err = fs.ReadFile(fsys, name)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return files
}

// The example repo keeps the same invariants as generated ones, and the shape
// the demo relies on.
func TestExampleInvariants(t *testing.T) {
	st := checkInvariants(t, readRepo(t, exampleDir))
	if st.devices < 3 || len(st.platforms) < 2 {
		t.Errorf("%d devices on platforms %v, want at least 3 on 2 platforms", st.devices, st.platforms)
	}
	if st.services < 25 || len(st.perCustomer) < 8 {
		t.Errorf("%d services of %d customers, want at least 25 of 8", st.services, len(st.perCustomer))
	}
	if st.kinds["internet-access"] == 0 {
		t.Error("no service uses the user-defined type internet-access")
	}
}

const exampleDir = "../../intent-example"
