package netsim

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Namespaces of the protocol, not of the configuration.
const (
	nsBase       = "urn:ietf:params:xml:ns:netconf:base:1.0"
	nsMonitoring = "urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring"
	nsWithDefs   = "urn:ietf:params:xml:ns:yang:ietf-netconf-with-defaults"
)

// envelopeDepth is how deep parseMessage builds elements: rpc / operation /
// parameter / value (<rpc><get-config><source><running/>). Deeper content
// (a <config> or <filter> payload) is kept as a raw span for configtree.
const envelopeDepth = 4

// elem is one element of a protocol message: the <rpc> envelope and its
// parameters. It is not a configuration tree (that is configtree's job); it
// only remembers where each element's content lies in the message, so that a
// payload can be handed on with the namespaces in scope around it.
type elem struct {
	name     xml.Name // namespace resolved
	attrs    []xml.Attr
	children []*elem
	text     string // character data directly inside, trimmed
	// inner is the element's content, exactly as received.
	inner []byte
	// ns are the namespace declarations in scope at the element, own ones
	// included: prefix ("" for the default namespace) → URI.
	ns map[string]string
}

// child returns the first child with the local name, or nil. Parameters of
// base NETCONF operations are matched by local name: a client must put them in
// the base namespace, and a client that declares it with a prefix is equally
// right ([RFC6241 3.1]).
//
// [RFC6241 3.1]: https://www.rfc-editor.org/rfc/rfc6241#section-3.1
func (e *elem) child(local string) *elem {
	if e == nil {
		return nil
	}
	for _, c := range e.children {
		if c.name.Local == local {
			return c
		}
	}
	return nil
}

// attr returns the value of the attribute with the local name.
func (e *elem) attr(local string) (string, bool) {
	for _, a := range e.attrs {
		if a.Name.Local == local && a.Name.Space != "xmlns" {
			return a.Value, true
		}
	}
	return "", false
}

// standalone returns the element's content wrapped in a <wrapper> element
// (data or config) in the base namespace that redeclares every namespace in
// scope, so a payload that relies on a prefix declared on <rpc> still parses
// on its own.
func (e *elem) standalone(wrapper string) []byte {
	var b bytes.Buffer
	b.WriteString("<" + wrapper)
	prefixes := make([]string, 0, len(e.ns))
	for p := range e.ns {
		prefixes = append(prefixes, p)
	}
	sort.Strings(prefixes)
	for _, p := range prefixes {
		if p == "" {
			b.WriteString(` xmlns="`)
		} else {
			fmt.Fprintf(&b, ` xmlns:%s="`, p)
		}
		xml.EscapeText(&b, []byte(e.ns[p]))
		b.WriteByte('"')
	}
	if _, ok := e.ns[""]; !ok {
		b.WriteString(` xmlns="` + nsBase + `"`)
	}
	b.WriteByte('>')
	b.Write(e.inner)
	b.WriteString("</" + wrapper + ">")
	return b.Bytes()
}

// errMalformed is XML that is not well formed.
var errMalformed = errors.New("malformed XML")

// parseMessage reads a message's root element and its first envelopeDepth
// levels.
func parseMessage(msg []byte) (*elem, error) {
	d := xml.NewDecoder(bytes.NewReader(msg))
	var (
		root  *elem
		stack []*elem
		// starts[i] is where stack[i]'s content begins in msg.
		starts []int64
		// text[i] collects stack[i]'s character data.
		text [][]byte
	)
	for {
		before := d.InputOffset()
		tok, err := d.Token()
		if err == io.EOF {
			if root == nil || len(stack) > 0 {
				return nil, fmt.Errorf("%w: unexpected end of message", errMalformed)
			}
			return root, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errMalformed, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if root != nil && len(stack) == 0 {
				return nil, fmt.Errorf("%w: more than one root element", errMalformed)
			}
			e := &elem{name: t.Name, attrs: t.Copy().Attr, ns: map[string]string{}}
			if len(stack) > 0 {
				parent := stack[len(stack)-1]
				for k, v := range parent.ns {
					e.ns[k] = v
				}
				parent.children = append(parent.children, e)
			} else {
				root = e
			}
			for _, a := range t.Attr {
				switch {
				case a.Name.Space == "" && a.Name.Local == "xmlns":
					e.ns[""] = a.Value
				case a.Name.Space == "xmlns":
					e.ns[a.Name.Local] = a.Value
				}
			}
			if len(stack)+1 >= envelopeDepth {
				// Keep the content raw: skip to the matching end element.
				contentStart := d.InputOffset()
				endBefore := contentStart
				if err := skipElement(d, &endBefore); err != nil {
					return nil, fmt.Errorf("%w: %v", errMalformed, err)
				}
				e.inner = msg[contentStart:endBefore]
				e.text = strings.TrimSpace(string(e.inner))
				continue
			}
			stack = append(stack, e)
			starts = append(starts, d.InputOffset())
			text = append(text, nil)
		case xml.EndElement:
			n := len(stack) - 1
			e := stack[n]
			e.inner = msg[starts[n]:before]
			e.text = strings.TrimSpace(string(text[n]))
			stack, starts, text = stack[:n], starts[:n], text[:n]
		case xml.CharData:
			if len(stack) > 0 {
				text[len(text)-1] = append(text[len(text)-1], t...)
			} else if len(bytes.TrimSpace(t)) > 0 {
				return nil, fmt.Errorf("%w: text outside the root element", errMalformed)
			}
		}
	}
}

// skipElement consumes tokens up to the end of the current element and sets
// *endStart to the offset where its end tag begins.
func skipElement(d *xml.Decoder, endStart *int64) error {
	depth := 1
	for {
		before := d.InputOffset()
		tok, err := d.Token()
		if err != nil {
			return err
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
			if depth == 0 {
				*endStart = before
				return nil
			}
		}
	}
}

// rpcError is one <rpc-error> ([RFC6241 4.3]).
//
// [RFC6241 4.3]: https://www.rfc-editor.org/rfc/rfc6241#section-4.3
type rpcError struct {
	Type    string // transport, rpc, protocol, application
	Tag     string
	AppTag  string // error-app-tag, "" for none
	Path    string
	Message string
	// Info holds <error-info> children as local name → value, written in the
	// base namespace (session-id, bad-element, bad-attribute, ...).
	Info [][2]string
}

func (e *rpcError) Error() string { return e.Tag + ": " + e.Message }

func newError(typ, tag, msg string, info ...[2]string) *rpcError {
	return &rpcError{Type: typ, Tag: tag, Message: msg, Info: info}
}

// writeTo appends the <rpc-error> element to b.
func (e *rpcError) writeTo(b *bytes.Buffer) {
	b.WriteString("<rpc-error><error-type>")
	xml.EscapeText(b, []byte(e.Type))
	b.WriteString("</error-type><error-tag>")
	xml.EscapeText(b, []byte(e.Tag))
	b.WriteString("</error-tag><error-severity>error</error-severity>")
	if e.AppTag != "" {
		b.WriteString("<error-app-tag>")
		xml.EscapeText(b, []byte(e.AppTag))
		b.WriteString("</error-app-tag>")
	}
	if e.Path != "" {
		b.WriteString("<error-path>")
		xml.EscapeText(b, []byte(e.Path))
		b.WriteString("</error-path>")
	}
	if e.Message != "" {
		b.WriteString(`<error-message xml:lang="en">`)
		xml.EscapeText(b, []byte(e.Message))
		b.WriteString("</error-message>")
	}
	if len(e.Info) > 0 {
		b.WriteString("<error-info>")
		for _, kv := range e.Info {
			fmt.Fprintf(b, "<%s>", kv[0])
			xml.EscapeText(b, []byte(kv[1]))
			fmt.Fprintf(b, "</%s>", kv[0])
		}
		b.WriteString("</error-info>")
	}
	b.WriteString("</rpc-error>")
}

// replyStart writes <rpc-reply> with every attribute of the <rpc>, as
// [RFC6241 4.2] requires (message-id and any others, with their namespace
// declarations).
//
// [RFC6241 4.2]: https://www.rfc-editor.org/rfc/rfc6241#section-4.2
func replyStart(b *bytes.Buffer, rpc *elem) {
	b.WriteString(`<rpc-reply xmlns="` + nsBase + `"`)
	if rpc == nil {
		b.WriteByte('>')
		return
	}
	// Attributes in another namespace need a prefix bound to it: reuse the
	// prefix the client declared.
	prefixOf := map[string]string{}
	for p, uri := range rpc.ns {
		if p != "" {
			prefixOf[uri] = p
		}
	}
	declared := map[string]bool{}
	for _, a := range rpc.attrs {
		name := a.Name.Local
		switch {
		case a.Name.Space == "" && a.Name.Local == "xmlns":
			continue // the reply sets its own default namespace
		case a.Name.Space == "xmlns":
			if declared[a.Name.Local] {
				continue
			}
			declared[a.Name.Local] = true
			name = "xmlns:" + a.Name.Local
		case a.Name.Space != "":
			p, ok := prefixOf[a.Name.Space]
			if !ok {
				continue
			}
			if !declared[p] {
				declared[p] = true
				b.WriteString(` xmlns:` + p + `="`)
				xml.EscapeText(b, []byte(a.Name.Space))
				b.WriteByte('"')
			}
			name = p + ":" + a.Name.Local
		}
		b.WriteString(" " + name + `="`)
		xml.EscapeText(b, []byte(a.Value))
		b.WriteByte('"')
	}
	b.WriteByte('>')
}
