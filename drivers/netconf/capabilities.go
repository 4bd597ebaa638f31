package netconf

import (
	"net/url"
	"slices"
	"strings"

	"github.com/netrecon/netrecon/reconcile"
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

// parseCapabilities reads the hello's capability URIs into reconcile's terms.
func parseCapabilities(raw []string) reconcile.Capabilities {
	c := reconcile.Capabilities{Raw: slices.Sorted(slices.Values(raw))}
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

func cloneCapabilities(c reconcile.Capabilities) reconcile.Capabilities {
	c.WithDefaultsAlso = slices.Clone(c.WithDefaultsAlso)
	c.Raw = slices.Clone(c.Raw)
	return c
}
