package discord

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/kefu-dev/kefu/adapters/discord/discordtest"

	"github.com/kefu-dev/kefu/bot"
)

// BenchmarkGatewayInbound measures MESSAGE_CREATE dispatches handled end to end: fake gateway ->
// discordgo -> normalize -> queue -> Sink, with 50 customers.
func BenchmarkGatewayInbound(b *testing.B) {
	f := discordtest.NewServer(b)
	var got atomic.Int64
	done := make(chan struct{}, 1)
	var want atomic.Int64
	sink := bot.SinkFunc(func(ctx context.Context, ev bot.Event) error {
		if got.Add(1) == want.Load() {
			done <- struct{}{}
		}
		return nil
	})
	a, err := New(Options{Token: discordtest.Token, APIURL: f.URL})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- a.Run(ctx, sink) }()
	defer func() { cancel(); <-stopped }()
	f.WaitUntil("identify", func() bool { g := f.Gateway(); return g.Identifies >= 1 && g.Connected })
	want.Store(int64(b.N))
	b.ResetTimer()
	for i := range b.N {
		f.Dispatch("MESSAGE_CREATE", discordtest.MessageCreate(fmt.Sprint("m", i), "dm", "", fmt.Sprint(i%50), "我的订单还没发货", nil))
	}
	<-done
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkSend measures Send (one message with two buttons) against the fake REST API.
func BenchmarkSend(b *testing.B) {
	f := discordtest.NewServer(b)
	a, err := New(Options{Token: discordtest.Token, APIURL: f.URL})
	if err != nil {
		b.Fatal(err)
	}
	r := bot.Reply{ChatID: "dm1", Text: "您的工单 GD20261123001 已创建，我们会在 4 小时内回复。", Buttons: buttons(2)}
	b.ResetTimer()
	for i := range b.N {
		r.OutboxID = int64(i + 1)
		if _, err := a.Send(context.Background(), r); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
