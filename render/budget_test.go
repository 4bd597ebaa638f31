package render

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

// processCPU is the CPU time this test process has used so far, its user
// and system time together.
func processCPU(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestBombsStopWithinBudget runs template bombs, each of which would run for
// minutes or exhaust memory without a budget, and checks that each fails
// within its budget with an error that names the template file.
func TestBombsStopWithinBudget(t *testing.T) {
	const file = "service-types/custom/ietf.xml.tmpl"
	for _, c := range []struct {
		name  string
		src   string
		spec  map[string]any
		atNew bool   // refused by the static check when the template is parsed
		want  string // in the diagnostic
	}{
		{name: "range literal with body", src: "<a>\n{{range 200000000}}<b/>{{end}}</a>\n", atNew: true, want: "range over 200000000"},
		{name: "range literal without body", src: "<a>{{range 200000000}}{{end}}</a>", atNew: true, want: "range over 200000000"},
		{name: "nested literal ranges", src: "<a>{{range 10000}}{{range 10000}}{{end}}{{end}}</a>", atNew: true, want: "100000000 iterations"},
		{name: "range over data without body", src: "<a>{{range .Spec.n}}{{end}}</a>", spec: map[string]any{"n": int64(200000000)}, want: "ran longer than"},
		{name: "range over data with body", src: "<a>{{range .Spec.n}}<b/>{{end}}</a>", spec: map[string]any{"n": int64(200000000)}, want: "exceeded its budget of 2s / 16 MiB"},
		{name: "range over a variable", src: "{{$n := 200000000}}<a>{{range $n}}{{end}}</a>", atNew: true, want: "ran longer than"},
		{name: "doubling string", src: `{{$s := "xx"}}{{range 64}}{{$s = printf "%s%s" $s $s}}{{end}}<a/>`, want: "longer than the budget"},
		{name: "doubling js escapes", src: `{{$s := "\\"}}{{range 64}}{{$s = js $s}}{{end}}<a/>`, want: "more than the budget"},
		{name: "exponential recursion", src: `{{define "t"}}{{if .}}{{template "t" slice . 1}}{{template "t" slice . 1}}{{end}}{{end}}<a>{{template "t" .Spec.s}}</a>`,
			spec: map[string]any{"s": strings.Repeat("x", 60)}, want: "ran longer than"},
	} {
		t.Run(c.name, func(t *testing.T) {
			in, _ := userType(c.src, c.spec)
			start, cpu0 := time.Now(), processCPU(t)
			r, diags := New(in)
			if !c.atNew {
				if diags.HasErrors() {
					t.Fatalf("New: %v", diags)
				}
				_, diags = r.Device("pe1")
			}
			took, cpu := time.Since(start), processCPU(t)-cpu0
			if len(diags) != 1 {
				t.Fatalf("diagnostics = %v, want 1", diags)
			}
			d := diags[0]
			t.Logf("%v after %v (%v of CPU)", d, took, cpu)
			if d.Pos.File != file || !strings.Contains(d.String(), c.want) {
				t.Errorf("diagnostic %q, want one at %s saying %q", d, file, c.want)
			}
			// CPU time, which a loaded machine does not stretch as it does
			// the wall clock: a bomb that ran on would burn it all the same.
			if limit := DefaultBudget().Time + 2*time.Second; cpu > limit {
				t.Errorf("stopped after %v of CPU time, want within %v", cpu, limit)
			}
		})
	}
}

// TestWithBudget checks that the budget can be set and is checked.
func TestWithBudget(t *testing.T) {
	in, _ := userType("<a>{{.Spec.x}}</a>", map[string]any{"x": strings.Repeat("x", 5000)})
	if _, diags := New(in, WithBudget(Budget{Time: -time.Second})); !diags.HasErrors() {
		t.Error("a negative time budget was accepted")
	}
	r, diags := New(in, WithBudget(Budget{Output: 4096}))
	if diags.HasErrors() {
		t.Fatalf("New: %v", diags)
	}
	if _, diags := r.Device("pe1"); !diags.HasErrors() || !strings.Contains(diags[0].Summary, "budget of 2s / 4 KiB") {
		t.Errorf("5 KiB of output within a budget of 4 KiB: %v", diags)
	}
}
