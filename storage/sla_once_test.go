package storage_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/bot/sla"
	"github.com/kefu-dev/kefu/storage"
	"github.com/kefu-dev/kefu/storage/storetest"
)

// TestSLAFiredExactlyOnce is the exactly-once key of the production store (sla_fired), fast and on
// both databases: a scanner that dies after firing and before rescheduling (its claim's lease runs
// out) is followed by a restarted process whose scan fires nothing again; MarkFired of a fired key
// answers false and writes no second event; three processes marking one new key at once fire it
// once. Guard: MarkFired's "RowsAffected == 0" return.
func TestSLAFiredExactlyOnce(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			var dsn string
			if dialect == "postgres" {
				dsn, _ = storetest.PostgresSchemaDSN(t)
			} else {
				dsn = filepath.Join(t.TempDir(), "kefu.db")
			}
			policy, err := sla.New(sla.DefaultConfig())
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			open := func() (*storage.DB, *storage.SLAStore) { // one process
				db, err := storage.Open(ctx, dsn, storage.Options{SLA: policy})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				store, err := db.SLA(storage.SLAOptions{Lease: time.Minute,
					CustomerText: func(lang string, tk bot.Ticket) string { return "still working on " + tk.No }})
				if err != nil {
					t.Fatal(err)
				}
				return db, store
			}
			db, store := open()
			t0 := time.Date(2026, 11, 23, 1, 30, 0, 0, time.UTC)
			var tk bot.Ticket
			err = db.Tx(ctx, func(tx bot.Tx) error {
				conv, err := tx.SaveInbound(ctx, bot.Event{Channel: bot.ChannelWeb, MsgID: "1", ChatID: "s", UserID: "s", Text: "help", At: t0})
				if err != nil {
					return err
				}
				tk, err = tx.CreateTicket(ctx, bot.Ticket{ConversationID: conv.ID, CustomerID: conv.CustomerID, Channel: bot.ChannelWeb,
					Lang: "en", Priority: bot.P0, Status: bot.StatusOpen, CreatedAt: t0}, "20261123")
				if err != nil {
					return err
				}
				_, err = tx.AddEvent(ctx, bot.TicketEvent{TicketID: tk.ID, TicketNo: tk.No, At: t0, Actor: "customer", Kind: bot.EvCreated})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			slaEvents := func() int {
				t.Helper()
				evs, err := db.TicketEvents(ctx, tk.ID)
				if err != nil {
					t.Fatal(err)
				}
				n := 0
				for _, ev := range evs {
					if ev.Kind == bot.EvSLA {
						n++
					}
				}
				return n
			}

			// Process 1 claims the warning and fires it, then dies before rescheduling.
			warnAt := t0.Add(23 * time.Minute)
			items, err := store.DueForAction(ctx, warnAt, 10)
			if err != nil || len(items) != 1 {
				t.Fatalf("claim at the warning: %d items, %v", len(items), err)
			}
			due, _ := policy.Plan(items[0], warnAt)
			if len(due) == 0 {
				t.Fatalf("nothing due at %v", warnAt)
			}
			for _, n := range due {
				if ok, err := store.MarkFired(ctx, n); err != nil || !ok {
					t.Fatalf("first MarkFired(%s) = %v, %v", n.Key, ok, err)
				}
			}
			if got := slaEvents(); got != len(due) {
				t.Fatalf("%d sla events after firing %d", got, len(due))
			}

			// The same key again: not fired, no second event.
			for _, n := range due {
				if ok, err := store.MarkFired(ctx, n); err != nil || ok {
					t.Errorf("MarkFired of a fired key (%s) = %v, %v; want false", n.Key, ok, err)
				}
			}
			// A restarted process after the lease: its scan finds the ticket due again and fires nothing.
			_, store2 := open()
			sc, err := sla.NewScanner(sla.Options{Store: store2, Policy: policy})
			if err != nil {
				t.Fatal(err)
			}
			if ns, err := sc.Scan(ctx, warnAt.Add(2*time.Minute)); err != nil || len(ns) != 0 {
				t.Errorf("restarted scan fired %v (%v); want nothing", fired(ns), err)
			}
			if got := slaEvents(); got != len(due) {
				t.Errorf("%d sla events after the restart, want %d", got, len(due))
			}

			// Three processes mark one new key at once: one wins.
			n := due[0]
			n.Level, n.Due = 7, n.Due.Add(time.Hour)
			stores := []*storage.SLAStore{store, store2}
			_, s3 := open()
			stores = append(stores, s3)
			var wg sync.WaitGroup
			var mu sync.Mutex
			wins := 0
			for _, s := range stores {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ok, err := s.MarkFired(ctx, n)
					if err != nil {
						t.Errorf("concurrent MarkFired: %v", err)
					}
					if ok {
						mu.Lock()
						wins++
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			if wins != 1 {
				t.Errorf("%d processes fired one key, want 1", wins)
			}
			if got := slaEvents(); got != len(due)+1 {
				t.Errorf("%d sla events, want %d", got, len(due)+1)
			}
		})
	}
}
