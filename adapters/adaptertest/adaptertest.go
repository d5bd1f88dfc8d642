// Package adaptertest is the conformance suite every bot.Adapter passes against its platform fake
// (watermill's pubsub/tests and tailscale's storetest are the models). An adapter's test builds a
// Harness around its httptest fake and calls Run; capabilities a platform lacks are switched off in
// Features, and the suite skips those checks with the reason. It runs for web, Telegram and Discord
// (adapters/*/conformance_test.go); a new adapter adds its own.
//
// The suite asserts what the platform's fake received (Harness.Received: chat, text, buttons of
// every accepted message) and that nothing reaches the sink twice (Store.Dups) except what the
// platform itself redelivers after a kill.
package adaptertest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
)

// Features declares what the platform (and its fake) can do.
type Features struct {
	// Redelivery: messages not yet confirmed come back to a restarted adapter (Telegram getUpdates,
	// Slack envelopes not acked). Checks that a kill and restart loses nothing and stores nothing twice.
	Redelivery bool
	// RateLimit: Harness.Throttle can make the next send answer 429.
	RateLimit bool
	// IgnoresBots: Harness.InjectFromBot can send a message authored by a bot.
	IgnoresBots bool
}

// Harness connects the suite to one adapter and its fake. New and Inject are required.
type Harness struct {
	Features Features
	// New returns a fresh adapter connected to the same fake; a "restart" calls it again.
	New func(t *testing.T) bot.Adapter
	// Inject makes the fake deliver a customer's text message; it returns the ChatID the event must
	// carry. Messages injected while no adapter runs must wait on the platform side.
	Inject func(t *testing.T, text string) (chatID string)
	// InjectFromBot makes the fake deliver a message written by a bot (Features.IgnoresBots).
	InjectFromBot func(t *testing.T, text string)
	// Throttle makes the next send answer 429 with retry-after wait (Features.RateLimit).
	Throttle func(t *testing.T, wait time.Duration)
	// ChatID is where the suite sends replies.
	ChatID string
	// Received lists the messages the platform's fake accepted from the adapter, in order. Leave it
	// nil only for a platform the adapter pushes nothing to (web: the page pulls the outbox).
	Received func(t *testing.T) []Received
	// Wait bounds every wait of the suite; default 10s.
	Wait time.Duration
}

// Received is one message a platform's fake accepted: where, what, and the labels of its buttons.
type Received struct {
	ChatID  string
	Text    string
	Buttons []string
}

// Run runs the conformance checks as subtests. setup is called once per subtest and must return a
// Harness on a fresh fake, so that nothing left unconfirmed by one check leaks into the next.
func Run(t *testing.T, setup func(t *testing.T) Harness) {
	t.Helper()
	for _, c := range []struct {
		name string
		fn   func(*testing.T, Harness)
	}{
		{"Normalizes", testNormalizes},
		{"IgnoresBots", testIgnoresBots},
		{"RetriesFailedDeliver", testRetriesFailedDeliver},
		{"KillAndRestart", testKillAndRestart},
		{"NothingTwice", testNothingTwice},
		{"Send", testSend},
		{"RateLimited", testRateLimited},
		{"RunStopsOnCancel", testRunStops},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := setup(t)
			if h.New == nil || h.Inject == nil {
				t.Fatal("adaptertest: Harness.New and Harness.Inject are required")
			}
			if h.Wait <= 0 {
				h.Wait = 10 * time.Second
			}
			c.fn(t, h)
		})
	}
}

// Store is a sink that behaves like the engine: it keeps each (Channel, MsgID) once and answers nil
// to a duplicate. Fail, if set, is asked first and may fail a delivery before anything is stored.
type Store struct {
	mu     sync.Mutex
	seen   map[string]bool
	Events []bot.Event
	Dups   int
	Fail   func(ev bot.Event) error
	added  chan struct{}
}

// NewStore returns an empty Store.
func NewStore() *Store { return &Store{seen: make(map[string]bool), added: make(chan struct{}, 1<<16)} }

// Deliver implements bot.Sink.
func (s *Store) Deliver(ctx context.Context, ev bot.Event) error {
	s.mu.Lock()
	fail := s.Fail
	s.mu.Unlock()
	if fail != nil {
		if err := fail(ev); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := string(ev.Channel) + "\x00" + ev.MsgID
	if s.seen[key] {
		s.Dups++
		return nil
	}
	s.seen[key] = true
	s.Events = append(s.Events, ev)
	s.added <- struct{}{}
	return nil
}

// DupCount is Dups, read safely while an adapter runs.
func (s *Store) DupCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Dups
}

// SetFail replaces Fail safely while an adapter runs.
func (s *Store) SetFail(f func(bot.Event) error) {
	s.mu.Lock()
	s.Fail = f
	s.mu.Unlock()
}

// Texts returns the texts stored so far, in order.
func (s *Store) Texts() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, e := range s.Events {
		out = append(out, e.Text)
	}
	return out
}

// WaitFor waits until n events are stored.
func (s *Store) WaitFor(t *testing.T, n int, limit time.Duration) []bot.Event {
	t.Helper()
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		if len(s.Events) >= n {
			out := append([]bot.Event(nil), s.Events...)
			s.mu.Unlock()
			return out
		}
		s.mu.Unlock()
		select {
		case <-s.added:
		case <-deadline.C:
			t.Fatalf("stored %d events within %v, want %d: %q", len(s.Texts()), limit, n, s.Texts())
		}
	}
}

// start runs a.Run in the background and returns a stop func that cancels and waits.
func start(t *testing.T, h Harness, a bot.Adapter, sink bot.Sink) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, sink) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(h.Wait):
				err = fmt.Errorf("Run did not return within %v of cancel", h.Wait)
			}
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

func testNormalizes(t *testing.T, h Harness) {
	a := h.New(t)
	s := NewStore()
	start(t, h, a, s)
	chat := h.Inject(t, "  hello, I need help  ")
	ev := s.WaitFor(t, 1, h.Wait)[0]
	if ev.Channel != a.Channel() || ev.Kind != bot.KindText || ev.Text != "hello, I need help" ||
		ev.ChatID != chat || ev.MsgID == "" || ev.UserID == "" || ev.At.IsZero() {
		t.Errorf("event = %+v; want channel %s, kind text, trimmed text, chat %s, ids and time set", ev, a.Channel(), chat)
	}
	h.Inject(t, "sentinel")
	s.WaitFor(t, 2, h.Wait)
	if s.DupCount() != 0 || len(s.Texts()) != 2 {
		t.Errorf("stored %q with %d duplicates; want each message once", s.Texts(), s.DupCount())
	}
}

// testNothingTwice: messages injected in a row arrive once each, in order; the adapter delivers no
// duplicate (Store.Dups) and distinct messages get distinct ids.
func testNothingTwice(t *testing.T, h Harness) {
	a := h.New(t)
	s := NewStore()
	start(t, h, a, s)
	const n = 6
	var want []string
	for i := 1; i <= n; i++ {
		text := fmt.Sprintf("same words %d", i%2) // repeated texts must not be taken for duplicates
		if i == n {
			text = "sentinel"
		}
		want = append(want, text)
		h.Inject(t, text)
	}
	evs := s.WaitFor(t, n, h.Wait)
	if got := strings.Join(s.Texts(), ","); got != strings.Join(want, ",") {
		t.Errorf("stored %q, want %q", got, strings.Join(want, ","))
	}
	ids := map[string]bool{}
	for _, ev := range evs {
		ids[ev.MsgID] = true
	}
	if dups := s.DupCount(); dups != 0 || len(ids) != n {
		t.Errorf("%d duplicate deliveries, %d distinct ids for %d messages; want 0 and %d", dups, len(ids), n, n)
	}
}

func testIgnoresBots(t *testing.T, h Harness) {
	if !h.Features.IgnoresBots || h.InjectFromBot == nil {
		t.Skip("adapter declares no IgnoresBots feature")
	}
	a := h.New(t)
	s := NewStore()
	start(t, h, a, s)
	h.InjectFromBot(t, "beep from a bot")
	h.Inject(t, "from a person")
	s.WaitFor(t, 1, h.Wait)
	if got := s.Texts(); len(got) != 1 || got[0] != "from a person" || s.DupCount() != 0 {
		t.Errorf("stored %q (%d duplicates), want only the person's message, once", got, s.DupCount())
	}
}

func testRetriesFailedDeliver(t *testing.T, h Harness) {
	a := h.New(t)
	s := NewStore()
	var mu sync.Mutex
	failures := 0
	s.SetFail(func(ev bot.Event) error {
		mu.Lock()
		defer mu.Unlock()
		if ev.Text == "first" && failures < 2 {
			failures++
			return errors.New("adaptertest: store unavailable")
		}
		return nil
	})
	start(t, h, a, s)
	h.Inject(t, "first")
	h.Inject(t, "second")
	s.WaitFor(t, 2, h.Wait)
	if got := strings.Join(s.Texts(), ","); got != "first,second" {
		t.Errorf("stored %q, want first,second (a failed Deliver is retried, in order, never skipped)", got)
	}
	h.Inject(t, "sentinel")
	s.WaitFor(t, 3, h.Wait)
	mu.Lock()
	defer mu.Unlock()
	if s.DupCount() != 0 || failures != 2 {
		t.Errorf("%d duplicates after %d failed deliveries; want 0 after 2 (a failed Deliver stored nothing)", s.DupCount(), failures)
	}
}

func testKillAndRestart(t *testing.T, h Harness) {
	if !h.Features.Redelivery {
		t.Skip("platform does not redeliver unconfirmed messages")
	}
	s := NewStore()
	ctx, cancel := context.WithCancel(t.Context())
	stored := 0
	var mu sync.Mutex
	s.SetFail(func(ev bot.Event) error {
		mu.Lock()
		defer mu.Unlock()
		if stored == 2 { // die after storing two, before the platform heard about it
			cancel()
			return ctx.Err()
		}
		stored++
		return nil
	})
	const n = 5
	for i := 1; i <= n; i++ {
		h.Inject(t, fmt.Sprintf("m%d", i))
	}
	a1 := h.New(t)
	done := make(chan error, 1)
	go func() { done <- a1.Run(ctx, s) }()
	select {
	case <-done:
	case <-time.After(h.Wait):
		t.Fatal("Run did not return after the kill")
	}
	s.SetFail(nil)
	start(t, h, h.New(t), s)
	s.WaitFor(t, n, h.Wait)
	if got, want := strings.Join(s.Texts(), ","), "m1,m2,m3,m4,m5"; got != want {
		t.Errorf("after restart stored %q, want %q (nothing lost, nothing twice)", got, want)
	}
	// Only what was stored but not confirmed before the kill may come again (the sink's dedupe
	// absorbs it); everything confirmed stays confirmed.
	if d := s.DupCount(); d > 2 {
		t.Errorf("%d messages redelivered after the restart; at most the 2 stored before the kill may be", d)
	}
}

func testSend(t *testing.T, h Harness) {
	a := h.New(t)
	text := "您好，请问有什么可以帮您？"
	id, err := a.Send(t.Context(), bot.Reply{OutboxID: 1, Channel: a.Channel(), ChatID: h.ChatID, Text: text,
		Buttons: []bot.Button{{Label: "退款", Payload: "cat:refund"}, {Label: "Other", Payload: "cat:other"}}})
	if err != nil || id == "" {
		t.Fatalf("Send = %q, %v; want a platform message id", id, err)
	}
	if h.Received == nil {
		t.Log("Harness.Received is not set: what the platform received is not checked")
		return
	}
	want := []Received{{ChatID: h.ChatID, Text: text, Buttons: []string{"退款", "Other"}}}
	if got := h.Received(t); !equalReceived(got, want) {
		t.Errorf("the platform received %+v, want %+v", got, want)
	}
	if _, err := a.Send(t.Context(), bot.Reply{OutboxID: 2, Channel: a.Channel(), ChatID: h.ChatID, Text: "   "}); err == nil {
		t.Error("Send of a blank reply: no error (the platform refuses empty messages)")
	}
	if got := h.Received(t); len(got) != 1 {
		t.Errorf("after the blank reply the platform received %d messages, want still 1", len(got))
	}
}

func equalReceived(a, b []Received) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].ChatID != b[i].ChatID || a[i].Text != b[i].Text || strings.Join(a[i].Buttons, "\x00") != strings.Join(b[i].Buttons, "\x00") {
			return false
		}
	}
	return true
}

func testRateLimited(t *testing.T, h Harness) {
	if !h.Features.RateLimit || h.Throttle == nil {
		t.Skip("fake cannot throttle")
	}
	a := h.New(t)
	h.Throttle(t, 3*time.Second)
	_, err := a.Send(t.Context(), bot.Reply{OutboxID: 2, Channel: a.Channel(), ChatID: h.ChatID, Text: "throttled"})
	var rl *bot.RateLimitedError
	if !errors.As(err, &rl) || rl.Wait != 3*time.Second {
		t.Fatalf("Send under 429 = %v; want *bot.RateLimitedError{Wait: 3s}", err)
	}
	if _, err := a.Send(t.Context(), bot.Reply{OutboxID: 2, Channel: a.Channel(), ChatID: h.ChatID, Text: "throttled"}); err != nil {
		t.Errorf("retry after the 429: %v", err)
	}
	if h.Received != nil {
		if got, want := h.Received(t), []Received{{ChatID: h.ChatID, Text: "throttled"}}; !equalReceived(got, want) {
			t.Errorf("after a 429 and a retry the platform received %+v, want %+v (once)", got, want)
		}
	}
}

func testRunStops(t *testing.T, h Harness) {
	a := h.New(t)
	stop := start(t, h, a, NewStore())
	h.Inject(t, "keep it busy")
	if err := stop(); err != nil {
		t.Errorf("Run after cancel = %v, want nil", err)
	}
}
