package storage

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"gorm.io/gorm"

	"github.com/kefu-dev/kefu/bot"
)

// Group commit (issue 14). SQLite has one writer at a time: per-message transactions queue on its
// write lock, and the waiters poll for it (SQLite's busy handler sleeps 1–100 ms between tries), so
// the lock sits idle while the next writer sleeps, and every message pays its own COMMIT. With group
// commit one writer goroutine takes the customers' message transactions as they arrive and runs
// those waiting together in one transaction with one COMMIT; each caller returns when its batch has
// committed. A batch member that fails (an error or a panic) rolls the batch back and every member
// is run again on its own (Tx's contract: fn may be re-run), so one message's failure never loses or
// changes another's. Hand-written: database/sql and gorm have no group commit; it is a channel and
// a loop.

// groupMax bounds a batch: the transaction holds SQLite's write lock while it runs.
const groupMax = 64

type groupReq struct {
	ctx  context.Context
	fn   func(bot.Tx) error
	done chan groupResult
}

type groupResult struct {
	err      error
	panicked any // re-panicked in the caller's goroutine
}

type committer struct {
	reqs     chan *groupReq
	quit     chan struct{}
	finished chan struct{}
	stop     sync.Once
}

func (db *DB) startGroupCommit() {
	c := &committer{reqs: make(chan *groupReq), quit: make(chan struct{}), finished: make(chan struct{})}
	db.group = c
	go db.groupLoop(c)
}

func (db *DB) stopGroupCommit() {
	if c := db.group; c != nil {
		c.stop.Do(func() { close(c.quit) })
		<-c.finished
	}
}

var _ bot.GroupCommitter = (*DB)(nil)

// GroupTx implements bot.GroupCommitter: on SQLite opened with Options.GroupCommit, fn joins the next
// batch of the writer goroutine; otherwise (PostgreSQL, whose commits already run concurrently) it is
// Tx. It returns once fn's writes are committed or have failed, even when ctx ends meanwhile (fn may
// be running): a cancelled ctx does not interrupt a batch.
func (db *DB) GroupTx(ctx context.Context, fn func(bot.Tx) error) error {
	c := db.group
	if c == nil {
		return db.Tx(ctx, fn)
	}
	r := &groupReq{ctx: ctx, fn: fn, done: make(chan groupResult, 1)}
	select {
	case c.reqs <- r:
	case <-c.quit:
		return db.Tx(ctx, fn)
	case <-ctx.Done():
		return fmt.Errorf("storage: group commit: %w", ctx.Err())
	}
	res := <-r.done
	if res.panicked != nil {
		panic(res.panicked)
	}
	return res.err
}

func (db *DB) groupLoop(c *committer) {
	defer close(c.finished)
	batch := make([]*groupReq, 0, groupMax)
	for {
		batch = batch[:0]
		select {
		case r := <-c.reqs:
			batch = append(batch, r)
		case <-c.quit:
			return
		}
		// Everyone already waiting joins: batches grow with the load, and a lone message is not
		// delayed.
	more:
		for len(batch) < groupMax {
			select {
			case r := <-c.reqs:
				batch = append(batch, r)
			default:
				break more
			}
		}
		db.runBatch(batch)
	}
}

// runBatch commits batch's members together, or, when that fails, each on its own.
func (db *DB) runBatch(batch []*groupReq) {
	live := make([]*groupReq, 0, len(batch))
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- groupResult{err: fmt.Errorf("storage: group commit: %w", err)}
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	failed, res, err := db.commitTogether(live)
	switch {
	case err == nil:
		for _, r := range live {
			r.done <- groupResult{}
		}
		return
	case failed >= 0 && len(live) == 1:
		// Alone in its batch: its own failure, rolled back, is its answer (as from Tx).
		live[0].done <- res
		return
	}
	db.log.Debug("group commit failed; committing each message on its own", "batch", len(live), "err", err)
	for _, r := range live {
		r.done <- db.alone(r)
	}
}

// alone runs one member in its own transaction (Tx, with its retries), capturing a panic.
func (db *DB) alone(r *groupReq) (res groupResult) {
	defer func() {
		if p := recover(); p != nil {
			res = groupResult{panicked: p}
		}
	}()
	return groupResult{err: db.Tx(r.ctx, r.fn)}
}

// commitTogether runs every member's fn in one transaction and commits it. A member's error or panic
// rolls everything back: failed is its index and res what it returned (failed is -1 when BEGIN or
// COMMIT failed).
func (db *DB) commitTogether(batch []*groupReq) (failed int, res groupResult, err error) {
	failed = -1
	sqlDB, err := db.gdb.DB()
	if err != nil {
		return failed, res, err
	}
	ctx := context.Background() // the batch outlives any one caller's request
	stx, err := sqlDB.BeginTx(ctx, nil)
	if err != nil {
		return failed, res, fmt.Errorf("begin: %w", err)
	}
	committed := false
	defer func() {
		if p := recover(); p != nil {
			res = groupResult{panicked: p}
			err = fmt.Errorf("storage: group commit: member %d panicked: %v", failed, p)
		}
		if !committed {
			stx.Rollback()
		}
	}()
	for i, r := range batch {
		failed = i
		// A statement of a cancelled request must not interrupt the batch (SQLite's interrupt rolls
		// back the whole transaction): the members' statements run detached from their contexts'
		// cancellation, like the COMMIT they wait for.
		g := db.gdb.Session(&gorm.Session{NewDB: true, Context: ctx})
		g.Statement.ConnPool = detachedPool{stx}
		ts := &txStore{reader: reader{g: g, dialect: db.dialect, keys: db.keys}, sla: db.sla, hot: db.hot}
		ferr := r.fn(ts)
		if ferr == nil {
			ferr = ts.flush(ctx)
		}
		if ferr != nil {
			return failed, groupResult{err: ferr}, ferr
		}
	}
	failed = -1
	if err := stx.Commit(); err != nil {
		return failed, res, fmt.Errorf("commit: %w", err)
	}
	committed = true
	return failed, res, nil
}

// detachedPool runs statements on a transaction without their contexts' cancellation (values are
// kept).
type detachedPool struct{ tx *sql.Tx }

var _ gorm.ConnPool = detachedPool{}

func (d detachedPool) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return d.tx.PrepareContext(context.WithoutCancel(ctx), query)
}

func (d detachedPool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return d.tx.ExecContext(context.WithoutCancel(ctx), query, args...)
}

func (d detachedPool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return d.tx.QueryContext(context.WithoutCancel(ctx), query, args...)
}

func (d detachedPool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return d.tx.QueryRowContext(context.WithoutCancel(ctx), query, args...)
}
