package wecom

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/adapters/adaptertest"
	"github.com/kefu-dev/kefu/adapters/wecom/wecomtest"
	"github.com/kefu-dev/kefu/bot"
)

const customer = "wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw"

type clock struct{ off atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *clock) Advance(d time.Duration) { c.off.Add(int64(d)) }

type rig struct {
	f     *wecomtest.Server
	clk   *clock
	cur   atomic.Pointer[Adapter]
	state State
}

func newRig(t *testing.T) *rig {
	r := &rig{f: wecomtest.New(t), clk: &clock{}, state: NewMemState()}
	r.f.SetNow(r.clk.Now)
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if a := r.cur.Load(); a != nil {
			a.ServeHTTP(w, req)
			return
		}
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	t.Cleanup(cb.Close)
	r.f.Callback = cb.URL + "/wecom/callback"
	return r
}

func (r *rig) adapter(t *testing.T, mods ...func(*Options)) *Adapter {
	o := Options{CorpID: wecomtest.CorpID, Secret: wecomtest.Secret, Token: wecomtest.Token,
		EncodingAESKey: wecomtest.EncodingAESKey, APIURL: r.f.URL, State: r.state, Now: r.clk.Now, PollInterval: 2 * time.Second}
	for _, mod := range mods {
		mod(&o)
	}
	a, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	r.cur.Store(a)
	return a
}

func start(t *testing.T, a *Adapter, sink bot.Sink) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { _ = a.Run(ctx, sink); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func TestConformance(t *testing.T) {
	adaptertest.Run(t, func(t *testing.T) adaptertest.Harness {
		r := newRig(t)
		r.f.Follow(customer)
		return adaptertest.Harness{
			Features: adaptertest.Features{Redelivery: true, IgnoresBots: true},
			New:      func(t *testing.T) bot.Adapter { return r.adapter(t) },
			Inject: func(t *testing.T, text string) string {
				r.f.PushText(customer, text)
				return ChatID(wecomtest.OpenKfID, customer)
			},
			InjectFromBot: func(t *testing.T, text string) { r.f.PushServicer(customer, text) },
			ChatID:        ChatID(wecomtest.OpenKfID, customer),
		}
	})
}

// filter drops the enter_session /start the conformance rig begins with.
func textsOf(s *adaptertest.Store) []string { return s.Texts() }

func TestURLVerification(t *testing.T) {
	r := newRig(t)
	r.adapter(t)
	if code, body, err := r.f.VerifyURL("1616140317555161061"); err != nil || code != 200 || body != "1616140317555161061" {
		t.Errorf("verify = %d %q %v", code, body, err)
	}
}

// Opening the chat gives /start; the greeting goes out with the welcome code (once); a menu tap is a
// button; servicer messages are not customer input; after 48 hours replies are refused before the call.
func TestSessionFlow(t *testing.T) {
	r := newRig(t)
	a := r.adapter(t)
	st := adaptertest.NewStore()
	start(t, a, st)
	code := r.f.EnterSession(customer)
	ev := st.WaitFor(t, 1, 5*time.Second)[0]
	if ev.Kind != bot.KindCommand || ev.Payload != "start" || ev.ChatID != ChatID(wecomtest.OpenKfID, customer) {
		t.Fatalf("enter_session = %+v", ev)
	}
	ctx := t.Context()
	if _, err := a.Send(ctx, bot.Reply{OutboxID: 1, ChatID: ev.ChatID, Text: "您好，我是小云",
		Buttons: []bot.Button{{Label: "查订单", Payload: "1:order"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Send(ctx, bot.Reply{OutboxID: 2, ChatID: ev.ChatID, Text: "请问有什么可以帮您？"}); err != nil {
		t.Fatal(err)
	}
	sent := r.f.Sent()
	if len(sent) != 2 || sent[0].Code != code || sent[0].ToUser != "" || strings.Join(sent[0].Menu, ",") != "1:order=查订单" ||
		sent[1].Code != "" || sent[1].ToUser != customer {
		t.Fatalf("sent = %+v; want the greeting with the welcome code, then send_msg", sent)
	}
	r.f.PushServicer(customer, "我是人工客服张三")
	r.f.PushMenuClick(customer, "1:order", "查订单")
	evs := st.WaitFor(t, 2, 5*time.Second)
	if b := evs[1]; b.Kind != bot.KindButton || b.Payload != "1:order" {
		t.Errorf("menu tap = %+v", b)
	}
	time.Sleep(100 * time.Millisecond)
	if got := textsOf(st); len(got) != 2 {
		t.Errorf("stored %q; the servicer's message is not customer input", got)
	}
	// A revoked token is refreshed once.
	r.f.RevokeTokens()
	if _, err := a.Send(ctx, bot.Reply{OutboxID: 3, ChatID: ev.ChatID, Text: "好的"}); err != nil || r.f.TokenFetches() != 2 {
		t.Errorf("send after revocation = %v, %d token fetches", err, r.f.TokenFetches())
	}
	r.clk.Advance(Window + time.Minute)
	n := len(r.f.Sent())
	_, err := a.Send(ctx, bot.Reply{OutboxID: 4, ChatID: ev.ChatID, Text: "还在吗"})
	var perm *bot.PermanentError
	if !errors.As(err, &perm) || !errors.Is(err, bot.ErrWindowClosed) || len(r.f.Sent()) != n {
		t.Errorf("send after 48h = %v; want a permanent ErrWindowClosed without a call", err)
	}
}

func TestCallbackRefusals(t *testing.T) {
	r := newRig(t)
	a := r.adapter(t)
	srv := httptest.NewServer(a)
	defer srv.Close()
	for _, q := range []string{
		"?msg_signature=00&timestamp=" + itoa(time.Now().Unix()) + "&nonce=1&echostr=abc",
		"?msg_signature=00&timestamp=1409659589&nonce=1&echostr=abc",
	} {
		resp, err := http.Get(srv.URL + q)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Errorf("GET %s accepted", q)
		}
	}
}

func itoa(n int64) string { return formatInt(n) }

func formatInt(n int64) string {
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

// TestOtherMessageTypesNotDropped: a customer's message of a type kefu has no special handling for — a
// 视频号 shop order card, a link, a mini program, a forwarded chat record, a type WeCom adds later —
// still reaches the conversation as text with what the card says (the agents see the order number),
// instead of being skipped without a trace.
func TestOtherMessageTypesNotDropped(t *testing.T) {
	r := newRig(t)
	a := r.adapter(t)
	st := adaptertest.NewStore()
	start(t, a, st)
	r.f.PushCard(customer, "channels_shop_order", map[string]any{"order_id": "3705123456789", "product_titles": "云朵滚筒洗衣机",
		"price_wording": "¥2999.00", "state": 2, "image_url": "https://img.example/x.jpg", "shop_nickname": "云朵家电旗舰店"})
	r.f.PushCard(customer, "link", map[string]any{"title": "安装说明", "desc": "滚筒洗衣机", "url": "https://example.cn/a", "pic_url": "https://img.example/p.jpg"})
	r.f.PushCard(customer, "miniprogram", map[string]any{"title": "我的订单", "appid": "wx123", "pagepath": "pages/order?id=9", "thumb_media_id": "MEDIA1"})
	r.f.PushCard(customer, "merged_msg", map[string]any{"title": "张三和客服的聊天记录", "item": []any{map[string]any{"sender_name": "张三", "msg_content": "{}"}}})
	r.f.PushCard(customer, "future_type", map[string]any{})
	evs := st.WaitFor(t, 5, 5*time.Second)
	want := [][]string{
		{"[channels_shop_order]", "3705123456789", "云朵滚筒洗衣机", "¥2999.00", "云朵家电旗舰店"},
		{"[link]", "安装说明", "https://example.cn/a"},
		{"[miniprogram]", "我的订单", "pages/order?id=9"},
		{"[merged_msg]", "张三和客服的聊天记录"},
		{"[future_type]"},
	}
	for i, ev := range evs {
		if ev.Kind != bot.KindText {
			t.Errorf("%d: kind %v", i, ev.Kind)
		}
		for _, w := range want[i] {
			if !strings.Contains(ev.Text, w) {
				t.Errorf("%d: %q lacks %q", i, ev.Text, w)
			}
		}
		if strings.Contains(ev.Text, "img.example") || strings.Contains(ev.Text, "MEDIA1") {
			t.Errorf("%d: %q carries image urls or media ids", i, ev.Text)
		}
	}
}
