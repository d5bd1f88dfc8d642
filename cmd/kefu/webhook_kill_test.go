package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/storage"
	"github.com/kefu-dev/kefu/webhook"
)

// TestWebhooksSurviveKill: a `kefu serve` process delivering webhooks is killed with SIGKILL in the
// middle of the stream; a second process takes the deliveries over. The receiver (deduplicating by
// Kefu-Event-Id) ends with every event exactly once — nothing lost — and every delivery row is marked
// sent. Deliveries are at least once: the rows the killed process had sent but not yet marked go out
// again, and the test reports how many.
func TestWebhooksSurviveKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts kefu processes")
	}
	for name, dsn := range testDatabases(t) {
		t.Run(name, func(t *testing.T) {
			key := storage.GenerateKey()
			t.Setenv(storage.EnvEncryptionKey, key)
			dbURL := dsn(t)
			db := openTestDB(t, dbURL)
			h := newHookReceiver(t)
			h.hang = 0
			// A receiver that takes a while, so the kill lands with requests in flight.
			h.fail = func(int) (int, bool) { time.Sleep(15 * time.Millisecond); return 0, false }
			addWebhook(t, dbURL, h, "crm", h.srv.URL)

			const n = 240
			want := makeTickets(t, db, n)
			env := []string{"KEFU_DATABASE_URL=" + dbURL, storage.EnvEncryptionKey + "=" + key, "KEFU_OUTBOX_POLL_INTERVAL=20ms",
				"KEFU_WEBHOOKS_MIN_BACKOFF=50ms", "KEFU_WEBHOOKS_MAX_BACKOFF=200ms"}

			first := startKefu(t, env...)
			waitWithin(t, 30*time.Second, "the first process delivering", func() bool {
				_, _, d, _, _ := h.stats()
				return d >= n/6
			})
			first.kill()
			_, _, killedAt, _, _ := h.stats()

			second := startKefu(t, env...)
			waitWithin(t, 40*time.Second, "every event delivered", func() bool {
				_, _, d, _, _ := h.stats()
				return d >= n
			})
			waitWithin(t, 10*time.Second, "every delivery marked sent", func() bool {
				rows, err := db.OutboxRows(context.Background(), webhook.Channel, "")
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range rows {
					if r.Status != "sent" {
						return false
					}
				}
				return len(rows) == n
			})
			second.stop()
			requests, delivered, distinct, badSig, seen := h.stats()
			if badSig != 0 || distinct != n {
				t.Fatalf("%d distinct events of %d (%d bad signatures)", distinct, n, badSig)
			}
			for id := range want {
				if seen[id] != webhook.TicketCreated {
					t.Fatalf("event %s: got %q", id, seen[id])
				}
			}
			t.Logf("%d events: %d delivered before the kill, %d requests, %d deliveries in all, %d delivered twice (at least once; the receiver deduplicated them)",
				n, killedAt, requests, delivered, delivered-distinct)
		})
	}
}

// makeTickets writes n tickets with their "created" audit events, as the engine does, and returns the
// webhook event ids they raise.
func makeTickets(t testing.TB, db *storage.DB, n int) map[string]bool {
	t.Helper()
	ctx := context.Background()
	at := time.Now().UTC()
	want := map[string]bool{}
	for i := range n {
		err := db.Tx(ctx, func(tx bot.Tx) error {
			conv, err := tx.SaveInbound(ctx, bot.Event{Channel: bot.ChannelWeb, MsgID: fmt.Sprintf("kill-%d", i), ChatID: fmt.Sprintf("chat-%d", i),
				UserID: fmt.Sprintf("u-%d", i), UserName: "王小明", Kind: bot.KindText, Text: "洗衣机坏了", At: at})
			if err != nil {
				return err
			}
			tk, err := tx.CreateTicket(ctx, bot.Ticket{ConversationID: conv.ID, CustomerID: conv.CustomerID, Channel: bot.ChannelWeb,
				CustomerName: "王小明", Category: "repair", Priority: bot.P2, Summary: "洗衣机坏了", CreatedAt: at,
				FirstResponseDue: at.Add(time.Hour), ResolutionDue: at.Add(24 * time.Hour)}, at.Format("20060102"))
			if err != nil {
				return err
			}
			id, err := tx.AddEvent(ctx, bot.TicketEvent{TicketID: tk.ID, TicketNo: tk.No, At: at, Actor: "customer", Kind: bot.EvCreated, Text: "洗衣机坏了", Channel: bot.ChannelWeb})
			want[webhook.EventID(id)] = true
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return want
}
