package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// TestLeaseGate: of two replicas, one passes the gate at once and the other waits; when the first
// stops, the second passes within a third of the lease's time to live (the lease is given up, not left
// to run out); a crashed holder (never renewing, never giving up) is taken over after the ttl.
func TestLeaseGate(t *testing.T) {
	db := openTestDB(t, filepath.Join(t.TempDir(), "kefu.db"))
	log := slog.New(slog.DiscardHandler)
	const ttl = 600 * time.Millisecond
	a, b := leaseGate(db, "test-gateway", ttl, log), leaseGate(db, "test-gateway", ttl, log)

	actx, stopA := context.WithCancel(context.Background())
	if err := a(actx); err != nil {
		t.Fatalf("first replica: %v", err)
	}
	var passed atomic.Int64 // unix ms when b passed
	bctx, stopB := context.WithCancel(context.Background())
	defer stopB()
	go func() {
		if b(bctx) == nil {
			passed.Store(time.Now().UnixMilli())
		}
	}()
	time.Sleep(2 * ttl) // a renews meanwhile: b must keep waiting
	if passed.Load() != 0 {
		t.Fatal("the second replica passed while the first held the lease")
	}
	stopped := time.Now()
	stopA()
	waitWithin(t, 5*time.Second, "the second replica taking over", func() bool { return passed.Load() != 0 })
	if d := time.UnixMilli(passed.Load()).Sub(stopped); d > ttl {
		t.Errorf("took over %v after a clean stop; want within ttl/3 (%v) plus a poll", d, ttl/3)
	}

	// A crashed holder: its lease is left to run out.
	if got, err := db.Lease(context.Background(), "crashed", "dead-holder", ttl); err != nil || !got {
		t.Fatal(got, err)
	}
	start := time.Now()
	if err := leaseGate(db, "crashed", ttl, log)(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < ttl/2 || d > 3*ttl {
		t.Errorf("took over a crashed holder's lease after %v; want about the ttl (%v)", d, ttl)
	}
	// A waiting gate whose process stops returns the context's error.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := leaseGate(db, "test-gateway", ttl, log)(ctx); err == nil {
		t.Error("a gate waiting on a held lease passed")
	}
}
