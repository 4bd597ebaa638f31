package guard

import (
	"testing"
	"time"
)

// FuzzParseWindow: no input panics, and a window ParseWindow accepts is valid
// and can be asked whether it is open at any instant.
func FuzzParseWindow(f *testing.F) {
	f.Add("w", "", "", "mon,fri", "22:00", "6h", "Asia/Tokyo", int64(0))
	f.Add("w", "2026-12-28T00:00:00+09:00", "2027-01-04T00:00:00Z", "", "", "", "", int64(1800000000))
	f.Add("w", "", "", "sun", "02:30", "1h", "America/New_York", int64(1772953800))
	f.Add("", "x", "", "funday", "25:00", "-1h", "Mars/Olympus", int64(-1))
	f.Fuzz(func(t *testing.T, name, start, end, days, at, dur, tz string, unix int64) {
		spec := WindowSpec{Name: name, Start: start, End: end, At: at, Duration: dur, Timezone: tz}
		if days != "" {
			spec.Days = splitComma(days)
		}
		w, err := ParseWindow(spec)
		if err != nil {
			return
		}
		if err := w.Validate(); err != nil {
			t.Fatalf("ParseWindow accepted %+v but Validate says %v", spec, err)
		}
		at2 := time.Unix(unix%(1<<40), 0)
		if endAt, open := w.ActiveAt(at2); open && !endAt.After(at2) {
			t.Fatalf("open at %s but closes at %s", at2, endAt)
		}
	})
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}
