package storage

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// OutboxBacklog is the state of one channel's outbox, for monitoring (kefu_outbox_* metrics).
type OutboxBacklog struct {
	Channel       string
	Pending       int64
	Failed        int64
	OldestPending time.Time // zero when nothing is pending
}

// OutboxBacklog counts pending and failed rows per channel and finds each channel's oldest pending
// row. It reads indexes only (outbox_status_next, outbox_chat) and is cheap enough for every scrape.
func (db *DB) OutboxBacklog(ctx context.Context) ([]OutboxBacklog, error) {
	g := db.gdb.WithContext(ctx)
	var counts []struct {
		Channel string
		Status  string
		N       int64
	}
	if err := g.Raw(`SELECT channel, status, COUNT(*) AS n FROM outbox WHERE status IN (?, ?) GROUP BY channel, status`,
		outboxPending, outboxFailed).Scan(&counts).Error; err != nil {
		return nil, fmt.Errorf("storage: outbox backlog: %w", err)
	}
	var out []OutboxBacklog
	idx := map[string]int{}
	for _, c := range counts {
		if _, ok := idx[c.Channel]; !ok {
			idx[c.Channel] = len(out)
			out = append(out, OutboxBacklog{Channel: c.Channel})
		}
		b := &out[idx[c.Channel]]
		switch c.Status {
		case outboxPending:
			b.Pending = c.N
		case outboxFailed:
			b.Failed = c.N
		}
	}
	for i := range out {
		if out[i].Pending == 0 {
			continue
		}
		var oldest []outboxRow
		if err := g.Select("id", "created_at").Where("status = ? AND channel = ?", outboxPending, out[i].Channel).
			Order("id").Limit(1).Find(&oldest).Error; err != nil {
			return nil, fmt.Errorf("storage: outbox backlog: %w", err)
		}
		if len(oldest) == 1 {
			out[i].OldestPending = oldest[0].CreatedAt
		}
	}
	return out, nil
}

// SQLDB is the connection pool, for its statistics (kefu_db_* metrics).
func (db *DB) SQLDB() (*sql.DB, error) {
	s, err := db.gdb.DB()
	if err != nil {
		return nil, fmt.Errorf("storage: pool: %w", err)
	}
	return s, nil
}

// setPool sizes the pool: n open connections, Options.MaxIdleConns idle (default n), and
// Options.ConnMaxLifetime.
func setPool(p *sql.DB, n int, o Options) {
	p.SetMaxOpenConns(n)
	idle := o.MaxIdleConns
	if idle <= 0 || idle > n {
		idle = n
	}
	p.SetMaxIdleConns(idle)
	p.SetConnMaxLifetime(max(o.ConnMaxLifetime, 0))
}
