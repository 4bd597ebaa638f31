package schema

import (
	"fmt"
	"io/fs"
	"os"
)

// InsecureFileError is a credential file whose permission bits give its group
// or others access: anyone in the group (or on the machine) could read the
// secret and log in to every device it opens. Beside Credentials, so that the
// drivers and the daemon's own secret files share one check.
type InsecureFileError struct {
	Path string
	Mode fs.FileMode // permission bits
}

func (e *InsecureFileError) Error() string {
	return fmt.Sprintf("credential file %s has mode %04o: its group or others may access it; run chmod 600 %s",
		e.Path, uint32(e.Mode), e.Path)
}

// CheckFileMode returns an *InsecureFileError when the file at path (links
// followed) grants its group or others any permission, and the error of
// os.Stat when it cannot be read.
func CheckFileMode(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return &InsecureFileError{Path: path, Mode: perm}
	}
	return nil
}
