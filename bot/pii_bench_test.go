package bot_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/storage"
)

// BenchmarkDeliverEncryption measures what encrypting personal data at rest costs: messages per second
// through Engine.Deliver (real flows and FAQ, one transaction each) on SQLite with the personal data
// sealed (AES-256-GCM) and stored in plain text.
//
//	go test ./bot -run '^$' -bench DeliverEncryption -benchtime 2000x -count 3
func BenchmarkDeliverEncryption(b *testing.B) {
	for _, mode := range []string{"plain", "sealed"} {
		b.Run(mode, func(b *testing.B) {
			o := storage.Options{}
			if mode == "plain" {
				o.Keys = storage.PlaintextKeyringForBenchmarks()
			}
			db, err := storage.Open(context.Background(), filepath.Join(b.TempDir(), "kefu.db"), o)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			eng := realEngine(b, db, time.Now)
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				chat := fmt.Sprintf("c%d", i%200)
				if err := eng.Deliver(ctx, bot.Event{Channel: bot.ChannelWeb, MsgID: fmt.Sprint(i), ChatID: chat, UserID: chat,
					Kind: bot.KindText, Text: benchTexts[i%len(benchTexts)] + " 13812345678"}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
