package wechat

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/adapters/adaptertest"
	"github.com/kefu-dev/kefu/adapters/wechat/wechattest"
	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/storage"
)

const follower = "oFollower0000000000000000001"

// clock is a test clock shared by the fake and the adapter.
type clock struct{ off atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *clock) Advance(d time.Duration) { c.off.Add(int64(d)) }

// rig is a fake platform plus a callback server routing to the current adapter.
type rig struct {
	f     *wechattest.Server
	clk   *clock
	cur   atomic.Pointer[Adapter]
	state State
}

func newRig(t *testing.T, safe bool) *rig {
	t.Helper()
	r := &rig{f: wechattest.New(t), clk: &clock{}, state: NewMemState()}
	r.f.SafeMode = safe
	r.f.SetNow(r.clk.Now)
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		a := r.cur.Load()
		if a == nil {
			http.Error(w, "no adapter", http.StatusServiceUnavailable)
			return
		}
		a.ServeHTTP(w, req)
	}))
	t.Cleanup(cb.Close)
	r.f.Callback = cb.URL + "/wechat/callback"
	return r
}

func (r *rig) adapter(t *testing.T, mod func(*Options)) *Adapter {
	t.Helper()
	o := Options{AppID: wechattest.AppID, AppSecret: wechattest.AppSecret, Token: wechattest.Token,
		APIURL: r.f.URL, State: r.state, Now: r.clk.Now}
	if r.f.SafeMode {
		o.EncodingAESKey = wechattest.EncodingAESKey
	}
	if mod != nil {
		mod(&o)
	}
	a, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	r.cur.Store(a)
	return a
}

// run starts a.Run with sink until the test ends and waits until the handler can deliver.
func run(t *testing.T, a *Adapter, sink bot.Sink) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { _ = a.Run(ctx, sink); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	for i := 0; i < 200; i++ {
		a.sinkMu.RLock()
		ok := a.sink != nil
		a.sinkMu.RUnlock()
		if ok {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("Run did not start")
}

func TestConformance(t *testing.T) {
	for _, safe := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "safe"}[safe], func(t *testing.T) {
			adaptertest.Run(t, func(t *testing.T) adaptertest.Harness {
				r := newRig(t, safe)
				r.f.Follow(follower)
				return adaptertest.Harness{
					New: func(t *testing.T) bot.Adapter { return r.adapter(t, nil) },
					Inject: func(t *testing.T, text string) string {
						if _, err := r.f.PushText(follower, text); err != nil {
							t.Errorf("push: %v", err)
						}
						return follower
					},
					ChatID: follower,
				}
			})
		})
	}
}

func TestURLVerification(t *testing.T) {
	r := newRig(t, true)
	r.adapter(t, nil)
	if code, body, err := r.f.VerifyURL("echo-1616140317555161061", ""); err != nil || code != 200 || body != "echo-1616140317555161061" {
		t.Errorf("verification = %d %q %v; want the echostr back", code, body, err)
	}
	if code, body, _ := r.f.VerifyURL("echo", strings.Repeat("0", 40)); code != http.StatusUnauthorized || strings.Contains(body, "echo") {
		t.Errorf("wrong signature = %d %q; want 401 without the echostr", code, body)
	}
}

func TestCallbackRefusals(t *testing.T) {
	for _, safe := range []bool{false, true} {
		r := newRig(t, safe)
		a := r.adapter(t, nil)
		s := adaptertest.NewStore()
		run(t, a, s)
		msg := []byte("<xml><ToUserName>gh</ToUserName><FromUserName>" + follower + "</FromUserName><CreateTime>" +
			strconv.FormatInt(r.clk.Now().Unix(), 10) + "</CreateTime><MsgType>text</MsgType><Content>hi</Content><MsgId>77</MsgId></xml>")
		old := strconv.FormatInt(r.clk.Now().Add(-10*time.Minute).Unix(), 10)
		for _, tc := range []struct {
			name   string
			do     func() (int, string, error)
			status int
		}{
			{"wrong signature", func() (int, string, error) { return r.f.Post(msg, follower, strings.Repeat("a", 40)) }, 401},
			{"replayed old timestamp", func() (int, string, error) { return r.f.PostAt(msg, follower, old, "") }, 403},
			{"not a number timestamp", func() (int, string, error) { return r.f.PostAt(msg, follower, "yesterday", "") }, 403},
			{"not XML", func() (int, string, error) { return r.f.Post([]byte("{}"), follower, "") }, 400},
			{"doctype", func() (int, string, error) {
				return r.f.Post([]byte(`<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><FromUserName>&e;</FromUserName></xml>`), follower, "")
			}, 400},
		} {
			code, body, err := tc.do()
			if err != nil || code != tc.status || body == "success" {
				t.Errorf("safe=%v %s: %d %q %v; want %d", safe, tc.name, code, body, err, tc.status)
			}
		}
		if len(s.Events) != 0 {
			t.Errorf("safe=%v: refused callbacks stored %d events", safe, len(s.Events))
		}
	}
	// A safe-mode account refuses a plaintext callback (no downgrade).
	r := newRig(t, false)
	a := r.adapter(t, func(o *Options) { o.EncodingAESKey = wechattest.EncodingAESKey })
	run(t, a, adaptertest.NewStore())
	if _, err := r.f.PushText(follower, "plain"); err == nil {
		t.Error("safe-mode adapter accepted a plaintext callback")
	}
}

func TestRetriedDeliveryStoredOnce(t *testing.T) {
	r := newRig(t, true)
	a := r.adapter(t, nil)
	s := adaptertest.NewStore()
	var fails atomic.Int32
	s.SetFail(func(bot.Event) error {
		if fails.Add(1) <= 2 {
			return errors.New("database busy")
		}
		return nil
	})
	run(t, a, s)
	body := []byte("<xml><ToUserName>gh</ToUserName><FromUserName>" + follower + "</FromUserName><CreateTime>" +
		strconv.FormatInt(r.clk.Now().Unix(), 10) + "</CreateTime><MsgType>text</MsgType><Content>退款</Content><MsgId>4242</MsgId></xml>")
	if err := r.f.Deliver(body, follower); err != nil {
		t.Fatal(err)
	}
	// WeChat's own duplicate (the answer was lost on the way back) carries the same MsgId.
	if err := r.f.Deliver(body, follower); err != nil {
		t.Fatal(err)
	}
	if len(s.Events) != 1 || s.Dups != 1 || s.Events[0].MsgID != "msg:4242" || r.f.CallbackRequests() != 4 {
		t.Errorf("events %d, dups %d, requests %d; want 1 stored after 2 failures, the repeat deduplicated", len(s.Events), s.Dups, r.f.CallbackRequests())
	}
}

func TestNormalize(t *testing.T) {
	r := newRig(t, false)
	a := r.adapter(t, nil)
	ts := strconv.FormatInt(r.clk.Now().Unix(), 10)
	head := "<xml><ToUserName>gh</ToUserName><FromUserName>" + follower + "</FromUserName><CreateTime>" + ts + "</CreateTime>"
	for _, tc := range []struct {
		name, xml string
		ok        bool
		want      bot.Event
	}{
		{"text", "<MsgType>text</MsgType><Content>  我要退款 </Content><MsgId>1</MsgId>", true,
			bot.Event{Kind: bot.KindText, Text: "我要退款", MsgID: "msg:1"}},
		{"menu reply", "<MsgType>text</MsgType><Content>满意</Content><MsgId>2</MsgId><bizmsgmenuid>rate:5</bizmsgmenuid>", true,
			bot.Event{Kind: bot.KindButton, Text: "满意", Payload: "rate:5", MsgID: "msg:2"}},
		{"image", "<MsgType>image</MsgType><PicUrl>http://mmbiz/x.jpg</PicUrl><MediaId>MED1</MediaId><MsgId>3</MsgId>", true,
			bot.Event{Kind: bot.KindMedia, MsgID: "msg:3", Attachments: []bot.Attachment{{Type: "photo", FileID: "MED1", MIME: "image/jpeg"}}}},
		{"voice with recognition", "<MsgType>voice</MsgType><MediaId>V1</MediaId><Format>AMR</Format><Recognition>查订单</Recognition><MsgId>4</MsgId>", true,
			bot.Event{Kind: bot.KindMedia, Text: "查订单", MsgID: "msg:4", Attachments: []bot.Attachment{{Type: "voice", FileID: "V1", MIME: "audio/amr"}}}},
		{"location", "<MsgType>location</MsgType><Location_X>23.134521</Location_X><Location_Y>113.358803</Location_Y><Scale>20</Scale><Label>广州市天河区</Label><MsgId>5</MsgId>", true,
			bot.Event{Kind: bot.KindText, Text: "📍 广州市天河区 (23.134521, 113.358803)", MsgID: "msg:5"}},
		{"subscribe", "<MsgType>event</MsgType><Event>subscribe</Event>", true,
			bot.Event{Kind: bot.KindCommand, Payload: "start", MsgID: "evt:" + follower + ":" + ts + ":subscribe"}},
		{"menu command", "<MsgType>event</MsgType><Event>CLICK</Event><EventKey>status</EventKey>", true,
			bot.Event{Kind: bot.KindCommand, Payload: "status", MsgID: "evt:" + follower + ":" + ts + ":click"}},
		{"menu payload", "<MsgType>event</MsgType><Event>CLICK</Event><EventKey>cat:refund</EventKey>", true,
			bot.Event{Kind: bot.KindButton, Payload: "cat:refund", MsgID: "evt:" + follower + ":" + ts + ":click"}},
		{"unsubscribe", "<MsgType>event</MsgType><Event>unsubscribe</Event>", false, bot.Event{}},
		{"menu link", "<MsgType>event</MsgType><Event>VIEW</Event><EventKey>https://x</EventKey>", false, bot.Event{}},
		{"unknown type", "<MsgType>miniprogrampage</MsgType><MsgId>9</MsgId>", false, bot.Event{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseMessage([]byte(head + tc.xml + "</xml>"))
			if err != nil {
				t.Fatal(err)
			}
			ev, ok := a.normalize(m)
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			if !ok {
				return
			}
			w := tc.want
			if ev.Channel != Channel || ev.ChatID != follower || ev.UserID != follower || ev.At.Unix() != r.clk.Now().Unix() ||
				ev.Kind != w.Kind || ev.Text != w.Text || ev.Payload != w.Payload || ev.MsgID != w.MsgID ||
				len(ev.Attachments) != len(w.Attachments) || len(w.Attachments) > 0 && ev.Attachments[0] != w.Attachments[0] {
				t.Errorf("event = %+v\nwant    %+v", ev, w)
			}
		})
	}
}

func TestSend(t *testing.T) {
	r := newRig(t, false)
	a := r.adapter(t, nil)
	run(t, a, adaptertest.NewStore())
	if _, err := r.f.PushText(follower, "hi"); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if id, err := a.Send(ctx, bot.Reply{OutboxID: 7, ChatID: follower, Text: "您好"}); err != nil || id != "outbox-7" {
		t.Fatalf("Send = %q, %v", id, err)
	}
	if _, err := a.Send(ctx, bot.Reply{OutboxID: 8, ChatID: follower, Text: "问题解决了吗？",
		Buttons: []bot.Button{{Label: "已解决", Payload: "solved:yes"}, {Label: "没有", Payload: "solved:no"}}}); err != nil {
		t.Fatal(err)
	}
	sent := r.f.Sent()
	if len(sent) != 2 || sent[0].MsgType != "text" || sent[0].Text != "您好" ||
		sent[1].MsgType != "msgmenu" || strings.Join(sent[1].Menu, ",") != "solved:yes=已解决,solved:no=没有" {
		t.Errorf("sent = %+v", sent)
	}
	if n := r.f.TokenFetches(); n != 1 {
		t.Errorf("token fetched %d times for two sends, want 1 (cached)", n)
	}

	// A revoked token (40001) is refreshed once and the send retried.
	r.f.RevokeTokens()
	if _, err := a.Send(ctx, bot.Reply{OutboxID: 9, ChatID: follower, Text: "again"}); err != nil {
		t.Fatalf("send after revocation: %v", err)
	}
	// An expired token is replaced before use (kefu refreshes 5 minutes early).
	r.clk.Advance(wechattest.TokenLifetime - 4*time.Minute)
	if _, err := r.f.PushText(follower, "still here"); err != nil { // keeps the window open
		t.Fatal(err)
	}
	if _, err := a.Send(ctx, bot.Reply{OutboxID: 10, ChatID: follower, Text: "later"}); err != nil {
		t.Fatalf("send near token expiry: %v", err)
	}
	if n := r.f.TokenFetches(); n != 3 {
		t.Errorf("token fetches = %d, want 3 (first, after 40001, before expiry)", n)
	}

	// Permanent platform answers.
	for _, tc := range []struct {
		code          int
		window, quota bool
	}{{45015, true, false}, {45047, false, true}, {43004, false, false}, {40003, false, false}} {
		if _, err := r.f.PushText(follower, "hello?"); err != nil { // a fresh quota (45047 uses it up)
			t.Fatal(err)
		}
		r.f.SetSendHook(func(wechattest.Sent) (int, string) { return tc.code, "from the test" })
		_, err := a.Send(ctx, bot.Reply{OutboxID: 11, ChatID: follower, Text: "x"})
		var perm *bot.PermanentError
		if !errors.As(err, &perm) || errors.Is(err, ErrWindowClosed) != tc.window || errors.Is(err, ErrQuotaUsed) != tc.quota {
			t.Errorf("errcode %d: Send = %v; want permanent, window closed %v, quota used %v", tc.code, err, tc.window, tc.quota)
		}
	}
	r.f.SetSendHook(func(wechattest.Sent) (int, string) { return -1, "system error" })
	if _, err := a.Send(ctx, bot.Reply{OutboxID: 12, ChatID: follower, Text: "x"}); err == nil || errors.As(err, new(*bot.PermanentError)) {
		t.Errorf("errcode -1: Send = %v; want a retryable error", err)
	}
	r.f.SetSendHook(nil)
}

func TestWindowClosed(t *testing.T) {
	r := newRig(t, false)
	a := r.adapter(t, nil)
	run(t, a, adaptertest.NewStore())
	if _, err := r.f.PushText(follower, "hi"); err != nil {
		t.Fatal(err)
	}
	if open, until, err := a.WindowOpen(t.Context(), follower); !open || err != nil || until.Sub(r.clk.Now()) < 47*time.Hour {
		t.Fatalf("WindowOpen = %v %v %v just after a message", open, until, err)
	}
	r.clk.Advance(Window + time.Minute)
	before := len(r.f.Sent())
	_, err := a.Send(t.Context(), bot.Reply{OutboxID: 1, ChatID: follower, Text: "too late"})
	var perm *bot.PermanentError
	if !errors.As(err, &perm) || !errors.Is(err, ErrWindowClosed) {
		t.Fatalf("Send after 48h = %v; want a permanent ErrWindowClosed", err)
	}
	if len(r.f.Sent()) != before {
		t.Error("a reply outside the window reached the platform")
	}
	// The follower writes again: the window reopens.
	if _, err := r.f.PushText(follower, "back"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Send(t.Context(), bot.Reply{OutboxID: 2, ChatID: follower, Text: "welcome back"}); err != nil {
		t.Fatalf("Send after the follower wrote again: %v", err)
	}
}

// Several processes share one database: the token is fetched once for all of them.
func TestTokenFetchedOnceAcrossProcesses(t *testing.T) {
	db, err := storage.Open(t.Context(), "sqlite://"+t.TempDir()+"/kefu.db", storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	r := newRig(t, false)
	r.state = db
	r.f.ReplyLimit = 100 // 20 sends to one follower: this test is about the token, not the reply quota
	r.f.Follow(follower)
	var procs []*Adapter
	for range 4 {
		procs = append(procs, r.adapter(t, nil))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i, a := range procs {
		for j := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := a.Send(t.Context(), bot.Reply{OutboxID: int64(i*10 + j), ChatID: follower, Text: "并发"}); err != nil {
					errs <- err
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := r.f.TokenFetches(); n != 1 {
		t.Errorf("token fetched %d times by 4 processes, want 1", n)
	}
	// A revocation seen by every process is repaired by one fetch.
	r.f.RevokeTokens()
	for i, a := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := a.Send(t.Context(), bot.Reply{OutboxID: int64(100 + i), ChatID: follower, Text: "again"}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := r.f.TokenFetches(); n != 2 {
		t.Errorf("token fetches after a revocation = %d, want 2", n)
	}
}
