package irrsim

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
)

// sendReply mails the outcome of a submission to its sender, in the form of
// IRRd's acknowledgement ("SUCCESS:"/"FAILED:" before the subject, a summary
// then one section per object), through the Sim's relay.
func (db *Database) sendReply(to string, sub Submission) {
	failed := sub.Error != ""
	for _, r := range sub.Results {
		failed = failed || !r.OK
	}
	subject := "SUCCESS: " + sub.Subject
	if failed {
		subject = "FAILED: " + sub.Subject
	}
	rep := Reply{To: to, Subject: subject, InReplyTo: sub.MessageID, Body: replyBody(db.name, sub)}
	from := db.SubmissionAddress()
	var msg bytes.Buffer
	fmt.Fprintf(&msg, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%d.%s>\r\n",
		from, to, subject, time.Now().UTC().Format(time.RFC1123Z), time.Now().UnixNano(), from)
	if sub.MessageID != "" {
		fmt.Fprintf(&msg, "In-Reply-To: %s\r\nReferences: %s\r\n", sub.MessageID, sub.MessageID)
	}
	msg.WriteString("Content-Type: text/plain; charset=utf-8\r\n\r\n")
	msg.WriteString(strings.ReplaceAll(rep.Body, "\n", "\r\n"))
	if db.sim.relay != "" {
		if err := sendMail(db.sim.relay, from, []string{to}, &msg); err != nil {
			rep.SendError = err.Error()
			db.log.Warn("reply not sent", "to", to, "relay", db.sim.relay, "err", err)
		}
	}
	db.mu.Lock()
	db.replies = append(db.replies, rep)
	db.mu.Unlock()
}

const rule = "~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~"

func replyBody(dbName string, sub Submission) string {
	var b strings.Builder
	fmt.Fprintf(&b, "> From:       %s\n> Subject:    %s\n> Message-ID: %s\n\n", sub.From, sub.Subject, sub.MessageID)
	if sub.Error != "" {
		fmt.Fprintf(&b, "%s could not process your submission.\n\nERROR: %s\n", dbName, sub.Error)
		return b.String()
	}
	count := func(ok bool, op string) int {
		n := 0
		for _, r := range sub.Results {
			if r.OK == ok && (op == "" || r.Op == op) {
				n++
			}
		}
		return n
	}
	b.WriteString("SUMMARY OF UPDATE:\n\n")
	fmt.Fprintf(&b, "Number of objects found:                  %3d\n", len(sub.Results))
	for _, ok := range []bool{true, false} {
		label := "Number of objects processed successfully:"
		if !ok {
			label = "Number of objects processed with errors: "
		}
		fmt.Fprintf(&b, "%s %3d\n", label, count(ok, ""))
		for _, op := range []string{"create", "modify", "delete"} {
			fmt.Fprintf(&b, "  %-8s %3d\n", strings.ToUpper(op[:1])+op[1:]+":", count(ok, op))
		}
	}
	b.WriteString("\nDETAILED EXPLANATION:\n\n" + rule + "\n")
	for _, r := range sub.Results {
		op := strings.ToUpper(r.Op[:1]) + r.Op[1:]
		if r.OK {
			fmt.Fprintf(&b, "---\n%s succeeded: [%s] %s\n\n", op, r.Class, r.Key)
			continue
		}
		fmt.Fprintf(&b, "---\n%s FAILED: [%s] %s\n\n", op, r.Class, r.Key)
		for _, e := range r.Errors {
			fmt.Fprintf(&b, "ERROR: %s\n", e)
		}
		b.WriteString("\n")
	}
	b.WriteString(rule + "\n")
	return b.String()
}

// sendMail delivers one message over plain SMTP on a loopback hop: go-smtp's
// SendMail insists on STARTTLS, which the lab's MTA does not offer.
func sendMail(addr, from string, to []string, msg io.Reader) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("irrsim.localhost"); err != nil {
		return err
	}
	if err := c.Mail(from, nil); err != nil {
		return err
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt, nil); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}
