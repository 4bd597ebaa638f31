package netconf

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/reconcile"
)

// Datastore names (RFC 6241 5.1).
const (
	Running   = reconcile.Running
	Candidate = reconcile.Candidate
	Startup   = "startup"
)

// datastore is <running/>, <candidate/> or <startup/> inside <source> or <target>.
type datastore string

func (d datastore) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	if err := e.EncodeElement(struct{}{}, xml.StartElement{Name: xml.Name{Local: string(d)}}); err != nil {
		return err
	}
	return e.EncodeToken(start.End())
}

func checkDatastore(dev, op, name string) (datastore, error) {
	switch name {
	case Running, Candidate, Startup:
		return datastore(name), nil
	}
	return "", fmt.Errorf("%s: %s: unknown datastore %q (want running, candidate or startup)", dev, op, name)
}

// rawXML is trusted XML written verbatim: a payload from configtree, which
// escapes what it writes.
type rawXML struct {
	Inner string `xml:",innerxml"`
}

type withDefaults struct {
	Mode string `xml:",chardata"`
}

type subtreeFilter struct {
	Type  string `xml:"type,attr"`
	Inner string `xml:",innerxml"`
}

// GetConfig reads source ("running", "candidate") restricted to filter, a
// subtree filter (RFC 6241 6) as a tree, such as configtree.Filter(desired);
// nil returns the whole datastore. The reply is parsed with the session's
// Keys (WithKeys). Reading only managed subtrees keeps replies
// small and avoids config netrecon does not own.
//
// [RFC6241 7.1]: https://www.rfc-editor.org/rfc/rfc6241#section-7.1
func (s *Session) GetConfig(ctx context.Context, source string, filter *configtree.Tree) (*configtree.Tree, error) {
	t, _, err := s.GetConfigDigest(ctx, source, filter, reconcile.Digest{})
	return t, err
}

// GetConfigDigest is GetConfig that also names the reply by its digest
// (reconcile.DigestReader, replyDigest): two replies that differ only in
// message-id have the same digest, and any byte of the data, or a namespace
// declaration in scope, makes another. A reply whose digest is known is not
// parsed (nil tree).
func (s *Session) GetConfigDigest(ctx context.Context, source string, filter *configtree.Tree, known reconcile.Digest) (*configtree.Tree, reconcile.Digest, error) {
	const op = "get-config"
	ds, err := checkDatastore(s.device, op, source)
	if err != nil {
		return nil, reconcile.Digest{}, err
	}
	req := struct {
		XMLName      xml.Name       `xml:"urn:ietf:params:xml:ns:netconf:base:1.0 get-config"`
		Source       datastore      `xml:"source"`
		Filter       *subtreeFilter `xml:"filter,omitempty"`
		WithDefaults *withDefaults  `xml:"urn:ietf:params:xml:ns:yang:ietf-netconf-with-defaults with-defaults,omitempty"`
	}{Source: ds}
	if m := s.cfg.defaults; m != "" {
		if s.caps.WithDefaults != m && !slices.Contains(s.caps.WithDefaultsAlso, m) {
			return nil, reconcile.Digest{}, fmt.Errorf("%s: %s: with-defaults mode %q not supported (basic mode %q, also %v)", s.device, op, m, s.caps.WithDefaults, s.caps.WithDefaultsAlso)
		}
		req.WithDefaults = &withDefaults{Mode: m}
	}
	if filter != nil {
		f, err := filterXML(filter)
		if err != nil {
			return nil, reconcile.Digest{}, fmt.Errorf("%s: %s: filter: %w", s.device, op, err)
		}
		req.Filter = &subtreeFilter{Type: "subtree", Inner: f}
	}
	raw, err := s.rpc(ctx, op, &req)
	if err != nil {
		return nil, reconcile.Digest{}, err
	}
	sum, ok := replyDigest(raw)
	if ok && sum == known && known != (reconcile.Digest{}) {
		return nil, sum, nil
	}
	data, err := replyData(raw)
	if err != nil {
		return nil, reconcile.Digest{}, fmt.Errorf("%s: %s: %w", s.device, op, err)
	}
	t, err := s.parseReplyData(op, data)
	if err != nil {
		return nil, reconcile.Digest{}, err
	}
	return t, sum, nil
}

// parseReplyData parses the <data> element that replyData cut out.
func (s *Session) parseReplyData(op string, data []byte) (*configtree.Tree, error) {
	t, err := configtree.ParseData(bytes.NewReader(data), s.device+" "+op+" reply", s.cfg.keys)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: reply: %w", s.device, op, err)
	}
	return t, nil
}

// Lock locks target for this session (RFC 6241 7.5). A lock held by another
// session is a *reconcile.LockHeldError naming the holder.
//
// [RFC6241 7.5]: https://www.rfc-editor.org/rfc/rfc6241#section-7.5
func (s *Session) Lock(ctx context.Context, target string) error {
	return s.lockOp(ctx, "lock", target)
}

// Unlock releases a lock taken by Lock (RFC 6241 7.6).
func (s *Session) Unlock(ctx context.Context, target string) error {
	return s.lockOp(ctx, "unlock", target)
}

func (s *Session) lockOp(ctx context.Context, op, target string) error {
	ds, err := checkDatastore(s.device, op, target)
	if err != nil {
		return err
	}
	req := struct {
		XMLName xml.Name
		Target  datastore `xml:"target"`
	}{XMLName: xml.Name{Space: baseNS, Local: op}, Target: ds}
	raw, err := s.rpc(ctx, op, &req)
	if err != nil && op == "lock" {
		var re *RPCError
		if errors.As(err, &re) && re.Tag == "lock-denied" {
			return &reconcile.LockHeldError{Device: s.device, Target: target, HeldBy: holder(raw)}
		}
	}
	return err
}

// holder reads <error-info><session-id> of a lock-denied reply (RFC 6241
// Appendix A: "session-id of the session holding the lock").
func holder(raw []byte) string {
	var reply struct {
		Errors []rpcErrorXML `xml:"rpc-error"`
	}
	if xml.Unmarshal(raw, &reply) != nil {
		return ""
	}
	for _, e := range reply.Errors {
		if id := strings.TrimSpace(e.Info.SessionID); id != "" {
			return id
		}
	}
	return ""
}

// EditConfig applies changes to target (RFC 6241 7.2). Each change carries its
// own operation (merge or remove, see configtree.EditConfig); when the device
// supports :rollback-on-error, an error undoes the whole edit instead of leaving
// part of it.
//
// [RFC6241 7.2]: https://www.rfc-editor.org/rfc/rfc6241#section-7.2
func (s *Session) EditConfig(ctx context.Context, target string, changes []configtree.Change) error {
	const op = "edit-config"
	if len(changes) == 0 {
		return nil
	}
	payload, err := configtree.EditConfig(changes)
	if err != nil {
		return fmt.Errorf("%s: %s: %w", s.device, op, err)
	}
	return s.editConfigXML(ctx, target, payload)
}

// editConfigXML sends payload, the content of <config>, as it is.
func (s *Session) editConfigXML(ctx context.Context, target, payload string) error {
	const op = "edit-config"
	ds, err := checkDatastore(s.device, op, target)
	if err != nil {
		return err
	}
	req := struct {
		XMLName     xml.Name  `xml:"urn:ietf:params:xml:ns:netconf:base:1.0 edit-config"`
		Target      datastore `xml:"target"`
		ErrorOption string    `xml:"error-option,omitempty"`
		Config      rawXML    `xml:"config"`
	}{Target: ds, Config: rawXML{Inner: payload}}
	if s.caps.RollbackOnError {
		req.ErrorOption = "rollback-on-error"
	}
	_, err = s.rpc(ctx, op, &req)
	return err
}

// Discard throws away uncommitted changes in the candidate (RFC 6241 8.3.4.2).
func (s *Session) Discard(ctx context.Context) error {
	req := struct {
		XMLName xml.Name `xml:"urn:ietf:params:xml:ns:netconf:base:1.0 discard-changes"`
	}{}
	_, err := s.rpc(ctx, "discard-changes", &req)
	return err
}

// Validate asks the device to check source (RFC 6241 8.6).
//
// Quirk: on yuma123 netconfd 2.13 a <commit> after <validate> answers <ok/> but
// leaves running unchanged; re-read running after commit to catch it.
func (s *Session) Validate(ctx context.Context, source string) error {
	const op = "validate"
	ds, err := checkDatastore(s.device, op, source)
	if err != nil {
		return err
	}
	req := struct {
		XMLName xml.Name  `xml:"urn:ietf:params:xml:ns:netconf:base:1.0 validate"`
		Source  datastore `xml:"source"`
	}{Source: ds}
	_, err = s.rpc(ctx, op, &req)
	return err
}

func checkCommit(o reconcile.CommitOptions) error {
	switch {
	case o.Timeout < 0:
		return fmt.Errorf("negative confirm timeout %s", o.Timeout)
	case o.Timeout > 0 && !o.Confirmed:
		return errors.New("a confirm timeout needs Confirmed")
	case o.Persist != "" && !o.Confirmed:
		return errors.New("persist needs Confirmed")
	}
	return nil
}

// Commit commits the candidate to running (RFC 6241 8.3.4.1), or starts,
// extends or confirms a confirmed commit (RFC 6241 8.4.5.1).
//
// [RFC6241 8.4.5.1]: https://www.rfc-editor.org/rfc/rfc6241#section-8.4.5.1
func (s *Session) Commit(ctx context.Context, o reconcile.CommitOptions) error {
	const op = "commit"
	if err := checkCommit(o); err != nil {
		return fmt.Errorf("%s: %s: %w", s.device, op, err)
	}
	type empty struct{}
	req := struct {
		XMLName   xml.Name `xml:"urn:ietf:params:xml:ns:netconf:base:1.0 commit"`
		Confirmed *empty   `xml:"confirmed"`
		Timeout   int64    `xml:"confirm-timeout,omitempty"`
		Persist   string   `xml:"persist,omitempty"`
		PersistID string   `xml:"persist-id,omitempty"`
	}{Persist: o.Persist, PersistID: o.PersistID}
	if o.Confirmed {
		req.Confirmed = &empty{}
		if o.Timeout > 0 {
			req.Timeout = int64((o.Timeout + time.Second - 1) / time.Second)
		}
	}
	_, err := s.rpc(ctx, op, &req)
	if o.PersistID != "" && !o.Confirmed {
		return settling(err, op)
	}
	return err
}

// settling marks the rpc-error of a confirming commit or a cancel-commit that
// says no confirmed commit is pending under the persist id. RFC 6241 8.4 names
// no tag: netsim answers invalid-value; yuma123 netconfd operation-failed, at
// the persist-id for a commit ("persistent confirmed commit not active") and
// without a path for a cancel-commit. A commit refused for another reason
// (operation-failed elsewhere) is not this.
func settling(err error, op string) error {
	var re *RPCError
	if errors.As(err, &re) && (re.Tag == "invalid-value" ||
		re.Tag == "operation-failed" && (op == "cancel-commit" || strings.HasSuffix(re.Path, "persist-id"))) {
		re.noPending = true
	}
	return err
}

// CancelCommit reverts a pending confirmed commit (RFC 6241 8.4.5.2). persistID
// is "" for a confirmed commit of this session, or its Persist value.
func (s *Session) CancelCommit(ctx context.Context, persistID string) error {
	req := struct {
		XMLName   xml.Name `xml:"urn:ietf:params:xml:ns:netconf:base:1.0 cancel-commit"`
		PersistID string   `xml:"persist-id,omitempty"`
	}{PersistID: persistID}
	_, err := s.rpc(ctx, "cancel-commit", &req)
	return settling(err, "cancel-commit")
}

// monitoringNS is ietf-netconf-monitoring (RFC 6022).
const monitoringNS = "urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring"

// Sessions lists the device's NETCONF sessions from
// /netconf-state/sessions (RFC 6022), the way to see who else is connected,
// such as an operator holding a lock.
//
// [RFC6022 2.1.4]: https://www.rfc-editor.org/rfc/rfc6022#section-2.1.4
func (s *Session) Sessions(ctx context.Context) ([]reconcile.MonitoringSession, error) {
	const op = "get netconf-state/sessions"
	type sessionsFilter struct {
		XMLName  xml.Name `xml:"urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring netconf-state"`
		Sessions struct{} `xml:"sessions"`
	}
	req := struct {
		XMLName xml.Name `xml:"urn:ietf:params:xml:ns:netconf:base:1.0 get"`
		Filter  struct {
			Type string         `xml:"type,attr"`
			F    sessionsFilter `xml:"urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring netconf-state"`
		} `xml:"filter"`
	}{}
	req.Filter.Type = "subtree"
	raw, err := s.rpc(ctx, op, &req)
	if err != nil {
		return nil, err
	}
	var reply struct {
		Sessions []struct {
			ID         string `xml:"session-id"`
			Transport  string `xml:"transport"`
			Username   string `xml:"username"`
			SourceHost string `xml:"source-host"`
			LoginTime  string `xml:"login-time"`
		} `xml:"data>netconf-state>sessions>session"`
	}
	if err := xml.Unmarshal(raw, &reply); err != nil {
		return nil, fmt.Errorf("%s: %s: reply: %w", s.device, op, err)
	}
	out := make([]reconcile.MonitoringSession, 0, len(reply.Sessions))
	for _, m := range reply.Sessions {
		ms := reconcile.MonitoringSession{
			ID:         strings.TrimSpace(m.ID),
			Username:   strings.TrimSpace(m.Username),
			SourceHost: strings.TrimSpace(m.SourceHost),
		}
		t := strings.TrimSpace(m.Transport)
		if _, local, ok := strings.Cut(t, ":"); ok {
			t = local
		}
		ms.Transport = t
		if lt, err := time.Parse(time.RFC3339, strings.TrimSpace(m.LoginTime)); err == nil {
			ms.LoginTime = lt
		}
		out = append(out, ms)
	}
	return out, nil
}

// filterXML writes a filter tree (see configtree.Filter) as the content of a
// subtree <filter>.
func filterXML(t *configtree.Tree) (string, error) {
	f := configtree.FilterXML(t)
	if strings.HasPrefix(f, "<!--") {
		// FilterXML reports a tree it cannot write as a comment.
		return "", fmt.Errorf("cannot write filter: %s", strings.TrimSuffix(strings.TrimPrefix(f, "<!-- "), " -->"))
	}
	return f, nil
}
