package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/bot/sla"
	"github.com/kefu-dev/kefu/storage"
	"github.com/kefu-dev/kefu/storage/storetest"
)

// TestSLACustomerUpdateWaitsForConversation: the scanner's "still being handled" message joins the
// customer's outbox in conversation order. While another transaction of the conversation (a
// customer step or an agent reply, which lock the conversation) is open, MarkFired must wait for it
// before taking an outbox id; otherwise its row gets the smaller id but commits later, the
// dispatcher sends the newer row first and a web page polling with ?after= skips the update for good.
// PostgreSQL only: SQLite runs one writing transaction at a time.
func TestSLACustomerUpdateWaitsForConversation(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		if open(t).Dialect() != storage.Postgres {
			t.Skip("SQLite has one writer at a time: nothing can commit while the conversation's transaction is open")
		}
		db, store, conv, tk := newSLATicket(t, storage.SLAOptions{CustomerText: func(lang string, tk bot.Ticket) string { return "still working on " + tk.No },
			Now: func() time.Time { return slaT0.Add(5 * time.Hour) }})
		ctx := context.Background()
		t0 := slaT0

		// A transaction of the conversation, as Deliver and the desk run it: conversation row locked
		// first, its outbox row written later.
		hold := db.Gorm().WithContext(ctx).Begin()
		defer hold.Rollback()
		var pid int64
		if err := hold.Raw("SELECT pg_backend_pid()").Scan(&pid).Error; err != nil {
			t.Fatal(err)
		}
		if err := hold.Exec("SELECT id FROM conversations WHERE id = ? FOR UPDATE", conv.ID).Error; err != nil {
			t.Fatal(err)
		}

		done := make(chan error, 1)
		go func() {
			_, err := store.MarkFired(ctx, sla.Notify{Key: sla.Key{TicketID: tk.ID, Kind: sla.KindCustomerUpdate, Due: t0.Add(5 * time.Hour)},
				TicketNo: tk.No, Priority: sla.Priority(bot.P0), At: t0.Add(5 * time.Hour)})
			done <- err
		}()
		waiting := false
		for deadline := time.Now().Add(20 * time.Second); !waiting && time.Now().Before(deadline); {
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("mark fired: %v", err)
				}
				claimed, err := db.ClaimOutbox(ctx, t0.Add(6*time.Hour), []bot.Channel{bot.ChannelWeb}, time.Minute, 10)
				if err != nil {
					t.Fatal(err)
				}
				var texts []string
				for _, r := range claimed {
					texts = append(texts, r.Text)
				}
				t.Fatalf("the customer update committed while the conversation's transaction was open; the dispatcher claims %q", texts)
			default:
			}
			var n int64
			if err := db.Gorm().Raw("SELECT count(*) FROM pg_stat_activity WHERE ? = ANY(pg_blocking_pids(pid))", pid).Scan(&n).Error; err != nil {
				t.Fatal(err)
			}
			waiting = n > 0
			if !waiting {
				time.Sleep(5 * time.Millisecond)
			}
		}
		if !waiting {
			t.Fatal("MarkFired neither finished nor waited on the conversation's transaction")
		}
		// The conversation's transaction writes its reply and commits first.
		if err := hold.Exec(`INSERT INTO outbox (conversation_id, channel, chat_id, text, status, next_attempt_at, created_at)
			VALUES (?, 'web', 's', 'older reply', 'pending', ?, ?)`, conv.ID, t0, t0).Error; err != nil {
			t.Fatal(err)
		}
		if err := hold.Commit().Error; err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatalf("mark fired: %v", err)
		}
		rows, err := db.OutboxRows(ctx, bot.ChannelWeb, "s")
		if err != nil {
			t.Fatal(err)
		}
		// Ids follow commit order: the dispatcher and the page's ?after= cursor read by id.
		if len(rows) != 2 || rows[0].Text != "older reply" || rows[1].Text != "still working on "+tk.No {
			t.Errorf("outbox rows of the conversation in id order: %+v; want the reply committed first, then the update", rows)
		}
	})
}
