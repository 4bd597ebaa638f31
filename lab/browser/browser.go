// Package browser starts the headless Chromium that the status page's tests
// drive (chromedp over the DevTools protocol): Debian's /usr/bin/chromium,
// which lab/lab.sh install puts there. A test that needs it fails under
// CI=true when it is missing and skips otherwise (labtest.Missing).
//
// Only tests import this package.
package browser

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/netrecon/netrecon/lab/labtest"
)

// EnvChromium overrides the browser's path.
const EnvChromium = "NETRECON_CHROMIUM"

// Start runs a headless Chromium for the test, closed when it ends, and
// returns the context of its first tab, a window of width×height.
func Start(t testing.TB, width, height int) context.Context {
	t.Helper()
	path := os.Getenv(EnvChromium)
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := exec.LookPath(path); err != nil {
		labtest.Missing(t, "no Chromium at %s (lab/lab.sh install puts Debian's there; $%s names another): %v", path, EnvChromium, err)
		return nil
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.WindowSize(width, height),
		chromedp.Flag("disable-gpu", true),
		// Its own profile, so that tests never share storage or a lock.
		chromedp.UserDataDir(t.TempDir()),
	)
	if os.Geteuid() == 0 {
		// Chromium refuses to start its sandbox as root (CI's containers
		// run tests as root); the pages it loads are the test's own.
		opts = append(opts, chromedp.NoSandbox)
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first run starts the browser, and a browser that cannot start
	// fails here with its reason. It takes no timeout: chromedp ties the
	// browser's life to the context of this first call.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium %s: %v", path, err)
	}
	return ctx
}

// Screenshot saves png as name in the artifacts folder (labtest.Artifacts)
// and says where.
func Screenshot(t testing.TB, name string, png []byte) string {
	t.Helper()
	p := filepath.Join(labtest.Artifacts(t), name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	t.Logf("screenshot: %s", p)
	return p
}
