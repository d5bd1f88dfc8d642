package slack

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/locales"
)

// The card of a WeChat or WeCom ticket shows the platform's 48-hour reply window: the time left, or
// that it closed (no reply can reach the customer); other channels and finished tickets show none.
func TestCardReplyWindow(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		channel bot.Channel
		status  bot.Status
		last    time.Time // zero: the customer never wrote
		want    string    // "" : no window line
	}{
		{"wechat open", bot.ChannelWeChat, bot.StatusOpen, now.Add(-(42*time.Hour + 48*time.Minute)), "剩余 5 小时 12 分"},
		{"wecom closed", bot.ChannelWeCom, bot.StatusInProgress, now.Add(-49 * time.Hour), "48 小时回复窗口已于"},
		{"wechat never wrote", bot.ChannelWeChat, bot.StatusOpen, time.Time{}, "客户尚未发过消息"},
		{"web has no window", bot.ChannelWeb, bot.StatusOpen, now.Add(-49 * time.Hour), ""},
		{"resolved ticket", bot.ChannelWeChat, bot.StatusResolved, now.Add(-time.Hour), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(o *Options) {
				o.T = locales.Default().T
				o.ReplyWindow = func(_ context.Context, tk bot.Ticket) bot.WindowState {
					return bot.ReplyWindowAt(tk.Channel, tc.last, !tc.last.IsZero(), now)
				}
			})
			tk := ticketGD1()
			tk.Channel, tk.Status = tc.channel, tc.status
			b, _ := json.Marshal(e.app.cardBlocks(tk, true))
			card := string(b)
			has := strings.Contains(card, "回复窗口") || strings.Contains(card, "客户尚未发过消息")
			switch {
			case tc.want == "" && has:
				t.Errorf("card shows a reply window: %s", card)
			case tc.want != "" && !strings.Contains(card, tc.want):
				t.Errorf("card lacks %q: %s", tc.want, card)
			}
		})
	}
}

func TestReplyWindowAt(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	w := bot.ReplyWindowAt(bot.ChannelWeCom, now.Add(-47*time.Hour), true, now)
	if !w.Applies || !w.Open || w.Left != time.Hour || !w.Until.Equal(now.Add(time.Hour)) {
		t.Errorf("47 h after the last message: %+v", w)
	}
	if w := bot.ReplyWindowAt(bot.ChannelWeCom, now.Add(-48*time.Hour), true, now); w.Open || w.Left != 0 {
		t.Errorf("exactly 48 h after: %+v, want closed", w)
	}
	if w := bot.ReplyWindowAt(bot.ChannelEmail, now.Add(-100*time.Hour), true, now); w.Applies {
		t.Errorf("e-mail has no window: %+v", w)
	}
}
