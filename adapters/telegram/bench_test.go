package telegram

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
)

// BenchmarkPollUpdates: updates per second through the adapter (getUpdates over HTTP, decode,
// normalize, Deliver, offset confirmation) against the fake, into a sink that does nothing.
func BenchmarkPollUpdates(b *testing.B) {
	f := newFakeAPI(b)
	updates := make([]string, b.N)
	for i := range updates {
		updates[i] = textUpdate(i+1, fmt.Sprintf("我的订单 %d 还没有发货", i))
	}
	f.Push(updates...)
	var n atomic.Int64
	done := make(chan struct{})
	sink := bot.SinkFunc(func(context.Context, bot.Event) error {
		if n.Add(1) == int64(b.N) {
			close(done)
		}
		return nil
	})
	a, err := New(b.Context(), Options{Token: testToken, APIURL: f.URL, PollTimeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(b.Context())
	defer cancel()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	go func() { _ = a.Run(ctx, sink) }()
	<-done
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "updates/s")
}

// BenchmarkSend: outbound messages per second with the real default limits (30/s overall, 1/s per
// chat) against a fake that answers 429 whenever Telegram's limits are broken. Eight workers send to
// distinct chats, like the outbox dispatcher. Run with -benchtime=90x (about 3 s) or more.
func BenchmarkSend(b *testing.B) {
	benchSend(b, 0, 0)
}

// BenchmarkSendUnlimited shows the adapter's own cost without the limiter binding.
func BenchmarkSendUnlimited(b *testing.B) {
	benchSend(b, time.Nanosecond, 1e9)
}

func benchSend(b *testing.B, perChat time.Duration, global float64) {
	f := newFakeAPI(b)
	if global == 0 {
		f.SetFloodLimits(time.Second, 30)
	}
	a, err := New(b.Context(), Options{Token: testToken, APIURL: f.URL, PerChatInterval: perChat, GlobalRate: global})
	if err != nil {
		b.Fatal(err)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				_, err := a.Send(b.Context(), bot.Reply{OutboxID: i, ChatID: fmt.Sprint(1000 + i%200), Text: "您的工单 GD20261123001 已受理"})
				if err != nil {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(f.Rejected429()), "429s")
	if failed.Load() > 0 {
		b.Errorf("%d sends failed", failed.Load())
	}
}
