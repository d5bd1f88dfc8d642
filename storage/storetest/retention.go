package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/storage"
)

// testRetention: old delivered outbox rows, idle web sessions and long-dead dispatcher heartbeats go;
// pending rows, recent rows and active sessions stay; concurrent runs in one period run once.
func testRetention(t *testing.T, db *storage.DB) {
	ctx := context.Background()
	old, now := t0, t0.Add(40*24*time.Hour)
	sentOld := enqueue(t, db, bot.ChannelTelegram, "A", "old sent", old)
	enqueue(t, db, bot.ChannelTelegram, "B", "old pending", old)
	sentNew := enqueue(t, db, bot.ChannelTelegram, "A", "new sent", now.Add(-time.Hour))
	if err := db.MarkSentBatch(ctx, []bot.Sent{{OutboxID: sentOld, PlatformMsgID: "1"}, {OutboxID: sentNew, PlatformMsgID: "2"}}, now); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"idle", "active"} {
		if err := db.CreateWebSession(ctx, s, "en"); err != nil {
			t.Fatal(err)
		}
		if err := db.Gorm().Exec("UPDATE web_sessions SET created_at = ? WHERE id = ?", old, s).Error; err != nil {
			t.Fatal(err)
		}
	}
	enqueue(t, db, bot.ChannelWeb, "active", "recent message", now.Add(-24*time.Hour))
	if err := db.Heartbeat(ctx, "long-dead", old, old.Add(5*time.Second)); err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	var mu sync.Mutex
	runs := 0
	var st storage.RetentionStats
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ran, s, err := db.Retain(ctx, now, time.Hour, storage.Retention{})
			if err != nil {
				t.Errorf("retain: %v", err)
			}
			if ran {
				mu.Lock()
				runs++
				st = s
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if runs != 1 {
		t.Fatalf("%d concurrent runs in one period, want exactly 1", runs)
	}
	if want := (storage.RetentionStats{Outbox: 1, WebSessions: 1, Owners: 1}); st != want {
		t.Errorf("deleted %+v, want %+v", st, want)
	}
	rows, _ := db.OutboxRows(ctx, "", "")
	var texts []string
	for _, r := range rows {
		texts = append(texts, r.Text)
	}
	if len(texts) != 3 || texts[0] != "old pending" {
		t.Errorf("outbox after retention: %q, want the pending, the recent and the web rows", texts)
	}
	for s, want := range map[string]bool{"idle": false, "active": true} {
		if ok, err := db.WebSessionExists(ctx, s); ok != want || err != nil {
			t.Errorf("web session %s exists: %v %v, want %v", s, ok, err, want)
		}
	}
	if ran, _, _ := db.Retain(ctx, now.Add(30*time.Minute), time.Hour, storage.Retention{}); ran {
		t.Error("ran again within the period")
	}
	if ran, _, err := db.Retain(ctx, now.Add(61*time.Minute), time.Hour, storage.Retention{}); !ran || err != nil {
		t.Errorf("next period: ran %v, %v", ran, err)
	}
}
