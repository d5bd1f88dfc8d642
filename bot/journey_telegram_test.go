package bot_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/adapters/telegram"
	"github.com/kefu-dev/kefu/adapters/telegram/telegramtest"
	"github.com/kefu-dev/kefu/bot"
)

// The complaint journey's steps run unchanged on web chat and on Telegram: a transcript with tg set
// sends through the real Telegram adapter (webhook mode, updates posted to its handler) and reads what
// the outbox dispatcher sent to the fake Bot API.

// journeyVariant is one channel and language of the complaint journey.
type journeyVariant struct{ channel, lang string }

var journeyVariants = []journeyVariant{{"web", "zh-CN"}, {"web", "en"}, {"telegram", "zh-CN"}, {"telegram", "en"}}

// name is the subtest name: the language on web chat (as before), "telegram-<lang>" on Telegram.
func (v journeyVariant) name() string {
	if v.channel == "web" {
		return v.lang
	}
	return v.channel + "-" + v.lang
}

// file is the golden file's middle part: complaint_journey.<file>.txt.
func (v journeyVariant) file() string {
	if v.channel == "web" {
		return v.lang
	}
	return v.channel + "." + v.lang
}

func (v journeyVariant) transcript(t *testing.T, e *env, eng *bot.Engine) *transcript {
	x := &transcript{t: t, e: e, eng: eng, chat: "journey-" + v.lang}
	if v.channel == "telegram" {
		x.tg = newTGChat(t, e, eng, 424242, map[string]string{"zh-CN": "zh-hans", "en": "en"}[v.lang])
	}
	return x
}

const tgSecret = "journey-secret"

// tgChat is one private Telegram chat with the bot.
type tgChat struct {
	f       *telegramtest.Server
	a       *telegram.Adapter
	d       *bot.Dispatcher
	chat    int64
	lang    string
	seen    int            // messages of the fake to this chat already read
	buttons map[string]int // callback data -> the message carrying it
	update  int
}

// clockSink stamps every event with the test clock (the adapter stamps button presses with the
// wall clock) before the engine stores it.
type clockSink struct {
	eng *bot.Engine
	now func() time.Time
}

func (s clockSink) Deliver(ctx context.Context, ev bot.Event) error {
	ev.At = s.now()
	return s.eng.Deliver(ctx, ev)
}

func newTGChat(t *testing.T, e *env, eng *bot.Engine, chat int64, lang string) *tgChat {
	t.Helper()
	f := telegramtest.NewServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	a, err := telegram.New(ctx, telegram.Options{Token: telegramtest.Token, APIURL: f.URL, WebhookURL: "https://kefu.example/telegram",
		WebhookSecret: tgSecret, PerChatInterval: time.Millisecond, GlobalRate: 1000})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, clockSink{eng: eng, now: e.clock.Now}) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("telegram adapter: %v", err)
		}
	})
	d, err := bot.NewDispatcher(bot.DispatcherOptions{Store: e.db, Adapters: map[bot.Channel]bot.Adapter{bot.ChannelTelegram: a}, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &tgChat{f: f, a: a, d: d, chat: chat, lang: lang, buttons: map[string]int{}}
}

// post hands one update to the adapter's webhook handler, as Telegram would.
func (c *tgChat) post(x *transcript, update map[string]any) {
	x.t.Helper()
	c.update++
	update["update_id"] = c.update
	b, _ := json.Marshal(update)
	for i := 0; ; i++ {
		r := httptest.NewRequest(http.MethodPost, "/telegram", strings.NewReader(string(b)))
		r.Header.Set(telegram.SecretHeader, tgSecret)
		w := httptest.NewRecorder()
		c.a.ServeHTTP(w, r)
		if w.Code == http.StatusOK {
			return
		}
		if w.Code != http.StatusServiceUnavailable || i > 200 { // 503 only until Run has started
			x.t.Fatalf("webhook answered %d: %s", w.Code, w.Body)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (c *tgChat) send(x *transcript, kind bot.Kind, text, payload string) {
	x.t.Helper()
	from := map[string]any{"id": c.chat, "is_bot": false, "first_name": "张三", "language_code": c.lang}
	if kind == bot.KindButton {
		msgID, ok := c.buttons[payload]
		if !ok {
			x.t.Fatalf("no message carries button %q", payload)
		}
		c.post(x, map[string]any{"callback_query": map[string]any{"id": fmt.Sprintf("cb%d", c.update+1), "chat_instance": "ci", "data": payload,
			"from": from, "message": map[string]any{"message_id": msgID, "date": x.e.clock.Now().Unix(), "text": "…",
				"chat": map[string]any{"id": c.chat, "type": "private"}, "from": map[string]any{"id": telegramtest.BotID, "is_bot": true, "first_name": "Kefu"}}}})
		return
	}
	c.post(x, map[string]any{"message": map[string]any{"message_id": c.update + 1, "date": x.e.clock.Now().Unix(), "text": text,
		"from": from, "chat": map[string]any{"id": c.chat, "type": "private", "first_name": "张三"}}})
}

// replies delivers the outbox and returns the bot's new messages to the chat, as replies with their
// buttons (Payload: the callback data).
func (c *tgChat) replies(x *transcript) []bot.Reply {
	x.t.Helper()
	for {
		n, err := c.d.Flush(context.Background())
		if err != nil {
			x.t.Fatalf("dispatch: %v", err)
		}
		if n == 0 {
			break
		}
	}
	var mine []telegramtest.Message
	for _, m := range c.f.Sent() {
		if m.ChatID == c.chat {
			mine = append(mine, m)
		}
	}
	var out []bot.Reply
	for _, m := range mine[c.seen:] {
		r := bot.Reply{Channel: bot.ChannelTelegram, ChatID: strconv.FormatInt(c.chat, 10), Text: m.Text}
		if m.Markup != "" && m.Markup != "null" {
			var kb struct {
				InlineKeyboard [][]struct {
					Text string `json:"text"`
					Data string `json:"callback_data"`
				} `json:"inline_keyboard"`
			}
			if err := json.Unmarshal([]byte(m.Markup), &kb); err != nil {
				x.t.Fatalf("reply_markup %q: %v", m.Markup, err)
			}
			for _, row := range kb.InlineKeyboard {
				for _, b := range row {
					r.Buttons = append(r.Buttons, bot.Button{Label: b.Text, Payload: b.Data})
					c.buttons[b.Data] = m.ID
				}
			}
		}
		out = append(out, r)
	}
	c.seen = len(mine)
	return out
}
