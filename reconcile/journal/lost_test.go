package journal

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A journal that netrecon used and that is now empty or gone must not be
// replaced by a new one in silence: the new one would own nothing, and a
// removal would plan nothing.
func TestOpenRefusesLostJournal(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		lose func(path string) error
	}{
		{"zero length", func(p string) error { return os.Truncate(p, 0) }},
		{"missing", os.Remove},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "journal.db")
			j, err := Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			if err := j.SetState(ctx, "k", "v"); err != nil {
				t.Fatal(err)
			}
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			if err := tc.lose(path); err != nil {
				t.Fatal(err)
			}
			_, err = Open(ctx, path)
			var le *LostError
			if !errors.As(err, &le) || le.Path != path {
				t.Fatalf("want a *LostError for %s, got %v", path, err)
			}
			for _, want := range []string{path, "missing or empty", "move the state folder " + filepath.Dir(path) + " aside"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			// Left as found: no new journal was made.
			if fi, err := os.Stat(path); err == nil && fi.Size() != 0 {
				t.Errorf("a new journal was written (%d bytes)", fi.Size())
			}
		})
	}
}

// A folder whose other contents show it was used (the daemon's mirror) is
// used, whatever the journal's own marker says.
func TestOpenRefusesMissingJournalBesideSigns(t *testing.T) {
	dir := t.TempDir()
	mirror := filepath.Join(dir, "mirror")
	if err := os.Mkdir(mirror, 0o700); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), filepath.Join(dir, "journal.db"), WithStateSigns(mirror))
	var le *LostError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), mirror) {
		t.Fatalf("want a *LostError naming %s, got %v", mirror, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "journal.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("journal created: %v", err)
	}
}

func TestOpenCreatesInFreshFolder(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "journal.db")
	// A zero-length file with no marker is a creation that died before the
	// schema was written: nothing was ever recorded in it.
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	j, err := Open(context.Background(), path, WithStateSigns(filepath.Join(dir, "mirror")))
	if err != nil {
		t.Fatalf("fresh folder: %v", err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + markerSuffix); err != nil {
		t.Errorf("marker not written: %v", err)
	}
}

// A journal written before the marker existed gets one when opened.
func TestOpenMarksExistingJournal(t *testing.T) {
	ctx := context.Background()
	j, path := openTemp(t)
	_ = j
	if err := os.Remove(path + markerSuffix); err != nil {
		t.Fatal(err)
	}
	j2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	j2.Close()
	if _, err := os.Stat(path + markerSuffix); err != nil {
		t.Errorf("marker not written: %v", err)
	}
}
