package irr

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
)

// maxReply bounds a reply read from the Maildir.
const maxReply = 1 << 20

// Reply is a registry's answer to a submission, as its acknowledgement mail
// words it (IRRd's form: "Modify succeeded: [as-set] AS-X", or "Modify
// FAILED: [as-set] AS-X" followed by "ERROR: ..." lines).
type Reply struct {
	File      string // its name in the Maildir, to mark it read
	InReplyTo string
	Subject   string
	Body      string
}

// Outcome reads what the reply says of the object class/key: accepted,
// refused with the registry's own words, or unknown (the reply does not
// speak of it).
func (r Reply) Outcome(class, key string) (accepted, refused bool, text string) {
	sc := bufio.NewScanner(strings.NewReader(r.Body))
	tag := "[" + strings.ToLower(class) + "] " + strings.ToUpper(key)
	var errs []string
	in := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		upper := strings.ToUpper(line)
		switch {
		case strings.HasPrefix(line, "---"):
			in = false
		case strings.HasSuffix(strings.ToUpper(line), strings.ToUpper(tag)):
			switch {
			case strings.Contains(upper, " SUCCEEDED:"), strings.HasPrefix(upper, "NO OPERATION:"):
				return true, false, line
			case strings.Contains(upper, " FAILED:"):
				in, refused = true, true
				errs = append(errs, line)
			}
		case in && strings.HasPrefix(upper, "ERROR:"):
			errs = append(errs, line)
		case strings.HasPrefix(upper, "ERROR:") && strings.Contains(r.Body, "could not process"):
			errs = append(errs, line)
			refused = true
		}
	}
	return false, refused, strings.Join(errs, "\n")
}

// ReadReplies returns the unread mails of a Maildir (its new/ folder), and
// MarkRead moves one to cur/, as Maildir readers do, so that it is read once.
func ReadReplies(dir string) ([]Reply, error) {
	entries, err := os.ReadDir(filepath.Join(dir, "new"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reply maildir: %w", err)
	}
	var out []Reply
	for _, e := range entries {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		f, err := os.Open(filepath.Join(dir, "new", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("reply maildir: %w", err)
		}
		msg, err := mail.ReadMessage(io.LimitReader(f, maxReply))
		if err != nil {
			f.Close()
			continue // not a mail: not ours to judge
		}
		body, _ := io.ReadAll(msg.Body)
		f.Close()
		out = append(out, Reply{File: e.Name(), InReplyTo: strings.TrimSpace(msg.Header.Get("In-Reply-To")),
			Subject: msg.Header.Get("Subject"), Body: strings.ReplaceAll(string(body), "\r\n", "\n")})
	}
	return out, nil
}

// MarkRead moves a reply from new/ to cur/.
func MarkRead(dir string, r Reply) error {
	if err := os.MkdirAll(filepath.Join(dir, "cur"), 0o700); err != nil {
		return err
	}
	return os.Rename(filepath.Join(dir, "new", r.File), filepath.Join(dir, "cur", r.File+":2,S"))
}
