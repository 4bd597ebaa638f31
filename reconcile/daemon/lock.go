package daemon

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gofrs/flock"
)

// StateLockedError is a state folder another daemon already serves: two
// daemons on one journal would apply the same commits twice and fight over
// the devices' locks.
type StateLockedError struct {
	Dir  string
	Lock string // the lock file
}

func (e *StateLockedError) Error() string {
	return fmt.Sprintf("state folder %s is in use by another netrecon daemon (lock %s held): stop it, or give this one another state_dir", e.Dir, e.Lock)
}

// lockState takes the state folder's exclusive lock, creating the folder if
// needed. The lock is an flock on STATE/daemon.lock: the kernel drops it when
// the process dies, so a crashed daemon never leaves a stale lock behind.
func lockState(dir string) (*flock.Flock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("state folder: %w", err)
	}
	path := filepath.Join(dir, "daemon.lock")
	l := flock.New(path)
	ok, err := l.TryLock()
	if err != nil {
		return nil, fmt.Errorf("state folder lock %s: %w", path, err)
	}
	if !ok {
		return nil, &StateLockedError{Dir: dir, Lock: path}
	}
	return l, nil
}
