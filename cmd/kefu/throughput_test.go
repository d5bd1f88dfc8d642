package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
)

// TestWebChatRepliesDeliveredWithTheMessage: serve wires the engine's inline delivery through to web
// chat (also behind the metrics wrapper): the replies a POST returns are already recorded as sent
// when it returns, without waiting for the dispatcher.
func TestWebChatRepliesDeliveredWithTheMessage(t *testing.T) {
	dbURL := filepath.Join(t.TempDir(), "kefu.db")
	s := startJourneyServer(t, dbURL, nil, func(c *Config) { c.Outbox.PollInterval = time.Hour })
	sess := s.session()
	got := s.say(sess, nil, "怎么退货")
	if len(got) == 0 {
		t.Fatal("no replies")
	}
	rows, err := s.db.OutboxRows(context.Background(), bot.ChannelWeb, sess)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatal("no outbox rows")
	}
	for _, r := range rows {
		if r.Status != "sent" {
			t.Errorf("reply %d is %s when the POST returned, want sent", r.ID, r.Status)
		}
	}
}
