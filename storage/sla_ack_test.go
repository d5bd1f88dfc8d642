package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/storage"
	"github.com/kefu-dev/kefu/storage/storetest"
)

// TestSLAAckKeepsConcurrentClockChange: an acknowledgement (Slack button, /kefu ack) that races
// with another transaction moving the ticket's SLA clock (an agent reply) must save the clock as
// that transaction left it, not a copy read before it committed: otherwise the reply's "last
// update" is lost and the scanner pesters the customer and the team about a ticket just answered.
// PostgreSQL only: SQLite runs one writing transaction at a time.
func TestSLAAckKeepsConcurrentClockChange(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		if open(t).Dialect() != storage.Postgres {
			t.Skip("SQLite has one writer at a time")
		}
		db, store, _, tk := newSLATicket(t, storage.SLAOptions{CustomerText: func(string, bot.Ticket) string { return "x" }})
		ctx := context.Background()
		t0 := slaT0
		// The agent's reply at +40m, held open after it moved the clock.
		replyAt := t0.Add(40 * time.Minute)
		moved, release, replied := make(chan struct{}), make(chan struct{}), make(chan error, 1)
		go func() {
			replied <- db.Tx(ctx, func(tx bot.Tx) error {
				cur, err := tx.LockTicket(ctx, tk.No)
				if err != nil {
					return err
				}
				cur.FirstResponseAt, cur.Status = &replyAt, bot.StatusInProgress
				if err := tx.UpdateTicket(ctx, cur); err != nil {
					return err
				}
				if _, err := tx.AddEvent(ctx, bot.TicketEvent{TicketID: tk.ID, TicketNo: tk.No, At: replyAt, Actor: "cli:a",
					Kind: bot.EvAgentReply, Text: "on it"}); err != nil {
					return err
				}
				close(moved)
				<-release
				return nil
			})
		}()
		select {
		case <-moved:
		case err := <-replied:
			t.Fatalf("reply: %v", err)
		}
		acked := make(chan error, 1)
		go func() { acked <- store.AckSLABy(ctx, tk.No, "slack:U1", t0.Add(41*time.Minute)) }()
		// Let the acknowledgement run until it waits on the reply's transaction (or finishes).
		for deadline := time.Now().Add(20 * time.Second); ; {
			var n int64
			if err := db.Gorm().Raw(`SELECT count(*) FROM pg_stat_activity w WHERE EXISTS (SELECT 1 FROM pg_locks l
				WHERE l.pid = ANY(pg_blocking_pids(w.pid)) AND l.relation = 'tickets'::regclass AND l.granted)`).Scan(&n).Error; err != nil {
				t.Fatal(err)
			}
			if n > 0 || len(acked) > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the acknowledgement neither finished nor waited")
			}
			time.Sleep(5 * time.Millisecond)
		}
		close(release)
		if err := <-replied; err != nil {
			t.Fatalf("reply: %v", err)
		}
		if err := <-acked; err != nil {
			t.Fatalf("ack: %v", err)
		}
		var got struct {
			SlaLastUpdateAt *time.Time
			SlaAckedAt      *time.Time
		}
		if err := db.Gorm().Raw("SELECT sla_last_update_at, sla_acked_at FROM tickets WHERE id = ?", tk.ID).Scan(&got).Error; err != nil {
			t.Fatal(err)
		}
		if got.SlaLastUpdateAt == nil || !got.SlaLastUpdateAt.Equal(replyAt) {
			t.Errorf("sla_last_update_at = %v after the ack, want the reply's %v", got.SlaLastUpdateAt, replyAt)
		}
		if got.SlaAckedAt == nil {
			t.Error("acknowledgement not recorded")
		}
	})
}
