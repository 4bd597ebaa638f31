package shard

import (
	"hash/fnv"
	"sort"
)

// Owner returns the replica of replicas that device belongs to, "" when
// there is none.
func Owner(device string, replicas []string) string {
	var best string
	var top uint64
	for _, r := range replicas {
		if w := weight(r, device); best == "" || w > top || (w == top && r < best) {
			best, top = r, w
		}
	}
	return best
}

// Share returns the devices, of devices, that belong to replica, in the
// order given.
func Share(replica string, replicas, devices []string) []string {
	var out []string
	for _, d := range devices {
		if Owner(d, replicas) == replica {
			out = append(out, d)
		}
	}
	return out
}

// Assign returns each replica's devices, every replica of replicas present,
// each share sorted.
func Assign(replicas, devices []string) map[string][]string {
	out := make(map[string][]string, len(replicas))
	for _, r := range replicas {
		out[r] = nil
	}
	for _, d := range devices {
		if r := Owner(d, replicas); r != "" {
			out[r] = append(out[r], d)
		}
	}
	for _, s := range out {
		sort.Strings(s)
	}
	return out
}

// weight is the rendezvous hash of a (replica, device) pair: FNV-1a 64 of
// both, the zero byte between them so that ("ab", "c") and ("a", "bc")
// differ, then mixed (SplitMix64's finaliser), since FNV's high bits vary
// little between names that differ in their last bytes.
func weight(replica, device string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(replica))
	h.Write([]byte{0})
	h.Write([]byte(device))
	x := h.Sum64()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
