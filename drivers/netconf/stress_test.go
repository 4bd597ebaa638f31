package netconf

import (
	"context"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netrecon/netrecon/lab/labtest"
)

// TestLabLostFirstReply measures the yuma123 quirk behind WithSettleAfterHello:
// the reply to an RPC sent right after the hello is sometimes lost. It opens
// 30 sessions at once over the lab's devices, sends one get-config each, with
// and without the settle pause, and reports how many replies never came. It is
// heavy for a shared 2-core machine, so it runs only with NETRECON_LAB_STRESS=1.
func TestLabLostFirstReply(t *testing.T) {
	if os.Getenv("NETRECON_LAB_STRESS") != "1" {
		t.Skip("set NETRECON_LAB_STRESS=1 to run (30 parallel sessions)")
	}
	lab := labtest.Load(t)
	auth, err := KeyFileAuth(lab.KeyFile())
	if err != nil {
		t.Fatal(err)
	}
	devs := lab.Devices()
	const sessions = 30
	for _, settle := range []time.Duration{0, labSettle} {
		var lost, failed atomic.Int32
		var wg sync.WaitGroup
		for i := range sessions {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := Dial(context.Background(), labTarget(lab, devs[i%len(devs)], auth),
					WithSettleAfterHello(settle), WithRPCTimeout(3*time.Second), WithDialTimeout(30*time.Second))
				if err != nil {
					failed.Add(1)
					return
				}
				defer s.Close(context.Background())
				_, err = s.GetConfig(context.Background(), Running, nil)
				var te *TimeoutError
				if errors.As(err, &te) {
					lost.Add(1)
				} else if err != nil {
					failed.Add(1)
				}
			}()
		}
		wg.Wait()
		t.Logf("settle %s: %d of %d first replies lost, %d other failures", settle, lost.Load(), sessions, failed.Load())
		if settle > 0 && lost.Load() > 0 {
			t.Errorf("with a %s settle, %d replies were still lost", settle, lost.Load())
		}
	}
}
