package views

import (
	"fmt"
	"strings"
	"time"
)

// Count says "1 change", "2 changes", "0 devices": the one place netrecon
// puts a number in front of a noun, so that no message says "1 changes".
// noun is the singular; the plural adds "s", or "es" after s, x, ch and sh.
func Count(n int, noun string) string {
	if n == 1 || n == -1 {
		return fmt.Sprintf("%d %s", n, noun)
	}
	return fmt.Sprintf("%d %s", n, Plural(noun))
}

// Plural is the plural of an English noun as netrecon's messages use them
// (change, device, host key, pass): regular forms only.
func Plural(noun string) string {
	for _, end := range []string{"s", "x", "ch", "sh"} {
		if strings.HasSuffix(noun, end) {
			return noun + "es"
		}
	}
	return noun + "s"
}

// Duration shows a measured time so that it says something at every scale:
// "4 ms", "840 ms", "1.4 s", "12 s", "2m05s". A run of 40 ms is not "0.0 s".
func Duration(d time.Duration) string {
	switch {
	case d < 0:
		return "-" + Duration(-d)
	case d < time.Millisecond:
		return "<1 ms"
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Round(time.Millisecond).Milliseconds())
	case d < 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d < time.Minute:
		return fmt.Sprintf("%.0f s", d.Seconds())
	}
	d = d.Round(time.Second)
	return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
}
