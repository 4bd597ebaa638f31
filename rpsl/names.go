package rpsl

import (
	"fmt"
	"strconv"
	"strings"
)

// setPrefix is the name prefix of a set class ([RFC 2622] §5): a set name
// starts with its class's prefix, case-insensitively.
//
// [RFC 2622]: https://www.rfc-editor.org/rfc/rfc2622#section-5
func setPrefix(class string) (string, bool) {
	switch strings.ToLower(class) {
	case "as-set":
		return "as-", true
	case "route-set":
		return "rs-", true
	case "rtr-set":
		return "rtrs-", true
	case "filter-set":
		return "fltr-", true
	case "peering-set":
		return "prng-", true
	}
	return "", false
}

// ValidSetName checks name as the name of an object of the set class (as-set,
// route-set, rtr-set, filter-set, peering-set), per RFC 2622 §5: either a set
// name ("AS-ACME": the class's prefix, then letters, digits, "-" and "_",
// ending in a letter or digit), or a hierarchical name of such set names and
// AS numbers joined by ":" with at least one set name, e.g. "AS64500:AS-ACME".
// "AS-ANY" and "RS-ANY" are reserved words. The error says what is wrong.
func ValidSetName(class, name string) error {
	prefix, ok := setPrefix(class)
	if !ok {
		return fmt.Errorf("%q is not a set class (as-set, route-set, rtr-set, filter-set, peering-set)", class)
	}
	if name == "" {
		return fmt.Errorf("empty %s name", class)
	}
	sets := 0
	for i, part := range strings.Split(name, ":") {
		if part == "" {
			return fmt.Errorf("%s name %q: component %d is empty (components are joined by single \":\")", class, name, i+1)
		}
		if _, err := ParseASN(part); err == nil {
			continue
		}
		lower := strings.ToLower(part)
		if !strings.HasPrefix(lower, prefix) {
			return fmt.Errorf("%s name %q: component %q is neither an AS number nor a name starting with %q", class, name, part, strings.ToUpper(prefix))
		}
		if err := checkObjectName(part); err != nil {
			return fmt.Errorf("%s name %q: %w", class, name, err)
		}
		if lower == "as-any" || lower == "rs-any" {
			return fmt.Errorf("%s name %q: %q is a reserved word", class, name, part)
		}
		sets++
	}
	if sets == 0 {
		return fmt.Errorf("%s name %q: a hierarchical name needs at least one component starting with %q", class, name, strings.ToUpper(prefix))
	}
	return nil
}

// checkObjectName applies RFC 2622 §2's rule for object names: letters,
// digits, "_" and "-", starting with a letter and ending in a letter or digit.
func checkObjectName(s string) error {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isLetter(c) && !isDigit(c) && c != '-' && c != '_' {
			return fmt.Errorf("%q: character %q at %d is not a letter, digit, \"-\" or \"_\"", s, c, i+1)
		}
	}
	if !isLetter(s[0]) {
		return fmt.Errorf("%q must start with a letter", s)
	}
	if last := s[len(s)-1]; !isLetter(last) && !isDigit(last) {
		return fmt.Errorf("%q must end in a letter or digit", s)
	}
	return nil
}

// ParseASN reads an AS number in RPSL's form, "AS" and the number in asplain
// ([RFC 5396]), 0 to 4294967295 (32-bit, [RFC 6793]); "as" is accepted as well.
// Leading zeros and the asdot form ("AS1.10") are refused.
//
// [RFC 5396]: https://www.rfc-editor.org/rfc/rfc5396
// [RFC 6793]: https://www.rfc-editor.org/rfc/rfc6793
func ParseASN(s string) (uint32, error) {
	if len(s) < 3 || !strings.EqualFold(s[:2], "AS") {
		return 0, fmt.Errorf("%q is not an AS number: want AS followed by digits, e.g. AS64500", clip(s))
	}
	digits := s[2:]
	for i := 0; i < len(digits); i++ {
		if !isDigit(digits[i]) {
			return 0, fmt.Errorf("%q is not an AS number: %q is not a digit (asplain only, e.g. AS64500)", clip(s), digits[i])
		}
	}
	if len(digits) > 1 && digits[0] == '0' {
		return 0, fmt.Errorf("%q is not an AS number: leading zero", clip(s))
	}
	n, err := strconv.ParseUint(digits, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%q is not an AS number: above 4294967295", clip(s))
	}
	return uint32(n), nil
}

// FormatASN prints an AS number as RPSL writes it: "AS64500".
func FormatASN(n uint32) string { return "AS" + strconv.FormatUint(uint64(n), 10) }

// PrivateASN reports whether n is reserved for private use ([RFC 6996]):
// 64512–65534 and 4200000000–4294967294.
//
// [RFC 6996]: https://www.rfc-editor.org/rfc/rfc6996
func PrivateASN(n uint32) bool {
	return n >= 64512 && n <= 65534 || n >= 4200000000 && n <= 4294967294
}
