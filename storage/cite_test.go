package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/storage/storetest"
)

// TestCitationsWritten: a citation is stored whether a reply follows it in the transaction (on
// PostgreSQL it rides in the reply INSERT) or not (written before the COMMIT), and a rolled-back
// transaction stores none.
func TestCitationsWritten(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		ctx := context.Background()
		db := open(t)
		at := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
		for i, tc := range []struct {
			entry         string
			reply, commit bool
		}{{"with-reply", true, true}, {"alone", false, true}, {"rolled-back", true, false}} {
			err := db.Tx(ctx, func(tx bot.Tx) error {
				c, err := tx.SaveInbound(ctx, bot.Event{Channel: bot.ChannelWeb, MsgID: tc.entry, ChatID: "s", UserID: "s", Kind: bot.KindText, Text: "q", At: at})
				if err != nil {
					return err
				}
				if err := tx.Cite(ctx, bot.Citation{EntryID: tc.entry, ConversationID: c.ID, Lang: "zh-CN", Query: "怎么退货", At: at}); err != nil {
					return err
				}
				if tc.reply {
					if _, err := tx.EnqueueDelivered(ctx, at, bot.Reply{ConversationID: c.ID, Channel: bot.ChannelWeb, ChatID: "s", Text: "a"}); err != nil {
						return err
					}
				}
				if !tc.commit {
					return context.Canceled
				}
				return nil
			})
			if (err == nil) != tc.commit {
				t.Fatalf("case %d: tx: %v", i, err)
			}
		}
		stats, err := db.FAQStats(ctx, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, s := range stats {
			got[s.EntryID] = s.Cited
		}
		if len(got) != 2 || got["with-reply"] != 1 || got["alone"] != 1 {
			t.Errorf("citations stored: %v, want with-reply and alone once each", got)
		}
	})
}
