package render

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/netrecon/netrecon/configtree"
)

// junosElided are the lists whose element name the Junos CLI leaves out: the
// XML <interfaces><interface><name>ge-0/0/1</name> is "interfaces ge-0/0/1"
// on the command line, while <unit><name>100</name> stays "unit 100".
var junosElided = map[string]bool{
	"/configuration/interfaces/interface":       true,
	"/configuration/routing-instances/instance": true,
	// <prefix-list-item><name>192.0.2.0/24</name> is "prefix-list L 192.0.2.0/24".
	"/configuration/policy-options/prefix-list/prefix-list-item": true,
}

// WriteJunosSet writes a Junos configuration tree as the `set` commands an
// operator would type (or paste into `load set terminal`), in the tree's
// canonical order. With owners, a comment names the services of the commands
// below it whenever they change.
func WriteJunosSet(w io.Writer, t *configtree.Tree, owners bool) error {
	var (
		err  error
		last string
	)
	emit := func(words []string, who []string) {
		if err != nil {
			return
		}
		if owners {
			if o := strings.Join(who, ", "); o != last {
				_, err = fmt.Fprintf(w, "# owners: %s\n", o)
				last = o
			}
		}
		if err == nil {
			_, err = fmt.Fprintln(w, "set "+strings.Join(words, " "))
		}
	}
	var walk func(n *configtree.Node, elemPath string, words []string)
	walk = func(n *configtree.Node, elemPath string, words []string) {
		for _, c := range n.Children {
			if c.Leaf && slices.Contains(n.Keys, c.Name) {
				continue // in the entry's words already
			}
			p := elemPath + "/" + c.Name
			w := slices.Clone(words)
			if !(c.IsEntry() && junosElided[p]) {
				w = append(w, c.Name)
			}
			if c.IsEntry() {
				for _, k := range c.Keys {
					for _, kc := range c.Children {
						if kc.Name == k && kc.Leaf {
							w = append(w, junosWord(kc.Value))
						}
					}
				}
			}
			switch {
			case c.Leaf && c.Value != "":
				emit(append(w, junosWord(c.Value)), c.Owners)
			case c.Leaf || len(c.Children) == 0 || onlyKeys(c):
				emit(w, c.Owners)
			default:
				walk(c, p, w)
			}
		}
	}
	for _, top := range t.Root.Children {
		if top.Name != "configuration" {
			return fmt.Errorf("not a Junos configuration: top-level element <%s>", top.Name)
		}
		walk(top, "/configuration", nil)
	}
	return err
}

func onlyKeys(n *configtree.Node) bool {
	for _, c := range n.Children {
		if !c.Leaf || !slices.Contains(n.Keys, c.Name) {
			return false
		}
	}
	return true
}

// junosWord quotes a value the Junos CLI would split or misread: spaces,
// quotes, semicolons, braces, comment signs. Inside quotes, \ and " are
// escaped.
func junosWord(v string) string {
	if v != "" && !strings.ContainsAny(v, " \t\"';{}#[]\\") {
		return v
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
}
