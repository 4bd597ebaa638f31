package schema

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A repo's own service type is code: CUE evaluation has no bound of its own,
// and `list.Range(0, 5e7)` in a schema.cue took validate to 3.3 GB and a Go
// out-of-memory, which no recover() catches. So a user type can be evaluated
// apart, in a child process with a memory limit and a deadline: the parent
// survives whatever the child does, and reports it at the type's schema.cue.
// Built-in kinds are embedded and trusted, and stay in-process.

// Evaluator evaluates one user-defined service type: its schema.cue and the
// instances of its kind. EvaluateType does it in-process; Sandbox.Evaluate in
// a child process within a Budget.
type Evaluator func(TypeRequest) TypeResult

// TypeRequest is a user-defined type and the documents of its kind, as read
// from the repo.
type TypeRequest struct {
	Kind   string
	Dir    string // repo-relative folder, e.g. "service-types/transit"
	Schema string // schema.cue's source
	Docs   []DocSource
}

// DocSource is one document: its repo-relative file and its bytes.
type DocSource struct {
	File string
	Data []byte
}

// TypeResult is what the evaluation of a TypeRequest gave.
type TypeResult struct {
	// Diags are about the type itself; an error makes the type unusable.
	Diags Diagnostics
	// Shape is #Spec's form, for the templates.
	Shape *Shape `json:",omitempty"`
	// Docs has one entry per requested document, in order.
	Docs []DocResult
}

// DocResult is one document's outcome: its spec with the schema's defaults
// filled, or its problems.
type DocResult struct {
	Spec  map[string]any
	Diags Diagnostics
}

// EvaluateType evaluates a user-defined type in this process, without bound.
func EvaluateType(req TypeRequest) TypeResult {
	v, err := newValidator(nil)
	if err != nil {
		return TypeResult{Diags: Diagnostics{}.Errorf(Pos{File: req.Dir + "/schema.cue"}, "", "internal error: %v", err)}
	}
	t := &ServiceType{Kind: req.Kind, Dir: req.Dir, Schema: req.Schema}
	diags, _ := checkUserSchema(v, t)
	res := TypeResult{Diags: diags, Shape: t.Shape}
	if res.Diags.HasErrors() {
		return res
	}
	v.types = map[string]*ServiceType{req.Kind: t}
	l := loader{v: v, types: v.types}
	for _, d := range req.Docs {
		doc, diags := parseDocument(d.File, d.Data)
		if diags.HasErrors() {
			res.Docs = append(res.Docs, DocResult{Diags: diags})
			continue
		}
		spec, diags := l.userSpec(doc, req.Kind)
		res.Docs = append(res.Docs, DocResult{Spec: spec, Diags: diags})
	}
	return res
}

// Budget bounds the evaluation of one user-defined service type.
//
// Time is CPU time, not wall time: a schema that fits on a quiet machine fits
// on a busy CI runner too, where wall time stretches with the load.
type Budget struct {
	Time   time.Duration // CPU time; 0 means DefaultBudget's
	Memory int64         // bytes beyond the child's start; 0 means DefaultBudget's
}

// DefaultBudget is the budget of a Sandbox that sets none (docs/intent-format.md).
func DefaultBudget() Budget { return Budget{Time: 5 * time.Second, Memory: 512 << 20} }

func (b Budget) String() string {
	return fmt.Sprintf("%v / %d MiB", b.Time, b.Memory>>20)
}

func (b Budget) withDefaults() Budget {
	d := DefaultBudget()
	if b.Time <= 0 {
		b.Time = d.Time
	}
	if b.Memory <= 0 {
		b.Memory = d.Memory
	}
	return b
}

// Sandbox evaluates user-defined types in a child process: Command (the
// program and its arguments; Env its environment, nil for the parent's) must
// run ServeSandbox on its standard input and output. The netrecon binary
// does that with a hidden subcommand; a test binary with the helper-process
// pattern.
type Sandbox struct {
	Command []string
	Env     []string
	Budget  Budget
}

// wall is how long the parent waits for a child before killing it: far
// beyond its CPU budget, so it only ever ends a child that is stuck.
func (b Budget) wall() time.Duration { return 10*b.Time + 10*time.Second }

// sandboxInput is what the parent writes to the child.
type sandboxInput struct {
	Memory  int64
	CPU     time.Duration
	Request TypeRequest
}

// Evaluate runs req in a child process within the budget. A child that uses
// up its CPU time is killed (by the kernel, RLIMIT_CPU, where it has one) and
// one that finishes over it is refused all the same, so the outcome does not
// depend on the limit's one-second steps; one that runs out of memory dies;
// each is an error at the type's schema.cue, never a failure of the caller.
func (s *Sandbox) Evaluate(req TypeRequest) TypeResult {
	b := s.Budget.withDefaults()
	file := Pos{File: req.Dir + "/schema.cue"}
	fail := func(what string) TypeResult {
		return TypeResult{Diags: Diagnostics{{Severity: Error, Pos: file,
			Summary: fmt.Sprintf("evaluation exceeded its budget of %s: %s", b, what),
			Detail:  "simplify the schema: no large ranges, comprehensions or recursion"}}}
	}
	if len(s.Command) == 0 {
		return TypeResult{Diags: Diagnostics{}.Errorf(file, "", "internal error: the sandbox has no command")}
	}
	in, err := json.Marshal(sandboxInput{Memory: b.Memory, CPU: b.Time, Request: req})
	if err != nil {
		return TypeResult{Diags: Diagnostics{}.Errorf(file, "", "internal error: %v", err)}
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.wall())
	defer cancel()
	cmd := exec.CommandContext(ctx, s.Command[0], s.Command[1:]...)
	cmd.Env = s.Env
	cmd.Stdin = bytes.NewReader(in)
	// The result holds the documents' specs, each from a file of bounded
	// size; far more than the request is a runaway too.
	out := &cappedBuffer{max: int64(len(in))*4 + 1<<20}
	errOut := &cappedBuffer{max: 64 << 10}
	cmd.Stdout, cmd.Stderr = out, errOut
	cmd.WaitDelay = time.Second
	err = cmd.Run()
	var cpu time.Duration
	var killed bool // by the kernel's CPU limit: the parent's deadline had not passed
	if st := cmd.ProcessState; st != nil {
		cpu = st.UserTime() + st.SystemTime()
		ws, ok := st.Sys().(syscall.WaitStatus)
		killed = ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL && ctx.Err() == nil
	}
	switch {
	case cpu > b.Time || killed:
		return fail("it used more than " + b.Time.String() + " of CPU time")
	case ctx.Err() != nil:
		return fail("it ran longer than " + b.wall().String())
	case out.over:
		return fail("its result is larger than " + strconv.FormatInt(out.max>>10, 10) + " KiB")
	case err != nil && outOfMemory(errOut.String()):
		return fail(fmt.Sprintf("it needed more than %d MiB of memory", b.Memory>>20))
	case err != nil:
		return TypeResult{Diags: Diagnostics{}.Errorf(file, "", "evaluating the schema failed: %v: %s", err, lastLine(errOut.String()))}
	}
	res, err := decodeResult(out.Bytes())
	if err != nil {
		return TypeResult{Diags: Diagnostics{}.Errorf(file, "", "internal error: reading the evaluation's result: %v", err)}
	}
	if len(res.Docs) != len(req.Docs) && !res.Diags.HasErrors() {
		return TypeResult{Diags: Diagnostics{}.Errorf(file, "", "internal error: the evaluation answered for %d of %d documents", len(res.Docs), len(req.Docs))}
	}
	return res
}

// outOfMemory tells a child that hit its memory limit by what its runtime
// says as it dies. Go says "out of memory" (or mmap's "cannot allocate
// memory", "cannot map pages"); a binary built with -race (the tests under
// CI) may instead die in its allocator ("too many address space collisions")
// or in the race detector's own ("ThreadSanitizer failed to allocate").
func outOfMemory(stderr string) bool {
	for _, s := range []string{"out of memory", "cannot allocate memory", "cannot map pages",
		"too many address space collisions", "failed to allocate"} {
		if strings.Contains(stderr, s) {
			return true
		}
	}
	return false
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return shorten(s)
}

// cappedBuffer keeps at most max bytes and remembers that more came.
type cappedBuffer struct {
	bytes.Buffer
	max  int64
	over bool
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	if int64(c.Len()+len(p)) > c.max {
		c.over = true
		return 0, errors.New("output over its cap")
	}
	return c.Buffer.Write(p)
}

// ServeSandbox is the child's side of Sandbox: it reads one request from r,
// limits its own memory to what the request allows, evaluates it and writes
// the result to w. It returns an error only when it cannot read or write.
func ServeSandbox(r io.Reader, w io.Writer) error {
	var in sandboxInput
	if err := json.NewDecoder(io.LimitReader(r, 1<<30)).Decode(&in); err != nil {
		return fmt.Errorf("reading the request: %w", err)
	}
	if in.Memory > 0 {
		// The soft limit makes the collector work hard before the hard
		// one makes an allocation fail, which ends the process.
		debug.SetMemoryLimit(in.Memory)
		if err := limitMemory(in.Memory); err != nil {
			return err
		}
	}
	if in.CPU > 0 {
		if err := limitCPU(in.CPU); err != nil {
			return err
		}
	}
	return encodeResult(w, EvaluateType(in.Request))
}

// Specs are plain data with int64 and float64 apart (a template prints 2.0
// and 2 differently); JSON has one number type, so floats are written with a
// decimal point or an exponent, and read back by it.
type wireFloat float64

func (f wireFloat) MarshalJSON() ([]byte, error) {
	s := strconv.FormatFloat(float64(f), 'g', -1, 64)
	if !strings.ContainsAny(s, ".eEnN") {
		s += ".0"
	}
	return []byte(s), nil
}

func toWire(x any) any {
	switch x := x.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, v := range x {
			m[k] = toWire(v)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, v := range x {
			l[i] = toWire(v)
		}
		return l
	case float64:
		return wireFloat(x)
	}
	return x
}

func fromWire(x any) (any, error) {
	switch x := x.(type) {
	case map[string]any:
		for k, v := range x {
			var err error
			if x[k], err = fromWire(v); err != nil {
				return nil, err
			}
		}
		return x, nil
	case []any:
		for i, v := range x {
			var err error
			if x[i], err = fromWire(v); err != nil {
				return nil, err
			}
		}
		return x, nil
	case json.Number:
		if strings.ContainsAny(string(x), ".eE") {
			return x.Float64()
		}
		return x.Int64()
	}
	return x, nil
}

func encodeResult(w io.Writer, res TypeResult) error {
	for i := range res.Docs {
		if res.Docs[i].Spec != nil {
			res.Docs[i].Spec = toWire(res.Docs[i].Spec).(map[string]any)
		}
	}
	return json.NewEncoder(w).Encode(res)
}

func decodeResult(data []byte) (TypeResult, error) {
	var res TypeResult
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&res); err != nil {
		return res, err
	}
	for i, d := range res.Docs {
		if d.Spec == nil {
			continue
		}
		spec, err := fromWire(d.Spec)
		if err != nil {
			return res, err
		}
		res.Docs[i].Spec = spec.(map[string]any)
	}
	return res, nil
}
