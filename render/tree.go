package render

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/netrecon/netrecon/configtree"
)

// TEMPORARY: configtree's functions (Parse, SetOwner, Merge) are being written
// in parallel; until they land, this file stands in for them with the minimum
// the renderer needs. Every use goes through these three functions so the
// switch is a change of this file only.

func parseTree(name string, data []byte, keys configtree.Keys) (*configtree.Tree, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	root := &configtree.Node{}
	type frame struct {
		n     *configtree.Node
		path  string
		ns    map[string]string
		text  strings.Builder
		child bool
	}
	stack := []*frame{{n: root, ns: map[string]string{}}}
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line, col := d.InputPos()
			var se *xml.SyntaxError
			msg := err.Error()
			if errors.As(err, &se) {
				line, msg = se.Line, se.Msg
			}
			return nil, &shimSyntaxError{configtree.SyntaxError{Name: name, Line: line, Col: col, Msg: msg}}
		}
		top := stack[len(stack)-1]
		switch t := tok.(type) {
		case xml.StartElement:
			ns := top.ns
			copied := false
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" {
					if !copied {
						ns, copied = maps.Clone(top.ns), true
					}
					ns[a.Name.Local] = a.Value
				}
			}
			n := &configtree.Node{Name: t.Name.Local, Space: t.Name.Space}
			p := top.path + "/" + n.Name
			if k, ok := keys[p]; ok {
				n.Keys = k
			}
			top.n.Children = append(top.n.Children, n)
			top.child = true
			stack = append(stack, &frame{n: n, path: p, ns: ns})
		case xml.CharData:
			top.text.Write(t)
		case xml.EndElement:
			if !top.child {
				top.n.Leaf = true
				v := strings.TrimSpace(top.text.String())
				if pre, local, ok := strings.Cut(v, ":"); ok {
					if space, ok := top.ns[pre]; ok {
						top.n.ValueSpace, v = space, local
					}
				}
				top.n.Value = v
			}
			stack = stack[:len(stack)-1]
		}
	}
	return &configtree.Tree{Root: root}, nil
}

func setOwner(t *configtree.Tree, owner string) {
	var walk func(n *configtree.Node)
	walk = func(n *configtree.Node) {
		n.Owners = []string{owner}
		for _, c := range n.Children {
			walk(c)
		}
	}
	for _, c := range t.Root.Children {
		walk(c)
	}
}

func mergeTree(dst, src *configtree.Tree) error {
	return mergeNode(dst.Root, src.Root, "")
}

func mergeNode(dst, src *configtree.Node, path string) error {
	for _, sc := range src.Children {
		p := path + "/" + nodeID(sc)
		i := slices.IndexFunc(dst.Children, func(dc *configtree.Node) bool { return nodeID(dc) == nodeID(sc) && dc.Space == sc.Space })
		if i < 0 {
			dst.Children = append(dst.Children, sc)
			continue
		}
		dc := dst.Children[i]
		if dc.Leaf && sc.Leaf && (dc.Value != sc.Value || dc.ValueSpace != sc.ValueSpace) {
			return &shimConflictError{configtree.ConflictError{Path: configtree.Path(p), Owner: strings.Join(sc.Owners, ","), Other: strings.Join(dc.Owners, ","), Value: sc.Value, OtherValue: dc.Value}}
		}
		for _, o := range sc.Owners {
			if !slices.Contains(dc.Owners, o) {
				dc.Owners = append(dc.Owners, o)
			}
		}
		slices.Sort(dc.Owners)
		if err := mergeNode(dc, sc, p); err != nil {
			return err
		}
	}
	return nil
}

func nodeID(n *configtree.Node) string {
	id := n.Name
	for _, k := range n.Keys {
		for _, c := range n.Children {
			if c.Name == k {
				id += "[" + k + "=" + c.Value + "]"
			}
		}
	}
	return id
}

type shimSyntaxError struct{ e configtree.SyntaxError }

func (e *shimSyntaxError) Error() string { return e.e.Msg }

type shimConflictError struct{ e configtree.ConflictError }

func (e *shimConflictError) Error() string { return "conflict at " + string(e.e.Path) }

// asSyntaxError finds the syntax error of the rendered output in err.
func asSyntaxError(err error) (*configtree.SyntaxError, bool) {
	var se *shimSyntaxError
	if errors.As(err, &se) {
		return &se.e, true
	}
	return nil, false
}

// asConflictError finds a merge conflict in err.
func asConflictError(err error) (*configtree.ConflictError, bool) {
	var ce *shimConflictError
	if errors.As(err, &ce) {
		return &ce.e, true
	}
	return nil, false
}
