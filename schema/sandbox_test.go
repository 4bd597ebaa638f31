package schema

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestMain lets the tests run this binary as the sandbox's child: with
// NETRECON_SCHEMA_SANDBOX=1 it serves one evaluation and exits.
func TestMain(m *testing.M) {
	if os.Getenv("NETRECON_SCHEMA_SANDBOX") == "1" {
		if err := ServeSandbox(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func testSandbox(b Budget) Evaluator {
	s := &Sandbox{Command: []string{os.Args[0]}, Env: append(os.Environ(), "NETRECON_SCHEMA_SANDBOX=1"), Budget: b}
	return s.Evaluate
}

// TestSandboxGivesTheSameIntent: evaluating user-defined types in a child
// process changes nothing in the result, diagnostics included.
func TestSandboxGivesTheSameIntent(t *testing.T) {
	for name, files := range map[string]map[string]string{
		"valid": nil,
		"bad instance": {"services/zz.yaml": `apiVersion: netrecon.io/v1
kind: transit
metadata: {name: zz, customer: globex}
spec: {devices: [pe2-tyo], peerAS: "x", neighbor: 192.0.2.1, extra: 1}
`},
		"bad schema": {"service-types/transit/schema.cue": "#Spec: {device!: string, n: int & \"x\"}\n", "services/zz.yaml": "apiVersion: netrecon.io/v1\nkind: transit\nmetadata: {name: zz, customer: globex}\nspec: {device: pe2-tyo}\n"},
	} {
		t.Run(name, func(t *testing.T) {
			fsys := validPlus(t, files)
			want, wantDiags := Load(fsys, Options{})
			got, gotDiags := Load(fsys, Options{Evaluator: testSandbox(Budget{})})
			if diff := cmp.Diff(diagText(wantDiags), diagText(gotDiags)); diff != "" {
				t.Errorf("diagnostics differ (-in-process +sandbox):\n%s", diff)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("intent differs (-in-process +sandbox):\n%s", diff)
			}
		})
	}
}

// TestSchemaBombsStopWithinBudget evaluates schemas that would take
// gigabytes or minutes in-process, and checks that each fails within its
// budget at its schema.cue, and fails its instances, while the rest of the
// repo still loads.
func TestSchemaBombsStopWithinBudget(t *testing.T) {
	budget := Budget{Time: 3 * time.Second, Memory: 256 << 20}
	for name, src := range map[string]string{
		"list.Range": "import \"list\"\n_big: list.Range(0, 5e7, 1)\n#Spec: {device!: string, n: len(_big)}\n",
		"comprehension": "_big: [for i in [0,1,2,3,4,5,6,7,8,9] for j in [0,1,2,3,4,5,6,7,8,9] for k in [0,1,2,3,4,5,6,7,8,9] for l in [0,1,2,3,4,5,6,7,8,9] for m in [0,1,2,3,4,5,6,7,8,9] for n in [0,1,2,3,4,5,6,7,8,9] for o in [0,1,2,3,4,5,6,7,8,9] {i+j+k+l+m+n+o}]\n" +
			"#Spec: {device!: string, n: len(_big)}\n",
	} {
		t.Run(name, func(t *testing.T) {
			fsys := validPlus(t, map[string]string{"service-types/transit/schema.cue": src})
			start := time.Now()
			in, diags := Load(fsys, Options{Evaluator: testSandbox(budget)})
			took := time.Since(start)
			t.Logf("after %v:\n%s", took, diagText(diags))
			// The budget is CPU time, which a busy machine does not stretch;
			// the wall deadline only ends a stuck child.
			if took > budget.wall() {
				t.Errorf("stopped after %v, want within the wall deadline %v", took, budget.wall())
			}
			var atSchema, atInstance bool
			for _, d := range diags {
				if d.Pos.File == "service-types/transit/schema.cue" && strings.HasPrefix(d.Summary, "evaluation exceeded its budget of 3s / 256 MiB: ") {
					atSchema = true
				}
				if d.Pos.File == "services/globex/transit.yaml" && d.Summary == `service type "transit" is invalid` {
					atInstance = true
				}
			}
			if !atSchema || !atInstance {
				t.Errorf("want the budget error at the schema and the instance refused; got:\n%s", diagText(diags))
			}
			if len(in.Devices) == 0 || in.Types["transit"] != nil {
				t.Errorf("the rest did not load, or the broken type is kept: %d devices, transit %v", len(in.Devices), in.Types["transit"])
			}
		})
	}
}
