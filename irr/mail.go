package irr

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/smtp"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/netrecon/netrecon/schema"
)

// Mailer sends one message.
type Mailer interface {
	Send(ctx context.Context, from string, to []string, msg []byte) error
}

// SMTPRelay sends through an SMTP server (the site's MTA, or the lab's
// exim) that relays to the registries; it does no delivery of its own.
type SMTPRelay struct {
	Addr    string // host:port
	Timeout time.Duration
}

// Send hands the message to the relay. An error means the relay did not
// take it; the caller retries.
func (r SMTPRelay) Send(ctx context.Context, from string, to []string, msg []byte) error {
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", r.Addr)
	if err != nil {
		return fmt.Errorf("smtp %s: %w", r.Addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	host, _, _ := net.SplitHostPort(r.Addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp %s: %w", r.Addr, err)
	}
	defer c.Close()
	if err := c.Hello("netrecon"); err != nil {
		return fmt.Errorf("smtp %s: HELO: %w", r.Addr, err)
	}
	if err := c.Mail(from); err != nil {
		return fmt.Errorf("smtp %s: MAIL FROM: %w", r.Addr, err)
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt); err != nil {
			return fmt.Errorf("smtp %s: RCPT TO %s: %w", r.Addr, rcpt, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp %s: DATA: %w", r.Addr, err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("smtp %s: DATA: %w", r.Addr, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp %s: end of DATA: %w", r.Addr, err)
	}
	return c.Quit()
}

// authenticate adds the maintainer's credentials to an object's text as
// the registries take them in mail: a "password:" line after the object
// (RFC 2725 §8's CRYPT-PW/MD5-PW, IRRd's BCRYPT-PW), or the whole text
// clear-signed with the key of a PGPKEY- auth ([RFC 4880 7]). The result
// holds the secret: it goes to the relay and nowhere else.
//
// [RFC 4880 7]: https://www.rfc-editor.org/rfc/rfc4880#section-7
func authenticate(text string, auth schema.IRRAuth) ([]byte, error) {
	if auth.PGP != nil {
		keyText, err := auth.PGP.Key.Resolve()
		if err != nil {
			return nil, err
		}
		key, err := signingKey(keyText, auth.PGP.KeyID)
		if err != nil {
			return nil, fmt.Errorf("secret %s: %w", auth.PGP.Key, err)
		}
		var out bytes.Buffer
		w, err := clearsign.Encode(&out, key.PrivateKey, &packet.Config{})
		if err != nil {
			return nil, fmt.Errorf("clear-sign with %s: %w", auth.PGP.KeyID, err)
		}
		if _, err := w.Write([]byte(text)); err != nil {
			return nil, err
		}
		if err := w.Close(); err != nil {
			return nil, fmt.Errorf("clear-sign with %s: %w", auth.PGP.KeyID, err)
		}
		return out.Bytes(), nil
	}
	pw, err := auth.Password.Resolve()
	if err != nil {
		return nil, err
	}
	p := strings.TrimRight(string(pw), "\r\n")
	if strings.ContainsAny(p, "\r\n") {
		return nil, fmt.Errorf("secret %s: a password is one line", auth.Password)
	}
	return []byte(text + "password: " + p + "\n"), nil
}

// signingKey finds the key whose ID ends with keyID in an armored private
// key ring; the key must not be passphrase-protected (the daemon signs
// unattended; protect the file instead).
func signingKey(armored []byte, keyID string) (*openpgp.Entity, error) {
	ring, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(armored))
	if err != nil {
		return nil, fmt.Errorf("not an armored PGP key ring: %w", err)
	}
	want := strings.ToUpper(strings.TrimPrefix(strings.TrimPrefix(keyID, "0x"), "0X"))
	for _, e := range ring {
		for _, k := range append([]*packet.PrivateKey{e.PrivateKey}, subkeys(e)...) {
			if k == nil || !strings.HasSuffix(fmt.Sprintf("%016X", k.KeyId), want) {
				continue
			}
			if k.Encrypted {
				return nil, fmt.Errorf("key %s is protected by a passphrase", keyID)
			}
			return &openpgp.Entity{PrimaryKey: &k.PublicKey, PrivateKey: k, Identities: e.Identities}, nil
		}
	}
	return nil, fmt.Errorf("no private key %s in it", keyID)
}

func subkeys(e *openpgp.Entity) []*packet.PrivateKey {
	var out []*packet.PrivateKey
	for _, s := range e.Subkeys {
		out = append(out, s.PrivateKey)
	}
	return out
}

// message builds the submission mail around body; it returns the mail and
// its Message-ID.
func message(from, to, subject string, body []byte, now time.Time) ([]byte, string) {
	var rnd [12]byte
	rand.Read(rnd[:])
	_, domain, _ := strings.Cut(from, "@")
	if domain == "" {
		domain = "netrecon.invalid"
	}
	id := "<" + hex.EncodeToString(rnd[:]) + "@" + domain + ">"
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
		from, to, subject, now.UTC().Format(time.RFC1123Z), id)
	b.Write(bytes.ReplaceAll(bytes.ReplaceAll(body, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n")))
	return b.Bytes(), id
}
