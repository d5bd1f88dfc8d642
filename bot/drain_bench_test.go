package bot_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/storage"
	"github.com/kefu-dev/kefu/storage/storetest"
)

// BenchmarkDrain times a dispatcher draining a backlog of 2,000 and of 4,000 replies (10 per chat, a
// no-op adapter) and reports the fastest of b.N runs of each and their ratio: a dispatcher whose cost
// per reply does not grow with the backlog takes about 2× as long for twice the rows. On SQLite, and
// on PostgreSQL when KEFU_TEST_POSTGRES_DSN is set.
//
//	go test ./bot -run '^$' -bench Drain -benchtime 3x
func BenchmarkDrain(b *testing.B) {
	for name, open := range storetest.Dialects() {
		b.Run(name, func(b *testing.B) {
			// The machine is shared: the fastest run of each size is the least disturbed one.
			took := [2]time.Duration{time.Hour, time.Hour}
			for i := 0; i < b.N; i++ {
				for j, n := range []int{2000, 4000} {
					took[j] = min(took[j], drainBacklog(b, open(b), n, n/10))
				}
			}
			b.ReportMetric(float64(took[0].Milliseconds()), "ms-2000")
			b.ReportMetric(float64(took[1].Milliseconds()), "ms-4000")
			b.ReportMetric(float64(took[1])/float64(took[0]), "x-4000-vs-2000")
		})
	}
}

// drainBacklog enqueues n replies over chats chats and returns how long one dispatcher takes to send
// them all.
func drainBacklog(b *testing.B, db *storage.DB, n, chats int) time.Duration {
	b.Helper()
	ctx := context.Background()
	at := time.Now()
	for i := 0; i < n; i += 50 {
		err := db.Tx(ctx, func(tx bot.Tx) error {
			var rs []bot.Reply
			for k := i; k < min(i+50, n); k++ {
				rs = append(rs, bot.Reply{Channel: bot.ChannelTelegram, ChatID: fmt.Sprintf("c%d", k%chats), Text: fmt.Sprintf("r%d", k)})
			}
			_, err := tx.Enqueue(ctx, at, rs...)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	tg := newFake(bot.ChannelTelegram)
	tg.got = make(chan string) // unbuffered: sends never block on it (select default)
	d, err := bot.NewDispatcher(bot.DispatcherOptions{Store: db, Adapters: map[bot.Channel]bot.Adapter{bot.ChannelTelegram: tg}})
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	sent := 0
	for sent < n {
		k, err := d.Flush(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if k == 0 {
			b.Fatalf("drain stalled after %d of %d", sent, n)
		}
		sent += k
	}
	return time.Since(start)
}
