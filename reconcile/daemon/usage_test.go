package daemon

import (
	"context"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netrecon/netrecon/api"
	"github.com/netrecon/netrecon/drivers/snmp"
	"github.com/netrecon/netrecon/lab/labtest"
	"github.com/netrecon/netrecon/usage"
)

// labTables is drivers/snmp's client as the usage's table reader, as
// cmd/netrecon wires it.
type labTables struct{ c *snmp.Client }

func (r labTables) Table(ctx context.Context, target string, scalars, columns []string) (usage.Table, error) {
	res, err := r.c.Table(ctx, target, scalars, columns, 0)
	conv := func(v snmp.Value) usage.Value {
		x := usage.Value{Type: v.Type}
		if n, err := v.Uint(); err == nil {
			x.Uint = &n
		} else if v.IsText() {
			s := v.String()
			x.Text = &s
		}
		return x
	}
	out := usage.Table{Scalars: map[string]usage.Value{}, Rows: map[string]map[string]usage.Value{}, Requests: res.Requests}
	for k, v := range res.Scalars {
		out.Scalars[k] = conv(v)
	}
	for idx, row := range res.Rows {
		out.Rows[idx] = map[string]usage.Value{}
		for col, v := range row {
			out.Rows[idx][col] = conv(v)
		}
	}
	return out, err
}

// A service on the host's lo (served by the lab's usage snmpd) shows its
// counters as metrics labelled by service and customer, and in the
// services API; the counters grow.
func TestUsageOfAServiceFromSNMPD(t *testing.T) {
	agent := labtest.Load(t).UsageSNMP()
	if agent.Address == "" {
		labtest.Missing(t, "lab.json has no usageSnmp agent: restart the lab (bash lab/lab.sh up)")
	}
	t.Setenv("NETRECON_TEST_USAGE_COMMUNITY", agent.Community)
	l := newLab(t, exampleFiles(t))
	l.withSecrets()
	l.cfg.Usage = &UsageConfig{CommunityEnv: "NETRECON_TEST_USAGE_COMMUNITY", Address: agent.Address, IfName: "{interface}",
		MinInterval: Duration(time.Second)}
	l.cfg.Defaults()
	l.commit("a service on lo", map[string]string{"services/acme/acme-loopback.yaml": `apiVersion: netrecon.io/v1
kind: attachment-circuit
metadata:
  name: acme-loopback
  customer: acme
spec:
  device: pe1-tyo
  interface: lo
  vlan: 901
  ipv4: 100.64.9.1/30
  vrf: ACME
`})
	d := l.start(Options{SNMPTables: func(c *UsageConfig, _ *slog.Logger) (usage.TableReader, error) {
		cl, err := snmp.New(snmp.Options{Community: agent.Community, Timeout: c.Timeout.D()})
		return labTables{cl}, err
	}})
	ctx := context.Background()
	d.SyncOnce(ctx, "test")
	h := d.Handler()
	series := regexp.MustCompile(`(?m)^netrecon_service_in_octets_total\{customer="acme",device="pe1-tyo",interface="lo",service="acme-loopback"\} (\S+)$`)
	read := func() float64 {
		d.usage.PollOnce(ctx)
		w := do(t, h, "GET", "/metrics", nil, nil)
		m := series.FindStringSubmatch(w.Body.String())
		if m == nil {
			return -1
		}
		v, _ := strconv.ParseFloat(m[1], 64)
		return v
	}
	first := read()
	if first <= 0 {
		w := do(t, h, "GET", "/metrics", nil, nil)
		var lines []string
		for _, s := range strings.Split(w.Body.String(), "\n") {
			if strings.HasPrefix(s, "netrecon_service_") {
				lines = append(lines, s)
			}
		}
		t.Fatalf("no in_octets series for acme-loopback; service series:\n%s", strings.Join(lines, "\n"))
	}
	for deadline := time.Now().Add(15 * time.Second); read() <= first; {
		if time.Now().After(deadline) {
			t.Fatalf("lo's in_octets stayed at %v", first)
		}
		select {
		case <-time.After(100 * time.Millisecond):
		case <-t.Context().Done():
		}
	}
	var svc api.Service
	if code := getJSON(t, h, "/api/v1/services/acme-loopback", testToken, &svc); code != http.StatusOK || svc.Usage == nil ||
		svc.Usage.Interface != "lo" || svc.Usage.InOctets == 0 || !svc.Usage.OperUp || svc.Usage.SampledAt == nil {
		t.Fatalf("services API: %d %+v", code, svc.Usage)
	}
	// The answers with usage match docs/openapi.yaml.
	_, router := openAPI(t)
	c := &apiCheck{t: t, h: h, router: router, hit: map[string]bool{}}
	c.do("GET", "/api/v1/services/acme-loopback", testToken, nil)
	c.do("GET", "/api/v1/services", testToken, nil)
	// Example services on interfaces the host lacks say so, and have no series.
	var other api.Service
	getJSON(t, h, "/api/v1/services/acme-tokyo-hq", testToken, &other)
	if other.Usage == nil || !strings.Contains(other.Usage.Error, "no interface") {
		t.Errorf("a service without its interface: %+v", other.Usage)
	}
	if strings.Contains(do(t, h, "GET", "/metrics", nil, nil).Body.String(), `service="acme-tokyo-hq"`) {
		t.Error("a series for a service whose interface the device lacks")
	}
}
