// Package shard assigns devices to the replicas that share a journal, by
// rendezvous (highest random weight) hashing: each device goes to the live
// replica whose hash of (replica, device) is highest. The assignment needs
// no coordination, every replica computes the same one from the same list of
// live leases, and a replica that joins or leaves moves only its own share:
// a device's winner changes only when the winner itself left or the newcomer
// beats it.
//
// The assignment is advice; the journal's device_owners and fencing tokens
// are the rule (journal.ClaimDevices): a replica writes only for a device it
// claimed while no live lease held it.
package shard
