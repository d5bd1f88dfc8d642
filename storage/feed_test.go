package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/storage"
	"github.com/kefu-dev/kefu/storage/storetest"
)

// TestEventFeedUpgrade: a database with events from before migration 0175 keeps its feed positions
// (the old cursors, which were ids, stay valid: seq = id) and the events written after the upgrade
// come after them, on the Reader feed and on the console's live feed alike.
func TestEventFeedUpgrade(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		ctx := context.Background()
		db := open(t)
		g := db.Gorm()
		if db.Dialect() == storage.Postgres {
			// Back to the schema before 0175.
			for _, q := range []string{"DROP TRIGGER ticket_events_number ON ticket_events", "DROP FUNCTION ticket_events_number()",
				"ALTER TABLE ticket_events DROP COLUMN seq", "DROP SEQUENCE ticket_events_seq", "DELETE FROM schema_migrations WHERE version = 175"} {
				if err := g.Exec(q).Error; err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
		}
		at := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
		var c bot.Conversation
		var tk bot.Ticket
		add := func(text string) {
			t.Helper()
			err := db.Tx(ctx, func(tx bot.Tx) error {
				var err error
				if tk.ID == 0 {
					if c, err = tx.SaveInbound(ctx, bot.Event{Channel: bot.ChannelWeb, MsgID: "m1", ChatID: "s", UserID: "s", Kind: bot.KindText, Text: "hi", At: at}); err != nil {
						return err
					}
					if tk, err = tx.CreateTicket(ctx, bot.Ticket{ConversationID: c.ID, CustomerID: c.CustomerID, Priority: bot.P2, CreatedAt: at,
						FirstResponseDue: at, ResolutionDue: at}, "20261123"); err != nil {
						return err
					}
				}
				_, err = tx.AddEvent(ctx, bot.TicketEvent{TicketID: tk.ID, TicketNo: tk.No, At: at, Actor: "x", Kind: bot.EvNote, Text: text})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		add("old1")
		add("old2")
		if err := g.Exec("DELETE FROM ticket_events WHERE id = (SELECT MIN(id) FROM ticket_events)").Error; err != nil {
			t.Fatal(err) // a gap, as a rolled-back event leaves
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		old, err := db.EventsAfter(ctx, 0, 10)
		if err != nil || len(old) != 1 || old[0].Text != "old2" || old[0].Seq != old[0].ID {
			t.Fatalf("events from before the upgrade: %+v %v (want seq = id)", old, err)
		}
		add("new1")
		add("new2")
		evs, err := db.EventsAfter(ctx, old[0].Seq, 10)
		if err != nil || len(evs) != 2 || evs[0].Text != "new1" || evs[1].Text != "new2" || !(old[0].Seq < evs[0].Seq && evs[0].Seq < evs[1].Seq) {
			t.Fatalf("events after the upgrade: %+v %v", evs, err)
		}
		live, err := db.LiveEventsAfter(ctx, old[0].Seq, 10)
		if err != nil || len(live) != 2 || live[0].ID != evs[0].ID || live[1].Seq != evs[1].Seq {
			t.Fatalf("live events after the upgrade: %+v %v", live, err)
		}
		if last, err := db.LastEventID(ctx); err != nil || last != evs[1].Seq {
			t.Errorf("LastEventID = %d, %v; want %d", last, err, evs[1].Seq)
		}
	})
}
