package schema

import (
	"io/fs"
	"testing/fstest"
)

// fuzzFS is a one-file file system.
type fuzzFS struct {
	name string
	data []byte
}

func (f fuzzFS) Open(name string) (fs.File, error) {
	return fstest.MapFS{f.name: {Data: f.data}}.Open(name)
}
