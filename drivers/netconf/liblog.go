package netconf

import (
	"context"
	"log/slog"
	"sync/atomic"
)

// libHandler passes the library's log records to the session's logger, and
// demotes them to Debug once the session is being torn down on purpose (Close,
// or a timeout): the library then reports the closed connection as an error
// ("failed to receive message", "connection closed unexpectedly"), which would
// tell an operator about a failure that did not happen. The cause is logged by
// the driver itself.
type libHandler struct {
	h     slog.Handler
	quiet *atomic.Bool
}

func (l libHandler) Enabled(ctx context.Context, level slog.Level) bool {
	if l.quiet.Load() && level > slog.LevelDebug {
		level = slog.LevelDebug
	}
	return l.h.Enabled(ctx, level)
}

func (l libHandler) Handle(ctx context.Context, r slog.Record) error {
	if l.quiet.Load() && r.Level > slog.LevelDebug {
		r.Level = slog.LevelDebug
		if !l.h.Enabled(ctx, r.Level) {
			return nil
		}
	}
	return l.h.Handle(ctx, r)
}

func (l libHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return libHandler{h: l.h.WithAttrs(attrs), quiet: l.quiet}
}

func (l libHandler) WithGroup(name string) slog.Handler {
	return libHandler{h: l.h.WithGroup(name), quiet: l.quiet}
}
