package irrsim

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/netrecon/netrecon/rpsl"
)

// Submission is one mail a database received, and what became of it.
type Submission struct {
	From      string
	Subject   string
	MessageID string
	Received  time.Time
	// Lost is true when the Lose fault dropped it: no change, no reply.
	Lost bool
	// Error is set when the mail could not be read at all (no object).
	Error   string
	Results []Result
}

// Result is the outcome of one object of a submission.
type Result struct {
	Op     string // "create", "modify" or "delete"
	Class  string
	Key    string
	OK     bool
	Errors []string
}

// Reply is a mail a database sent back to a submitter.
type Reply struct {
	To        string
	Subject   string
	InReplyTo string
	Body      string
	// SendError is set when the relay refused it.
	SendError string
}

// Submissions returns the mails received so far, oldest first.
func (db *Database) Submissions() []Submission {
	db.mu.Lock()
	defer db.mu.Unlock()
	return slices.Clone(db.submissions)
}

// Replies returns the replies sent so far, oldest first.
func (db *Database) Replies() []Reply {
	db.mu.Lock()
	defer db.mu.Unlock()
	return slices.Clone(db.replies)
}

// receive handles one accepted mail: apply its objects and mail the reply.
func (db *Database) receive(envelopeFrom string, raw []byte) {
	db.mu.Lock()
	faults := db.faults
	db.mu.Unlock()

	sub := Submission{From: envelopeFrom, Received: db.store.now()}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		sub.Error = "not a mail message: " + err.Error()
		db.record(sub)
		return
	}
	sub.Subject = msg.Header.Get("Subject")
	sub.MessageID = msg.Header.Get("Message-Id")
	replyTo := envelopeFrom
	for _, h := range []string{"Reply-To", "From"} {
		if a, err := mail.ParseAddress(msg.Header.Get(h)); err == nil {
			replyTo = a.Address
			break
		}
	}
	if faults.Lose {
		sub.Lost = true
		db.record(sub)
		db.log.Info("submission lost (fault)", "from", envelopeFrom, "subject", sub.Subject)
		return
	}
	body, signer, err := db.signedText(msg)
	if err == nil {
		sub.Results, err = db.process(body, signer, faults.ShowAfter)
	}
	if err != nil {
		sub.Error = err.Error()
	}
	db.record(sub)
	if replyTo == "" {
		return
	}
	db.sendReply(replyTo, sub)
}

func (db *Database) record(sub Submission) {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.submissions = append(db.submissions, sub)
}

// signedText returns a mail's text and who signed it ("PGPKEY-XXXXXXXX", or
// empty): a PGP/MIME multipart/signed mail ([RFC 3156] §5), an inline
// clear-signed text ([RFC 4880] §7), or plain text. A signature that does not
// verify is an error: the submission is refused, not treated as unsigned.
//
// [RFC 3156]: https://www.rfc-editor.org/rfc/rfc3156#section-5
// [RFC 4880]: https://www.rfc-editor.org/rfc/rfc4880#section-7
func (db *Database) signedText(msg *mail.Message) ([]byte, string, error) {
	mt, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if mt == "multipart/signed" && strings.EqualFold(params["protocol"], "application/pgp-signature") {
		raw, err := io.ReadAll(io.LimitReader(msg.Body, maxMessage))
		if err != nil {
			return nil, "", err
		}
		signed, sig, err := splitSigned(raw, params["boundary"])
		if err != nil {
			return nil, "", err
		}
		signer, err := db.verifyDetached(canonicalCRLF(signed), sig)
		if err != nil {
			return nil, "", err
		}
		part, err := mail.ReadMessage(bytes.NewReader(signed))
		if err != nil {
			return nil, "", fmt.Errorf("signed part: %v", err)
		}
		text, err := textBody(part)
		return text, signer, err
	}
	body, err := textBody(msg)
	if err != nil {
		return nil, "", err
	}
	return db.verifyClearsigned(body)
}

// splitSigned cuts a multipart/signed body into the signed part, exactly as
// sent (headers included, without the CRLF that belongs to the boundary), and
// the signature part's body.
func splitSigned(body []byte, boundary string) (signed, sig []byte, err error) {
	if boundary == "" {
		return nil, nil, errors.New("multipart/signed without a boundary")
	}
	delim := []byte("--" + boundary)
	parts := bytes.Split(body, delim)
	// parts: preamble, signed part, signature part, "--" epilogue.
	if len(parts) < 4 {
		return nil, nil, errors.New("multipart/signed needs two parts")
	}
	trim := func(p []byte) []byte {
		p = bytes.TrimPrefix(p, []byte("\r\n"))
		p = bytes.TrimPrefix(p, []byte("\n"))
		if bytes.HasSuffix(p, []byte("\r\n")) {
			return p[:len(p)-2]
		}
		return bytes.TrimSuffix(p, []byte("\n"))
	}
	signed = trim(parts[1])
	sigPart, err := mail.ReadMessage(bytes.NewReader(trim(parts[2])))
	if err != nil {
		return nil, nil, fmt.Errorf("signature part: %v", err)
	}
	if sig, err = io.ReadAll(sigPart.Body); err != nil {
		return nil, nil, err
	}
	return signed, sig, nil
}

// canonicalCRLF ends every line with CRLF, the form RFC 3156 signs.
func canonicalCRLF(b []byte) []byte {
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
}

// textBody returns the plain-text body of a mail: a single text/plain part
// (the first one of a multipart mail), its transfer encoding undone.
func textBody(msg *mail.Message) ([]byte, error) {
	return partText(msg.Header, msg.Body)
}

// header is what partText reads of a mail's or a MIME part's header.
type header interface{ Get(string) string }

func partText(h header, body io.Reader) ([]byte, error) {
	ctype := h.Get("Content-Type")
	if ctype == "" {
		ctype = "text/plain"
	}
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		return nil, fmt.Errorf("Content-Type %q: %v", ctype, err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				return nil, fmt.Errorf("no text/plain part in the %s mail", mt)
			}
			pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
			if pt == "" || pt == "text/plain" {
				return partText(p.Header, p)
			}
		}
	}
	if mt != "text/plain" {
		return nil, fmt.Errorf("the mail is %s; send the objects as text/plain", mt)
	}
	switch strings.ToLower(h.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	return io.ReadAll(io.LimitReader(body, maxMessage))
}

// process authenticates and applies the objects of a submission's text
// (RFC 2725's update procedure, as IRRd runs it): "password:" lines and the
// PGP signer are credentials, not objects; an object with a "delete:"
// attribute is deleted; every object is checked and applied on its own.
func (db *Database) process(text []byte, signer string, delay time.Duration) ([]Result, error) {
	creds := credentials{pgpKey: signer}
	var kept []string
	for _, line := range strings.Split(string(text), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimSpace(name), "password") {
			creds.passwords = append(creds.passwords, strings.TrimSpace(strings.TrimSuffix(value, "\r")))
			// Keep the line count, so positions in errors match the mail.
			kept = append(kept, "")
			continue
		}
		kept = append(kept, line)
	}
	objs, err := rpsl.Parse(strings.Join(kept, "\n"))
	if err != nil {
		return nil, fmt.Errorf("the objects do not parse: %v", err)
	}
	if len(objs) == 0 {
		return nil, fmt.Errorf("no object found in the mail")
	}
	return db.applyAll(objs, creds, delay), nil
}

// applyAll applies each object on its own, as IRRd processes as many changes
// of a submission as it can.
func (db *Database) applyAll(objs []*rpsl.Object, creds credentials, delay time.Duration) []Result {
	results := make([]Result, 0, len(objs))
	for _, o := range objs {
		results = append(results, db.apply(o, creds, delay))
	}
	return results
}

// knownClass reports whether the simulator stores objects of class.
func knownClass(class string) bool {
	switch class {
	case "mntner", "key-cert", "aut-num", "as-set", "route-set", "route", "route6":
		return true
	}
	return false
}

// apply checks, authenticates and stores one submitted object.
func (db *Database) apply(o *rpsl.Object, c credentials, delay time.Duration) Result {
	_, del := o.Get("delete")
	o.Set("delete")
	r := Result{Op: "create", Class: o.Class(), Key: o.Key()}
	existing, exists := db.store.get(o.Class(), o.RouteKey())
	switch {
	case del:
		r.Op = "delete"
	case exists:
		r.Op = "modify"
	}
	fail := func(format string, args ...any) Result {
		r.Errors = append(r.Errors, fmt.Sprintf(format, args...))
		return r
	}
	if !knownClass(o.Class()) {
		return fail("Unknown object class: %s", o.Class())
	}
	if del && !exists {
		return fail("Can not delete object: [%s] %s does not exist", o.Class(), o.Key())
	}
	if src, _ := o.Get("source"); !strings.EqualFold(src, db.name) {
		return fail("Invalid source %q: this database is %s", src, db.name)
	}
	if !del {
		r.Errors = append(r.Errors, checkObject(o)...)
		if len(r.Errors) > 0 {
			return r
		}
	}
	if !del {
		for _, m := range o.List("mnt-by") {
			if _, found := db.store.get("mntner", m); !found && !(o.Class() == "mntner" && strings.EqualFold(m, o.Key())) {
				return fail("Object %s referenced in field mnt-by not found in database %s", m, db.name)
			}
		}
	}
	// Who must agree (IRRd's rule): for a new object, one of its
	// maintainers; for a change, one of the current object's and one of the
	// new version's; for a delete, one of the current object's. A new mntner
	// is authorised by its own auth: lines.
	var groups [][]string
	switch {
	case del:
		groups = [][]string{existing.List("mnt-by")}
	case exists:
		groups = [][]string{existing.List("mnt-by"), o.List("mnt-by")}
	default:
		groups = [][]string{o.List("mnt-by")}
	}
	for _, mnts := range groups {
		if !db.authorised(mnts, o, c) {
			return fail("Authorisation for [%s] %s failed: must be authenticated by one of: %s", o.Class(), o.Key(), strings.Join(mnts, ", "))
		}
	}
	db.store.change(o, del, delay)
	r.OK = true
	db.log.Info("submission applied", "op", r.Op, "class", r.Class, "key", r.Key, "visible_after", delay)
	return r
}

// checkObject is the syntax a registry checks before anything else: the
// mandatory attributes and the shape of names, members and prefixes.
func checkObject(o *rpsl.Object) []string {
	var errs []string
	if len(o.List("mnt-by")) == 0 {
		errs = append(errs, "Mandatory attribute \"mnt-by\" on object "+o.Class()+" is missing")
	}
	switch o.Class() {
	case "as-set", "route-set":
		if err := rpsl.ValidSetName(o.Class(), o.Key()); err != nil {
			errs = append(errs, err.Error())
		}
		for _, m := range o.List("members") {
			if o.Class() == "as-set" {
				if _, err := rpsl.ParseASN(m); err != nil && rpsl.ValidSetName("as-set", m) != nil {
					errs = append(errs, fmt.Sprintf("Invalid member %q: neither an AS number nor an as-set name", m))
				}
			}
		}
	case "aut-num":
		if _, err := rpsl.ParseASN(o.Key()); err != nil {
			errs = append(errs, err.Error())
		}
	case "route", "route6":
		p, err := netip.ParsePrefix(o.Key())
		switch {
		case err != nil:
			errs = append(errs, fmt.Sprintf("Invalid prefix %q: %v", o.Key(), err))
		case p.Masked() != p:
			errs = append(errs, fmt.Sprintf("Invalid prefix %q: host bits set", o.Key()))
		case (o.Class() == "route") != p.Addr().Is4():
			errs = append(errs, fmt.Sprintf("Invalid prefix %q for a %s object", o.Key(), o.Class()))
		}
		origin, _ := o.Get("origin")
		if _, err := rpsl.ParseASN(origin); err != nil {
			errs = append(errs, "origin: "+err.Error())
		}
	}
	return errs
}

// authorised reports whether the credentials pass one of the maintainers
// mnts; a maintainer that does not exist yet is the submitted object itself
// when that is a new mntner.
func (db *Database) authorised(mnts []string, o *rpsl.Object, c credentials) bool {
	for _, m := range mnts {
		mnt, found := db.store.get("mntner", m)
		if !found && o.Class() == "mntner" && strings.EqualFold(m, o.Key()) {
			mnt, found = o, true
		}
		if found && authenticates(mnt, c) {
			return true
		}
	}
	return false
}
