package views

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// screen is as much of a terminal as Progress uses: cursor up (ESC[nA) and
// down (ESC[nB), clear line (ESC[2K), newline; colours are dropped.
type screen struct {
	lines []string
	row   int
}

var escape = regexp.MustCompile(`^\x1b\[(\d*)([ABKm])`)

func (s *screen) Write(b []byte) (int, error) {
	for i := 0; i < len(b); {
		if m := escape.FindSubmatch(b[i:]); m != nil {
			n, _ := strconv.Atoi(string(m[1]))
			switch m[2][0] {
			case 'A':
				s.row = max(s.row-n, 0)
			case 'B':
				s.row += n
			case 'K':
				s.put("")
			}
			i += len(m[0])
			continue
		}
		if b[i] == '\n' {
			s.row++
		} else {
			s.put(s.cur() + string(b[i]))
		}
		i++
	}
	return len(b), nil
}

func (s *screen) cur() string {
	if s.row < len(s.lines) {
		return s.lines[s.row]
	}
	return ""
}

func (s *screen) put(line string) {
	for len(s.lines) <= s.row {
		s.lines = append(s.lines, "")
	}
	s.lines[s.row] = line
}

// The screen after any sequence of events shows each device's last event,
// one line each in order of first appearance, the names in one column, and
// the cursor below the block.
func TestProgressScreen(t *testing.T) {
	var s screen
	p := NewProgress(&s)
	events := []ProgressEvent{
		{Device: "pe1", Phase: "lock"},
		{Device: "pe2", Phase: "lock"},
		{Device: "pe1", Phase: "edit"},
		{Device: "pe10-long", Phase: "lock"}, // widens the column
		{Device: "pe2", Phase: "failed", Detail: "lock denied"},
		{Device: "pe3", Phase: "lock"},
		{Device: "pe1", Phase: "done", Elapsed: 1500 * time.Millisecond},
		{Phase: "journal"}, // no device: not shown
	}
	for _, e := range events {
		p.Event(e)
	}
	want := []string{
		"  pe1        done         1.50s",
		"  pe2        failed       0.00s  lock denied",
		"  pe10-long  lock         0.00s",
		"  pe3        lock         0.00s",
	}
	if got := strings.Join(s.lines, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("screen:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	if s.row != len(want) {
		t.Errorf("cursor on row %d, want %d (below the block)", s.row, len(want))
	}
}

// An event on one device of a thousand writes its own line, not the block.
func TestProgressEventCostIsOneLine(t *testing.T) {
	var b bytes.Buffer
	p := NewProgress(&b)
	for i := range 1000 {
		p.Event(ProgressEvent{Device: fmt.Sprintf("pe%04d", i), Phase: "lock"})
	}
	b.Reset()
	p.Event(ProgressEvent{Device: "pe0000", Phase: "edit"})
	if b.Len() > 200 {
		t.Errorf("one event on a block of 1,000 lines wrote %d bytes", b.Len())
	}
}
