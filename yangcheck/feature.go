package yangcheck

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/openconfig/goyang/pkg/yang"
)

// disabled evaluates the if-feature statements that guard e (RFC 7950
// 7.20.2): its own, and those of the choices, cases and augments between it
// and the data node above. It returns why e is off, or "".
func (c *compiler) disabled(e *yang.Entry) string {
	if e.Node == nil {
		return ""
	}
	for n := e.Node; n != nil; n = n.ParentNode() {
		if n != e.Node {
			switch n.Kind() {
			case "augment", "choice", "case":
			default:
				return ""
			}
		}
		st := n.Statement()
		if st == nil {
			continue
		}
		for _, sub := range st.SubStatements() {
			if sub.Keyword != "if-feature" {
				continue
			}
			on, err := c.evalFeature(n, sub.Argument)
			if err != nil {
				c.note("%s: if-feature %q not understood (%v): taken as enabled", sub.Location(), sub.Argument, err)
				continue
			}
			if !on {
				return fmt.Sprintf("if-feature %s", sub.Argument)
			}
		}
	}
	return ""
}

// evalFeature evaluates an if-feature expression (RFC 7950 7.20.2: feature
// names combined with not, and, or and parentheses) in the module of n.
func (c *compiler) evalFeature(n yang.Node, expr string) (bool, error) {
	p := &featureParser{toks: featureTokens(expr), enabled: func(ref string) bool { return c.featureOn(n, ref) }}
	v, err := p.or()
	if err != nil {
		return false, err
	}
	if p.i != len(p.toks) {
		return false, fmt.Errorf("%w: %q", errTrailing, p.toks[p.i])
	}
	return v, nil
}

// featureOn says whether the feature ref ("prefix:name" or "name", in the
// module of n) is advertised.
func (c *compiler) featureOn(n yang.Node, ref string) bool {
	prefix, name, ok := strings.Cut(ref, ":")
	if !ok {
		prefix, name = "", ref
	}
	mod := yang.RootNode(n)
	if mod == nil {
		return true
	}
	owner := mod.Name
	own := ""
	if mod.BelongsTo != nil {
		owner = mod.BelongsTo.Name
		if mod.BelongsTo.Prefix != nil {
			own = mod.BelongsTo.Prefix.Name
		}
	} else if mod.Prefix != nil {
		own = mod.Prefix.Name
	}
	if prefix != "" && prefix != own {
		owner = ""
		for _, imp := range mod.Import {
			if imp.Prefix != nil && imp.Prefix.Name == prefix {
				owner = imp.Name
			}
		}
		if owner == "" {
			return true // an unknown prefix: goyang would have refused the module
		}
	}
	list, known := c.features[owner]
	return !known || slices.Contains(list, name)
}

var errTrailing = errors.New("unexpected text after the expression")

func featureTokens(s string) []string {
	var out []string
	for _, f := range strings.Fields(strings.NewReplacer("(", " ( ", ")", " ) ").Replace(s)) {
		out = append(out, f)
	}
	return out
}

type featureParser struct {
	toks    []string
	i       int
	enabled func(string) bool
}

func (p *featureParser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

func (p *featureParser) or() (bool, error) {
	v, err := p.and()
	for err == nil && p.peek() == "or" {
		p.i++
		var w bool
		w, err = p.and()
		v = v || w
	}
	return v, err
}

func (p *featureParser) and() (bool, error) {
	v, err := p.factor()
	for err == nil && p.peek() == "and" {
		p.i++
		var w bool
		w, err = p.factor()
		v = v && w
	}
	return v, err
}

func (p *featureParser) factor() (bool, error) {
	switch t := p.peek(); t {
	case "":
		return false, fmt.Errorf("expression ends early")
	case "not":
		p.i++
		v, err := p.factor()
		return !v, err
	case "(":
		p.i++
		v, err := p.or()
		if err != nil {
			return false, err
		}
		if p.peek() != ")" {
			return false, fmt.Errorf("missing )")
		}
		p.i++
		return v, nil
	case ")", "and", "or":
		return false, fmt.Errorf("unexpected %q", t)
	default:
		p.i++
		return p.enabled(t), nil
	}
}
