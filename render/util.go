package render

import (
	"cmp"
	"maps"
	"slices"
)

// sortedKeys returns a map's keys in order, for deterministic output and
// diagnostics.
func sortedKeys[M ~map[K]V, K cmp.Ordered, V any](m M) []K {
	return slices.Sorted(maps.Keys(m))
}
