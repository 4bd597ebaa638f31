package main

import (
	"crypto/sha256"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/netrecon/netrecon/diskcache"
)

// The document cache's environment (docs/cache.md).
const (
	envCacheDir = "NETRECON_CACHE_DIR"
	envNoCache  = "NETRECON_NO_CACHE"
)

// cacheFlags choose the document cache of the verbs that load intent for
// review (validate, plan --base): never of apply or the daemon, which
// validate everything they act on.
type cacheFlags struct {
	dir      string
	off      bool
	maxBytes int64
}

func (f *cacheFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.dir, "cache-dir", "", "folder of the document cache (default: $"+envCacheDir+", else netrecon/ in the user cache folder)")
	cmd.Flags().BoolVar(&f.off, "no-cache", false, "neither read nor write the document cache (also "+envNoCache+"=1)")
	cmd.Flags().Int64Var(&f.maxBytes, "cache-max-size", diskcache.DefaultMaxBytes, "bound of the document cache folder, in bytes")
}

// folder is where the cache lives, or "" when it is off. --cache-dir
// turns it on whatever the environment says.
func (f *cacheFlags) folder() (string, error) {
	if f.off || (f.dir == "" && os.Getenv(envNoCache) != "" && os.Getenv(envNoCache) != "0") {
		return "", nil
	}
	return f.location()
}

// location is where the cache lives when it is on.
func (f *cacheFlags) location() (string, error) {
	if f.dir != "" {
		return f.dir, nil
	}
	if d := os.Getenv(envCacheDir); d != "" {
		return d, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no user cache folder (give --cache-dir or --no-cache): %w", err)
	}
	return filepath.Join(base, "netrecon"), nil
}

// open opens the cache, or returns nil when it is off or unusable: a plan
// without the cache is slower, never wrong, so a problem is a warning.
func (f *cacheFlags) open(a *app) *diskcache.Cache {
	dir, err := f.folder()
	if dir == "" {
		if err != nil {
			fmt.Fprintf(a.stderr, "netrecon: warning: document cache off: %v\n", err)
		}
		return nil
	}
	id, err := buildID()
	if err != nil {
		fmt.Fprintf(a.stderr, "netrecon: warning: document cache off: %v\n", err)
		return nil
	}
	c, err := diskcache.Open(dir, diskcache.Options{Version: id, MaxBytes: f.maxBytes})
	if err != nil {
		fmt.Fprintf(a.stderr, "netrecon: warning: document cache off: %v\n", err)
		return nil
	}
	return c
}

// closeCache writes what the run added; a failure costs the next run time
// only, so it is a warning.
func closeCache(a *app, c *diskcache.Cache) {
	if c == nil {
		return
	}
	if err := c.Close(); err != nil {
		fmt.Fprintf(a.stderr, "netrecon: warning: document cache not saved: %v\n", err)
	}
}

// buildID identifies this build for the cache, so that entries are only
// read by the code that wrote them: the version and the commit it was
// built from when the build says so and its tree was clean, otherwise the
// Go build ID the binary carries, or a hash of the binary itself (a
// developer's build, or one made with -buildvcs=false).
func buildID() (string, error) {
	if bi, ok := debug.ReadBuildInfo(); ok {
		var rev, modified string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
		if rev != "" && modified == "false" {
			return fmt.Sprintf("netrecon %s %s %s %s/%s", version, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH), nil
		}
		if v := bi.Main.Version; rev == "" && strings.HasPrefix(v, "v") && !strings.Contains(v, "+dirty") {
			// A module version: immutable in the module proxy.
			return fmt.Sprintf("netrecon %s %s %s/%s", v, runtime.Version(), runtime.GOOS, runtime.GOARCH), nil
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("cannot identify this build: %w", err)
	}
	if id, ok := goBuildID(exe); ok {
		return "netrecon go build " + id, nil
	}
	f, err := os.Open(exe)
	if err != nil {
		return "", fmt.Errorf("cannot identify this build: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("cannot identify this build: %w", err)
	}
	return fmt.Sprintf("netrecon binary %x", h.Sum(nil)), nil
}

// goBuildID is the build ID the Go linker writes into an ELF binary's
// .note.go.buildid note (what `go tool buildid` prints): its last part
// hashes the binary's content, so it names this build as the binary's hash
// does, read from a few hundred bytes instead of the whole file (hashing
// 54 MB took 40-50 ms of every validate and offline plan, on the path
// before any document is read).
func goBuildID(exe string) (string, bool) {
	f, err := elf.Open(exe)
	if err != nil {
		return "", false
	}
	defer f.Close()
	sec := f.Section(".note.go.buildid")
	if sec == nil {
		return "", false
	}
	note, err := sec.Data()
	if err != nil || len(note) < 16 {
		return "", false
	}
	// One ELF note: name size, description size, type, then the name and
	// the description, each padded to 4 bytes.
	order := f.ByteOrder
	nameSize, descSize, typ := order.Uint32(note[0:]), order.Uint32(note[4:]), order.Uint32(note[8:])
	nameEnd := 12 + (uint64(nameSize)+3)&^3
	if typ != 4 || nameSize < 3 || nameSize > 4 || uint64(len(note)) < nameEnd+uint64(descSize) || string(note[12:15]) != "Go\x00" || descSize == 0 {
		return "", false
	}
	return string(note[nameEnd : nameEnd+uint64(descSize)]), true
}

func newCacheCmd(a *app) *cobra.Command {
	var f cacheFlags
	cmd := &cobra.Command{
		Use:   "cache {path|clear}",
		Short: "Show or clear the document cache that speeds up validate and plan",
		Long: `validate and plan --base keep each intent file they decoded and validated in a
cache folder, keyed by the file's path and content, the schema that validated it and
this netrecon build, so that the next run re-validates only the files that changed.
'cache path' prints the folder; 'cache clear' empties it. Deleting the folder is as
good: the cache is rebuilt on the next run.`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"path", "clear"},
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := f.location()
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			switch args[0] {
			case "path":
				fmt.Fprintln(a.stdout, dir)
			case "clear":
				if err := diskcache.Clear(dir); err != nil {
					return &exitError{code: 1, err: err}
				}
				fmt.Fprintf(a.stderr, "Cleared the document cache in %s\n", dir)
			default:
				return &exitError{code: 2, err: fmt.Errorf("unknown cache action %q. Actions are %q", args[0], cmd.ValidArgs)}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&f.dir, "cache-dir", "", "folder of the document cache (default: $"+envCacheDir+", else netrecon/ in the user cache folder)")
	return cmd
}
