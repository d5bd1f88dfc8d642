package storage

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"
)

// Retention says how long delivered bookkeeping is kept. Zero values take the defaults.
type Retention struct {
	// Outbox: sent and failed outbox rows older than this are deleted (default 30 days). The
	// conversation's messages (the transcript) are kept; only the delivery bookkeeping goes.
	Outbox time.Duration
	// WebSessions: web chat sessions older than this with no message in as long are deleted (default
	// 30 days); the page then starts a new chat.
	WebSessions time.Duration
}

// RetentionStats counts what one run deleted.
type RetentionStats struct {
	Outbox, WebSessions, Owners int64
}

const (
	retentionKey   = "retention:last"
	retentionBatch = 1000
)

// Retain runs the retention job unless some process (this one or another on the same database) ran
// it less than every ago: the run is claimed with one conditional UPDATE of a kv row, so across any
// number of processes exactly one runs it per period. ran reports whether this call did. Rows are
// deleted in batches of retentionBatch, each its own statement, so that no lock is held for long.
func (db *DB) Retain(ctx context.Context, now time.Time, every time.Duration, r Retention) (ran bool, st RetentionStats, err error) {
	if r.Outbox <= 0 {
		r.Outbox = 30 * 24 * time.Hour
	}
	if r.WebSessions <= 0 {
		r.WebSessions = 30 * 24 * time.Hour
	}
	now = now.UTC()
	g := db.gdb.WithContext(ctx)
	if err := g.Clauses(clause.OnConflict{DoNothing: true}).Create(&kvRow{Key: retentionKey, Value: "", UpdatedAt: now}).Error; err != nil {
		return false, st, fmt.Errorf("storage: retention: %w", err)
	}
	res := g.Model(&kvRow{}).Where("key = ? AND (value = '' OR updated_at <= ?)", retentionKey, now.Add(-every)).
		Updates(map[string]any{"value": "ran", "updated_at": now})
	if res.Error != nil {
		return false, st, fmt.Errorf("storage: retention: claim the run: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return false, st, nil // another process ran it within the period
	}
	outboxBefore, webBefore := now.Add(-r.Outbox), now.Add(-r.WebSessions)
	del := func(n *int64, q string, args ...any) error {
		for {
			res := g.Exec(q, args...)
			if res.Error != nil {
				return res.Error
			}
			*n += res.RowsAffected
			if res.RowsAffected < retentionBatch {
				return nil
			}
		}
	}
	if err := del(&st.Outbox, `DELETE FROM outbox WHERE id IN (SELECT id FROM outbox
WHERE status IN ('sent', 'failed') AND created_at < ? LIMIT ?)`, outboxBefore, retentionBatch); err != nil {
		return true, st, fmt.Errorf("storage: retention: outbox: %w", err)
	}
	if err := del(&st.WebSessions, `DELETE FROM web_sessions WHERE id IN (SELECT s.id FROM web_sessions s
WHERE s.created_at < ? AND NOT EXISTS (SELECT 1 FROM outbox o
    WHERE o.channel = 'web' AND o.chat_id = s.id AND o.created_at >= ?) LIMIT ?)`, webBefore, webBefore, retentionBatch); err != nil {
		return true, st, fmt.Errorf("storage: retention: web sessions: %w", err)
	}
	res = g.Where("alive_until < ?", now.Add(-time.Hour)).Delete(&outboxOwner{})
	if res.Error != nil {
		return true, st, fmt.Errorf("storage: retention: dispatcher heartbeats: %w", res.Error)
	}
	st.Owners = res.RowsAffected
	db.log.InfoContext(ctx, "retention run", "outbox_rows", st.Outbox, "web_sessions", st.WebSessions, "dead_dispatchers", st.Owners)
	return true, st, nil
}
