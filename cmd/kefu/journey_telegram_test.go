package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kefu-dev/kefu/adapters/telegram"
	"github.com/kefu-dev/kefu/adapters/telegram/telegramtest"
	"github.com/kefu-dev/kefu/bot"
)

// startTelegramServer runs serve with the Telegram channel pointed at the fake Bot API, configured
// through KEFU_TELEGRAM_TOKEN and KEFU_TELEGRAM_API_URL.
func startTelegramServer(t testing.TB, dbURL string, f *telegramtest.Server) *journeyServer {
	t.Helper()
	return startJourneyServer(t, dbURL, map[string]string{
		"KEFU_TELEGRAM_TOKEN":   telegramtest.Token,
		"KEFU_TELEGRAM_API_URL": f.URL,
	}, nil)
}

// tgCustomer is one Telegram user chatting privately with the bot through the fake Bot API.
type tgCustomer struct {
	t    testing.TB
	f    *telegramtest.Server
	s    *journeyServer
	chat int64
	lang string // language_code
	seen int    // bot messages to this chat already returned
	last []telegramtest.Message
	// nextMsg numbers the messages this test pushes itself (photos, repeats), apart from the fake's.
	nextMsg int
}

func newTGCustomer(t testing.TB, f *telegramtest.Server, s *journeyServer, chat int64, lang string) *tgCustomer {
	return &tgCustomer{t: t, f: f, s: s, chat: chat, lang: lang, nextMsg: 100000}
}

// settle waits until every pushed update is confirmed (so stored and handled) and this chat's outbox
// is drained, then returns the bot's new messages to this chat, in the order the fake accepted them.
func (c *tgCustomer) settle() []telegramtest.Message {
	c.t.Helper()
	waitFor(c.t, "updates confirmed", func() bool { return c.f.Pending() == 0 })
	chat := strconv.FormatInt(c.chat, 10)
	waitFor(c.t, "outbox drained for chat "+chat, func() bool { return c.s.outboxDrained(c.t, bot.ChannelTelegram, chat) })
	mine := c.sent()
	out := mine[c.seen:]
	c.seen = len(mine)
	c.last = out
	return out
}

func (c *tgCustomer) sent() []telegramtest.Message {
	var mine []telegramtest.Message
	for _, m := range c.f.Sent() {
		if m.ChatID == c.chat {
			mine = append(mine, m)
		}
	}
	return mine
}

// say sends a text message and returns the bot's replies; it fails when there are none.
func (c *tgCustomer) say(text string) []telegramtest.Message {
	c.t.Helper()
	c.f.PushText(c.chat, c.lang, text)
	r := c.settle()
	if len(r) == 0 {
		c.t.Fatalf("chat %d: no reply to %q", c.chat, text)
	}
	return r
}

// push queues a raw update from this customer (message object fields without chat/from/date).
func (c *tgCustomer) pushMessage(fields map[string]any) int {
	c.nextMsg++
	m := map[string]any{"message_id": c.nextMsg, "date": time.Now().Unix(),
		"from": map[string]any{"id": c.chat, "is_bot": false, "first_name": "张三", "language_code": c.lang},
		"chat": map[string]any{"id": c.chat, "type": "private", "first_name": "张三"}}
	for k, v := range fields {
		m[k] = v
	}
	b, _ := json.Marshal(map[string]any{"message": m})
	c.f.Push(string(b))
	return c.nextMsg
}

// pushCallback queues the press of a button with data under the bot's message messageID and
// returns the callback query id.
func (c *tgCustomer) pushCallback(messageID int, data string) string {
	c.nextMsg++
	id := fmt.Sprintf("cb-%d-%d", c.chat, c.nextMsg)
	b, _ := json.Marshal(map[string]any{"callback_query": map[string]any{
		"id": id, "chat_instance": "ci", "data": data,
		"from": map[string]any{"id": c.chat, "is_bot": false, "first_name": "张三", "language_code": c.lang},
		"message": map[string]any{"message_id": messageID, "date": time.Now().Unix(), "text": "…",
			"chat": map[string]any{"id": c.chat, "type": "private"},
			"from": map[string]any{"id": telegramtest.BotID, "is_bot": true, "first_name": "Kefu"}},
	}})
	c.f.Push(string(b))
	return id
}

// button finds the inline button labelled label (exactly, else as a prefix) on the newest message
// of msgs that has one.
func tgButtonOf(t testing.TB, msgs []telegramtest.Message, label string) (telegramtest.Message, string) {
	t.Helper()
	for _, exact := range []bool{true, false} {
		for i := len(msgs) - 1; i >= 0; i-- {
			for _, b := range keyboardOf(t, msgs[i]) {
				if b.Text == label || (!exact && strings.HasPrefix(b.Text, label)) {
					return msgs[i], b.CallbackData
				}
			}
		}
	}
	t.Fatalf("no button %q in %s", label, tgTexts(msgs))
	return telegramtest.Message{}, ""
}

type tgButton struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data"`
}

func keyboardOf(t testing.TB, m telegramtest.Message) []tgButton {
	if m.Markup == "" || m.Markup == "null" {
		return nil
	}
	var kb struct {
		InlineKeyboard [][]tgButton `json:"inline_keyboard"`
	}
	if err := json.Unmarshal([]byte(m.Markup), &kb); err != nil {
		t.Fatalf("reply_markup %q: %v", m.Markup, err)
	}
	var out []tgButton
	for _, row := range kb.InlineKeyboard {
		out = append(out, row...)
	}
	return out
}

// press taps the button labelled label under the last replies, checks that Telegram's chores were
// done (callback answered, keyboard removed) and returns the bot's replies.
func (c *tgCustomer) press(label string) []telegramtest.Message {
	c.t.Helper()
	msg, data := tgButtonOf(c.t, c.last, label)
	id := c.pushCallback(msg.ID, data)
	r := c.settle()
	answered := 0
	for _, call := range c.f.Calls("answerCallbackQuery") {
		if call.Params.Get("callback_query_id") == id {
			answered++
		}
	}
	if answered != 1 {
		c.t.Errorf("pressing %q: callback query %s answered %d times, want 1", label, id, answered)
	}
	removed := false
	for _, call := range c.f.Calls("editMessageReplyMarkup") {
		p := call.Params
		if p.Get("chat_id") == strconv.FormatInt(c.chat, 10) && p.Get("message_id") == strconv.Itoa(msg.ID) &&
			strings.Contains(p.Get("reply_markup"), `"inline_keyboard":[]`) {
			removed = true
		}
	}
	if !removed {
		c.t.Errorf("pressing %q: the keyboard of message %d was not removed", label, msg.ID)
	}
	if len(r) == 0 {
		c.t.Fatalf("no reply to pressing %q", label)
	}
	return r
}

func tgTexts(msgs []telegramtest.Message) string {
	var b strings.Builder
	for _, m := range msgs {
		fmt.Fprintf(&b, "  [%d] %q %s\n", m.ID, m.Text, m.Markup)
	}
	return b.String()
}

func tgHas(t testing.TB, msgs []telegramtest.Message, wants ...string) {
	t.Helper()
	all := tgTexts(msgs)
	for _, w := range wants {
		if !strings.Contains(all, w) {
			t.Fatalf("no message containing %q in\n%s", w, all)
		}
	}
}

// journeyScript is the foundation journey in one language.
type journeyScript struct {
	lang                              string // Telegram language_code
	greeting, question, answer        string
	notHelped, category, description  string
	order, urgency, submit, added     string
	photoCaption, agentReply, solved  string
	rate, rating, comment, statusHead string
}

var journeyScripts = []journeyScript{
	{
		lang: "zh-CN", greeting: "云朵家电", question: "保修期内的冰箱坏了，保修怎么申请？", answer: "保修",
		notHelped: "没解决", category: "售后退换", description: "冰箱不制冷了，已经三天，食物都坏了，希望上门维修",
		order: "202611200004567", urgency: "一般", submit: "对，提交", added: "已补充到工单",
		photoCaption: "冰箱背面的照片", agentReply: "您好，师傅明天上午上门", solved: "已解决",
		rate: "4 分", rating: "rating:    4/5", comment: "师傅很专业", statusHead: "您的工单",
	},
	{
		lang: "en", greeting: "Cloudy Home Appliances", question: "How long is the warranty on my fridge?",
		answer: "warranty", notHelped: "No", category: "Returns & exchanges",
		description: "The fridge stopped cooling three days ago, all our food spoiled, please send a technician",
		order:       "202611200004567", urgency: "Normal", submit: "Yes, submit", added: "Added to ticket",
		photoCaption: "photo of the back of the fridge", agentReply: "Hello, a technician will come tomorrow morning",
		solved: "Solved", rate: "4 ★", rating: "rating:    4/5", comment: "The technician was great", statusHead: "Your tickets",
	},
}

// runTelegramJourney walks the foundation journey through the fake Bot API and returns the ticket
// number: /start, FAQ answer, "not helped", clarification, ticket, a photo, a CLI agent's reply,
// resolution, confirmation, rating and comment.
func runTelegramJourney(t *testing.T, s *journeyServer, f *telegramtest.Server, chat int64, sc journeyScript) string {
	c := newTGCustomer(t, f, s, chat, sc.lang)
	start := time.Now()

	tgHas(t, c.say("/start"), sc.greeting)
	r := c.say(sc.question)
	tgHas(t, r, sc.answer)
	tgButtonOf(t, r, sc.notHelped) // the helped? buttons
	r = c.press(sc.notHelped)
	r = c.press(sc.category)
	// Answer clarifying questions until the bot restates the request.
	for _, step := range []string{sc.description, sc.order, "!" + sc.urgency} {
		if len(keyboardOf(t, r[len(r)-1])) > 0 && strings.Contains(r[len(r)-1].Markup, sc.submit) {
			break
		}
		if label, ok := strings.CutPrefix(step, "!"); ok {
			r = c.press(label)
		} else {
			r = c.say(step)
		}
	}
	r = c.press(sc.submit)
	no := ticketNo.FindString(r[len(r)-1].Text)
	if no == "" {
		t.Fatalf("no ticket number in\n%s", tgTexts(r))
	}

	// A photo on the open ticket is stored as an attachment (file id, type, size).
	fileID := "AgACAgQ-photo-" + sc.lang
	c.pushMessage(map[string]any{"caption": sc.photoCaption, "photo": []any{
		map[string]any{"file_id": "small-" + sc.lang, "file_unique_id": "s1", "width": 90, "height": 90, "file_size": 1200},
		map[string]any{"file_id": fileID, "file_unique_id": "b1", "width": 1280, "height": 960, "file_size": 123456},
	}})
	tgHas(t, c.settle(), sc.added)
	_, evs := s.ticketEvents(t, no)
	var att *bot.Attachment
	for _, e := range evs {
		for i, a := range e.Attachments {
			if a.FileID == fileID {
				att = &e.Attachments[i]
			}
		}
	}
	if att == nil || att.Type != "photo" || att.Size != 123456 {
		t.Fatalf("photo not stored as an attachment on %s: %+v", no, evs)
	}
	mustContain(t, "ticket show", s.cli("show", no), "attachment: photo", "123456 bytes", sc.photoCaption)

	// A command-line agent answers; the reply reaches the Telegram chat.
	s.cli("claim", no)
	s.cli("reply", no, sc.agentReply)
	tgHas(t, c.settle(), sc.agentReply)

	s.cli("resolve", no)
	r = c.settle()
	tgHas(t, r, no)
	r = c.press(sc.solved)
	r = c.press(sc.rate)
	c.say(sc.comment)
	mustContain(t, "ticket show", s.cli("show", no), sc.rating, sc.comment)

	// Every message the bot queued reached the chat exactly once, in order.
	chatID := strconv.FormatInt(chat, 10)
	var got []string
	for _, m := range c.sent() {
		got = append(got, m.Text)
	}
	if diff := cmp.Diff(s.outboxTexts(t, bot.ChannelTelegram, chatID), got); diff != "" {
		t.Errorf("sendMessage texts differ from the outbox (-outbox +sent):\n%s", diff)
	}
	t.Logf("%s journey: %d bot messages in %v", sc.lang, len(got), time.Since(start).Round(time.Millisecond))
	return no
}

// TestJourneyTelegram walks the whole foundation journey on Telegram in Chinese and English at once
// (two customers), then checks that /status shows each customer only their own ticket.
func TestJourneyTelegram(t *testing.T) {
	for name, dsn := range testDatabases(t) {
		t.Run(name, func(t *testing.T) {
			f := telegramtest.NewServer(t)
			s := startTelegramServer(t, dsn(t), f)
			// Registered while Telegram connects in the background (degraded start): wait, don't race it.
			waitFor(t, "commands registered (setMyCommands)", func() bool { return len(f.Calls("setMyCommands")) > 0 })
			var mu sync.Mutex
			tickets := map[int64]string{}
			t.Run("journeys", func(t *testing.T) {
				for i, sc := range journeyScripts {
					chat := int64(5001 + i)
					t.Run(sc.lang, func(t *testing.T) {
						t.Parallel()
						no := runTelegramJourney(t, s, f, chat, sc)
						mu.Lock()
						tickets[chat] = no
						mu.Unlock()
					})
				}
			})
			if t.Failed() || len(tickets) != len(journeyScripts) {
				return
			}
			for i, sc := range journeyScripts {
				chat := int64(5001 + i)
				c := newTGCustomer(t, f, s, chat, sc.lang)
				c.seen = len(c.sent())
				r := c.say("/status")
				tgHas(t, r, sc.statusHead, tickets[chat])
				for other, no := range tickets {
					if other != chat && strings.Contains(tgTexts(r), no) {
						t.Errorf("chat %d's /status shows another customer's ticket %s:\n%s", chat, no, tgTexts(r))
					}
				}
			}
		})
	}
}

// TestJourneyTelegramRestart stops the server mid-conversation while updates wait at Telegram, and
// starts it again on the same database and fake: the conversation continues where it was, a button
// from before the restart works, and an update Telegram hands out again is not handled twice.
func TestJourneyTelegramRestart(t *testing.T) {
	for name, dsn := range testDatabases(t) {
		t.Run(name, func(t *testing.T) {
			f := telegramtest.NewServer(t)
			db := dsn(t)
			s1 := startTelegramServer(t, db, f)
			sc := journeyScripts[0]
			c := newTGCustomer(t, f, s1, 6001, sc.lang)
			c.say("/start")
			// A question this test sends with its own message id, so it can be handed out again.
			qid := c.pushMessage(map[string]any{"text": sc.question})
			faq := c.settle()
			tgHas(t, faq, sc.answer)
			before := len(c.sent())
			s1.stop()

			// While kefu is down the customer presses "not helped" and Telegram holds the update; it
			// also hands out the question again, as after a crash between storing and confirming.
			msg, data := tgButtonOf(t, faq, sc.notHelped)
			f.PushCallback(c.chat, msg.ID, c.lang, data)
			c.nextMsg = qid - 1
			c.pushMessage(map[string]any{"text": sc.question})
			if f.Pending() != 2 {
				t.Fatalf("pending updates while down: %d, want 2", f.Pending())
			}

			s2 := startTelegramServer(t, db, f)
			c.s = s2
			r := c.settle()
			tgHas(t, r, "抱歉没能帮到您", sc.category) // faq.not_helped, then the type question
			for _, m := range r {
				if strings.Contains(m.Text, sc.greeting) || strings.Contains(m.Text, "请问以上回答") {
					t.Fatalf("a message was handled twice or the conversation restarted:\n%s", tgTexts(r))
				}
			}
			if len(r) != 2 {
				t.Errorf("replies after the restart: %d, want 2 (not_helped + ask_type):\n%s", len(r), tgTexts(r))
			}
			r = c.press(sc.category)
			tgHas(t, r, "订单号")
			all := c.sent()
			if len(all) != before+len(r)+2 {
				t.Errorf("sendMessage to the chat: %d, want %d", len(all), before+len(r)+2)
			}
			var got []string
			for _, m := range all {
				got = append(got, m.Text)
			}
			if diff := cmp.Diff(s2.outboxTexts(t, bot.ChannelTelegram, strconv.FormatInt(c.chat, 10)), got); diff != "" {
				t.Errorf("sendMessage texts differ from the outbox (-outbox +sent):\n%s", diff)
			}
		})
	}
}

// TestJourneyTelegramFloodStorm makes the fake Bot API stricter than the adapter's own pacing
// (1.5 s per chat, 3 messages per second overall) while four customers talk at once: Telegram
// answers many sends with 429 retry_after, and every reply still arrives exactly once, in order.
func TestJourneyTelegramFloodStorm(t *testing.T) {
	for name, dsn := range testDatabases(t) {
		t.Run(name, func(t *testing.T) {
			f := telegramtest.NewServer(t)
			f.SetFloodLimits(1500*time.Millisecond, 3)
			s := startTelegramServer(t, dsn(t), f)
			start := time.Now()
			var customers []*tgCustomer
			for i := range 4 {
				sc := journeyScripts[i%2]
				c := newTGCustomer(t, f, s, int64(7001+i), sc.lang)
				customers = append(customers, c)
				for _, text := range []string{"/start", "/help", sc.question, "/status"} {
					f.PushText(c.chat, c.lang, text)
				}
			}
			total := 0
			for _, c := range customers {
				c.settle()
				var got []string
				for _, m := range c.sent() {
					got = append(got, m.Text)
				}
				want := s.outboxTexts(t, bot.ChannelTelegram, strconv.FormatInt(c.chat, 10))
				if len(want) < 5 {
					t.Errorf("chat %d: only %d replies queued", c.chat, len(want))
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("chat %d: delivered messages differ from the outbox (-queued +delivered):\n%s", c.chat, diff)
				}
				total += len(got)
			}
			n429 := f.Rejected429()
			if n429 == 0 {
				t.Error("the fake answered no 429: the storm did not happen")
			}
			t.Logf("429 storm: %d messages delivered to 4 chats in %v; %d sends answered 429",
				total, time.Since(start).Round(time.Millisecond), n429)
		})
	}
}

// TestTelegramWebhookSecretSharedByReplicas: two replicas in webhook mode without
// KEFU_TELEGRAM_WEBHOOK_SECRET register the same secret (derived from the bot token), so whichever
// registered last, an update the load balancer hands to the other one is still accepted. Each used to
// generate its own: every replica but the last refused Telegram's posts.
func TestTelegramWebhookSecretSharedByReplicas(t *testing.T) {
	f := telegramtest.NewServer(t)
	dsn := filepath.Join(t.TempDir(), "kefu.db")
	env := map[string]string{
		"KEFU_TELEGRAM_TOKEN":       telegramtest.Token,
		"KEFU_TELEGRAM_API_URL":     f.URL,
		"KEFU_TELEGRAM_WEBHOOK_URL": "https://kefu.example.com/telegram/webhook",
	}
	a := startJourneyServer(t, dsn, env, nil)
	b := startJourneyServer(t, dsn, env, nil)
	waitFor(t, "setWebhook from both", func() bool { return len(f.Calls("setWebhook")) >= 2 })
	calls := f.Calls("setWebhook")
	s1, s2 := calls[0].Params.Get("secret_token"), calls[1].Params.Get("secret_token")
	if s1 == "" || s1 != s2 || strings.Contains(s1, telegramtest.Token) {
		t.Fatalf("secrets %q and %q: want one, not the token", s1, s2)
	}
	for _, s := range []*journeyServer{a, b} {
		req, _ := http.NewRequest("POST", s.url+"/telegram/webhook", strings.NewReader(`{"update_id":7,"message":{"message_id":7,"date":1,"chat":{"id":42,"type":"private"},"from":{"id":42},"text":"你好"}}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(telegram.SecretHeader, s1)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: the registered secret refused: %d", s.url, resp.StatusCode)
		}
	}
}
