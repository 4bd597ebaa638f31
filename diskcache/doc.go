// Package diskcache is a bounded key-value cache in a folder on disk, which
// several processes may use at once and a crash cannot corrupt. netrecon keeps
// decoded, validated intent documents in it, so that a pull request's plan
// re-validates only the files it changed.
//
// The folder holds segment files, each written whole to a temporary name and
// renamed into place, so a reader sees a segment completely or not at all. A
// segment names the Version that wrote it (the program and the format of its
// values): a Cache reads only its own version's segments, so a value is never
// read by code that would decode it differently. Every record carries a
// CRC-32C of its key and value; a record that fails it, and the rest of its
// segment, is ignored, and what it held is simply missed and rebuilt.
//
// A run reads the segments once at Open and adds what it learned as one new
// segment at Close. Segments are merged when there are more than a few or the
// folder outgrows its bound: the merged segment keeps first what this run
// added and used, then the most recently used of the rest, up to three
// quarters of the bound (the last quarter is for the runs that follow).
// A segment's modification time is its last use (Close touches the segments
// that served a hit), so eviction is least-recently-used, by segment, and a
// segment of another version that nobody used for Options.MaxAge is deleted.
//
// Two runs at once never block each other: each writes its own segment, and
// a segment that another run merged and deleted under one's feet is either
// already read or read as missing. The worst a race costs is a duplicate
// record until the next merge.
//
// The checksum guards against torn writes and disk damage, not against
// someone who can write the folder: whoever can write it can equally replace
// the program that reads it.
package diskcache
