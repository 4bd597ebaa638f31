package irrsim

import (
	"context"
	"log/slog"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// testLogger writes the sim's events to the test's log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func seed(t testing.TB, source string) string {
	b, err := os.ReadFile("testdata/seed.rpsl")
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(b), "JPIRR", source)
}

// startSim starts a Sim with the seed in JPIRR and RADB, closed at the end.
func startSim(t testing.TB, opts Options) *Sim {
	t.Helper()
	if opts.Databases == nil {
		opts.Databases = []DatabaseOptions{
			{Name: "JPIRR", Seed: seed(t, "JPIRR")},
			{Name: "RADB", Seed: seed(t, "RADB")},
		}
	}
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	s, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func slogDiscard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// Start's context ends the Sim as Close does: the servers stop listening.
func TestContextEndsSim(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s, err := Start(ctx, Options{Logger: slogDiscard(), Databases: []DatabaseOptions{{Name: "JPIRR"}}})
	if err != nil {
		t.Fatal(err)
	}
	addr := s.DB("JPIRR").WhoisAddr()
	cancel()
	waitFor(t, "the whois port to close", 5*time.Second, func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	s.Close()
}
