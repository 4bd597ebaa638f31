package diag

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Suggest returns the candidate a person most likely meant by word, or ""
// when none is close: a typo ("vlna" for "vlan"), another case ("Junos"),
// or, failing those, the one candidate that starts with the same three
// letters or more ("juniper" for "junos") as no other does. Lists are short (fields, kinds, platforms, flags, at most the
// inventory's device names) and this runs only on errors, so every
// candidate is measured.
func Suggest(word string, candidates []string) string {
	lw := strings.ToLower(word)
	n := utf8.RuneCountInString(word)
	// How many edits still read as a typo of a word this long.
	limit := 3
	switch {
	case n <= 2:
		limit = 0
	case n <= 4:
		limit = 1
	case n <= 8:
		limit = 2
	}
	best, bestDist := "", limit+1
	prefix, prefixLen, prefixDist, prefixTies := "", 0, 0, 0
	for _, c := range candidates {
		if c == word {
			return "" // not unknown, so nothing to suggest
		}
		lc := strings.ToLower(c)
		d := distance(lw, lc)
		if d < bestDist || (d == bestDist && best != "" && c < best) {
			best, bestDist = c, d
		}
		switch p := commonPrefix(lw, lc); {
		case p < 3 || n < 4:
		case p > prefixLen || (p == prefixLen && d < prefixDist):
			prefix, prefixLen, prefixDist, prefixTies = c, p, d, 1
		case p == prefixLen && d == prefixDist:
			prefixTies++
		}
	}
	if best != "" {
		return best
	}
	if prefixTies == 1 {
		return prefix
	}
	return ""
}

// DidYouMean words Suggest's answer as a hint: `did you mean "junos"?`, or "".
func DidYouMean(word string, candidates []string) string {
	if s := Suggest(word, candidates); s != "" {
		return fmt.Sprintf("did you mean %q?", s)
	}
	return ""
}

// distance is the optimal string alignment distance between a and b, in
// runes: insertions, deletions, substitutions and transpositions of two
// neighbours ("vlna" → "vlan") each count one.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// Three rows: the one before the previous is needed for transpositions.
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// commonPrefix is how many leading runes a and b share.
func commonPrefix(a, b string) int {
	n := 0
	for _, r := range a {
		c, size := utf8.DecodeRuneInString(b)
		if size == 0 || c != r {
			break
		}
		b = b[size:]
		n++
	}
	return n
}
