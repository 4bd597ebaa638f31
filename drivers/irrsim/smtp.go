package irrsim

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
)

// maxMessage bounds a submission mail; registries refuse far smaller ones.
const maxMessage = 1 << 20

// startSMTP serves the database's submission address over SMTP (RFC 5321)
// with go-smtp, which handles the protocol's framing (dot-stuffing, pipelining,
// line limits) that a home-made server would get subtly wrong against a real
// MTA.
func (db *Database) startSMTP() error {
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &smtpSession{db: db}, nil
	}))
	srv.Domain = db.domain
	srv.MaxMessageBytes = maxMessage
	srv.MaxRecipients = 10
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	srv.ErrorLog = log.New(logWriter{db}, "", 0)
	ln := db.smtp
	db.sim.mu.Lock()
	db.sim.closers = append(db.sim.closers, func() { srv.Close() })
	db.sim.mu.Unlock()
	db.sim.wg.Go(func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
			db.log.Warn("smtp server stopped", "err", err)
		}
	})
	return nil
}

// logWriter turns go-smtp's log lines into the database's slog events.
type logWriter struct{ db *Database }

func (w logWriter) Write(p []byte) (int, error) {
	w.db.log.Debug("smtp", "msg", strings.TrimSpace(string(p)))
	return len(p), nil
}

// smtpSession is one mail transaction as the database sees it.
type smtpSession struct {
	db   *Database
	from string
	to   []string
}

func (s *smtpSession) Reset()        { s.from, s.to = "", nil }
func (s *smtpSession) Logout() error { return nil }

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

// Rcpt is where the refusal knobs act: an MTA that verifies the recipient
// with a callout during its own SMTP dialogue passes the answer back to the
// submitter at once, instead of queueing the mail.
func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	_, domain, ok := strings.Cut(to, "@")
	if !ok || !strings.EqualFold(domain, s.db.domain) {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: fmt.Sprintf("no such recipient here (this is %s)", s.db.domain)}
	}
	if err := s.db.refusal(); err != nil {
		return err
	}
	s.to = append(s.to, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.LimitReader(r, maxMessage+1)); err != nil {
		return err
	}
	if buf.Len() > maxMessage {
		return &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 3, 4}, Message: "message too big"}
	}
	s.db.receive(s.from, buf.Bytes())
	return nil
}

// refusal applies the RefuseTemp and RefusePerm knobs to one recipient.
func (db *Database) refusal() error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.faults.RefusePerm {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: db.name + " does not accept submissions"}
	}
	if db.refused < db.faults.RefuseTemp {
		db.refused++
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: db.name + " is busy, try again later"}
	}
	return nil
}
