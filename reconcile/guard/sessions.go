package guard

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/schema"
)

// OperatorSessions defers a device while a NETCONF session other than d's own
// is open on it for a user not in allow: a backbone operator logged in for
// maintenance (RFC 6022 netconf-state/sessions, read through d.Sessions).
//
// netrecon's own user is not allowed implicitly: another netrecon session to
// the same device (a second daemon, a CLI apply) is also someone about to
// change it. Add the service account to allow when such sessions are expected
// and the NETCONF lock is enough to keep them apart.
//
// Sessions of netrecon's own on the device are skipped: d's, and, when d
// names them (OwnSessionIDs, as a pooled session does), the sessions this
// process opened there lately, which the device may list for a while after
// they ended.
//
// When the sessions cannot be read, the guard fails closed: it defers, with
// the read's error as the cause.
func OperatorSessions(allow []string) Guard {
	allowed := slices.Clone(allow)
	return Func(func(ctx context.Context, dev *schema.Device, d reconcile.Monitor) error {
		if dev == nil {
			return errNoDevice(NameOperatorSessions)
		}
		if d == nil {
			return fmt.Errorf("%s: guard %s: no session to the device", dev.Name, NameOperatorSessions)
		}
		sessions, err := d.Sessions(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("%s: guard %s: %w", dev.Name, NameOperatorSessions, err)
			}
			return &DeferredError{
				Guard: NameOperatorSessions, Device: dev.Name,
				Reason: "cannot tell whether an operator is logged in (reading NETCONF sessions failed)",
				Err:    err,
			}
		}
		own := []string{d.SessionID()}
		if o, ok := d.(ownSessions); ok {
			own = append(own, o.OwnSessionIDs()...)
		}
		var who []string
		for _, s := range sessions {
			if slices.Contains(own, s.ID) || slices.Contains(allowed, s.Username) {
				continue
			}
			user := s.Username
			if user == "" {
				user = "(unknown user)"
			}
			w := fmt.Sprintf("operator %s logged in (session %s", user, s.ID)
			if s.SourceHost != "" {
				w += " from " + s.SourceHost
			}
			who = append(who, w+")")
		}
		if len(who) == 0 {
			return nil
		}
		return &DeferredError{Guard: NameOperatorSessions, Device: dev.Name, Reason: strings.Join(who, ", ")}
	})
}

// ownSessions is a session that knows the other sessions of its process on
// the same device (reconcile/session's leases): a session the pool replaced
// is netrecon's, not an operator's.
type ownSessions interface {
	OwnSessionIDs() []string
}
