package render

import (
	"bytes"
	"fmt"
	"html/template"
	"sort"
	"strings"
	"text/template/parse"
	"unicode/utf8"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/diag"
)

// Origin says where a node of a device's desired tree comes from: a service
// that renders it, and the template line that wrote it. A check of the
// rendered trees (the YANG check) reports a bad node with both, since the fix
// may be in either.
type Origin struct {
	Service  string
	Document diag.Pos // the service's document
	// Template is where the template writes the node's start tag
	// (file:line:col); only the file when that cannot be told, and zero when
	// the service's fragment has no such node.
	Template diag.Pos
}

// Origins says where the node at path of a device's desired tree comes
// from: one Origin per service that owns it. Rendering is deterministic, so
// each owner's fragment is rendered again, traced, only when asked: a check
// pays for the nodes it reports, not for every node of every device. It
// returns nil when the device or the node is not in b.Desired.
func (b *Build) Origins(device string, path configtree.Path) []Origin {
	t := b.Desired[device]
	if t == nil || b.r == nil {
		return nil
	}
	n := t.Find(path)
	if n == nil {
		return nil
	}
	dev := b.Intent.Device(device)
	var out []Origin
	for _, owner := range n.Owners {
		o := Origin{Service: owner}
		if svc := b.r.services[owner]; svc != nil {
			o.Document = svc.Pos
			if dev != nil {
				o.Template = b.r.origin(svc.Kind, dev.Platform, owner, device, path)
			}
		}
		out = append(out, o)
	}
	return out
}

// traced is a second parse of a template in which every text and action
// is preceded by a marker: an empty text node whose bytes (a slice of length
// 0 and capacity 1) the writer recognises by their address, so that each
// byte of the output is known to come from one node. The markers write
// nothing: the output is the template's own. The template that renders is
// left alone; this one is built only for Origins.
type traced struct {
	t     *template.Template
	src   string
	marks map[*byte]parse.Node
}

func (r *Renderer) traced(key tmplKey) (*traced, error) {
	r.traceMu.Lock()
	defer r.traceMu.Unlock()
	if tr := r.traces[key]; tr != nil {
		return tr, nil
	}
	t := r.templates[key]
	if t == nil {
		return nil, fmt.Errorf("no template for %s on %s", key.kind, key.platform)
	}
	name := t.Name()
	src := r.sources[name]
	tt, err := template.New(name).Option("missingkey=error").Funcs(capped(funcs(), r.budget)).Parse(src)
	if err != nil {
		return nil, err
	}
	tr := &traced{t: tt, src: src, marks: map[*byte]parse.Node{}}
	for _, sub := range tt.Templates() {
		if sub.Tree != nil {
			tr.mark(sub.Tree.Root)
		}
	}
	if r.traces == nil {
		r.traces = map[tmplKey]*traced{}
	}
	r.traces[key] = tr
	return tr, nil
}

// mark puts a marker before every node of l that writes.
func (tr *traced) mark(l *parse.ListNode) {
	if l == nil {
		return
	}
	nodes := make([]parse.Node, 0, 2*len(l.Nodes))
	for _, n := range l.Nodes {
		switch n := n.(type) {
		case *parse.IfNode:
			tr.mark(n.List)
			tr.mark(n.ElseList)
		case *parse.WithNode:
			tr.mark(n.List)
			tr.mark(n.ElseList)
		case *parse.RangeNode:
			tr.mark(n.List)
			tr.mark(n.ElseList)
		case *parse.TextNode, *parse.ActionNode:
			b := make([]byte, 0, 1)
			tr.marks[&b[:1][0]] = n
			nodes = append(nodes, &parse.TextNode{NodeType: parse.NodeText, Pos: n.Position(), Text: b})
		}
		nodes = append(nodes, n)
	}
	l.Nodes = nodes
}

// traceWriter collects the output and, for each write, the node that made it.
type traceWriter struct {
	marks map[*byte]parse.Node
	cur   parse.Node
	out   []byte
	segs  []segment
}

type segment struct {
	start, end int // in the output
	node       parse.Node
}

func (w *traceWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		if cap(p) > 0 {
			if n, ok := w.marks[&p[:1][0]]; ok {
				w.cur = n
			}
		}
		return 0, nil
	}
	w.segs = append(w.segs, segment{len(w.out), len(w.out) + len(p), w.cur})
	w.out = append(w.out, p...)
	return len(p), nil
}

// source returns the offset in the template's source of output byte off: in
// a text node that reached the output as written, that byte's own place;
// otherwise the start of the node that wrote it. ok is false when no node is
// known.
func (tr *traced) source(w *traceWriter, off int) (int, bool) {
	i := sort.Search(len(w.segs), func(i int) bool { return w.segs[i].end > off })
	if i == len(w.segs) || w.segs[i].start > off || w.segs[i].node == nil {
		return 0, false
	}
	s := w.segs[i]
	start := int(s.node.Position())
	if tn, ok := s.node.(*parse.TextNode); ok && start+len(tn.Text) <= len(tr.src) &&
		tr.src[start:start+len(tn.Text)] == string(tn.Text) && s.end-s.start == len(tn.Text) {
		return start + off - s.start, true
	}
	return start, true
}

// origin renders the fragment of service svc on device dev again, traced,
// and returns where its template writes the node at path.
func (r *Renderer) origin(kind, platform, svcName, devName string, path configtree.Path) diag.Pos {
	key := tmplKey{kind, platform}
	t := r.templates[key]
	if t == nil {
		return diag.Pos{}
	}
	file := diag.Pos{File: t.Name()}
	svc, dev := r.services[svcName], r.intent.Device(devName)
	if svc == nil || dev == nil {
		return file
	}
	tr, err := r.traced(key)
	if err != nil {
		return file
	}
	w := &traceWriter{marks: tr.marks}
	if err := execute(tr.t, w, r.data(svc, dev), r.budget); err != nil {
		return file
	}
	frag, offs, err := configtree.ParseOffsets(bytes.NewReader(w.out), t.Name(), r.keysFor(dev.Platform))
	if err != nil {
		return file
	}
	n := frag.Find(path)
	if n == nil {
		return diag.Pos{}
	}
	off, ok := tr.source(w, offs[n])
	if !ok {
		return file
	}
	return srcPos(t.Name(), tr.src, off)
}

// srcPos turns a byte offset of a file's source into its line and column.
func srcPos(name, src string, off int) diag.Pos {
	off = min(max(off, 0), len(src))
	before := src[:off]
	line := strings.Count(before, "\n") + 1
	col := utf8.RuneCountInString(before[strings.LastIndexByte(before, '\n')+1:]) + 1
	return diag.Pos{File: name, Line: line, Col: col}
}
