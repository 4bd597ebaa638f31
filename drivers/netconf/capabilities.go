package netconf

import (
	"net/url"
	"slices"
	"strings"
)

// Capability URIs netrecon looks for (RFC 6241 8, RFC 6243 4).
const (
	capCandidate       = "urn:ietf:params:netconf:capability:candidate:1.0"
	capConfirmedCommit = "urn:ietf:params:netconf:capability:confirmed-commit:1.1"
	capValidate10      = "urn:ietf:params:netconf:capability:validate:1.0"
	capValidate11      = "urn:ietf:params:netconf:capability:validate:1.1"
	capRollbackOnError = "urn:ietf:params:netconf:capability:rollback-on-error:1.0"
	capWithDefaults    = "urn:ietf:params:netconf:capability:with-defaults:1.0"
)

// Capabilities are the features a device announced in its hello.
type Capabilities struct {
	Candidate bool // :candidate, RFC 6241 8.3
	// ConfirmedCommit is :confirmed-commit:1.1 (RFC 6241 8.4), with persist and
	// persist-id, which two-phase apply needs; 1.0 alone does not count.
	ConfirmedCommit bool
	Validate        bool // :validate 1.0 or 1.1, RFC 6241 8.6
	RollbackOnError bool // :rollback-on-error, RFC 6241 8.5
	// WithDefaults is the basic mode of :with-defaults (RFC 6243 4.3): "explicit",
	// "trim" or "report-all"; "" when the capability is absent. A diff must know
	// it: under report-all a default shows up in get-config, under trim it never
	// does, under explicit only when it was set.
	WithDefaults string
	// WithDefaultsAlso are the other modes the device accepts in a request.
	WithDefaultsAlso []string
	// Raw is every capability URI, sorted.
	Raw []string
}

func parseCapabilities(raw []string) Capabilities {
	c := Capabilities{Raw: slices.Sorted(slices.Values(raw))}
	for _, uri := range c.Raw {
		base, query, _ := strings.Cut(uri, "?")
		switch base {
		case capCandidate:
			c.Candidate = true
		case capConfirmedCommit:
			c.ConfirmedCommit = true
		case capValidate10, capValidate11:
			c.Validate = true
		case capRollbackOnError:
			c.RollbackOnError = true
		case capWithDefaults:
			q, err := url.ParseQuery(query)
			if err != nil {
				continue
			}
			c.WithDefaults = q.Get("basic-mode")
			if also := q.Get("also-supported"); also != "" {
				c.WithDefaultsAlso = strings.Split(also, ",")
			}
		}
	}
	return c
}

// Has reports whether the device announced uri (without its query part).
func (c Capabilities) Has(uri string) bool {
	for _, r := range c.Raw {
		if base, _, _ := strings.Cut(r, "?"); base == uri {
			return true
		}
	}
	return false
}

func (c Capabilities) clone() Capabilities {
	c.WithDefaultsAlso = slices.Clone(c.WithDefaultsAlso)
	c.Raw = slices.Clone(c.Raw)
	return c
}
