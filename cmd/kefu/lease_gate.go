package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"time"

	"github.com/kefu-dev/kefu/bot"
)

// leaser is storage.DB's lease (a kv row under the database's lock).
type leaser interface {
	Lease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
}

// leaseGate returns a gate for a connection that one replica of several should hold (the Discord
// gateway): it returns once this process holds the named lease, then renews it every ttl/3 until ctx
// is done and gives it up then, so another replica takes over at once after a clean stop and within
// ttl after a crash. Should a renewal find the lease taken (the database was unreachable for a whole
// ttl), both replicas stay connected until restarted: every event then arrives twice and is stored
// once (deduplicated by its platform id), which the log reports.
func leaseGate(db leaser, name string, ttl time.Duration, log *slog.Logger) func(context.Context) error {
	b := make([]byte, 8)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	holder := hex.EncodeToString(b)
	log = log.With("lease", name, "holder", holder)
	return func(ctx context.Context) error {
		waiting := false
		for {
			got, err := db.Lease(ctx, name, holder, ttl)
			if err != nil && ctx.Err() == nil {
				log.WarnContext(ctx, "lease: cannot reach the database; retrying", "err", err)
			}
			if got {
				log.InfoContext(ctx, "lease taken: this replica holds the connection")
				go renewLease(ctx, db, name, holder, ttl, log)
				return nil
			}
			if !waiting {
				waiting = true
				log.InfoContext(ctx, "lease held by another replica; waiting to take over")
			}
			if !bot.Sleep(ctx, ttl/3) {
				return ctx.Err()
			}
		}
	}
}

func renewLease(ctx context.Context, db leaser, name, holder string, ttl time.Duration, log *slog.Logger) {
	t := time.NewTicker(ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			// Give it up now (an expiry a nanosecond away), so that a waiting replica connects at once.
			if _, err := db.Lease(context.WithoutCancel(ctx), name, holder, time.Nanosecond); err != nil {
				log.Warn("lease: could not give it up; it runs out by itself", "err", err)
			}
			return
		case <-t.C:
			got, err := db.Lease(ctx, name, holder, ttl)
			switch {
			case err != nil && ctx.Err() == nil:
				log.WarnContext(ctx, "lease: renewal failed; retrying", "err", err)
			case err == nil && !got:
				log.ErrorContext(ctx, "lease: another replica took it over while this one could not renew; both are connected until one restarts")
			}
		}
	}
}
