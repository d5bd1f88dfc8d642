package telegram

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/google/go-cmp/cmp"

	"github.com/kefu-dev/kefu/bot"
)

func TestSendTextAndKeyboard(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, nil)
	tests := []struct {
		name       string
		buttons    []bot.Button
		wantMarkup string
	}{
		{"no buttons", nil, ""},
		{"long labels one per row", []bot.Button{{Label: "退款/退货", Payload: "cat:refund:s1"}, {Label: "物流查询", Payload: "cat:ship:s1"}, {Label: "Talk to a human", Payload: "human:s1"}},
			`{"inline_keyboard":[[{"text":"退款/退货","callback_data":"cat:refund:s1"}],[{"text":"物流查询","callback_data":"cat:ship:s1"}],[{"text":"Talk to a human","callback_data":"human:s1"}]]}`},
		{"short labels share a row", []bot.Button{{Label: "1", Payload: "r:1"}, {Label: "2", Payload: "r:2"}, {Label: "3", Payload: "r:3"}, {Label: "4", Payload: "r:4"}, {Label: "5", Payload: "r:5"}, {Label: "跳过", Payload: "r:skip"}},
			`{"inline_keyboard":[[{"text":"1","callback_data":"r:1"},{"text":"2","callback_data":"r:2"},{"text":"3","callback_data":"r:3"},{"text":"4","callback_data":"r:4"},{"text":"5","callback_data":"r:5"}],[{"text":"跳过","callback_data":"r:skip"}]]}`},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := a.Send(t.Context(), bot.Reply{OutboxID: int64(i + 1), ChatID: "42", Text: "您好", Buttons: tt.buttons})
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			sent := f.Sent()
			last := sent[len(sent)-1]
			if id != fmt.Sprint(last.ID) || last.ChatID != 42 || last.Text != "您好" {
				t.Errorf("Send = %q, fake got %+v", id, last)
			}
			markup := last.Markup
			if markup == "null" {
				markup = ""
			}
			if markup != tt.wantMarkup {
				t.Errorf("reply_markup\n got %s\nwant %s", markup, tt.wantMarkup)
			}
		})
	}
}

func TestSendSplitsLongText(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, nil)
	para := strings.Repeat("您的订单已发货，请耐心等待。", 40) // 560 runes
	text := strings.Repeat(para+"\n", 20)        // ~11k runes
	_, err := a.Send(t.Context(), bot.Reply{OutboxID: 1, ChatID: "42", Text: text, Buttons: []bot.Button{{Label: "ok", Payload: "ok"}}})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	sent := f.Sent()
	if len(sent) < 3 {
		t.Fatalf("sent %d parts, want >= 3", len(sent))
	}
	var joined []string
	for i, m := range sent {
		if n := len(utf16.Encode([]rune(m.Text))); n > 4096 {
			t.Errorf("part %d has %d UTF-16 units", i, n)
		}
		hasKeyboard := m.Markup != "" && m.Markup != "null"
		if hasKeyboard != (i == len(sent)-1) {
			t.Errorf("part %d keyboard = %v; only the last part carries it", i, hasKeyboard)
		}
		joined = append(joined, m.Text)
	}
	if got, want := strings.Join(joined, "\n"), strings.TrimSpace(text); got != want {
		t.Errorf("parts do not rebuild the text (split inside a line?)")
	}
}

func TestSplitTextNeverBreaksRunes(t *testing.T) {
	for _, s := range []string{strings.Repeat("😀", 3000), strings.Repeat("a", 4097), strings.Repeat("字", 4096), "x"} {
		var n int
		for _, p := range splitText(s, maxMessageUnits) {
			if len(utf16.Encode([]rune(p))) > maxMessageUnits {
				t.Errorf("part too long")
			}
			n += len([]rune(p))
		}
		if n != len([]rune(s)) {
			t.Errorf("lost runes: %d of %d", n, len([]rune(s)))
		}
	}
}

func TestSendErrors(t *testing.T) {
	tests := []struct {
		name     string
		code     int
		desc     string
		retry    int
		check    func(error) bool
		wantKind string
	}{
		{"429 is rate limited with retry_after", 429, "Too Many Requests: retry after 7", 7, func(err error) bool {
			var rl *bot.RateLimitedError
			return errors.As(err, &rl) && rl.Wait == 7*time.Second
		}, "RateLimitedError{7s}"},
		{"blocked is permanent", 403, "Forbidden: bot was blocked by the user", 0, func(err error) bool {
			var p *bot.PermanentError
			return errors.As(err, &p)
		}, "PermanentError"},
		{"chat not found is permanent", 400, "Bad Request: chat not found", 0, func(err error) bool {
			var p *bot.PermanentError
			return errors.As(err, &p)
		}, "PermanentError"},
		{"server error is retryable", 502, "Bad Gateway", 0, func(err error) bool {
			var p *bot.PermanentError
			var rl *bot.RateLimitedError
			return err != nil && !errors.As(err, &p) && !errors.As(err, &rl)
		}, "plain error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAPI(t)
			f.SetSendHook(func(int64, string, int) (int, string, int) { return tt.code, tt.desc, tt.retry })
			a := newTestAdapter(t, f, nil)
			_, err := a.Send(t.Context(), bot.Reply{OutboxID: 1, ChatID: "42", Text: "hi"})
			if !tt.check(err) {
				t.Errorf("Send error = %v (%T), want %s", err, err, tt.wantKind)
			}
			if err != nil && strings.Contains(err.Error(), testToken) {
				t.Errorf("error leaks the token: %v", err)
			}
		})
	}
}

func TestSendRejectsBadReplies(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, nil)
	for _, r := range []bot.Reply{
		{ChatID: "not-a-number", Text: "x"},
		{ChatID: "42", Text: "   "},
		{ChatID: "42", Text: "x", Buttons: []bot.Button{{Label: "x", Payload: strings.Repeat("p", 65)}}},
		{ChatID: "42", Text: "x", Buttons: []bot.Button{{Label: "x", Payload: ""}}},
	} {
		_, err := a.Send(t.Context(), r)
		var p *bot.PermanentError
		if !errors.As(err, &p) {
			t.Errorf("Send(%+v) = %v, want *bot.PermanentError", r, err)
		}
	}
	if n := len(f.Calls("sendMessage")); n != 0 {
		t.Errorf("bad replies reached the API %d times", n)
	}
}

// TestSend429Storm: Telegram answers 429 to the first two attempts of every third message. A tiny
// dispatcher retries on RateLimitedError; every message arrives once, in order per chat, and each
// 429 surfaces as a RateLimitedError with Telegram's retry_after.
func TestSend429Storm(t *testing.T) {
	f := newFakeAPI(t)
	f.SetSendHook(func(chat int64, text string, attempt int) (int, string, int) {
		var n int
		fmt.Sscanf(text[strings.LastIndexByte(text, ' ')+1:], "%d", &n)
		if n%3 == 0 && attempt <= 2 {
			return 429, "Too Many Requests: retry after 3", 3
		}
		return 0, "", 0
	})
	a := newTestAdapter(t, f, nil)
	const chats, perChat = 4, 15
	var wg sync.WaitGroup
	var mu sync.Mutex
	limited := 0
	for c := 1; c <= chats; c++ {
		wg.Add(1)
		go func() { // one dispatcher worker per conversation, as the outbox keeps order per conversation
			defer wg.Done()
			for i := 1; i <= perChat; i++ {
				r := bot.Reply{OutboxID: int64(c*1000 + i), ChatID: fmt.Sprint(c), Text: fmt.Sprintf("chat %d msg %d", c, i)}
				for attempt := 0; ; attempt++ {
					_, err := a.Send(t.Context(), r)
					var rl *bot.RateLimitedError
					if errors.As(err, &rl) {
						if rl.Wait != 3*time.Second {
							t.Errorf("Wait = %v, want 3s", rl.Wait)
						}
						mu.Lock()
						limited++
						mu.Unlock()
						continue // a real dispatcher sleeps rl.Wait; the fake does not hold a grudge
					}
					if err != nil {
						t.Errorf("Send: %v", err)
						return
					}
					break
				}
			}
		}()
	}
	wg.Wait()
	got := map[int64][]string{}
	for _, m := range f.Sent() {
		got[m.ChatID] = append(got[m.ChatID], m.Text)
	}
	for c := 1; c <= chats; c++ {
		var want []string
		for i := 1; i <= perChat; i++ {
			want = append(want, fmt.Sprintf("chat %d msg %d", c, i))
		}
		if diff := cmp.Diff(want, got[int64(c)]); diff != "" {
			t.Errorf("chat %d received (-want +got):\n%s", c, diff)
		}
	}
	if want := chats * (perChat / 3) * 2; limited != want || f.Rejected429() != want {
		t.Errorf("RateLimitedErrors surfaced = %d, fake sent %d 429s, want %d", limited, f.Rejected429(), want)
	}
}

// TestSendLongReplyResumesAfter429: a 429 on the second part of a split reply; the retry sends the
// remaining parts only.
func TestSendLongReplyResumesAfter429(t *testing.T) {
	f := newFakeAPI(t)
	calls := 0
	f.SetSendHook(func(chat int64, text string, attempt int) (int, string, int) {
		calls++
		if calls == 2 {
			return 429, "Too Many Requests", 1
		}
		return 0, "", 0
	})
	a := newTestAdapter(t, f, nil)
	r := bot.Reply{OutboxID: 9, ChatID: "42", Text: strings.Repeat("a", 4000) + "\n" + strings.Repeat("b", 4000) + "\n" + strings.Repeat("c", 4000)}
	_, err := a.Send(t.Context(), r)
	var rl *bot.RateLimitedError
	if !errors.As(err, &rl) {
		t.Fatalf("first Send = %v, want RateLimitedError", err)
	}
	id, err := a.Send(t.Context(), r)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	var firsts []string
	for _, m := range f.Sent() {
		firsts = append(firsts, m.Text[:1])
	}
	if diff := cmp.Diff([]string{"a", "b", "c"}, firsts); diff != "" {
		t.Errorf("parts sent (-want +got):\n%s", diff)
	}
	if id != "3" {
		t.Errorf("Send returned %q, want the last part's id 3", id)
	}
}

// TestSendRespectsLimits: the fake enforces Telegram's flood limits (1/s per chat, 30/s overall) with
// 429s; with the default limits the adapter never trips them.
func TestSendRespectsLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("sends for ~2s of real time")
	}
	f := newFakeAPI(t)
	f.SetFloodLimits(time.Second, 30)
	a := newTestAdapter(t, f, func(o *Options) { o.PerChatInterval, o.GlobalRate = 0, 0 }) // defaults
	var wg sync.WaitGroup
	for c := 1; c <= 40; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2; i++ {
				if _, err := a.Send(t.Context(), bot.Reply{ChatID: fmt.Sprint(c), Text: fmt.Sprint("m", i)}); err != nil {
					t.Errorf("Send: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	if f.Rejected429() != 0 {
		t.Errorf("fake answered %d 429s", f.Rejected429())
	}
	if n := len(f.Sent()); n != 80 {
		t.Errorf("sent %d, want 80", n)
	}
}

func TestSendWaitHonoursContext(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, func(o *Options) { o.PerChatInterval = time.Hour })
	if _, err := a.Send(t.Context(), bot.Reply{ChatID: "42", Text: "one"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := a.Send(ctx, bot.Reply{ChatID: "42", Text: "two"}); err == nil {
		t.Error("second Send within the per-chat interval succeeded; want a context error")
	}
	if n := len(f.Sent()); n != 1 {
		t.Errorf("sent %d, want 1", n)
	}
}

func TestEdit(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, nil)
	if err := a.Edit(t.Context(), "42", "5", bot.Reply{}); err != nil {
		t.Fatalf("Edit remove keyboard: %v", err)
	}
	if err := a.Edit(t.Context(), "42", "5", bot.Reply{Text: "已选择：退款", Buttons: []bot.Button{{Label: "1", Payload: "x"}}}); err != nil {
		t.Fatalf("Edit text: %v", err)
	}
	rm := f.Calls("editMessageReplyMarkup")
	if len(rm) != 1 || rm[0].Params.Get("reply_markup") != `{"inline_keyboard":[]}` || rm[0].Params.Get("message_id") != "5" {
		t.Errorf("editMessageReplyMarkup = %+v", rm)
	}
	et := f.Calls("editMessageText")
	if len(et) != 1 || et[0].Params.Get("text") != "已选择：退款" || !strings.Contains(et[0].Params.Get("reply_markup"), `"callback_data":"x"`) {
		t.Errorf("editMessageText = %+v", et)
	}
	if err := a.Edit(t.Context(), "42", "x", bot.Reply{}); err == nil {
		t.Error("Edit with a bad message id succeeded")
	}
}

func TestRegisterCommands(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, func(o *Options) {
		o.CommandDescriptions = map[string]map[string]string{
			"zh-CN": {"start": "开始咨询", "status": "查看工单进度", "lang": "切换语言", "help": "帮助"},
			"en":    {"start": "Start", "status": "Ticket status", "lang": "Change language", "help": "Help"},
		}
	})
	if err := a.RegisterCommands(t.Context()); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range f.Calls("setMyCommands") {
		got[c.Params.Get("language_code")] = c.Params.Get("commands")
	}
	want := map[string]string{
		"en": `[{"command":"start","description":"Start"},{"command":"status","description":"Ticket status"},{"command":"lang","description":"Change language"},{"command":"help","description":"Help"}]`,
		"zh": `[{"command":"start","description":"开始咨询"},{"command":"status","description":"查看工单进度"},{"command":"lang","description":"切换语言"},{"command":"help","description":"帮助"}]`,
		"":   `[{"command":"start","description":"开始咨询"},{"command":"status","description":"查看工单进度"},{"command":"lang","description":"切换语言"},{"command":"help","description":"帮助"}]`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("setMyCommands (-want +got):\n%s", diff)
	}
}

func TestDownload(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, nil)
	file, err := a.Download(t.Context(), "d1")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Body.Close()
	b, _ := io.ReadAll(file.Body)
	if string(b) != "%PDF-fake" || file.Path != fakeFilePath {
		t.Errorf("Download = %q at %q", b, file.Path)
	}
	if c := f.Calls("getFile"); len(c) != 1 || c[0].Params.Get("file_id") != "d1" {
		t.Errorf("getFile calls = %+v", c)
	}
}

func TestNetworkErrorsHideToken(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, nil)
	f.Close() // the API goes away
	_, err := a.Send(t.Context(), bot.Reply{ChatID: "42", Text: "x"})
	if err == nil || strings.Contains(err.Error(), testToken) {
		t.Errorf("Send error = %v; want an error without the token", err)
	}
	var p *bot.PermanentError
	if errors.As(err, &p) {
		t.Errorf("network error is permanent: %v", err)
	}
}
