package irrsim

import (
	"fmt"
	"net/mail"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/netrecon/netrecon/lab/labtest"
)

// startLabSim starts the simulator on the ports and mail domains the lab's
// exim relays to, replying through exim.
func startLabSim(t *testing.T, m labtest.MTA) *Sim {
	t.Helper()
	var dbs []DatabaseOptions
	for _, d := range m.Databases {
		dbs = append(dbs, DatabaseOptions{Name: d.Name, MailDomain: d.MailDomain, WhoisAddr: d.Whois, SMTPAddr: d.SMTP, Seed: seed(t, d.Name)})
	}
	return startSim(t, Options{Databases: dbs, Relay: m.Address})
}

// submitVia mails a submission to db through the lab's exim, from the reply
// address, and returns its Message-ID.
func submitVia(m labtest.MTA, db *Database, subject, body string) (string, error) {
	id := fmt.Sprintf("<%d.%s@lab.netrecon.test>", time.Now().UnixNano(), strings.ToLower(db.Name()))
	msg := fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: %s\r\n\r\n%s",
		m.ReplyAddress, db.SubmissionAddress(), subject, id, strings.ReplaceAll(body, "\n", "\r\n"))
	return id, sendMail(m.Address, m.ReplyAddress, []string{db.SubmissionAddress()}, strings.NewReader(msg))
}

// awaitReply polls the lab's Maildir for the reply to the mail with id.
func awaitReply(t *testing.T, m labtest.MTA, id string) (*mail.Message, string) {
	t.Helper()
	var found *mail.Message
	var body string
	waitFor(t, "the reply to "+id+" in "+m.Maildir, 20*time.Second, func() bool {
		paths, err := m.Replies()
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range paths {
			f, err := os.Open(p)
			if err != nil {
				continue
			}
			msg, err := mail.ReadMessage(f)
			if err == nil && msg.Header.Get("In-Reply-To") == id {
				b, _ := textBody(msg)
				found, body = msg, string(b)
			}
			f.Close()
		}
		return found != nil
	})
	return found, body
}

// A submission mailed to exim reaches the simulator, which applies it and
// mails its reply back through exim into the lab's Maildir.
func TestLabSubmissionThroughMTA(t *testing.T) {
	m := labtest.LoadMTA(t)
	s := startLabSim(t, m)
	db := s.DB("JPIRR")
	id, err := submitVia(m, db, "add AS132004", newCustomers+"password: "+bcryptPassword+"\n")
	if err != nil {
		t.Fatalf("exim refused the submission: %v", err)
	}
	msg, body := awaitReply(t, m, id)
	if subj := msg.Header.Get("Subject"); subj != "SUCCESS: add AS132004" {
		t.Errorf("reply subject %q", subj)
	}
	if !strings.Contains(body, "Modify succeeded: [as-set] AS-NETRECON-CUSTOMERS") {
		t.Errorf("reply body:\n%s", body)
	}
	w := dialWhois(t, db.WhoisAddr())
	w.send("!iAS-NETRECON-CUSTOMERS")
	if got := w.answer(); got != "AS-ACME AS132003 AS132004" {
		t.Errorf("whois after the change: %q", got)
	}

	// A wrong password is the registry's refusal, in the reply, not SMTP's.
	id, err = submitVia(m, db, "wrong password", newCustomers+"password: guess\n")
	if err != nil {
		t.Fatal(err)
	}
	msg, body = awaitReply(t, m, id)
	if !strings.HasPrefix(msg.Header.Get("Subject"), "FAILED:") || !strings.Contains(body, "Authorisation for [as-set] AS-NETRECON-CUSTOMERS failed") {
		t.Errorf("reply to a wrong password: %q\n%s", msg.Header.Get("Subject"), body)
	}
}

// exim verifies the recipient with a callout to the simulator while the
// submitter waits, so a database's refusal reaches the submitter at once:
// 451 (try again) or 5xx (give up), instead of a mail queued in exim.
func TestLabRefusalsThroughMTA(t *testing.T) {
	m := labtest.LoadMTA(t)
	s := startLabSim(t, m)
	radb := s.DB("RADB")
	radb.SetFaults(Faults{RefuseTemp: 1})
	body := strings.ReplaceAll(newCustomers, "JPIRR", "RADB") + "password: " + bcryptPassword + "\n"
	_, err := submitVia(m, radb, "first try", body)
	if smtpCode(err) != 451 {
		t.Fatalf("first try through exim: %v, want 451", err)
	}
	t.Logf("exim's answer to a database's 451: %v", err)
	id, err := submitVia(m, radb, "second try", body)
	if err != nil {
		t.Fatalf("second try: %v", err)
	}
	awaitReply(t, m, id)
	if got := members(t, radb); got != "AS-ACME,AS132003,AS132004" {
		t.Errorf("members %s after the accepted try", got)
	}

	ntt := s.DB("NTTCOM")
	ntt.SetFaults(Faults{RefusePerm: true})
	_, err = submitVia(m, ntt, "refused", body)
	if code := smtpCode(err); code < 500 {
		t.Fatalf("through exim to a database refusing for ever: %v, want 5xx", err)
	}
	t.Logf("exim's answer to a database's 554: %v", err)
	if n := len(ntt.Submissions()); n != 0 {
		t.Errorf("%d submissions reached NTTCOM", n)
	}
}
