package shard

import (
	"fmt"
	"testing"
)

func devices(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("pe%d", i+1)
	}
	return out
}

// Every device has exactly one owner, and the shares are near even.
func TestAssignCoversEvenly(t *testing.T) {
	ds := devices(3000)
	rs := []string{"r1", "r2", "r3"}
	seen := map[string]int{}
	for r, share := range Assign(rs, ds) {
		if len(share) < 850 || len(share) > 1150 {
			t.Errorf("replica %s holds %d of 3000 devices: want about 1000", r, len(share))
		}
		for _, d := range share {
			seen[d]++
		}
	}
	for _, d := range ds {
		if seen[d] != 1 {
			t.Errorf("device %s has %d owners, want 1", d, seen[d])
		}
	}
	if Owner("pe1", nil) != "" {
		t.Error("Owner with no replica is not empty")
	}
}

// A replica that joins takes devices only from the others into its own
// share; one that leaves gives only its own share away.
func TestJoinLeaveMovesOneShare(t *testing.T) {
	ds := devices(2000)
	before := []string{"r1", "r2", "r3"}
	after := []string{"r1", "r2", "r3", "r4"}
	for _, d := range ds {
		was, is := Owner(d, before), Owner(d, after)
		if was != is && is != "r4" {
			t.Errorf("r4 joining moved %s from %s to %s", d, was, is)
		}
	}
	left := []string{"r1", "r3"}
	for _, d := range ds {
		was, is := Owner(d, before), Owner(d, left)
		if was != is && was != "r2" {
			t.Errorf("r2 leaving moved %s from %s to %s", d, was, is)
		}
	}
	// The order of the list does not matter.
	for _, d := range ds[:100] {
		if Owner(d, []string{"r3", "r1", "r2"}) != Owner(d, before) {
			t.Errorf("%s: the owner depends on the order of the replicas", d)
		}
	}
}

func BenchmarkShare3000(b *testing.B) {
	ds := devices(3000)
	rs := []string{"r1", "r2", "r3"}
	for b.Loop() {
		Share("r2", rs, ds)
	}
}
