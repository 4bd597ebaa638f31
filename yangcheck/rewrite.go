package yangcheck

import (
	"fmt"
	"strings"

	"github.com/openconfig/goyang/pkg/yang"
)

// liftUsesAugments works around a limit of goyang v1.6.3: it parses the
// augment statements of a uses (RFC 7950 7.13) but never applies them, and
// its Uses holds only one, so a uses with two fails the whole module with
// "augment: already set". RFC 8022's ietf-ipv4-unicast-routing and
// ietf-ipv6-unicast-routing, which yuma123 serves, augment the next-hop
// choice of their static routes that way: without this, next-hop-address
// would be unknown. So every augment of a uses becomes a top-level augment of
// the module, with the uses' place spelled out as an absolute schema node
// identifier: the same nodes end up in the same place. A uses inside a
// grouping has no one place to spell out; its augments are dropped, and named
// in the returned notes.
//
// mod is text parsed. It returns the text unchanged when no uses has an
// augment, and otherwise the module written out again from its statements.
func liftUsesAugments(text string, mod *yang.Statement) (string, []string) {
	if !hasUsesAugment(mod) {
		return text, nil
	}
	prefix := ""
	for _, sub := range mod.SubStatements() {
		switch sub.Keyword {
		case "prefix":
			prefix = sub.Argument
		case "belongs-to":
			for _, p := range sub.SubStatements() {
				if p.Keyword == "prefix" {
					prefix = p.Argument
				}
			}
		}
	}
	r := &rewriter{prefix: prefix}
	var b strings.Builder
	r.write(&b, mod, "", nil)
	return b.String(), r.notes
}

func hasUsesAugment(st *yang.Statement) bool {
	for _, sub := range st.SubStatements() {
		if st.Keyword == "uses" && sub.Keyword == "augment" || hasUsesAugment(sub) {
			return true
		}
	}
	return false
}

type rewriter struct {
	prefix string
	lifted []string // top-level augments to append, already written
	notes  []string
}

// write writes st and its substatements. path is the absolute schema node
// identifier of st's place ("" inside a grouping, where it has none).
func (r *rewriter) write(b *strings.Builder, st *yang.Statement, indent string, path []string) {
	b.WriteString(indent)
	b.WriteString(st.Keyword)
	if st.HasArgument {
		b.WriteByte(' ')
		b.WriteString(quoteArg(st.Argument))
	}
	subs := st.SubStatements()
	top := st.Keyword == "module" || st.Keyword == "submodule"
	if len(subs) == 0 && !top {
		b.WriteString(";\n")
		return
	}
	b.WriteString(" {\n")
	for _, sub := range subs {
		if st.Keyword == "uses" && sub.Keyword == "augment" {
			r.lift(sub, path)
			continue
		}
		r.write(b, sub, indent+"  ", childPath(st, sub, path, r.prefix))
	}
	if top {
		for _, l := range r.lifted {
			b.WriteString(l)
		}
	}
	b.WriteString(indent)
	b.WriteString("}\n")
}

// lift turns the augment aug of a uses at path into a top-level augment.
func (r *rewriter) lift(aug *yang.Statement, path []string) {
	if path == nil {
		r.notes = append(r.notes, fmt.Sprintf("%s: augment %q of a uses inside a grouping not applied (goyang does not apply the augments of a uses)", aug.Location(), aug.Argument))
		return
	}
	target := strings.Join(path, "") + "/" + prefixed(aug.Argument, r.prefix)
	var b strings.Builder
	b.WriteString("  augment ")
	b.WriteString(quoteArg(target))
	b.WriteString(" {\n")
	for _, sub := range aug.SubStatements() {
		r.write(&b, sub, "    ", nil)
	}
	b.WriteString("  }\n")
	r.lifted = append(r.lifted, b.String())
}

// childPath is the schema node identifier of sub, a substatement of st at
// path; nil where there is none (in groupings, typedefs, ...).
func childPath(st, sub *yang.Statement, path []string, prefix string) []string {
	switch {
	case st.Keyword == "module" || st.Keyword == "submodule":
		if sub.Keyword == "augment" {
			return []string{sub.Argument}
		}
		if isSchemaNode(sub.Keyword) {
			return []string{"/" + prefix + ":" + sub.Argument}
		}
		return nil
	case path == nil:
		return nil
	case st.Keyword == "uses" && sub.Keyword == "augment":
		return append(clone(path), "/"+prefixed(sub.Argument, prefix))
	case isSchemaNode(sub.Keyword):
		return append(clone(path), "/"+prefix+":"+sub.Argument)
	case sub.Keyword == "uses":
		return path
	}
	return nil
}

func clone(p []string) []string { return append([]string(nil), p...) }

func isSchemaNode(kw string) bool {
	switch kw {
	case "container", "list", "leaf", "leaf-list", "choice", "case", "anydata", "anyxml":
		return true
	}
	return false
}

// prefixed gives every step of a descendant schema node identifier a
// prefix: unprefixed steps are in the module's own namespace.
func prefixed(rel, prefix string) string {
	steps := strings.Split(strings.Trim(rel, "/"), "/")
	for i, s := range steps {
		if !strings.Contains(s, ":") {
			steps[i] = prefix + ":" + s
		}
	}
	return strings.Join(steps, "/")
}

// quoteArg quotes a statement's argument so that YANG reads it back as it
// was: single quotes take everything but a single quote literally.
func quoteArg(s string) string {
	if !strings.Contains(s, "'") {
		return "'" + s + "'"
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\t", `\t`)
	return `"` + r.Replace(s) + `"`
}
