package bot_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/flows"
	"github.com/kefu-dev/kefu/storage/storetest"
)

// FuzzDeliver sends arbitrary text, commands and button payloads through the real engine (flows,
// catalogs, FAQ, SQLite): Deliver never fails or panics, and every message gets an answer.
func FuzzDeliver(f *testing.F) {
	for _, s := range []struct {
		kind          uint8
		text, payload string
	}{
		{0, "你好", ""}, {0, "转人工", ""}, {0, "/status", ""}, {0, "/lang en", ""}, {0, "", ""},
		{0, "\xff\xfe binary \x00", ""}, {0, "😀😀😀", ""}, {1, "", "3:yes"}, {1, "", "999:rate:5"},
		{1, "", "garbage"}, {2, "GD20261123001", "show"}, {2, "", "unknown_cmd"}, {0, "GD20261123001", ""},
		{0, "我的订单 202611230001234 还没到，很着急", ""},
	} {
		f.Add(s.kind, s.text, s.payload)
	}
	db := storetest.OpenSQLitePath(f, filepath.Join(f.TempDir(), "fuzz.db"))
	eng := realEngine(f, db, time.Now)
	n := 0
	f.Fuzz(func(t *testing.T, kind uint8, text, payload string) {
		n++
		ev := bot.Event{Channel: bot.ChannelWeb, MsgID: fmt.Sprint("f", n), ChatID: fmt.Sprint("c", n%7), UserID: fmt.Sprint("c", n%7),
			Text: text, Payload: payload}
		switch kind % 3 {
		case 0:
			ev.Kind = bot.KindText
		case 1:
			ev.Kind = bot.KindButton
		default:
			ev.Kind = bot.KindCommand
		}
		ctx := context.Background()
		before, err := db.LastWebMessageID(ctx, ev.ChatID)
		if err != nil {
			t.Fatal(err)
		}
		if err := eng.Deliver(ctx, ev); err != nil {
			t.Fatalf("deliver %+v: %v", ev, err)
		}
		rs, err := db.WebMessagesAfter(ctx, ev.ChatID, before, 50)
		if err != nil {
			t.Fatal(err)
		}
		conv, err := db.ConversationByChat(ctx, ev.Channel, ev.ChatID)
		if err != nil {
			t.Fatal(err)
		}
		ms, err := db.Transcript(ctx, conv.ID)
		if err != nil {
			t.Fatal(err)
		}
		stored := false
		for _, m := range ms {
			stored = stored || m.Direction == "in" && m.PlatformMsgID == ev.MsgID
		}
		if !stored {
			t.Fatalf("inbound %s not stored", ev.MsgID)
		}
		if len(rs) > 0 {
			return
		}
		// Silence is only right while a ticket is open: the message went to the ticket (flows
		// acknowledges the first one only).
		var sess flows.Session
		db.Tx(ctx, func(tx bot.Tx) error { sess, err = tx.Session(ctx, conv.ID); return err })
		if sess.State != flows.StateTicketOpen {
			t.Fatalf("no answer to %+v in state %q", ev, sess.State)
		}
		_, evs, err := eng.Ticket(ctx, sess.TicketNo)
		if err != nil || len(evs) == 0 || evs[len(evs)-1].Kind != bot.EvCustomerMessage {
			t.Fatalf("silent answer to %+v, but not added to ticket %s: %v", ev, sess.TicketNo, err)
		}
	})
}
