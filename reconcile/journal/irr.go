package journal

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// IRR submission states (docs/irr.md): a submission is mailed (submitted),
// answered by the registry (accepted or refused), then seen by whois
// (verified); failed is a send that did not get through and waits for
// NextTry.
const (
	IRRSubmitted = "submitted"
	IRRAccepted  = "accepted"
	IRRRefused   = "refused"
	IRRVerified  = "verified"
	IRRFailed    = "failed"
)

// IRRSubmission is netrecon's current change of one object in one IRR
// database. Text is the object as submitted, without the credentials: no
// secret is ever written here.
type IRRSubmission struct {
	Database string
	Object   string
	Commit   string   // the intent commit that asked for it
	Members  []string // the members netrecon put in (its own share)
	Drop     []string // members netrecon put in before and this change removes
	Text     string
	State    string
	Attempts int // sends tried, the successful one included
	NextTry  time.Time
	// Submitted is when it last went out; MessageID the mail's Message-ID,
	// which the registry's reply refers to.
	Submitted time.Time
	MessageID string
	// Message is the registry's reply or the last error.
	Message string
	Updated time.Time
}

// PutIRRSubmission writes s as the current submission of its database and
// object.
func (j *Journal) PutIRRSubmission(ctx context.Context, s IRRSubmission) error {
	members, err := json.Marshal(orEmpty(s.Members))
	if err != nil {
		return err
	}
	drop, err := json.Marshal(orEmpty(s.Drop))
	if err != nil {
		return err
	}
	err = j.write(ctx, func(t txn) error {
		_, err := t.exec(`INSERT INTO irr_submissions (database_name, object, intent_commit, members, drop_members, object_text, state,
				attempts, next_try, submitted_at, message_id, message, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (database_name, object) DO UPDATE SET intent_commit = excluded.intent_commit,
				members = excluded.members, drop_members = excluded.drop_members, object_text = excluded.object_text, state = excluded.state,
				attempts = excluded.attempts, next_try = excluded.next_try, submitted_at = excluded.submitted_at,
				message_id = excluded.message_id, message = excluded.message, updated_at = excluded.updated_at`,
			s.Database, s.Object, s.Commit, string(members), string(drop), s.Text, s.State, s.Attempts, nanos(s.NextTry),
			nanos(s.Submitted), s.MessageID, s.Message, j.now().UnixNano())
		return err
	})
	if err != nil {
		return fmt.Errorf("journal: irr submission %s %s: %w", s.Database, s.Object, err)
	}
	return nil
}

// IRRSubmissions returns every current submission, by database and object.
func (j *Journal) IRRSubmissions(ctx context.Context) ([]IRRSubmission, error) {
	var out []IRRSubmission
	err := j.read(ctx, func(t txn) error {
		rows, err := t.query(`SELECT database_name, object, intent_commit, members, drop_members, object_text, state, attempts,
				next_try, submitted_at, message_id, message, updated_at
			FROM irr_submissions ORDER BY database_name, object`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s IRRSubmission
			var members, drop string
			var next, sub sql.NullInt64
			var upd int64
			if err := rows.Scan(&s.Database, &s.Object, &s.Commit, &members, &drop, &s.Text, &s.State, &s.Attempts,
				&next, &sub, &s.MessageID, &s.Message, &upd); err != nil {
				return err
			}
			if err := json.Unmarshal([]byte(members), &s.Members); err != nil {
				return fmt.Errorf("members of %s %s: %w", s.Database, s.Object, err)
			}
			if err := json.Unmarshal([]byte(drop), &s.Drop); err != nil {
				return fmt.Errorf("dropped members of %s %s: %w", s.Database, s.Object, err)
			}
			s.NextTry, s.Submitted, s.Updated = fromNanos(next), fromNanos(sub), time.Unix(0, upd).UTC()
			out = append(out, s)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("journal: irr submissions: %w", err)
	}
	return out, nil
}

// IRRSubmissionOf returns the current submission of object in database, and
// false when there is none.
func (j *Journal) IRRSubmissionOf(ctx context.Context, database, object string) (IRRSubmission, bool, error) {
	all, err := j.IRRSubmissions(ctx)
	if err != nil {
		return IRRSubmission{}, false, err
	}
	for _, s := range all {
		if s.Database == database && s.Object == object {
			return s, true, nil
		}
	}
	return IRRSubmission{}, false, nil
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
