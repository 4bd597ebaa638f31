package session

import (
	"context"
	"time"

	"github.com/netrecon/netrecon/pool"
	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/schema"
)

// maintain runs the pool's background work until Close: it closes sessions
// idle for longer than IdleTimeout, sends keepalives, and reconnects lost
// sessions when their back-off is over.
func (p *Pool) maintain() {
	t := time.NewTicker(p.tick())
	defer t.Stop()
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-t.C:
		}
		p.round()
	}
}

// tick is how often the pool looks at its sessions: a quarter of the
// shortest interval it keeps, so each falls due at most a quarter late.
func (p *Pool) tick() time.Duration {
	d := 5 * time.Second
	for _, v := range []time.Duration{p.opts.Keepalive, p.opts.IdleTimeout, p.opts.Reconnect.Base} {
		if v > 0 {
			d = min(d, v/4)
		}
	}
	return max(d, 10*time.Millisecond)
}

type jobKind int

const (
	jobClose jobKind = iota
	jobKeepalive
	jobReconnect
)

type job struct {
	kind jobKind
	e    *entry
	s    reconcile.Device // jobClose, jobKeepalive
	dial reconcile.Dialer // jobReconnect
	dev  *schema.Device
}

// round does what is due now, at most Options.Concurrency at once.
func (p *Pool) round() {
	now := p.now()
	var jobs []job
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	for _, e := range p.devices {
		if e.owner != nil {
			continue
		}
		idle := p.opts.IdleTimeout > 0 && !e.lastUsed.IsZero() && now.Sub(e.lastUsed) >= p.opts.IdleTimeout
		switch {
		case e.sess != nil && idle:
			jobs = append(jobs, job{kind: jobClose, e: e, s: e.sess})
			p.endLocked(e, "")
			p.stats.IdleClosed++
		case e.sess != nil && p.opts.Keepalive > 0 && now.Sub(e.lastActive) >= p.opts.Keepalive:
			p.take(e, maintenance{})
			e.state = StateKeepalive
			jobs = append(jobs, job{kind: jobKeepalive, e: e, s: e.sess})
		case e.sess == nil && e.state == StateDown && p.opts.Reconnect.Base > 0 && e.dial != nil && !now.Before(e.nextAttempt):
			if idle {
				// Nobody asked for the device for IdleTimeout: stop.
				e.state = StateClosed
				continue
			}
			p.take(e, maintenance{})
			jobs = append(jobs, job{kind: jobReconnect, e: e, dial: e.dial, dev: e.dev})
		}
	}
	p.mu.Unlock()
	pool.Pool{Limit: p.opts.Concurrency}.Run(p.ctx, len(jobs), func(ctx context.Context, _, i int) {
		p.run(ctx, jobs[i])
	}, func(i int, err error) {
		p.log.Error("session: background work panicked", "device", jobs[i].e.name, "err", err)
	})
}

// run does one job. A job that owns its entry gives it back on every path,
// a panic included.
func (p *Pool) run(ctx context.Context, j job) {
	switch j.kind {
	case jobClose:
		p.log.Info("session: closed after the idle timeout", "device", j.e.name)
		closeAll([]reconcile.Device{j.s})
	case jobKeepalive:
		p.keepalive(ctx, j)
	case jobReconnect:
		defer p.giveBack(j.e)
		if _, err := p.open(ctx, j.e, j.dial, j.dev, StateIdle); err != nil {
			p.log.Warn("session: reconnect failed", "device", j.e.name, "err", err, "next_attempt", p.nextAttempt(j.e))
		} else {
			p.log.Info("session: reconnected", "device", j.e.name)
		}
	}
}

// keepalive sends the probe on an idle session. Any answer, an rpc-error
// too, shows the session alive; no answer in time or a dead transport
// ends it, and the reconnect follows after its back-off.
func (p *Pool) keepalive(ctx context.Context, j job) {
	alive, why := false, "keepalive: no answer"
	defer func() {
		p.mu.Lock()
		e := j.e
		p.stats.Keepalives++
		dead := !alive || p.closed
		if dead && e.sess == j.s {
			if alive {
				why = "" // the pool closed: a planned end
			} else {
				p.stats.KeepaliveFailures++
			}
			p.endLocked(e, why)
		} else if !dead {
			e.lastActive = p.now()
			e.state = StateIdle
		}
		p.give(e)
		p.mu.Unlock()
		if dead {
			closeAll([]reconcile.Device{j.s})
		}
	}()
	err := p.opts.Probe(ctx, j.s)
	alive = err == nil || !unusable(err)
	if !alive {
		why = "keepalive: " + err.Error()
		p.log.Warn("session: keepalive failed; the session is closed and opened again", "device", j.e.name, "err", err)
	}
}

func (p *Pool) giveBack(e *entry) {
	p.mu.Lock()
	if _, ok := e.owner.(maintenance); ok {
		p.give(e)
	}
	p.mu.Unlock()
}

func (p *Pool) nextAttempt(e *entry) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return e.nextAttempt
}
