package telegram

import (
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/adapters/adaptertest"
	"github.com/kefu-dev/kefu/bot"
)

func TestConformance(t *testing.T) {
	adaptertest.Run(t, func(t *testing.T) adaptertest.Harness {
		f := newFakeAPI(t)
		var msgID atomic.Int64
		return adaptertest.Harness{
			Features: adaptertest.Features{Redelivery: true, RateLimit: true, IgnoresBots: true},
			New:      func(t *testing.T) bot.Adapter { return newTestAdapter(t, f, nil) },
			Inject: func(t *testing.T, text string) string {
				f.PushText(custChat, "en", text)
				return fmt.Sprint(custChat)
			},
			InjectFromBot: func(t *testing.T, text string) {
				f.Push(fmt.Sprintf(`{"message":{"message_id":%d,"date":1,"chat":{"id":42,"type":"private"},"from":{"id":5,"is_bot":true,"first_name":"B"},"text":%s}}`,
					msgID.Add(1), quote(text)))
			},
			Throttle: func(t *testing.T, wait time.Duration) {
				var once atomic.Bool
				f.SetSendHook(func(int64, string, int) (int, string, int) {
					if once.CompareAndSwap(false, true) {
						return 429, "Too Many Requests", int(wait / time.Second)
					}
					return 0, "", 0
				})
			},
			ChatID: fmt.Sprint(custChat),
			Received: func(t *testing.T) []adaptertest.Received {
				var out []adaptertest.Received
				for _, m := range f.Sent() {
					r := adaptertest.Received{ChatID: fmt.Sprint(m.ChatID), Text: m.Text}
					var kb struct {
						InlineKeyboard [][]struct {
							Text string `json:"text"`
						} `json:"inline_keyboard"`
					}
					if m.Markup != "" && m.Markup != "null" {
						if err := json.Unmarshal([]byte(m.Markup), &kb); err != nil {
							t.Fatalf("reply_markup %q: %v", m.Markup, err)
						}
					}
					for _, row := range kb.InlineKeyboard {
						for _, b := range row {
							r.Buttons = append(r.Buttons, b.Text)
						}
					}
					out = append(out, r)
				}
				return out
			},
		}
	})
}
