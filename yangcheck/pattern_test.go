package yangcheck

import "testing"

func TestCompilePattern(t *testing.T) {
	for _, tc := range []struct {
		pattern   string
		match     []string
		noMatch   []string
		untranslt bool
	}{
		// XSD patterns match the whole value.
		{pattern: `[a-z]+`, match: []string{"abc"}, noMatch: []string{"abc1", "1abc", ""}},
		// ^ and $ are characters (iana-crypt-hash uses $).
		{pattern: `$0$.*`, match: []string{"$0$secret"}, noMatch: []string{"0secret"}},
		{pattern: `a^b`, match: []string{"a^b"}},
		{pattern: `[^$]+`, match: []string{"abc"}, noMatch: []string{"a$c"}},
		{pattern: `\d+`, match: []string{"123", "١٢٣"}, noMatch: []string{"12a"}},
		{pattern: `\i\c*`, match: []string{"_a-b.c:d"}, noMatch: []string{"-a"}},
		{pattern: `[\i-]+`, match: []string{"a-b"}},
		{pattern: `\p{IsBasicLatin}+`, match: []string{"ascii"}, noMatch: []string{"é"}},
		{pattern: `(%[\p{N}\p{L}]+)?`, match: []string{"", "%eth0"}, noMatch: []string{"%"}},
		{pattern: `[a-z-[aeiou]]+`, untranslt: true},
		{pattern: `\p{IsNoSuchBlock}`, untranslt: true},
		{pattern: `(unclosed`, untranslt: true},
	} {
		re, err := compilePattern(tc.pattern)
		if tc.untranslt {
			if err == nil {
				t.Errorf("%q: translated to %s, want an error", tc.pattern, re)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.pattern, err)
			continue
		}
		for _, s := range tc.match {
			if !re.MatchString(s) {
				t.Errorf("%q (%s) does not match %q", tc.pattern, re, s)
			}
		}
		for _, s := range tc.noMatch {
			if re.MatchString(s) {
				t.Errorf("%q (%s) matches %q", tc.pattern, re, s)
			}
		}
	}
}

func TestFeatureExpressions(t *testing.T) {
	on := map[string]bool{"a": true, "b": false, "c": true}
	for _, tc := range []struct {
		expr string
		want bool
		err  bool
	}{
		{expr: "a", want: true},
		{expr: "b", want: false},
		{expr: "not b", want: true},
		{expr: "a and b", want: false},
		{expr: "a or b", want: true},
		{expr: "b or not (a and b)", want: true},
		{expr: "(a", err: true},
		{expr: "a and", err: true},
		{expr: "a b", err: true},
	} {
		p := &featureParser{toks: featureTokens(tc.expr), enabled: func(s string) bool { return on[s] }}
		v, err := p.or()
		if err == nil && p.i != len(p.toks) {
			err = errTrailing
		}
		if (err != nil) != tc.err || err == nil && v != tc.want {
			t.Errorf("%q = %v, %v; want %v (error %v)", tc.expr, v, err, tc.want, tc.err)
		}
	}
}
