package irr

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/netrecon/netrecon/api"
	"github.com/netrecon/netrecon/backoff"
	"github.com/netrecon/netrecon/irr/whois"
	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/rpsl"
	"github.com/netrecon/netrecon/schema"
)

// Alarm kinds registration raises; the subject is "<database>/<object>".
const (
	AlarmRefused    = "irr-refused"    // the registry refused the change
	AlarmFailing    = "irr-failing"    // sends keep failing
	AlarmUnverified = "irr-unverified" // whois does not show it after VerifyWithin
)

// Store is the part of the journal registration keeps its submissions in.
type Store interface {
	IRRSubmissions(ctx context.Context) ([]journal.IRRSubmission, error)
	PutIRRSubmission(ctx context.Context, s journal.IRRSubmission) error
}

// Alarms raises and clears the daemon's alarms (it notifies and shows them).
type Alarms interface {
	Raise(ctx context.Context, kind, subject, message string)
	Clear(ctx context.Context, kind, subject string)
}

// Defaults of Registrar's zero fields.
const (
	DefaultVerifyWithin  = 24 * time.Hour
	DefaultAlarmAfter    = 3
	defaultBackoffBase   = time.Minute
	defaultBackoffMax    = 4 * time.Hour
	defaultWhoisDeadline = 30 * time.Second
)

// Registrar keeps the provider as-sets of every configured database equal
// to what main's bgp-customers want (docs/irr.md). Follow is level-triggered:
// called again with the same intent it only moves submissions on (resend
// when due, read replies, verify), never mails the same change twice.
type Registrar struct {
	Journal Store
	Alarms  Alarms
	Mailer  Mailer
	// ReplyMaildir is where the registries' replies arrive (the Maildir the
	// MTA delivers the From: address into); "" reads none, and a change is
	// then known only by whois.
	ReplyMaildir string
	// Backoff spaces resends after a failed send.
	Backoff backoff.Policy
	// VerifyWithin is how long after a send whois may take to show it
	// before an alarm rises and the change is sent again.
	VerifyWithin time.Duration
	// AlarmAfter is how many failed sends in a row raise AlarmFailing.
	AlarmAfter int
	Whois      whois.Options
	// HTTPClient posts to IRRd's HTTP submission API; nil is
	// http.DefaultClient.
	HTTPClient *http.Client
	Now        func() time.Time
	Log        *slog.Logger
}

func (r *Registrar) now() time.Time {
	if r.Now == nil {
		return time.Now()
	}
	return r.Now()
}

func (r *Registrar) log() *slog.Logger {
	if r.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Log
}

func (r *Registrar) backoff() backoff.Policy {
	if r.Backoff.Base <= 0 {
		return backoff.Policy{Base: defaultBackoffBase, Max: defaultBackoffMax}
	}
	return r.Backoff
}

func subject(db, obj string) string { return db + "/" + obj }

// Follow brings the registries towards what intent (main at commit) wants:
// a new change is submitted to each database, earlier ones are moved on.
// The error joins every database's problem; each is also in the journal.
func (r *Registrar) Follow(ctx context.Context, in *schema.Intent, commit string) error {
	rows, err := r.Journal.IRRSubmissions(ctx)
	if err != nil {
		return err
	}
	type key struct{ db, obj string }
	current := map[key]journal.IRRSubmission{}
	for _, s := range rows {
		current[key{s.Database, s.Object}] = s
	}
	wanted := map[key][]string{}
	for _, t := range Wanted(in) {
		wanted[key{t.Database, t.Object}] = t.Members
	}
	// An object netrecon has members in and no customer wants any more:
	// its members go.
	for k, s := range current {
		if _, ok := wanted[k]; !ok && len(s.Members) > 0 {
			wanted[k] = []string{}
		}
	}
	keys := make([]key, 0, len(wanted))
	for k := range wanted {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int { return cmp.Or(cmp.Compare(a.db, b.db), cmp.Compare(a.obj, b.obj)) })

	var replies []Reply
	if r.ReplyMaildir != "" {
		if replies, err = ReadReplies(r.ReplyMaildir); err != nil {
			r.log().Warn("irr: replies not read", "err", err)
		}
	}
	var errs []error
	for _, k := range keys {
		db := in.IRR.Database(k.db)
		if db == nil {
			errs = append(errs, fmt.Errorf("irr %s: not defined in %s", k.db, schema.IRRSettingsFile))
			continue
		}
		row, had := current[k]
		change := !had || !slices.Equal(row.Members, wanted[k]) ||
			// A refused change is tried once more per new commit (the
			// operator may have fixed the maintainer's auth), never in a loop.
			(row.State == journal.IRRRefused && row.Commit != commit)
		if change {
			var drop []string
			if had {
				drop = without(row.Members, wanted[k])
				if row.State != journal.IRRVerified {
					// The change before this one may never have landed:
					// what it would have removed still goes.
					drop = without(append(drop, row.Drop...), wanted[k])
				}
			}
			row = journal.IRRSubmission{Database: k.db, Object: k.obj, Commit: commit, Members: wanted[k], Drop: drop}
			r.send(ctx, db, &row)
		} else {
			r.progress(ctx, db, &row, replies)
		}
		if err := r.Journal.PutIRRSubmission(ctx, row); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// without returns a's members that b does not hold.
func without(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

// progress moves one submission on: a failed send is retried when due, a
// sent one is matched with its reply and checked by whois.
func (r *Registrar) progress(ctx context.Context, db *schema.IRRDatabase, row *journal.IRRSubmission, replies []Reply) {
	now := r.now()
	sub := subject(row.Database, row.Object)
	switch row.State {
	case journal.IRRFailed:
		if !now.Before(row.NextTry) {
			r.send(ctx, db, row)
		}
		return
	case journal.IRRSubmitted, journal.IRRAccepted:
	default:
		return // verified or refused: nothing to do until the intent changes
	}
	for _, rep := range replies {
		if rep.InReplyTo == "" || rep.InReplyTo != row.MessageID {
			continue
		}
		accepted, refused, text := rep.Outcome("as-set", row.Object)
		switch {
		case refused:
			row.State, row.Message = journal.IRRRefused, text
			r.log().Error("irr: registry refused the change", "database", row.Database, "object", row.Object, "reply", text)
			r.Alarms.Raise(ctx, AlarmRefused, sub, fmt.Sprintf("%s refused the change of %s: %s", row.Database, row.Object, text))
		case accepted:
			row.State, row.Message = journal.IRRAccepted, text
		}
		if accepted || refused {
			if err := MarkRead(r.ReplyMaildir, rep); err != nil {
				r.log().Warn("irr: reply not marked read", "file", rep.File, "err", err)
			}
		}
	}
	if row.State == journal.IRRRefused {
		return
	}
	ok, err := r.shows(ctx, db, row)
	switch {
	case err != nil:
		r.log().Warn("irr: whois check failed", "database", row.Database, "object", row.Object, "err", err)
	case ok:
		row.State, row.NextTry = journal.IRRVerified, time.Time{}
		r.log().Info("irr: registered", "database", row.Database, "object", row.Object, "members", row.Members)
		for _, k := range []string{AlarmRefused, AlarmFailing, AlarmUnverified} {
			r.Alarms.Clear(ctx, k, sub)
		}
		return
	}
	within := cmp.Or(r.VerifyWithin, DefaultVerifyWithin)
	if now.Sub(row.Submitted) >= within {
		r.Alarms.Raise(ctx, AlarmUnverified, sub, fmt.Sprintf("%s does not show the change of %s %s after sending it (attempt %d); sent again",
			row.Database, row.Object, now.Sub(row.Submitted).Round(time.Second), row.Attempts))
		r.send(ctx, db, row)
	}
}

// shows asks the database by whois whether the object's direct members are
// the ones submitted.
func (r *Registrar) shows(ctx context.Context, db *schema.IRRDatabase, row *journal.IRRSubmission) (bool, error) {
	o, err := rpsl.ParseOne(row.Text)
	if err != nil {
		return false, fmt.Errorf("the submitted object: %w", err)
	}
	want := upper(o.List("members"))
	s, err := whois.Dial(ctx, db.Whois, r.Whois)
	if err != nil {
		return false, err
	}
	defer s.Close()
	if err := s.Sources(ctx, db.Sources...); err != nil {
		return false, err
	}
	got, err := s.DirectMembers(ctx, row.Object)
	if errors.Is(err, whois.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	got = upper(got)
	slices.Sort(got)
	slices.Sort(want)
	return slices.Equal(slices.Compact(got), slices.Compact(want)), nil
}

func upper(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ToUpper(s)
	}
	return out
}

// send reads the object from the database, changes its members and mails
// it; row records the attempt either way.
func (r *Registrar) send(ctx context.Context, db *schema.IRRDatabase, row *journal.IRRSubmission) {
	now := r.now()
	row.Attempts++
	err := r.trySend(ctx, db, row, now)
	sub := subject(row.Database, row.Object)
	var refused *RefusedError
	switch {
	case err == nil:
		row.State, row.Submitted, row.NextTry, row.Message = journal.IRRSubmitted, now, time.Time{}, ""
		if db.Submission.HTTP != nil {
			row.State = journal.IRRAccepted // the API answered at once
		}
		r.log().Info("irr: change submitted", "database", row.Database, "object", row.Object, "members", row.Members,
			"attempt", row.Attempts, "message_id", row.MessageID)
		r.Alarms.Clear(ctx, AlarmFailing, sub)
		return
	case errors.As(err, &refused):
		row.State, row.Submitted, row.NextTry, row.Message = journal.IRRRefused, now, time.Time{}, refused.Text
		r.log().Error("irr: registry refused the change", "database", row.Database, "object", row.Object, "reply", refused.Text)
		r.Alarms.Raise(ctx, AlarmRefused, sub, fmt.Sprintf("%s refused the change of %s: %s", row.Database, row.Object, refused.Text))
		r.Alarms.Clear(ctx, AlarmFailing, sub)
		return
	}
	row.State, row.Message = journal.IRRFailed, err.Error()
	row.NextTry = now.Add(r.backoff().Jittered(row.Attempts))
	r.log().Warn("irr: send failed", "database", row.Database, "object", row.Object, "attempt", row.Attempts,
		"next_try", row.NextTry, "err", err)
	if row.Attempts >= cmp.Or(r.AlarmAfter, DefaultAlarmAfter) {
		r.Alarms.Raise(ctx, AlarmFailing, sub, fmt.Sprintf("%d sends of %s to %s failed; the last: %v", row.Attempts, row.Object, row.Database, err))
	}
}

func (r *Registrar) trySend(ctx context.Context, db *schema.IRRDatabase, row *journal.IRRSubmission, now time.Time) error {
	current, err := r.fetch(ctx, db, row.Object)
	if err != nil {
		return err
	}
	obj := current.Clone()
	members := newMembers(current.List("members"), row.Drop, row.Members)
	obj.Set("members", members...)
	text := rpsl.Format(obj)
	email := db.Submission.Email
	if email == nil {
		row.Text, row.MessageID = text, ""
		return submitHTTP(ctx, r.HTTPClient, db, text, row.Object)
	}
	body, err := authenticate(text, db.Auth)
	if err != nil {
		return fmt.Errorf("irr %s: %w", db.Name, err)
	}
	msg, id := message(email.From, email.To, "netrecon: "+row.Object, body, now)
	row.Text, row.MessageID = text, id
	if err := r.Mailer.Send(ctx, email.From, []string{email.To}, msg); err != nil {
		return fmt.Errorf("irr %s: %w", db.Name, err)
	}
	return nil
}

// fetch reads the current as-set from the database with a text query of
// its own sources, as the registry holds it.
func (r *Registrar) fetch(ctx context.Context, db *schema.IRRDatabase, name string) (*rpsl.Object, error) {
	q := fmt.Sprintf("-s %s -r -T as-set %s", strings.Join(db.Sources, ","), name)
	b, err := whois.Query(ctx, db.Whois, q, r.Whois)
	if err != nil {
		return nil, err
	}
	objs, err := rpsl.Parse(stripComments(string(b)))
	if err != nil {
		return nil, fmt.Errorf("whois %s: %q: %w", db.Whois, q, err)
	}
	for _, o := range objs {
		if o.Class() == "as-set" && strings.EqualFold(o.Key(), name) {
			return o, nil
		}
	}
	return nil, fmt.Errorf("irr %s: as-set %s is not in the database: create it once by hand with maintainer %s (docs/irr.md)", db.Name, name, db.Maintainer)
}

// stripComments drops the "%" remark lines whois servers put around
// objects, which are not RPSL.
func stripComments(s string) string {
	lines := strings.SplitAfter(s, "\n")
	out := lines[:0]
	for _, l := range lines {
		if !strings.HasPrefix(l, "%") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "")
}

// Status is every submission as the status API shows it.
func (r *Registrar) Status(ctx context.Context) ([]api.IRRRegistration, error) {
	rows, err := r.Journal.IRRSubmissions(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]api.IRRRegistration, 0, len(rows))
	for _, s := range rows {
		v := api.IRRRegistration{Database: s.Database, Object: s.Object, Members: s.Members, State: s.State,
			Commit: s.Commit, Attempts: s.Attempts, Message: s.Message, Updated: s.Updated}
		if v.Members == nil {
			v.Members = []string{}
		}
		if s.State == journal.IRRVerified {
			v.State = api.IRRRegistered
		}
		if !s.Submitted.IsZero() {
			t := s.Submitted
			v.Submitted = &t
		}
		if !s.NextTry.IsZero() {
			t := s.NextTry
			v.NextTry = &t
		}
		out = append(out, v)
	}
	return out, nil
}
