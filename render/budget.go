package render

import (
	"fmt"
	"html/template"
	"io"
	"strconv"
	"text/template/parse"
	"time"
)

// Budget bounds one execution of a template: one service on one device. A
// user-defined type's template is code from the intent repo; without a bound
// `{{range 200000000}}` runs for minutes and a doubling string exhausts
// memory, and a Go program cannot survive running out of memory. Three
// guards stand in the way, each tested with such a bomb:
//
//   - a static check when the template is parsed refuses a range over an
//     integer literal (or nested literal ranges) of more than Range
//     iterations;
//   - a checked writer fails the execution once the output passes Output
//     bytes, or once Time has passed; every range body and every {{define}}d
//     template starts with an empty write, so a loop or recursion without
//     output meets the clock too;
//   - the functions that build strings (printf, print, println, js, join)
//     fail on a result longer than Output, so no value can outgrow the
//     output without being written.
type Budget struct {
	Time   time.Duration // per execution; 0 means DefaultBudget's
	Output int64         // bytes of output, and of any string a function builds; 0 means DefaultBudget's
	Range  int64         // iterations of literal ranges; 0 means DefaultBudget's
}

// DefaultBudget returns the budget New uses unless told otherwise
// (docs/intent-format.md).
func DefaultBudget() Budget {
	return Budget{Time: 2 * time.Second, Output: 16 << 20, Range: 10000}
}

func (b Budget) String() string {
	return fmt.Sprintf("%v / %s", b.Time, sizeText(b.Output))
}

// sizeText writes a byte count as people read it.
func sizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// Option configures New.
type Option func(*Renderer) error

// WithBudget sets the budget of every template execution; zero fields keep
// the default.
func WithBudget(b Budget) Option {
	return func(r *Renderer) error {
		if b.Time < 0 || b.Output < 0 || b.Range < 0 {
			return fmt.Errorf("invalid render budget %+v: a limit is negative", b)
		}
		d := DefaultBudget()
		if b.Time == 0 {
			b.Time = d.Time
		}
		if b.Output == 0 {
			b.Output = d.Output
		}
		if b.Range == 0 {
			b.Range = d.Range
		}
		r.budget = b
		return nil
	}
}

// BudgetError is an execution stopped by its budget.
type BudgetError struct {
	Budget Budget
	What   string // what ran over: "ran longer than 2s"
}

func (e *BudgetError) Error() string {
	return fmt.Sprintf("evaluation exceeded its budget of %s: %s", e.Budget, e.What)
}

// budgetWriter is the checked writer of one execution.
type budgetWriter struct {
	w        io.Writer
	budget   Budget
	deadline time.Time
	written  int64
	calls    uint
	err      error
}

func newBudgetWriter(w io.Writer, b Budget) *budgetWriter {
	return &budgetWriter{w: w, budget: b, deadline: time.Now().Add(b.Time)}
}

func (w *budgetWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	w.written += int64(len(p))
	if w.written > w.budget.Output {
		w.err = &BudgetError{Budget: w.budget, What: "the output is larger than " + sizeText(w.budget.Output)}
		return 0, w.err
	}
	// The clock every 64 writes: a loop iteration costs far more than a
	// write, and time.Now would be most of an empty iteration's cost.
	if w.calls++; w.calls%64 == 0 && time.Now().After(w.deadline) {
		w.err = &BudgetError{Budget: w.budget, What: "it ran longer than " + w.budget.Time.String()}
		return 0, w.err
	}
	return w.w.Write(p)
}

// execute runs t into w within the budget. text/template stops at the first
// failed write and returns the writer's error as it is.
func execute(t *template.Template, w io.Writer, data any, b Budget) error {
	bw := newBudgetWriter(w, b)
	err := t.Execute(bw, data)
	if bw.err != nil {
		return bw.err
	}
	return err
}

// capped wraps the string-building functions so that none returns a string
// longer than max: `{{$s = printf "%s%s" $s $s}}` in a loop would otherwise
// double a value to gigabytes without writing a byte. Functions of the same
// name replace text/template's built-ins.
func capped(fm template.FuncMap, b Budget) template.FuncMap {
	check := func(name, s string) (string, error) {
		if int64(len(s)) > b.Output {
			return "", fmt.Errorf("the result of %s is longer than the budget of %s", name, sizeText(b.Output))
		}
		return s, nil
	}
	fm["printf"] = func(format string, args ...any) (string, error) {
		return check("printf", fmt.Sprintf(format, args...))
	}
	fm["print"] = func(args ...any) (string, error) { return check("print", fmt.Sprint(args...)) }
	fm["println"] = func(args ...any) (string, error) { return check("println", fmt.Sprintln(args...)) }
	fm["js"] = func(args ...any) (string, error) {
		// An escape is at most 6 bytes (\u003C) per input byte: refuse
		// before the work, which is slow on a large value.
		if n := int64(len(fmt.Sprint(args...))); n > b.Output/6 {
			return "", fmt.Errorf("the argument of js (%s) may escape to more than the budget of %s", sizeText(n), sizeText(b.Output))
		}
		return check("js", template.JSEscaper(args...))
	}
	fm["join"] = func(sep string, list any) (string, error) {
		s, err := join(sep, list)
		if err != nil {
			return "", err
		}
		return check("join", s)
	}
	return fm
}

// checkRanges is the static check of a parsed template: it refuses a range
// over an integer literal, or nested literal ranges, of more than max
// iterations in all. It returns the offending node's position, "name:line:col".
func checkRanges(t *parse.Tree, limit int64) (string, error) {
	var walk func(n parse.Node, outer int64) (string, error)
	walk = func(n parse.Node, outer int64) (string, error) {
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return "", nil
			}
			for _, c := range n.Nodes {
				if loc, err := walk(c, outer); err != nil {
					return loc, err
				}
			}
		case *parse.IfNode:
			return walkBranch(walk, &n.BranchNode, outer)
		case *parse.WithNode:
			return walkBranch(walk, &n.BranchNode, outer)
		case *parse.RangeNode:
			inner := outer
			if k, ok := intLiteral(n.Pipe); ok {
				loc, _ := t.ErrorContext(n)
				if k > limit {
					return loc, fmt.Errorf("range over %d: at most %d iterations are allowed", k, limit)
				}
				// outer and k are at most limit each, so the product
				// cannot overflow before it is refused.
				if inner = outer * max(k, 1); inner > limit {
					return loc, fmt.Errorf("nested ranges of %d iterations: at most %d are allowed", inner, limit)
				}
			}
			if loc, err := walk(n.List, inner); err != nil {
				return loc, err
			}
			return walk(n.ElseList, outer)
		}
		return "", nil
	}
	return walk(t.Root, 1)
}

func walkBranch(walk func(parse.Node, int64) (string, error), b *parse.BranchNode, outer int64) (string, error) {
	if loc, err := walk(b.List, outer); err != nil {
		return loc, err
	}
	return walk(b.ElseList, outer)
}

// intLiteral returns k when the pipeline is the integer literal k.
func intLiteral(p *parse.PipeNode) (int64, bool) {
	if p == nil || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
		return 0, false
	}
	num, ok := p.Cmds[0].Args[0].(*parse.NumberNode)
	if !ok || !num.IsInt {
		return 0, false
	}
	return num.Int64, true
}

// addTicks puts an empty text node at the start of every range body and of
// the template itself, so that each loop iteration and each {{template}}
// call writes (nothing) to the budget writer, which checks the clock. A loop
// without output would otherwise never meet it.
func addTicks(t *parse.Tree) {
	var walk func(n parse.Node)
	walk = func(n parse.Node) {
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return
			}
			for _, c := range n.Nodes {
				walk(c)
			}
		case *parse.IfNode:
			walk(n.List)
			walk(n.ElseList)
		case *parse.WithNode:
			walk(n.List)
			walk(n.ElseList)
		case *parse.RangeNode:
			walk(n.List)
			walk(n.ElseList)
			n.List.Nodes = append([]parse.Node{tick(n.Position())}, n.List.Nodes...)
		}
	}
	walk(t.Root)
	if t.Root != nil {
		t.Root.Nodes = append([]parse.Node{tick(t.Root.Position())}, t.Root.Nodes...)
	}
}

func tick(pos parse.Pos) *parse.TextNode {
	return &parse.TextNode{NodeType: parse.NodeText, Pos: pos, Text: []byte{}}
}
