package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/kefu-dev/kefu/storage"
)

// retentionEvery is the retention job's period; every process checks four times as often, and the
// first to claim a period runs it (storage.DB.Retain), so a restart never skips or repeats one.
const retentionEvery = time.Hour

// retentionWorker deletes delivered outbox rows and idle web chat sessions older than keep.
func retentionWorker(db *storage.DB, keep time.Duration, log *slog.Logger) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		t := time.NewTicker(retentionEvery / 4)
		defer t.Stop()
		for {
			if _, _, err := db.Retain(ctx, time.Now(), retentionEvery, storage.Retention{Outbox: keep, WebSessions: keep}); err != nil && ctx.Err() == nil {
				log.ErrorContext(ctx, "retention run failed", "err", err)
			}
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
			}
		}
	}
}
