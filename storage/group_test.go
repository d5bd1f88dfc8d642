package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
)

func openGroup(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "kefu.db"), Options{GroupCommit: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func inbound(chat string) bot.Event {
	return bot.Event{Channel: bot.ChannelWeb, MsgID: "m-" + chat, ChatID: chat, UserID: chat, Kind: bot.KindText,
		Text: "hello " + chat, At: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)}
}

func countInbound(t *testing.T, db *DB, chat string) int {
	t.Helper()
	var n int64
	if err := db.gdb.Raw("SELECT COUNT(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE c.chat_id = ? AND m.direction = 'in'", chat).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// holdWriter makes the writer goroutine busy until the returned func is called, so that the next
// callers queue up and form one batch.
func holdWriter(t *testing.T, db *DB) (release func()) {
	t.Helper()
	started, hold := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- db.GroupTx(context.Background(), func(tx bot.Tx) error {
			close(started)
			<-hold
			_, err := tx.SaveInbound(context.Background(), inbound("holder"))
			return err
		})
	}()
	<-started
	return func() {
		close(hold)
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// TestGroupCommitSharesOneTransaction: callers that arrive while the writer is busy are committed
// together, in one transaction, and each sees its writes committed when GroupTx returns.
func TestGroupCommitSharesOneTransaction(t *testing.T) {
	db := openGroup(t)
	release := holdWriter(t, db)
	const n = 8
	var (
		mu  sync.Mutex
		txs = map[*sql.Tx]int{}
		wg  sync.WaitGroup
	)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			chat := fmt.Sprint("c", i)
			err := db.GroupTx(context.Background(), func(tx bot.Tx) error {
				mu.Lock()
				txs[tx.(*txStore).g.Statement.ConnPool.(detachedPool).tx]++
				mu.Unlock()
				_, err := tx.SaveInbound(context.Background(), inbound(chat))
				return err
			})
			if err != nil {
				t.Error(err)
				return
			}
			if got := countInbound(t, db, chat); got != 1 {
				t.Errorf("%s: %d inbound rows after GroupTx returned, want 1", chat, got)
			}
		}()
	}
	time.Sleep(100 * time.Millisecond) // all eight wait for the writer
	release()
	wg.Wait()
	if len(txs) != 1 {
		t.Errorf("%d callers committed in %d transactions, want 1: %v", n, len(txs), txs)
	}
}

// TestGroupCommitFailureLosesNothing: in a batch, one caller's error and another's panic roll back
// only their own writes; every other caller's message is stored exactly once.
func TestGroupCommitFailureLosesNothing(t *testing.T) {
	db := openGroup(t)
	release := holdWriter(t, db)
	errBoom := errors.New("boom")
	type result struct {
		err      error
		panicked any
	}
	const n = 8
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { results[i].panicked = recover() }()
			chat := fmt.Sprint("c", i)
			results[i].err = db.GroupTx(context.Background(), func(tx bot.Tx) error {
				if _, err := tx.SaveInbound(context.Background(), inbound(chat)); err != nil {
					return err
				}
				switch i {
				case 2:
					return errBoom
				case 5:
					panic("member 5")
				}
				return nil
			})
		}()
	}
	time.Sleep(100 * time.Millisecond) // all eight wait for the writer
	release()
	wg.Wait()
	for i, r := range results {
		chat := fmt.Sprint("c", i)
		got := countInbound(t, db, chat)
		switch i {
		case 2:
			if !errors.Is(r.err, errBoom) || got != 0 {
				t.Errorf("failing member: err %v, %d rows; want boom and 0 rows", r.err, got)
			}
		case 5:
			if r.panicked != "member 5" || got != 0 {
				t.Errorf("panicking member: panic %v, %d rows; want its panic and 0 rows", r.panicked, got)
			}
		default:
			if r.err != nil || r.panicked != nil || got != 1 {
				t.Errorf("member %d: err %v, panic %v, %d rows; want stored once", i, r.err, r.panicked, got)
			}
		}
	}
}

// TestGroupCommitCancelledCaller: a caller whose request ends while its batch runs does not
// interrupt the batch (SQLite would roll back the whole transaction); the others commit.
func TestGroupCommitCancelledCaller(t *testing.T) {
	db := openGroup(t)
	release := holdWriter(t, db)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			chat := fmt.Sprint("c", i)
			cctx := context.Background()
			if i == 1 {
				cctx = ctx
			}
			errs[i] = db.GroupTx(cctx, func(tx bot.Tx) error {
				if i == 1 {
					cancel() // the request ends mid-transaction
				}
				_, err := tx.SaveInbound(cctx, inbound(chat))
				return err
			})
		}()
	}
	time.Sleep(100 * time.Millisecond)
	release()
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("member %d: %v", i, err)
		}
		if got := countInbound(t, db, fmt.Sprint("c", i)); got != 1 {
			t.Errorf("member %d: %d rows, want 1", i, got)
		}
	}
}
