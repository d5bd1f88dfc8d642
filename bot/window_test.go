package bot_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
)

// The desk refuses at once a reply the platform would no longer deliver (WeChat's and WeCom's 48-hour
// reply window): a typed error saying when the window closed, and nothing written — no outbox row, no
// "replied" event. An internal note still goes through; a channel without a window is unaffected; the
// customer writing again reopens the window.
func TestReplyWindowRefusedAtOnce(t *testing.T) {
	tests := []struct {
		name    string
		channel bot.Channel
		wait    time.Duration // after the customer's last message
		again   bool          // the customer writes again (after wait) before the reply
		faq     bool          // ReplyFAQ instead of Reply
		refused bool
	}{
		{name: "wechat within the window", channel: bot.ChannelWeChat, wait: 47 * time.Hour},
		{name: "wechat after the window", channel: bot.ChannelWeChat, wait: 49 * time.Hour, refused: true},
		{name: "wechat exactly at the close", channel: bot.ChannelWeChat, wait: bot.WeChatReplyWindow, refused: true},
		{name: "wecom after the window", channel: bot.ChannelWeCom, wait: 72 * time.Hour, refused: true},
		{name: "wecom faq within", channel: bot.ChannelWeCom, wait: time.Hour, faq: true},
		{name: "wechat faq after", channel: bot.ChannelWeChat, wait: 49 * time.Hour, faq: true, refused: true},
		{name: "customer wrote again", channel: bot.ChannelWeChat, wait: 49 * time.Hour, again: true},
		{name: "web has no window", channel: bot.ChannelWeb, wait: 200 * time.Hour},
		{name: "telegram has no window", channel: bot.ChannelTelegram, wait: 200 * time.Hour},
	}
	forEachDB(t, func(t *testing.T, mk envMaker) {
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				e := mk(t)
				ctx := context.Background()
				chat := fmt.Sprintf("w%d", i)
				say := func(text string) {
					msgSeq++
					if err := e.eng.Deliver(ctx, bot.Event{Channel: tc.channel, MsgID: fmt.Sprintf("win%d", msgSeq), ChatID: chat,
						UserID: chat, Kind: bot.KindText, Text: text, At: e.clock.Now()}); err != nil {
						t.Fatal(err)
					}
				}
				say("ticket 冰箱不制冷")
				last := e.clock.Now()
				e.clock.Add(tc.wait)
				if tc.again {
					say("还在吗")
				}
				const no = "GD20261123001"
				before, err := e.db.OutboxRows(ctx, tc.channel, chat)
				if err != nil {
					t.Fatal(err)
				}
				if tc.faq {
					_, err = e.eng.ReplyFAQ(ctx, alice, no, "refund")
				} else {
					_, err = e.eng.Reply(ctx, alice, no, "师傅明天上午到")
				}
				after, lerr := e.db.OutboxRows(ctx, tc.channel, chat)
				if lerr != nil {
					t.Fatal(lerr)
				}
				_, evs, terr := e.eng.Ticket(ctx, no)
				if terr != nil {
					t.Fatal(terr)
				}
				replied := 0
				for _, ev := range evs {
					if ev.Kind == bot.EvAgentReply || ev.Kind == bot.EvFAQReply {
						replied++
					}
				}
				if !tc.refused {
					if err != nil || len(after) != len(before)+1 || replied == 0 {
						t.Fatalf("err %v, outbox %d -> %d, reply events %d: want sent", err, len(before), len(after), replied)
					}
					return
				}
				var wc *bot.WindowClosedError
				if !errors.As(err, &wc) || !errors.Is(err, bot.ErrWindowClosed) {
					t.Fatalf("err = %v, want a *WindowClosedError wrapping ErrWindowClosed", err)
				}
				if wc.No != no || wc.Channel != tc.channel || !wc.LastInbound.Equal(last) || !wc.ClosedAt.Equal(last.Add(48*time.Hour)) {
					t.Errorf("refusal %+v, want closed at %s", wc, last.Add(48*time.Hour))
				}
				if len(after) != len(before) || replied != 0 {
					t.Errorf("refused reply wrote: outbox %d -> %d, reply events %d", len(before), len(after), replied)
				}
				if _, err := e.eng.Note(ctx, alice, no, "客户超过48小时未回复，已电话联系"); err != nil {
					t.Errorf("a note after the window: %v", err)
				}
				// The customer writes again: the window reopens and the same reply goes through.
				say("在的")
				if _, err := e.eng.Reply(ctx, alice, no, "师傅明天上午到"); err != nil {
					t.Errorf("reply after the customer wrote again: %v", err)
				}
			})
		}
	})
}

// TestReplyRefusedWhenCustomerNeverWrote: WeChat and WeCom let a business answer only within 48 hours
// of the customer's own message, so with no inbound message on the conversation (never one, or the
// transcript purged by retention) no reply can be delivered: the desk refuses it as the card says
// (bot.WindowState.ReplyAllowed), with no closing time to show, and writes nothing. A channel without
// a window is unaffected.
func TestReplyRefusedWhenCustomerNeverWrote(t *testing.T) {
	forEachDB(t, func(t *testing.T, mk envMaker) {
		for i, ch := range []bot.Channel{bot.ChannelWeChat, bot.ChannelWeCom, bot.ChannelTelegram} {
			t.Run(string(ch), func(t *testing.T) {
				e := mk(t)
				ctx := context.Background()
				chat := fmt.Sprintf("nw%d", i)
				msgSeq++
				if err := e.eng.Deliver(ctx, bot.Event{Channel: ch, MsgID: fmt.Sprintf("nw%d", msgSeq), ChatID: chat,
					UserID: chat, Kind: bot.KindText, Text: "ticket 冰箱不制冷", At: e.clock.Now()}); err != nil {
					t.Fatal(err)
				}
				if err := e.db.Gorm().Exec("DELETE FROM messages WHERE direction = 'in'").Error; err != nil {
					t.Fatal(err)
				}
				const no = "GD20261123001"
				before, _ := e.db.OutboxRows(ctx, ch, chat)
				_, err := e.eng.Reply(ctx, alice, no, "师傅明天上午到")
				after, _ := e.db.OutboxRows(ctx, ch, chat)
				w := bot.ReplyWindowAt(ch, time.Time{}, false, e.clock.Now())
				if _, has := bot.ReplyWindow(ch); !has {
					if err != nil || len(after) != len(before)+1 || !w.ReplyAllowed() {
						t.Fatalf("no window: err %v, outbox %d -> %d, allowed %v", err, len(before), len(after), w.ReplyAllowed())
					}
					return
				}
				var wc *bot.WindowClosedError
				if !errors.As(err, &wc) || !errors.Is(err, bot.ErrWindowClosed) || w.ReplyAllowed() {
					t.Fatalf("err = %v, allowed %v: want a refusal the card agrees with", err, w.ReplyAllowed())
				}
				if !wc.Never || !wc.LastInbound.IsZero() || wc.Key() != "window.never" {
					t.Errorf("refusal %+v (key %s), want never wrote", wc, wc.Key())
				}
				if len(after) != len(before) {
					t.Errorf("refused reply queued: outbox %d -> %d", len(before), len(after))
				}
			})
		}
	})
}
