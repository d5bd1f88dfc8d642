package discord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/adapters/discord/discordtest"

	"github.com/google/go-cmp/cmp"
	"github.com/kefu-dev/kefu/bot"
)

// recSink records delivered events; fail makes the first n Deliver calls fail; block, when set,
// makes Deliver wait until it is closed.
type recSink struct {
	mu      sync.Mutex
	events  []bot.Event
	calls   int
	fail    int
	block   chan struct{}
	changed chan struct{}
}

func newRecSink() *recSink { return &recSink{changed: make(chan struct{})} }

func (s *recSink) Deliver(ctx context.Context, ev bot.Event) error {
	s.mu.Lock()
	s.calls++
	block := s.block
	if s.fail > 0 {
		s.fail--
		s.mu.Unlock()
		return errors.New("database is down")
	}
	s.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, ev)
	close(s.changed)
	s.changed = make(chan struct{})
	return nil
}

// waitFor returns the delivered events once cond holds for them, failing after 10 s.
func (s *recSink) waitFor(t *testing.T, what string, cond func([]bot.Event) bool) []bot.Event {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		s.mu.Lock()
		evs := append([]bot.Event(nil), s.events...)
		ch := s.changed
		s.mu.Unlock()
		if cond(evs) {
			return evs
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("timed out waiting for %s; have %d events: %+v", what, len(evs), evs)
		}
	}
}

func hasMsg(id string) func([]bot.Event) bool {
	return func(evs []bot.Event) bool {
		for _, e := range evs {
			if e.MsgID == id {
				return true
			}
		}
		return false
	}
}

// startAdapter runs a real discordgo session against f until the test ends; stop cancels Run and
// returns how long Run took to return.
func startAdapter(t *testing.T, f *discordtest.Server, o Options, sink bot.Sink) (*Adapter, func() time.Duration) {
	t.Helper()
	if o.Token == "" {
		o.Token = discordtest.Token
	}
	if o.APIURL == "" {
		o.APIURL = f.URL
	}
	if o.RetryMin == 0 {
		o.RetryMin = 5 * time.Millisecond
	}
	a, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, sink) }()
	var once sync.Once
	var took time.Duration
	stop := func() time.Duration {
		once.Do(func() {
			start := time.Now()
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run returned %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("Run did not return after cancel")
			}
			took = time.Since(start)
		})
		return took
	}
	t.Cleanup(func() { stop() })
	f.WaitUntil("identify", func() bool { g := f.Gateway(); return g.Identifies >= 1 && g.Connected })
	return a, stop
}

func TestGatewayMessages(t *testing.T) {
	f := discordtest.NewServer(t)
	sink := newRecSink()
	startAdapter(t, f, Options{}, sink)

	f.Dispatch("MESSAGE_CREATE", discordtest.MessageCreate("m1", "dm1", "", "42", "  你好，我的空调不制冷  ", nil))
	f.Dispatch("MESSAGE_CREATE", discordtest.MessageCreate("m2", "dm1", "", discordtest.BotID, "echo of our own reply", nil))
	bm := discordtest.MessageCreate("m3", "dm1", "", "77", "another bot", nil)
	bm["author"].(map[string]any)["bot"] = true
	f.Dispatch("MESSAGE_CREATE", bm)
	f.Dispatch("MESSAGE_CREATE", discordtest.MessageCreate("m4", "dm1", "", "42", "/lang en", nil))
	f.Dispatch("MESSAGE_UPDATE", discordtest.MessageCreate("m1", "dm1", "", "42", "edited text", map[string]any{"edited_timestamp": "2026-11-23T10:01:00Z"}))
	f.Dispatch("MESSAGE_CREATE", discordtest.MessageCreate("m5", "dm1", "", "42", "see photo", map[string]any{
		"attachments": []any{map[string]any{"id": "a1", "url": "https://cdn.example/a1.png", "filename": "a1.png", "size": 2048, "content_type": "image/png"}},
	}))
	f.Dispatch("MESSAGE_CREATE", discordtest.MessageCreate("m6", "g-chan", "g1", "42", "guild chatter without support channel", nil))
	f.Dispatch("MESSAGE_CREATE", discordtest.MessageCreate("m7", "dm1", "", "42", "last", nil))

	evs := sink.waitFor(t, "m7", hasMsg("m7"))
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	base := bot.Event{Channel: bot.ChannelDiscord, ChatID: "dm1", UserID: "42", UserName: "User 42", At: at}
	want := []bot.Event{
		with(base, func(e *bot.Event) { e.MsgID, e.Kind, e.Text = "m1", bot.KindText, "你好，我的空调不制冷" }),
		with(base, func(e *bot.Event) { e.MsgID, e.Kind, e.Payload, e.Text = "m4", bot.KindCommand, "lang", "en" }),
		with(base, func(e *bot.Event) {
			e.MsgID, e.Kind, e.Text = "m5", bot.KindMedia, "see photo"
			e.Attachments = []bot.Attachment{{Type: "photo", FileID: "https://cdn.example/a1.png", Name: "a1.png", Size: 2048, MIME: "image/png"}}
		}),
		with(base, func(e *bot.Event) { e.MsgID, e.Kind, e.Text = "m7", bot.KindText, "last" }),
	}
	if d := cmp.Diff(want, evs); d != "" {
		t.Errorf("delivered events (-want +got):\n%s", d)
	}
	g := f.Gateway()
	intents, token := g.Intents, g.Token
	if intents != int(Intents) || token != "Bot test-token" {
		t.Errorf("identify intents=%d token=%q, want %d and the Bot-prefixed token", intents, token, Intents)
	}
}

func with(e bot.Event, f func(*bot.Event)) bot.Event {
	f(&e)
	return e
}

func TestResumeAfterDropDeliversEachMessageOnce(t *testing.T) {
	f := discordtest.NewServer(t)
	sink := newRecSink()
	startAdapter(t, f, Options{}, sink)

	const n = 30
	for i := 1; i <= n/3; i++ {
		f.Dispatch("MESSAGE_CREATE", discordtest.MessageCreate(fmt.Sprintf("m%02d", i), "dm1", "", "42", fmt.Sprint("msg ", i), nil))
	}
	f.DropConnection() // mid-stream: some of the above may still be in flight
	for i := n/3 + 1; i <= 2*n/3; i++ {
		f.Dispatch("MESSAGE_CREATE", discordtest.MessageCreate(fmt.Sprintf("m%02d", i), "dm1", "", "42", fmt.Sprint("msg ", i), nil))
	}
	f.WaitUntil("resume", func() bool { g := f.Gateway(); return len(g.Resumes) >= 1 && g.Connected })
	for i := 2*n/3 + 1; i <= n; i++ {
		f.Dispatch("MESSAGE_CREATE", discordtest.MessageCreate(fmt.Sprintf("m%02d", i), "dm1", "", "42", fmt.Sprint("msg ", i), nil))
	}
	evs := sink.waitFor(t, "all messages", func(evs []bot.Event) bool { return len(evs) >= n })

	seen := map[string]int{}
	var order []string
	for _, e := range evs {
		seen[e.MsgID]++
		order = append(order, e.MsgID)
	}
	for i := 1; i <= n; i++ {
		if id := fmt.Sprintf("m%02d", i); seen[id] != 1 {
			t.Errorf("%s delivered %d times, want once", id, seen[id])
		}
	}
	for i := 1; i < len(order); i++ {
		if order[i] < order[i-1] {
			t.Errorf("out of order: %s after %s", order[i], order[i-1])
		}
	}
	if n := f.Gateway().Identifies; n != 1 {
		t.Errorf("identifies = %d, want 1 (the session must be resumed, not restarted)", n)
	}
}

func httpBody(s string) io.ReadCloser { return io.NopCloser(strings.NewReader(s)) }

func contextWithCancel(t *testing.T) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ctx, cancel
}

func TestInvalidSessionReidentifies(t *testing.T) {
	f := discordtest.NewServer(t)
	sink := newRecSink()
	startAdapter(t, f, Options{}, sink)
	f.Dispatch("MESSAGE_CREATE", discordtest.MessageCreate("m1", "dm1", "", "42", "before", nil))
	sink.waitFor(t, "m1", hasMsg("m1"))

	f.RefuseNextResume()
	f.DropConnection()
	f.WaitUntil("a new session", func() bool { g := f.Gateway(); return g.Identifies == 2 && g.Connected })
	f.Dispatch("MESSAGE_CREATE", discordtest.MessageCreate("m2", "dm1", "", "42", "after", nil))
	sink.waitFor(t, "m2", hasMsg("m2"))
	if n := len(f.Gateway().Resumes); n != 1 {
		t.Errorf("resume attempts = %d, want 1 (refused with op 9)", n)
	}
}

func TestDeliverFailuresAreRetriedInOrder(t *testing.T) {
	f := discordtest.NewServer(t)
	sink := newRecSink()
	sink.fail = 3
	startAdapter(t, f, Options{}, sink)
	f.Dispatch("MESSAGE_CREATE", discordtest.MessageCreate("m1", "dm1", "", "42", "one", nil))
	f.Dispatch("MESSAGE_CREATE", discordtest.MessageCreate("m2", "dm1", "", "42", "two", nil))
	evs := sink.waitFor(t, "m2", hasMsg("m2"))
	var ids []string
	for _, e := range evs {
		ids = append(ids, e.MsgID)
	}
	if d := cmp.Diff([]string{"m1", "m2"}, ids); d != "" {
		t.Errorf("delivered (-want +got):\n%s", d)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if sink.calls != 5 {
		t.Errorf("Deliver calls = %d, want 5 (3 failures, then m1 and m2)", sink.calls)
	}
}

func TestRunReturnsSoonAfterCancel(t *testing.T) {
	f := discordtest.NewServer(t)
	sink := newRecSink()
	_, stop := startAdapter(t, f, Options{GatewayURL: f.GatewayURL()}, sink)
	f.Dispatch("MESSAGE_CREATE", discordtest.MessageCreate("m1", "dm1", "", "42", "hi", nil))
	sink.waitFor(t, "m1", hasMsg("m1"))
	// discordgo's Close waits 1 s after the close frame; anything far above that is a hang.
	if took := stop(); took > 5*time.Second {
		t.Errorf("Run took %v to return after cancel", took)
	}
	if n := len(f.CallsTo("GET", "/api/v9/gateway")); n != 0 {
		t.Errorf("GET /gateway called %d times although GatewayURL was set", n)
	}
	f.WaitUntil("gateway connection closed", func() bool { return !f.Gateway().Connected })
}

func TestRunFailsOnBadToken(t *testing.T) {
	f := discordtest.NewServer(t)
	f.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		json.NewEncoder(w).Encode(map[string]any{"message": "401: Unauthorized", "code": 0})
	})
	a, err := New(Options{Token: "bad", APIURL: f.URL})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Run(t.Context(), newRecSink()); err == nil {
		t.Error("Run with a rejected token returned nil")
	}
}

func TestRunFailsWhenMessageContentIntentIsDisallowed(t *testing.T) {
	f := discordtest.NewServer(t)
	f.CloseOnIdentify(4014)
	a, err := New(Options{Token: discordtest.Token, APIURL: f.URL})
	if err != nil {
		t.Fatal(err)
	}
	err = a.Run(t.Context(), newRecSink())
	if err == nil || !strings.Contains(err.Error(), "Message Content intent") {
		t.Errorf("Run = %v, want an error naming the Message Content intent", err)
	}
}
