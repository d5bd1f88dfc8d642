package storage

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"
)

// outage tracks whether the database answers, so that callers can tell a failure caused by an
// outage (answer 503, log once) from a bug (answer 500, log every time). Issue 15: while PostgreSQL
// was down the API logged one ERROR per request, 4,488 lines in 45 s.
type outage struct {
	mu      sync.Mutex
	down    bool
	checked time.Time
	since   time.Time
}

// How often Down pings at most while callers keep failing, and how often the watcher pings until
// the database is back.
const (
	outageRecheck = 500 * time.Millisecond
	outageWatch   = time.Second
)

// Down reports whether the database is unreachable now. Call it after an operation failed: it pings
// (at most every half second, the answer is shared meanwhile). The first time it finds the database
// down it logs that once, and a watcher pings every second until the database answers again, then
// logs that once.
func (db *DB) Down(ctx context.Context) bool {
	o := &db.out
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.down || time.Since(o.checked) < outageRecheck {
		return o.down
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	err := db.ping(pctx)
	cancel()
	o.checked = time.Now()
	if err == nil || isClosed(err) {
		return false
	}
	o.down, o.since = true, o.checked
	db.log.ErrorContext(ctx, "database unavailable; answering 503 until it is back (logged once)", "err", err)
	go db.watchOutage()
	return true
}

// watchOutage pings until the database answers (or is closed), then ends the outage.
func (db *DB) watchOutage() {
	for {
		time.Sleep(outageWatch)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := db.ping(ctx)
		cancel()
		if err != nil && !isClosed(err) {
			continue
		}
		o := &db.out
		o.mu.Lock()
		o.down, o.checked = false, time.Now()
		since := o.since
		o.mu.Unlock()
		if err == nil {
			db.log.Info("database available again", "outage", time.Since(since).Round(time.Second).String())
		}
		return
	}
}

func isClosed(err error) bool {
	return err != nil && (errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "database is closed"))
}
