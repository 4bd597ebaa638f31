package render

import (
	"path"
	"strings"

	"github.com/netrecon/netrecon/diag"
	"github.com/netrecon/netrecon/schema"
)

// Locate finds the line of the template of kind for platform that writes
// element, for diagnostics raised after rendering (the YANG check): the one
// line holding a start tag of that name, or line 0 when none or several do.
// inRepo is false for the built-in types' templates, which live in netrecon
// and not in the intent repo.
func Locate(in *schema.Intent, kind, platform, element string) (pos diag.Pos, inRepo bool) {
	if t := in.Types[kind]; t != nil && !t.BuiltIn {
		tp, ok := t.Template[platform]
		if !ok {
			return diag.Pos{}, false
		}
		name := tp.Name
		if name == "" {
			name = path.Join(t.Dir, platform+".xml.tmpl")
		}
		return diag.Pos{File: name, Line: elementLine(tp.Source, element)}, true
	}
	rel := kind + "/" + platform + ".xml.tmpl"
	src, err := builtinFS.ReadFile("templates/" + rel)
	if err != nil {
		return diag.Pos{}, false
	}
	return diag.Pos{File: builtinPrefix + rel, Line: elementLine(string(src), element)}, false
}

// elementLine finds the line of a template that writes element: the one
// line holding a start tag of that name. It returns 0 when none or several
// do: a wrong line would mislead more than none.
func elementLine(src, element string) int {
	found := 0
	for i, line := range strings.Split(src, "\n") {
		for rest := line; ; {
			j := strings.Index(rest, "<"+element)
			if j < 0 {
				break
			}
			after := rest[j+1+len(element):]
			rest = after
			if after == "" || strings.ContainsRune(" \t/>", rune(after[0])) {
				if found != 0 && found != i+1 {
					return 0
				}
				found = i + 1
				break
			}
		}
	}
	return found
}
