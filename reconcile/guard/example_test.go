package guard_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/netrecon/netrecon/reconcile/guard"
	"github.com/netrecon/netrecon/schema"
)

// Guards as the apply engine combines them: cheap local checks first; the
// first deferral wins, and a deferred device is retried, not failed.
func ExampleAll() {
	w, err := guard.ParseWindow(guard.WindowSpec{
		Name: "tokyo-evening", Days: []string{"mon", "tue", "wed", "thu", "fri"},
		At: "18:00", Duration: "4h", Timezone: "Asia/Tokyo",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	now := func() time.Time { return time.Date(2026, 11, 27, 10, 30, 0, 0, time.UTC) } // Friday 19:30 in Tokyo
	freeze, err := guard.FreezeWindows([]guard.Window{w}, now)
	if err != nil {
		fmt.Println(err)
		return
	}
	g := guard.All(guard.Maintenance(), freeze)

	err = g.Check(context.Background(), &schema.Device{Name: "pe1"}, nil)
	var deferred *guard.DeferredError
	if errors.As(err, &deferred) {
		fmt.Println(deferred.Guard, "|", deferred.Reason, "| retry in", deferred.RetryAfter)
	}
	err = g.Check(context.Background(), &schema.Device{Name: "pe2", Maintenance: true}, nil)
	fmt.Println(err)
	// Output:
	// freeze-window | freeze window "tokyo-evening" open until 2026-11-27 22:00 JST | retry in 2h30m0s
	// pe2: deferred by guard maintenance: device in maintenance (inventory)
}
