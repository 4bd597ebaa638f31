package journal

import (
	"context"
	"errors"
	"testing"
)

func TestOrdersOnePerID(t *testing.T) {
	ctx := context.Background()
	j, _ := openTemp(t)
	o := Order{ID: "SO-1", Digest: "d1", Body: "{}", State: "proposing", Path: "services/acme/a.yaml", Branch: "order/SO-1"}
	got, added, err := j.AddOrder(ctx, o)
	if err != nil || !added || got.ID != "SO-1" || got.Created.IsZero() {
		t.Fatalf("first: %+v added=%v err=%v", got, added, err)
	}
	again, added, err := j.AddOrder(ctx, Order{ID: "SO-1", Digest: "d2", State: "proposing"})
	if err != nil || added || again.Digest != "d1" {
		t.Fatalf("second: %+v added=%v err=%v; want the first kept", again, added, err)
	}
	got.State, got.PRURL, got.Commit = "pr_open", "https://github.example/p/1", "abc"
	if err := j.UpdateOrder(ctx, got); err != nil {
		t.Fatal(err)
	}
	read, err := j.Order(ctx, "SO-1")
	if err != nil || read.State != "pr_open" || read.PRURL != got.PRURL || read.Commit != "abc" || read.Path != o.Path {
		t.Fatalf("read %+v, %v", read, err)
	}
	open, err := j.OrdersIn(ctx, "pr_open", "merged")
	if err != nil || len(open) != 1 || open[0].ID != "SO-1" {
		t.Fatalf("OrdersIn: %+v, %v", open, err)
	}
	if _, err := j.Order(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing order: %v; want ErrNotFound", err)
	}
	if err := j.UpdateOrder(ctx, Order{ID: "nope"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("update of a missing order: %v; want ErrNotFound", err)
	}
}
