package github

// The workflows are part of what this package serves (the plan comment is
// posted by the reusable workflow), so their invariants are tested here:
// the workflow's plan step and .github/scripts/plan-pr.sh cannot drift
// apart, the write permission stays on the comment job alone, and no
// untrusted value is pasted into a shell script.

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

type workflow struct {
	On          yaml.Node         `yaml:"on"`
	Permissions map[string]string `yaml:"permissions"`
	Jobs        map[string]struct {
		Permissions map[string]string `yaml:"permissions"`
		Needs       any               `yaml:"needs"`
		If          string            `yaml:"if"`
		Uses        string            `yaml:"uses"`
		With        map[string]string `yaml:"with"`
		Steps       []step            `yaml:"steps"`
	} `yaml:"jobs"`
}

type step struct {
	ID   string            `yaml:"id"`
	Name string            `yaml:"name"`
	If   string            `yaml:"if"`
	Uses string            `yaml:"uses"`
	Run  string            `yaml:"run"`
	Env  map[string]string `yaml:"env"`
	With map[string]string `yaml:"with"`
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), path))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func loadWorkflow(t *testing.T, path string) workflow {
	t.Helper()
	var w workflow
	if err := yaml.Unmarshal([]byte(readFile(t, path)), &w); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return w
}

// planSection is the part of plan-pr.sh the workflow must carry verbatim.
func planSection(t *testing.T) string {
	t.Helper()
	script := readFile(t, ".github/scripts/plan-pr.sh")
	begin := strings.Index(script, "# BEGIN plan steps")
	end := strings.Index(script, "# END plan steps")
	if begin < 0 || end < begin {
		t.Fatal("plan-pr.sh: no '# BEGIN plan steps' ... '# END plan steps' section")
	}
	return script[begin : end+len("# END plan steps")]
}

func findStep(t *testing.T, w workflow, job, id string) step {
	t.Helper()
	for _, s := range w.Jobs[job].Steps {
		if s.ID == id || s.Name == id {
			return s
		}
	}
	t.Fatalf("job %q has no step %q", job, id)
	return step{}
}

const reusable = ".github/workflows/netrecon-plan.yml"

func TestWorkflowPlanStepIsTheScript(t *testing.T) {
	w := loadWorkflow(t, reusable)
	got := strings.TrimRight(findStep(t, w, "plan", "plan").Run, "\n")
	want := planSection(t)
	if got != want {
		gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
		for i := 0; i < max(len(gl), len(wl)); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("the plan step of %s and the plan steps of .github/scripts/plan-pr.sh differ at line %d:\nworkflow: %q\nscript:   %q\nedit both", reusable, i+1, g, w)
			}
		}
	}
	// And the section still does the work: validate, then both plans.
	for _, cmd := range []string{
		`"$NETRECON" validate "$INTENT_DIR" --output github`,
		`"$NETRECON" plan "$INTENT_DIR" --base "$base" --head "$HEAD_SHA" --output json > "$OUT_DIR/plan.json"`,
		`"$NETRECON" plan "$INTENT_DIR" --base "$base" --head "$HEAD_SHA" --output markdown > "$OUT_DIR/plan.md"`,
		`<!-- netrecon-plan -->`,
	} {
		if !strings.Contains(want, cmd) {
			t.Errorf("plan steps lack %s", cmd)
		}
	}
	// The step gives the script the environment it documents.
	env := findStep(t, w, "plan", "plan").Env
	for _, k := range []string{"NETRECON", "INTENT_DIR", "BASE_SHA", "HEAD_SHA", "OUT_DIR"} {
		if env[k] == "" {
			t.Errorf("plan step sets no %s", k)
		}
	}
}

func TestWorkflowBuildsNetreconTheSameWayInBothJobs(t *testing.T) {
	w := loadWorkflow(t, reusable)
	plan, comment := findStep(t, w, "plan", "Build netrecon"), findStep(t, w, "comment", "Build netrecon")
	if plan.Run != comment.Run || plan.Env["NETRECON_VERSION"] != comment.Env["NETRECON_VERSION"] {
		t.Errorf("the two jobs build netrecon differently:\n%s\n---\n%s", plan.Run, comment.Run)
	}
}

func TestWorkflowPermissions(t *testing.T) {
	w := loadWorkflow(t, reusable)
	if len(w.Permissions) != 1 || w.Permissions["contents"] != "read" {
		t.Errorf("%s: workflow permissions %v, want only contents: read", reusable, w.Permissions)
	}
	for name, job := range w.Jobs {
		if job.Permissions == nil {
			t.Errorf("%s: job %s sets no permissions", reusable, name)
		}
		for scope, level := range job.Permissions {
			writes := level == "write"
			if writes && !(name == "comment" && scope == "pull-requests") {
				t.Errorf("%s: job %s has %s: write; only the comment job may write, and only pull requests", reusable, name, scope)
			}
		}
	}
	if w.Jobs["comment"].Permissions["pull-requests"] != "write" {
		t.Errorf("%s: the comment job lacks pull-requests: write", reusable)
	}
	ci := loadWorkflow(t, ".github/workflows/ci.yml")
	if len(ci.Permissions) != 1 || ci.Permissions["contents"] != "read" {
		t.Errorf("ci.yml: permissions %v, want only contents: read", ci.Permissions)
	}
	for name, job := range ci.Jobs {
		for scope, level := range job.Permissions {
			if level == "write" {
				t.Errorf("ci.yml: job %s has %s: write", name, scope)
			}
		}
	}
}

func TestCommentStepAllowsReadonlyOnlyForForks(t *testing.T) {
	w := loadWorkflow(t, reusable)
	// A cancelled run (superseded by a newer push) must not post its older plan.
	if cond := w.Jobs["comment"].If; !strings.Contains(cond, "!cancelled()") || strings.Contains(cond, "always()") {
		t.Errorf("comment job if: %q; want it skipped for cancelled runs", cond)
	}
	s := findStep(t, w, "comment", "Post or update the plan comment")
	if got := s.Env["FROM_FORK"]; !strings.Contains(got, "github.event.pull_request.head.repo.full_name != github.repository") {
		t.Errorf("FROM_FORK = %q, want the fork test", got)
	}
	if !strings.Contains(s.Run, `"$NETRECON" comment --repo "$GITHUB_REPOSITORY" --pr "$PR_NUMBER" --body-file "$OUT_DIR/plan.md"`) ||
		!strings.Contains(s.Run, "--allow-readonly") {
		t.Errorf("comment step does not run netrecon comment as expected:\n%s", s.Run)
	}
	if s.Env["GITHUB_TOKEN"] != "${{ github.token }}" {
		t.Errorf("GITHUB_TOKEN = %q, want the job's own token", s.Env["GITHUB_TOKEN"])
	}
}

var (
	pinnedUses = regexp.MustCompile(`^([A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@(v\d+(\.\d+\.\d+)?|[0-9a-f]{40})|\./.+)$`)
	secretRef  = regexp.MustCompile(`secrets\.`)
)

// TestWorkflowHygiene: values from the event (titles, branch names, fork
// names) are attacker-chosen, so they reach scripts through env:, never
// pasted into run: where the shell would execute them; actions are pinned
// to a release; no step prints a secret.
func TestWorkflowHygiene(t *testing.T) {
	files := []string{".github/workflows/ci.yml", reusable, "intent-example/.github/workflows/netrecon-plan.yml"}
	for _, f := range files {
		w := loadWorkflow(t, f)
		for name, job := range w.Jobs {
			if job.Uses != "" && !pinnedUses.MatchString(job.Uses) {
				t.Errorf("%s: job %s uses %q, not pinned to a release", f, name, job.Uses)
			}
			for _, s := range job.Steps {
				if strings.Contains(s.Run, "${{") {
					t.Errorf("%s: job %s step %q expands ${{ }} inside run:; pass it through env:", f, name, s.Name+s.ID)
				}
				if secretRef.MatchString(s.Run) {
					t.Errorf("%s: job %s step %q mentions a secret in its script", f, name, s.Name+s.ID)
				}
				if s.Uses != "" && !pinnedUses.MatchString(s.Uses) {
					t.Errorf("%s: job %s uses %q, not pinned to a release", f, name, s.Uses)
				}
			}
		}
	}
}

func TestExampleCallerPinsOneVersion(t *testing.T) {
	const caller = "intent-example/.github/workflows/netrecon-plan.yml"
	w := loadWorkflow(t, caller)
	job, ok := w.Jobs["plan"]
	if !ok {
		t.Fatalf("%s: no plan job", caller)
	}
	path, tag, _ := strings.Cut(job.Uses, "@")
	if path != "netrecon/netrecon/"+reusable {
		t.Errorf("%s: uses %q, want netrecon/netrecon/%s", caller, path, reusable)
	}
	if job.With["netrecon-version"] != tag {
		t.Errorf("%s: workflow @%s but netrecon-version %q; they must move together", caller, tag, job.With["netrecon-version"])
	}
	if job.Permissions["pull-requests"] != "write" || job.Permissions["contents"] != "read" {
		t.Errorf("%s: permissions %v, want contents: read and pull-requests: write", caller, job.Permissions)
	}
}

// TestCodeOwners evaluates CODEOWNERS as GitHub does for the patterns it
// uses (last match wins) and checks who owns what.
func TestCodeOwners(t *testing.T) {
	type rule struct {
		pattern string
		owners  []string
	}
	var rules []rule
	for _, line := range strings.Split(readFile(t, "intent-example/CODEOWNERS"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			t.Fatalf("CODEOWNERS line %q names no owner", line)
		}
		rules = append(rules, rule{f[0], f[1:]})
	}
	owner := func(path string) string {
		var got []string
		for _, r := range rules {
			p := r.pattern
			match := false
			switch {
			case p == "*":
				match = true
			case strings.HasSuffix(p, "/"):
				match = strings.HasPrefix("/"+path, p)
			default:
				match = "/"+path == p
			}
			if match {
				got = r.owners
			}
		}
		return strings.Join(got, " ")
	}
	for path, want := range map[string]string{
		"services/acme/tokyo-hq.yaml":              "@example-isp/service-engineering",
		"inventory/japan.yaml":                     "@example-isp/noc",
		"service-types/internet-access/schema.cue": "@example-isp/noc",
		"CODEOWNERS":                               "@example-isp/noc",
		".github/workflows/netrecon-plan.yml":      "@example-isp/noc",
		"README.md":                                "@example-isp/noc",
	} {
		if got := owner(path); got != want {
			t.Errorf("owner of %s = %q, want %q", path, got, want)
		}
	}
}

// TestWorkflowCachesDocuments: the plan job restores netrecon's document
// cache before it validates and plans, points netrecon at it, and saves it
// after, keyed by the netrecon version and the repo's service types with
// fallbacks (docs/cache.md); a push only validates, to warm it.
func TestWorkflowCachesDocuments(t *testing.T) {
	w := loadWorkflow(t, reusable)
	steps := w.Jobs["plan"].Steps
	index := func(name string) int {
		for i, s := range steps {
			if s.ID == name || s.Name == name {
				return i
			}
		}
		t.Fatalf("plan job has no step %q", name)
		return -1
	}
	restore, warm, plan, save := index("cache"), index("Validate to warm the cache"), index("plan"), index("Save the document cache")
	if !(restore < warm && warm < plan && plan < save) {
		t.Errorf("steps in the order %d %d %d %d; want restore, warm, plan, save", restore, warm, plan, save)
	}
	r, s := steps[restore], steps[save]
	if !strings.HasPrefix(r.Uses, "actions/cache/restore@") || !strings.HasPrefix(s.Uses, "actions/cache/save@") {
		t.Errorf("restore uses %q, save uses %q", r.Uses, s.Uses)
	}
	path := r.With["path"]
	for _, i := range []int{warm, plan} {
		if got := steps[i].Env["NETRECON_CACHE_DIR"]; got != path {
			t.Errorf("step %q: NETRECON_CACHE_DIR %q, want the restored path %q", steps[i].Name+steps[i].ID, got, path)
		}
	}
	if s.With["path"] != path || s.With["key"] != "${{ steps.cache.outputs.cache-primary-key }}" {
		t.Errorf("save step with %v; want the restored path and key", s.With)
	}
	key := r.With["key"]
	for _, part := range []string{"netrecon-docs-", "inputs.netrecon-version", "service-types/**"} {
		if !strings.Contains(key, part) {
			t.Errorf("cache key %q lacks %s", key, part)
		}
	}
	fallbacks := strings.Split(strings.TrimSpace(r.With["restore-keys"]), "\n")
	if len(fallbacks) != 2 || !strings.HasPrefix(key, fallbacks[0]) || !strings.HasPrefix(fallbacks[0], fallbacks[1]) {
		t.Errorf("restore-keys %q: want the key without the commit, then without the schemas", fallbacks)
	}
	if !strings.Contains(steps[warm].If, "push") || !strings.Contains(steps[plan].If, "pull_request") {
		t.Errorf("warm step if %q, plan step if %q: want the push to only validate", steps[warm].If, steps[plan].If)
	}
	if !strings.Contains(s.If, "!cancelled()") {
		t.Errorf("save step if %q: want it saved whether or not the intent validated", s.If)
	}
	caller := loadWorkflow(t, "intent-example/.github/workflows/netrecon-plan.yml")
	var on map[string]any
	if err := caller.On.Decode(&on); err != nil {
		t.Fatal(err)
	}
	if _, ok := on["push"]; !ok {
		t.Errorf("the example caller does not warm the cache on push: on %v", on)
	}
}
