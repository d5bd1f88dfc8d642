package storage

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// WAL checkpoints off the writer's path (issue 14). In WAL mode SQLite appends every commit to the
// write-ahead log and copies the log back into the database file in a checkpoint. By default the
// connection whose COMMIT takes the log past 1,000 pages runs that checkpoint itself, with an fsync of
// the database file, before its COMMIT returns: under the 16-customer load that was the group-commit
// writer about every 300 messages, 6 ms each time (a sixth of the writer's wall time, all of it
// waiting), and every customer in that batch and the queue behind it waited too. Here a goroutine
// runs a PASSIVE checkpoint every checkpointEvery on its own connection, which never blocks writers
// (the writer keeps appending while it copies); a connection checkpoints by itself only past
// writerCheckpointPages, a safety net for when this goroutine falls behind.
const (
	checkpointEvery       = 100 * time.Millisecond
	writerCheckpointPages = 4000 // 16 MiB of log at 4 KiB pages
)

type checkpointer struct {
	quit     chan struct{}
	finished chan struct{}
	stop     sync.Once
	runs     atomic.Int64 // checkpoints run
	copied   atomic.Int64 // pages copied back into the database file
}

func (db *DB) startCheckpointer() {
	c := &checkpointer{quit: make(chan struct{}), finished: make(chan struct{})}
	db.ckpt = c
	go db.checkpointLoop(c)
}

func (db *DB) stopCheckpointer() {
	if c := db.ckpt; c != nil {
		c.stop.Do(func() { close(c.quit) })
		<-c.finished
	}
}

func (db *DB) checkpointLoop(c *checkpointer) {
	defer close(c.finished)
	sqlDB, err := db.gdb.DB()
	if err != nil {
		db.log.Error("sqlite checkpointer not started", "err", err)
		return
	}
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	var last int64 // log frames at the last checkpoint: an unchanged log needs none
	for {
		select {
		case <-c.quit:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		var busy, logFrames, copied int64
		err := sqlDB.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logFrames, &copied)
		cancel()
		if err != nil {
			db.log.Debug("sqlite checkpoint failed; the next tick tries again", "err", err)
			continue
		}
		if logFrames != last {
			c.runs.Add(1)
			c.copied.Add(copied)
			last = logFrames
		}
	}
}

// CheckpointStats is what the background checkpointer did (SQLite; zero elsewhere): checkpoints that
// found new log frames, and pages they copied back in all.
func (db *DB) CheckpointStats() (runs, pages int64) {
	if c := db.ckpt; c != nil {
		return c.runs.Load(), c.copied.Load()
	}
	return 0, 0
}
