package bot_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/flows"
	"github.com/kefu-dev/kefu/kb"
	"github.com/kefu-dev/kefu/locales"
	"github.com/kefu-dev/kefu/storage"
	"github.com/kefu-dev/kefu/storage/storetest"
)

// realEngine wires the engine with the real flows machine, locale catalogs and the bundled FAQ.
func realEngine(t testing.TB, db bot.Store, now func() time.Time) *bot.Engine {
	t.Helper()
	matcher := kb.NewMatcher(kb.Sample(), kb.MatchOptions{})
	m, err := flows.New(flows.Options{KB: matcher, Config: flows.DefaultConfig()})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := bot.New(bot.Options{Store: db, Flows: m, KB: matcher, Catalog: locales.Default(), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// lastReply returns the newest bot message of a web session.
func lastReplies(t testing.TB, db *storage.DB, session string, after int64) []bot.Reply {
	t.Helper()
	rs, err := db.WebMessagesAfter(context.Background(), session, after, 100)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// TestRealStackJourney drives the real flows through the engine: a request for a person opens a
// ticket; the agent replies and resolves; the customer confirms with the button and rates 5.
func TestRealStackJourney(t *testing.T) {
	forEachDB(t, func(t *testing.T, mk envMaker) {
		e := mk(t)
		eng := realEngine(t, e.db, e.clock.Now)
		ctx := context.Background()
		seq := 0
		send := func(kind bot.Kind, text, payload string) []bot.Reply {
			t.Helper()
			before, _ := e.db.LastWebMessageID(ctx, "sess")
			seq++
			err := eng.Deliver(ctx, bot.Event{Channel: bot.ChannelWeb, MsgID: fmt.Sprint(seq), ChatID: "sess", UserID: "sess",
				Kind: kind, Text: text, Payload: payload, At: e.clock.Now()})
			if err != nil {
				t.Fatalf("deliver %q: %v", text+payload, err)
			}
			return lastReplies(t, e.db, "sess", before)
		}
		if rs := send(bot.KindText, "你好", ""); len(rs) == 0 || !strings.Contains(rs[0].Text, "您好") {
			t.Fatalf("greeting: %+v", rs)
		}
		var opened string
		asked := send(bot.KindText, "转人工", "") // the type is asked once, skippable
		if len(asked) == 0 || len(asked[len(asked)-1].Buttons) == 0 {
			t.Fatalf("转人工 did not ask the type: %+v", asked)
		}
		btns := asked[len(asked)-1].Buttons
		for _, rs := range [][]bot.Reply{send(bot.KindButton, "", btns[len(btns)-1].Payload)} {
			for _, r := range rs {
				if strings.Contains(r.Text, "GD20261123001") {
					opened = r.Text
				}
			}
		}
		if opened == "" {
			t.Fatalf("no ticket number told after 转人工")
		}
		// 01:30 UTC is 09:30 in Shanghai; the promise is in the customer's zone.
		if !strings.Contains(opened, "2026-11-2") {
			t.Errorf("ticket message without the due time: %q", opened)
		}
		before, _ := e.db.LastWebMessageID(ctx, "sess")
		if _, err := eng.Reply(ctx, alice, "GD20261123001", "您好，我是客服小王"); err != nil {
			t.Fatal(err)
		}
		if _, err := eng.Resolve(ctx, alice, "GD20261123001", "已补发配件"); err != nil {
			t.Fatal(err)
		}
		rs := lastReplies(t, e.db, "sess", before)
		if len(rs) != 2 || !strings.Contains(rs[0].Text, "您好，我是客服小王") || !strings.Contains(rs[1].Text, "已补发配件") || len(rs[1].Buttons) != 2 {
			t.Fatalf("agent reply and resolution question: %+v", rs)
		}
		rs = send(bot.KindButton, "", rs[1].Buttons[0].Payload) // 已解决
		var rate []bot.Button
		for _, r := range rs {
			if len(r.Buttons) == 5 {
				rate = r.Buttons
			}
		}
		if rate == nil {
			t.Fatalf("no 1–5 survey after confirming: %+v", rs)
		}
		five := ""
		for _, b := range rate {
			if strings.HasPrefix(b.Label, "5") {
				five = b.Payload
			}
		}
		if five == "" {
			t.Fatalf("no 5 in %+v", rate)
		}
		send(bot.KindButton, "", five)
		send(bot.KindText, "很满意", "")
		tk, _, err := eng.Ticket(ctx, "GD20261123001")
		if err != nil {
			t.Fatal(err)
		}
		if tk.Status != bot.StatusClosed || tk.Rating != 5 || tk.RatingComment != "很满意" || tk.FirstResponseAt == nil {
			t.Errorf("ticket after survey: status %s rating %d comment %q first response %v", tk.Status, tk.Rating, tk.RatingComment, tk.FirstResponseAt)
		}
	})
}

var benchTexts = []string{
	"你好", "怎么退货", "退款多久到账", "how do I return an item", "my order has not arrived",
	"谢谢", "/status", "发票怎么开", "the app crashes when I log in", "保修期多久",
}

// BenchmarkDeliver measures messages per second through Engine.Deliver (real flows, locales, bundled
// FAQ) into the database: inbound row, session, outbox rows, tickets, in one transaction each.
func BenchmarkDeliver(b *testing.B) {
	dbs := map[string]func(b *testing.B) *storage.DB{
		"sqlite": func(b *testing.B) *storage.DB {
			return storetest.OpenSQLitePath(b, filepath.Join(b.TempDir(), "kefu.db"))
		},
	}
	if os.Getenv(storetest.EnvPostgres) != "" {
		dbs["postgres"] = func(b *testing.B) *storage.DB { return storetest.OpenPostgres(b) }
	}
	for _, name := range []string{"sqlite", "postgres"} {
		open, ok := dbs[name]
		if !ok {
			continue
		}
		b.Run(name, func(b *testing.B) {
			db := open(b)
			eng := realEngine(b, db, time.Now)
			ctx := context.Background()
			var n atomic.Int64
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				id := n.Add(1)
				chat := fmt.Sprintf("c%d", id%200)
				if err := eng.Deliver(ctx, bot.Event{Channel: bot.ChannelWeb, MsgID: fmt.Sprint(id), ChatID: chat, UserID: chat,
					Kind: bot.KindText, Text: benchTexts[int(id)%len(benchTexts)]}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
		b.Run(name+"/parallel", func(b *testing.B) {
			db := open(b)
			eng := realEngine(b, db, time.Now)
			ctx := context.Background()
			var n atomic.Int64
			b.SetParallelism(4)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					id := n.Add(1)
					chat := fmt.Sprintf("c%d", id%200)
					if err := eng.Deliver(ctx, bot.Event{Channel: bot.ChannelWeb, MsgID: fmt.Sprint(id), ChatID: chat, UserID: chat,
						Kind: bot.KindText, Text: benchTexts[int(id)%len(benchTexts)]}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
