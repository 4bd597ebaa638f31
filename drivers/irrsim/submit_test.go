package irrsim

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/emersion/go-smtp"
)

const (
	submitter = "noc@netrecon.test"
	// The passwords whose hashes the seed's mntners hold.
	bcryptPassword = "netrecon-secret"
	md5Password    = "md5-secret"
)

// newCustomers is the provider as-set with one customer more.
const newCustomers = `as-set:         AS-NETRECON-CUSTOMERS
descr:          Customers of AS64500
members:        AS-ACME, AS132003, AS132004
mnt-by:         MAINT-NETRECON
source:         JPIRR
`

// mailTo sends a submission to a database's SMTP server, as an MTA would.
func mailTo(db *Database, subject, body string) error {
	msg := fmt.Sprintf("From: NOC <%s>\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s@netrecon.test>\r\n\r\n%s",
		submitter, db.SubmissionAddress(), subject, strings.ReplaceAll(subject, " ", "-"), strings.ReplaceAll(body, "\n", "\r\n"))
	return sendMail(db.SMTPAddr(), submitter, []string{db.SubmissionAddress()}, strings.NewReader(msg))
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func members(t *testing.T, db *Database) string {
	t.Helper()
	o, ok := db.Object("as-set", "AS-NETRECON-CUSTOMERS")
	if !ok {
		t.Fatal("AS-NETRECON-CUSTOMERS is gone")
	}
	return strings.Join(o.List("members"), ",")
}

func lastReply(t *testing.T, db *Database, n int) Reply {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d replies from %s", n, db.Name()), 5*time.Second, func() bool { return len(db.Replies()) >= n })
	return db.Replies()[n-1]
}

func TestSubmitWithPassword(t *testing.T) {
	s := startSim(t, Options{})
	db := s.DB("JPIRR")
	for i, tc := range []struct {
		name, body string
		ok         bool
		members    string
		errText    string
	}{
		{"wrong password", newCustomers + "password: guess\n", false, "AS-ACME,AS132003", "Authorisation for [as-set] AS-NETRECON-CUSTOMERS failed: must be authenticated by one of: MAINT-NETRECON"},
		{"no password", newCustomers, false, "AS-ACME,AS132003", "Authorisation for [as-set]"},
		{"bcrypt", "password: " + bcryptPassword + "\n\n" + newCustomers, true, "AS-ACME,AS132003,AS132004", "Modify succeeded: [as-set] AS-NETRECON-CUSTOMERS"},
		{"md5", strings.Replace(newCustomers, ", AS132004", "", 1) + "password: " + md5Password + "\n", true, "AS-ACME,AS132003", "Modify succeeded"},
		{"wrong source", strings.Replace(newCustomers, "source:         JPIRR", "source: RADB", 1) + "password: " + bcryptPassword + "\n", false, "AS-ACME,AS132003", "Invalid source \"RADB\""},
		{"bad member", strings.Replace(newCustomers, "AS132004", "ACME", 1) + "password: " + bcryptPassword + "\n", false, "AS-ACME,AS132003", "Invalid member \"ACME\""},
		{"not RPSL", "hello\n", false, "AS-ACME,AS132003", "the objects do not parse: 1:1:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := mailTo(db, "update "+tc.name, tc.body); err != nil {
				t.Fatal(err)
			}
			rep := lastReply(t, db, i+1)
			if rep.To != submitter || rep.InReplyTo == "" {
				t.Errorf("reply to %q in reply to %q", rep.To, rep.InReplyTo)
			}
			wantSubject := "FAILED: update " + tc.name
			if tc.ok {
				wantSubject = "SUCCESS: update " + tc.name
			}
			if rep.Subject != wantSubject {
				t.Errorf("subject %q, want %q", rep.Subject, wantSubject)
			}
			if !strings.Contains(rep.Body, tc.errText) {
				t.Errorf("reply does not say %q:\n%s", tc.errText, rep.Body)
			}
			if strings.Contains(rep.Body, bcryptPassword) || strings.Contains(rep.Body, md5Password) {
				t.Errorf("the reply quotes the password:\n%s", rep.Body)
			}
			if got := members(t, db); got != tc.members {
				t.Errorf("members %s, want %s", got, tc.members)
			}
		})
	}
}

func TestSubmitCreateAndDelete(t *testing.T) {
	s := startSim(t, Options{})
	db := s.DB("RADB")
	route := "route: 203.0.113.0/25\norigin: AS132003\nmnt-by: MAINT-NETRECON\nsource: RADB\n"
	if err := mailTo(db, "create", route+"password: "+bcryptPassword+"\n"); err != nil {
		t.Fatal(err)
	}
	if rep := lastReply(t, db, 1); !strings.Contains(rep.Body, "Create succeeded: [route] 203.0.113.0/25") {
		t.Fatalf("create:\n%s", rep.Body)
	}
	if _, ok := db.Object("route", "203.0.113.0/25AS132003"); !ok {
		t.Fatal("created route not there")
	}
	if err := mailTo(db, "delete", route+"delete: no longer used\npassword: "+bcryptPassword+"\n"); err != nil {
		t.Fatal(err)
	}
	if rep := lastReply(t, db, 2); !strings.Contains(rep.Body, "Delete succeeded: [route] 203.0.113.0/25") {
		t.Fatalf("delete:\n%s", rep.Body)
	}
	if _, ok := db.Object("route", "203.0.113.0/25AS132003"); ok {
		t.Fatal("deleted route still there")
	}
	// A new mntner is authorised by its own auth: lines.
	newMntner := "mntner: MAINT-NEW\nauth: MD5-PW $1$nrsalt01$y2VT2J/nxAkaIoYqQhUkV1\nmnt-by: MAINT-NEW\nsource: RADB\n"
	if err := mailTo(db, "new mntner, wrong password", newMntner+"password: x\n"); err != nil {
		t.Fatal(err)
	}
	if rep := lastReply(t, db, 3); !strings.Contains(rep.Body, "Authorisation for [mntner] MAINT-NEW failed") {
		t.Fatalf("new mntner, wrong password:\n%s", rep.Body)
	}
	if err := mailTo(db, "new mntner", newMntner+"password: "+md5Password+"\n"); err != nil {
		t.Fatal(err)
	}
	if rep := lastReply(t, db, 4); !strings.Contains(rep.Body, "Create succeeded: [mntner] MAINT-NEW") {
		t.Fatalf("new mntner:\n%s", rep.Body)
	}
	// Handing an object to another maintainer needs both: the current
	// maintainer's password alone is not enough.
	handOver := "as-set: AS-ACME\nmembers: AS132001\nmnt-by: MAINT-NEW\nsource: RADB\n"
	if err := mailTo(db, "hand over", handOver+"password: "+bcryptPassword+"\n"); err != nil {
		t.Fatal(err)
	}
	if rep := lastReply(t, db, 5); !strings.Contains(rep.Body, "Authorisation for [as-set] AS-ACME failed: must be authenticated by one of: MAINT-NEW") {
		t.Fatalf("hand over with one password:\n%s", rep.Body)
	}
	if err := mailTo(db, "hand over", handOver+"password: "+bcryptPassword+"\npassword: "+md5Password+"\n"); err != nil {
		t.Fatal(err)
	}
	if rep := lastReply(t, db, 6); !strings.Contains(rep.Body, "Modify succeeded: [as-set] AS-ACME") {
		t.Fatalf("hand over with both passwords:\n%s", rep.Body)
	}
}

// pgpMaintainer adds a key-cert and a mntner authenticated by it, and an
// as-set that mntner maintains; it returns the signing key.
func pgpMaintainer(t *testing.T, db *Database) *openpgp.Entity {
	t.Helper()
	key := newKey(t, "netrecon NOC", "noc@netrecon.test")
	id := fmt.Sprintf("PGPKEY-%08X", uint32(key.PrimaryKey.KeyId))
	var pub bytes.Buffer
	w, err := armor.Encode(&pub, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := key.Serialize(w); err != nil {
		t.Fatal(err)
	}
	w.Close()
	kc := mustParse(t, "key-cert: "+id+"\nmnt-by: MAINT-PGP\nsource: "+db.Name()+"\n")
	kc.Set("certif", strings.TrimSpace(pub.String()))
	db.Put(kc)
	db.Put(mustParse(t, "mntner: MAINT-PGP\nauth: "+id+"\nmnt-by: MAINT-PGP\nsource: "+db.Name()+"\n"))
	db.Put(mustParse(t, "as-set: AS-PGP\nmembers: AS132001\nmnt-by: MAINT-PGP\nsource: "+db.Name()+"\n"))
	return key
}

func newKey(t *testing.T, name, email string) *openpgp.Entity {
	t.Helper()
	e, err := openpgp.NewEntity(name, "", email, nil)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func clearsigned(t *testing.T, key *openpgp.Entity, text string) string {
	t.Helper()
	var b bytes.Buffer
	w, err := clearsign.Encode(&b, key.PrivateKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte(text)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestSubmitPGPSigned(t *testing.T) {
	s := startSim(t, Options{})
	db := s.DB("JPIRR")
	key := pgpMaintainer(t, db)
	update := "as-set: AS-PGP\nmembers: AS132001, AS132002\nmnt-by: MAINT-PGP\nsource: JPIRR\n"

	if err := mailTo(db, "signed", clearsigned(t, key, update)); err != nil {
		t.Fatal(err)
	}
	if rep := lastReply(t, db, 1); !strings.HasPrefix(rep.Subject, "SUCCESS") {
		t.Fatalf("signed by the key-cert's key:\n%s", rep.Body)
	}
	if o, _ := db.Object("as-set", "AS-PGP"); strings.Join(o.List("members"), ",") != "AS132001,AS132002" {
		t.Fatalf("members %v", o.List("members"))
	}

	other := newKey(t, "someone else", "x@example.test")
	if err := mailTo(db, "other key", clearsigned(t, other, strings.Replace(update, ", AS132002", "", 1))); err != nil {
		t.Fatal(err)
	}
	if rep := lastReply(t, db, 2); !strings.Contains(rep.Body, "PGP signature not valid") {
		t.Errorf("signed by an unknown key:\n%s", rep.Body)
	}
	tampered := strings.Replace(clearsigned(t, key, update), "AS132002", "AS132009", 1)
	if err := mailTo(db, "tampered", tampered); err != nil {
		t.Fatal(err)
	}
	if rep := lastReply(t, db, 3); !strings.Contains(rep.Body, "PGP signature not valid") {
		t.Errorf("tampered text not refused for its signature:\n%s", rep.Body)
	}
	if o, _ := db.Object("as-set", "AS-PGP"); strings.Join(o.List("members"), ",") != "AS132001,AS132002" {
		t.Fatalf("members changed by a bad signature: %v", o.List("members"))
	}
	// A signature by the right key does not stand in for a password
	// maintainer's, nor the other way round.
	if err := mailTo(db, "pgp for password mntner", clearsigned(t, key, newCustomers)); err != nil {
		t.Fatal(err)
	}
	if rep := lastReply(t, db, 4); !strings.Contains(rep.Body, "Authorisation for [as-set] AS-NETRECON-CUSTOMERS failed") {
		t.Errorf("PGP key accepted for MAINT-NETRECON:\n%s", rep.Body)
	}
}

func smtpCode(err error) int {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

func TestFaultRefuseTemporarily(t *testing.T) {
	s := startSim(t, Options{})
	db := s.DB("JPIRR")
	db.SetFaults(Faults{RefuseTemp: 2})
	body := newCustomers + "password: " + bcryptPassword + "\n"
	for i := 0; i < 2; i++ {
		if err := mailTo(db, "try", body); smtpCode(err) != 451 {
			t.Fatalf("try %d: %v, want 451", i+1, err)
		}
	}
	if err := mailTo(db, "try", body); err != nil {
		t.Fatalf("third try: %v", err)
	}
	lastReply(t, db, 1)
	if got := members(t, db); got != "AS-ACME,AS132003,AS132004" {
		t.Errorf("members %s after the accepted try", got)
	}
}

func TestFaultRefusePermanently(t *testing.T) {
	s := startSim(t, Options{Databases: []DatabaseOptions{{Name: "NTTCOM", Seed: seed(t, "NTTCOM"), Faults: Faults{RefusePerm: true}}}})
	db := s.DB("NTTCOM")
	for i := 0; i < 3; i++ {
		if err := mailTo(db, "try", newCustomers); smtpCode(err) != 554 {
			t.Fatalf("try %d: %v, want 554", i+1, err)
		}
	}
	if n := len(db.Submissions()); n != 0 {
		t.Errorf("%d submissions recorded, want none", n)
	}
}

func TestFaultShowAfter(t *testing.T) {
	s := startSim(t, Options{})
	db := s.DB("JPIRR")
	const delay = 300 * time.Millisecond
	db.SetFaults(Faults{ShowAfter: delay})
	sent := time.Now()
	if err := mailTo(db, "slow", newCustomers+"password: "+bcryptPassword+"\n"); err != nil {
		t.Fatal(err)
	}
	if rep := lastReply(t, db, 1); !strings.HasPrefix(rep.Subject, "SUCCESS") {
		t.Fatalf("reply:\n%s", rep.Body)
	}
	w := dialWhois(t, db.WhoisAddr())
	w.send("!!")
	w.send("!iAS-NETRECON-CUSTOMERS")
	if got := w.answer(); got != "AS-ACME AS132003" && time.Since(sent) < delay {
		t.Fatalf("whois shows %q before the delay", got)
	}
	waitFor(t, "the change to show", 5*time.Second, func() bool {
		w.send("!iAS-NETRECON-CUSTOMERS")
		return w.answer() == "AS-ACME AS132003 AS132004"
	})
	if time.Since(sent) < delay {
		t.Errorf("change shown after %v, before the %v delay", time.Since(sent), delay)
	}
}

func TestFaultLose(t *testing.T) {
	s := startSim(t, Options{})
	db := s.DB("RADB")
	db.SetFaults(Faults{Lose: true})
	body := strings.ReplaceAll(newCustomers, "JPIRR", "RADB") + "password: " + bcryptPassword + "\n"
	if err := mailTo(db, "lost", body); err != nil {
		t.Fatalf("a lost submission is still accepted: %v", err)
	}
	waitFor(t, "the submission to be recorded", 5*time.Second, func() bool { return len(db.Submissions()) == 1 })
	if sub := db.Submissions()[0]; !sub.Lost || len(sub.Results) != 0 {
		t.Errorf("submission %+v, want lost", sub)
	}
	if n := len(db.Replies()); n != 0 {
		t.Errorf("%d replies to a lost submission", n)
	}
	if got := members(t, db); got != "AS-ACME,AS132003" {
		t.Errorf("lost submission applied: %s", got)
	}
	db.SetFaults(Faults{})
	if err := mailTo(db, "again", body); err != nil {
		t.Fatal(err)
	}
	lastReply(t, db, 1)
	if got := members(t, db); got != "AS-ACME,AS132003,AS132004" {
		t.Errorf("resent submission not applied: %s", got)
	}
}

// pgpMIME builds a PGP/MIME mail (RFC 3156): the text part, signed in its
// CRLF form, and the detached signature.
func pgpMIME(t *testing.T, db *Database, key *openpgp.Entity, subject, text string) string {
	t.Helper()
	part := "Content-Type: text/plain; charset=utf-8\r\n\r\n" + strings.ReplaceAll(text, "\n", "\r\n")
	var sig bytes.Buffer
	if err := openpgp.ArmoredDetachSignText(&sig, key, strings.NewReader(part), nil); err != nil {
		t.Fatal(err)
	}
	const b = "netrecon-signed"
	return fmt.Sprintf("From: NOC <%s>\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s@netrecon.test>\r\nMIME-Version: 1.0\r\n"+
		"Content-Type: multipart/signed; micalg=pgp-sha256; protocol=\"application/pgp-signature\"; boundary=%q\r\n\r\n"+
		"--%s\r\n%s\r\n--%s\r\nContent-Type: application/pgp-signature\r\n\r\n%s\r\n--%s--\r\n",
		submitter, db.SubmissionAddress(), subject, strings.ReplaceAll(subject, " ", "-"), b, b, part, b, sig.String(), b)
}

func TestSubmitPGPMIME(t *testing.T) {
	s := startSim(t, Options{})
	db := s.DB("JPIRR")
	key := pgpMaintainer(t, db)
	update := "as-set: AS-PGP\nmembers: AS132001, AS132003\nmnt-by: MAINT-PGP\nsource: JPIRR\n"
	send := func(msg string) {
		t.Helper()
		if err := sendMail(db.SMTPAddr(), submitter, []string{db.SubmissionAddress()}, strings.NewReader(msg)); err != nil {
			t.Fatal(err)
		}
	}
	send(pgpMIME(t, db, key, "pgp mime", update))
	if rep := lastReply(t, db, 1); !strings.Contains(rep.Body, "Modify succeeded: [as-set] AS-PGP") {
		t.Fatalf("PGP/MIME signed by the key-cert's key:\n%s", rep.Body)
	}
	send(strings.Replace(pgpMIME(t, db, key, "tampered mime", update), "AS132003", "AS132009", 1))
	if rep := lastReply(t, db, 2); !strings.Contains(rep.Body, "PGP signature not valid") {
		t.Errorf("tampered PGP/MIME:\n%s", rep.Body)
	}
	if o, _ := db.Object("as-set", "AS-PGP"); strings.Join(o.List("members"), ",") != "AS132001,AS132003" {
		t.Errorf("members %v", o.List("members"))
	}
}
