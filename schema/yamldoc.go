package schema

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// maxDepth is how deep a document may nest. Intent is shallow (a route list in
// a spec is four levels); the cap keeps recursion and CUE work bounded.
const maxDepth = 64

// document is one YAML file decoded to plain data, with the position of every
// field so that later checks can point at it.
type document struct {
	file   string
	pos    Pos            // the top-level mapping's start
	data   map[string]any // map[string]any, []any, string, int64, float64, bool, nil
	fields map[string]Pos // "spec.routes[1].nextHop" → where its key is written
	values map[string]Pos // the same paths → where their values start
}

// parseDocument checks and decodes one YAML file. The checks come before any
// decoding into Go values: anchors and aliases are refused outright, so a
// "billion laughs" file can never expand, and depth is capped.
func parseDocument(file string, data []byte) (*document, Diagnostics) {
	var diags Diagnostics
	at := func(line, col int, field, summary, detail string) Diagnostics {
		return diags.Append(Diagnostic{Severity: Error, Pos: Pos{File: file, Line: line, Col: col},
			Field: field, Summary: summary, Detail: detail})
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, at(0, 0, "", "empty file", "a file holds exactly one YAML document; delete the file or fill it")
	}
	if i := bytes.IndexByte(data, 0); i >= 0 {
		l, c := lineCol(data, i)
		return nil, at(l, c, "", "binary file: contains a NUL byte", "intent files are UTF-8 YAML text")
	}
	if !utf8.Valid(data) {
		i := firstInvalidUTF8(data)
		l, c := lineCol(data, i)
		return nil, at(l, c, "", "file is not valid UTF-8", "save the file as UTF-8")
	}

	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := safeDecode(dec, &doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, at(0, 0, "", "empty file: no YAML document, only comments", "a file holds exactly one YAML document")
		}
		line, msg := yamlErrorLine(err)
		d := at(line, 0, "", "malformed YAML: "+msg, "")
		if line > 0 && lineHasLeadingTab(data, line) {
			d[len(d)-1].Detail = "YAML indentation must use spaces, not tabs"
		}
		return nil, d
	}
	var second yaml.Node
	if err := safeDecode(dec, &second); !errors.Is(err, io.EOF) {
		line := second.Line
		if line == 0 {
			line = secondDocLine(data)
		}
		return nil, at(line, 0, "", "file holds more than one YAML document",
			"put each document in a file of its own (a line of '---' starts a new document)")
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, at(doc.Line, doc.Column, "", "empty file: no YAML document", "")
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, at(root.Line, root.Column, "", "document must be a mapping of fields (apiVersion, kind, ...)", "")
	}
	w := walker{file: file, fields: make(map[string]Pos), values: make(map[string]Pos)}
	v := w.value(root, "", 1)
	if w.diags.HasErrors() {
		return nil, append(diags, w.diags...)
	}
	return &document{
		file:   file,
		pos:    Pos{File: file, Line: root.Line, Col: root.Column},
		data:   v.(map[string]any),
		fields: w.fields,
		values: w.values,
	}, nil
}

// safeDecode decodes one document and turns a panic of the YAML library (a bug
// there, reachable only with hostile input) into an error.
func safeDecode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: cannot parse: %v", r)
		}
	}()
	return dec.Decode(n)
}

type walker struct {
	file   string
	fields map[string]Pos
	values map[string]Pos
	diags  Diagnostics
}

func (w *walker) errorf(n *yaml.Node, field, detail, format string, args ...any) {
	w.diags = w.diags.Append(Diagnostic{Severity: Error, Pos: Pos{File: w.file, Line: n.Line, Col: n.Column},
		Field: field, Summary: fmt.Sprintf(format, args...), Detail: detail})
}

// value converts n to plain data, recording field positions and refusing what
// the format refuses. It stops descending at the first problem in a subtree.
func (w *walker) value(n *yaml.Node, field string, depth int) any {
	if depth > maxDepth {
		if len(field) > 80 {
			// Cut at a separator, never inside a (multi-byte) key.
			if i := strings.LastIndexAny(field[:80], ".["); i > 0 {
				field = field[:i] + "..."
			}
		}
		w.errorf(n, field, "intent documents are shallow; flatten the structure", "nesting deeper than %d levels", maxDepth)
		return nil
	}
	if n.Anchor != "" {
		w.errorf(n, field, "intent is plain data: write the value out in full", "YAML anchor &%s is not allowed", n.Anchor)
		return nil
	}
	if n.Style&yaml.TaggedStyle != 0 {
		w.errorf(n, field, "intent is plain data: remove the tag", "YAML tag %s is not allowed", n.Tag)
		return nil
	}
	switch n.Kind {
	case yaml.AliasNode:
		w.errorf(n, field, "intent is plain data: write the value out in full", "YAML alias *%s is not allowed", n.Value)
		return nil
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		seen := make(map[string]*yaml.Node, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode || k.Anchor != "" || k.Style&yaml.TaggedStyle != 0 {
				w.errorf(k, field, "", "mapping keys must be plain strings")
				continue
			}
			if k.Tag == "!!merge" {
				w.errorf(k, field, "intent is plain data: write the fields out in full", "YAML merge key << is not allowed")
				continue
			}
			sub := joinField(field, k.Value)
			if first, dup := seen[k.Value]; dup {
				w.errorf(k, sub, "", "duplicate key %q (first at line %d)", k.Value, first.Line)
				continue
			}
			seen[k.Value] = k
			w.fields[sub] = Pos{File: w.file, Line: k.Line, Col: k.Column}
			w.values[sub] = Pos{File: w.file, Line: v.Line, Col: v.Column}
			m[k.Value] = w.value(v, sub, depth+1)
		}
		return m
	case yaml.SequenceNode:
		l := make([]any, len(n.Content))
		for i, c := range n.Content {
			sub := field + "[" + strconv.Itoa(i) + "]"
			w.fields[sub] = Pos{File: w.file, Line: c.Line, Col: c.Column}
			l[i] = w.value(c, sub, depth+1)
		}
		return l
	case yaml.ScalarNode:
		return w.scalar(n, field)
	}
	w.errorf(n, field, "", "unsupported YAML node")
	return nil
}

func (w *walker) scalar(n *yaml.Node, field string) any {
	switch n.ShortTag() {
	case "!!str", "!!timestamp":
		// A date stays the text it was written as; intent has no time type.
		return n.Value
	case "!!null":
		return nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			w.errorf(n, field, "", "invalid boolean %q", n.Value)
		}
		return b
	case "!!int":
		var i int64
		if err := n.Decode(&i); err != nil {
			w.errorf(n, field, "", "integer %s is out of range", n.Value)
		}
		return i
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			w.errorf(n, field, "", "invalid number %s", n.Value)
			return nil
		}
		return f
	}
	w.errorf(n, field, "", "unsupported value type %s", n.ShortTag())
	return nil
}

// joinField appends a map key to a field path.
func joinField(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

var yamlLineRe = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlErrorLine splits the line number out of a yaml.v3 error message.
func yamlErrorLine(err error) (int, string) {
	msg := err.Error()
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		l, _ := strconv.Atoi(m[1])
		return l, m[2]
	}
	return 0, strings.TrimPrefix(msg, "yaml: ")
}

func lineHasLeadingTab(data []byte, line int) bool {
	// yaml.v3 sometimes reports the line before the offending one.
	for _, l := range []int{line, line + 1} {
		s := nthLine(data, l)
		t := strings.TrimLeft(s, " ")
		if strings.HasPrefix(t, "\t") {
			return true
		}
	}
	return false
}

func nthLine(data []byte, line int) string {
	for i := 1; i < line; i++ {
		j := bytes.IndexByte(data, '\n')
		if j < 0 {
			return ""
		}
		data = data[j+1:]
	}
	if j := bytes.IndexByte(data, '\n'); j >= 0 {
		data = data[:j]
	}
	return string(data)
}

// secondDocLine finds the '---' that starts a second document, for when the
// second document is itself malformed.
func secondDocLine(data []byte) int {
	seenContent := false
	for i, l := range strings.Split(string(data), "\n") {
		t := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "---"):
			if seenContent {
				return i + 1
			}
		case t != "" && !strings.HasPrefix(t, "#"):
			seenContent = true
		}
	}
	return 0
}

// lineCol turns a byte offset into a 1-based line and column (in runes).
func lineCol(data []byte, off int) (int, int) {
	line := 1 + bytes.Count(data[:off], []byte{'\n'})
	start := bytes.LastIndexByte(data[:off], '\n') + 1
	return line, 1 + utf8.RuneCount(data[start:off])
}

func firstInvalidUTF8(data []byte) int {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(data)
}
