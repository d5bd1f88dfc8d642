package storage_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/internal/testenv"
	"github.com/kefu-dev/kefu/storage/storetest"
)

// LastInbound is the customer's newest message; kefu's own replies do not open a reply window.
func TestLastInbound(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			if dialect == "postgres" && os.Getenv(storetest.EnvPostgres) == "" {
				testenv.Skip(t, testenv.Postgres, storetest.EnvPostgres+" is not set")
			}
			db := openSLA(t, dialect, nil)
			ctx := context.Background()
			t0 := time.Date(2026, 11, 23, 1, 30, 0, 0, time.UTC)
			var conv bot.Conversation
			for i, at := range []time.Time{t0, t0.Add(time.Hour)} {
				err := db.Tx(ctx, func(tx bot.Tx) error {
					var err error
					conv, err = tx.SaveInbound(ctx, bot.Event{Channel: bot.ChannelWeChat, MsgID: string(rune('a' + i)), ChatID: "o1",
						UserID: "o1", Text: "hi", At: at})
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			if err := db.Tx(ctx, func(tx bot.Tx) error {
				_, err := tx.Enqueue(ctx, t0.Add(2*time.Hour), bot.Reply{ConversationID: conv.ID, Channel: bot.ChannelWeChat, ChatID: "o1", Text: "answer"})
				return err
			}); err != nil {
				t.Fatal(err)
			}
			at, ok, err := db.LastInbound(ctx, conv.ID)
			if err != nil || !ok || !at.Equal(t0.Add(time.Hour)) {
				t.Errorf("LastInbound = %v %v %v, want %v", at, ok, err, t0.Add(time.Hour))
			}
			if _, ok, err := db.LastInbound(ctx, conv.ID+100); ok || err != nil {
				t.Errorf("unknown conversation: ok %v err %v", ok, err)
			}
		})
	}
}
