package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// lineBuffer collects log lines, safe for the daemon's goroutines.
type lineBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lineBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lineBuffer) lines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Split(strings.TrimSpace(b.buf.String()), "\n")
}

// duplicateKeys returns the keys that occur more than once at the top of
// one JSON object.
func duplicateKeys(line string) ([]string, error) {
	dec := json.NewDecoder(strings.NewReader(line))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var dup []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k := tok.(string)
		if seen[k] {
			dup = append(dup, k)
		}
		seen[k] = true
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
	}
	return dup, nil
}

var goDuration = regexp.MustCompile(`^-?[0-9.]+(ns|us|µs|ms|s|m|h)([0-9.]+(ns|us|µs|ms|s|m|h))*$`)

// Seen: log lines carried "run" twice ("p-..." and 1) and "reason" twice,
// durations came in two units, and the daemon said nothing when it started
// or stopped.
func TestLogLinesHaveUniqueKeysSecondsAndStartStop(t *testing.T) {
	l := newLab(t, exampleFiles(t))
	l.cfg.Guards.OperatorSessions = &OperatorSessionsConfig{Allow: []string{"netrecon"}}
	l.cfg.LockWait = Duration(300 * time.Millisecond)
	l.cfg.Alarm.AfterFailures = 1 // the alarm's line too
	var out lineBuffer
	var durations []string
	var mu sync.Mutex
	log := slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Value.Kind() == slog.KindDuration {
				mu.Lock()
				durations = append(durations, a.Key)
				mu.Unlock()
			}
			return a
		}}))
	d := l.start(Options{Logger: log})
	// A deferral (its reason), a lock wait (the engine's run), drift healed.
	l.sim.Device("pe1-tyo").AddOperatorSession("alice")
	l.sim.Device("pe2-osa").HoldLock("candidate")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	id := d.Trigger(ReasonAPI)
	waitPass(t, d, id)
	l.sim.Device("pe2-osa").ReleaseLock()
	handEdit(t, l, "pe3-sin")
	waitPass(t, d, d.Trigger(ReasonAPI))
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	lines := out.lines()
	var started, stopped bool
	for _, line := range lines {
		dup, err := duplicateKeys(line)
		if err != nil {
			t.Fatalf("not a JSON line: %v: %s", err, line)
		}
		if len(dup) > 0 {
			t.Errorf("keys %v more than once: %s", dup, line)
		}
		var m map[string]any
		json.Unmarshal([]byte(line), &m)
		for k, v := range m {
			if s, ok := v.(string); ok && goDuration.MatchString(s) {
				t.Errorf("%s is a duration as text (%q), want seconds: %s", k, s, line)
			}
		}
		started = started || m["msg"] == "daemon started"
		stopped = stopped || m["msg"] == "daemon stopped" && m["uptime_seconds"] != nil
	}
	if len(durations) > 0 {
		t.Errorf("durations logged as time.Duration (nanoseconds in JSON): %v", durations)
	}
	if !started || !stopped {
		t.Errorf("start line %v, stop line %v", started, stopped)
	}
	if !strings.Contains(strings.Join(lines, "\n"), `"pass":"p-`) {
		t.Error("no line names its pass")
	}
}
