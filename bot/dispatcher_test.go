package bot_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/storage"
	"github.com/kefu-dev/kefu/storage/storetest"
)

// fakeAdapter records sends; fail decides the error for a text's n-th attempt (1-based).
type fakeAdapter struct {
	ch    bot.Channel
	mu    sync.Mutex
	sent  map[string][]string // chat -> texts, in send order
	tries map[string]int
	fail  func(text string, try int) error
	got   chan string
}

func newFake(ch bot.Channel) *fakeAdapter {
	return &fakeAdapter{ch: ch, sent: map[string][]string{}, tries: map[string]int{}, got: make(chan string, 100)}
}

func (f *fakeAdapter) Channel() bot.Channel                      { return f.ch }
func (f *fakeAdapter) Run(ctx context.Context, _ bot.Sink) error { <-ctx.Done(); return nil }
func (f *fakeAdapter) Send(_ context.Context, r bot.Reply) (string, error) {
	f.mu.Lock()
	f.tries[r.Text]++
	try := f.tries[r.Text]
	fail := f.fail
	f.mu.Unlock()
	if fail != nil {
		if err := fail(r.Text, try); err != nil {
			return "", err
		}
	}
	f.mu.Lock()
	f.sent[r.ChatID] = append(f.sent[r.ChatID], r.Text)
	f.mu.Unlock()
	select {
	case f.got <- r.Text:
	default:
	}
	return fmt.Sprintf("p%d", r.OutboxID), nil
}

func (f *fakeAdapter) sentTo(chat string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.sent[chat]...)
}

func enqueueAll(t testing.TB, db *storage.DB, at time.Time, ch bot.Channel, chat string, texts ...string) {
	t.Helper()
	err := db.Tx(context.Background(), func(tx bot.Tx) error {
		for _, s := range texts {
			if _, err := tx.Enqueue(context.Background(), at, bot.Reply{Channel: ch, ChatID: chat, Text: s}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func newDispatcher(t testing.TB, db *storage.DB, c *clock, adapters ...*fakeAdapter) *bot.Dispatcher {
	t.Helper()
	m := map[bot.Channel]bot.Adapter{}
	for _, a := range adapters {
		m[a.ch] = a
	}
	d, err := bot.NewDispatcher(bot.DispatcherOptions{Store: db, Adapters: m, Now: c.Now, BaseBackoff: time.Second,
		MaxBackoff: time.Minute, MaxAttempts: 3, Lease: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// drain flushes until nothing is due at the current clock.
func drain(t testing.TB, d *bot.Dispatcher) {
	t.Helper()
	for i := 0; i < 100; i++ {
		n, err := d.Flush(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
	t.Fatal("outbox never drained")
}

func statuses(t testing.TB, db *storage.DB, ch bot.Channel, chat string) []string {
	t.Helper()
	rows, err := db.OutboxRows(context.Background(), ch, chat)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		out = append(out, fmt.Sprintf("%s:%s:%d", r.Text, r.Status, r.Attempts))
	}
	return out
}

func TestDispatcher(t *testing.T) {
	now := time.Now().UTC()
	tests := []struct {
		name      string
		fail      func(text string, try int) error
		steps     []time.Duration // clock advances after the first drain, each followed by a drain
		wantSent  []string
		wantState []string
	}{
		{
			name:      "in order, once",
			wantSent:  []string{"a1", "a2", "a3"},
			wantState: []string{"a1:sent:1", "a2:sent:1", "a3:sent:1"},
		},
		{
			name: "transient error: retried after backoff, later rows wait",
			fail: func(s string, try int) error {
				if s == "a2" && try == 1 {
					return errors.New("connection reset")
				}
				return nil
			},
			steps:     []time.Duration{500 * time.Millisecond, 2 * time.Second},
			wantSent:  []string{"a1", "a2", "a3"},
			wantState: []string{"a1:sent:1", "a2:sent:2", "a3:sent:1"},
		},
		{
			name: "rate limited: waits as told, not counted as an attempt",
			fail: func(s string, try int) error {
				if s == "a1" && try == 1 {
					return &bot.RateLimitedError{Wait: 5 * time.Second}
				}
				return nil
			},
			steps:     []time.Duration{4 * time.Second, 2 * time.Second},
			wantSent:  []string{"a1", "a2", "a3"},
			wantState: []string{"a1:sent:1", "a2:sent:1", "a3:sent:1"},
		},
		{
			name: "permanent error: failed at once, the rest go on",
			fail: func(s string, try int) error {
				if s == "a1" {
					return &bot.PermanentError{Err: errors.New("bot was blocked by the user")}
				}
				return nil
			},
			wantSent:  []string{"a2", "a3"},
			wantState: []string{"a1:failed:1", "a2:sent:1", "a3:sent:1"},
		},
		{
			name:      "gives up after MaxAttempts",
			fail:      func(s string, try int) error { return map[bool]error{true: errors.New("500")}[s == "a3"] },
			steps:     []time.Duration{2 * time.Second, 3 * time.Second, 10 * time.Second},
			wantSent:  []string{"a1", "a2"},
			wantState: []string{"a1:sent:1", "a2:sent:1", "a3:failed:3"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db := storetest.OpenSQLite(t)
			c := &clock{t: now}
			tg := newFake(bot.ChannelTelegram)
			tg.fail = tc.fail
			d := newDispatcher(t, db, c, tg)
			enqueueAll(t, db, c.Now(), bot.ChannelTelegram, "A", "a1", "a2", "a3")
			drain(t, d)
			for _, s := range tc.steps {
				c.Add(s)
				drain(t, d)
			}
			if got := tg.sentTo("A"); !cmp.Equal(got, tc.wantSent) {
				t.Errorf("sent: %s", cmp.Diff(tc.wantSent, got))
			}
			if got := statuses(t, db, bot.ChannelTelegram, "A"); !cmp.Equal(got, tc.wantState) {
				t.Errorf("rows: %s", cmp.Diff(tc.wantState, got))
			}
		})
	}
}

func TestDispatcherOrderWhileRetrying(t *testing.T) {
	db := storetest.OpenSQLite(t)
	c := &clock{t: time.Now().UTC()}
	tg := newFake(bot.ChannelTelegram)
	tg.fail = func(s string, try int) error {
		if s == "a1" && try == 1 {
			return errors.New("timeout")
		}
		return nil
	}
	d := newDispatcher(t, db, c, tg)
	enqueueAll(t, db, c.Now(), bot.ChannelTelegram, "A", "a1", "a2")
	enqueueAll(t, db, c.Now(), bot.ChannelTelegram, "B", "b1", "b2")
	drain(t, d)
	// B is not held up by A's retry, but A's second row never overtakes its first.
	if got := tg.sentTo("A"); len(got) != 0 {
		t.Fatalf("A sent before its first row succeeded: %q", got)
	}
	if got := tg.sentTo("B"); !cmp.Equal(got, []string{"b1", "b2"}) {
		t.Fatalf("B: %q", got)
	}
	c.Add(2 * time.Second)
	drain(t, d)
	if got := tg.sentTo("A"); !cmp.Equal(got, []string{"a1", "a2"}) {
		t.Errorf("A after retry: %q", got)
	}
}

func TestDispatcherLeavesUnconfiguredChannelsQueued(t *testing.T) {
	db := storetest.OpenSQLite(t)
	c := &clock{t: time.Now().UTC()}
	tg := newFake(bot.ChannelTelegram)
	d := newDispatcher(t, db, c, tg)
	enqueueAll(t, db, c.Now(), bot.ChannelDiscord, "D", "d1")
	drain(t, d)
	if got := statuses(t, db, bot.ChannelDiscord, "D"); !cmp.Equal(got, []string{"d1:pending:0"}) {
		t.Errorf("discord row without adapter: %q", got)
	}
	// Configured later (a restart with a token): delivered then.
	dc := newFake(bot.ChannelDiscord)
	drain(t, newDispatcher(t, db, c, tg, dc))
	if got := dc.sentTo("D"); !cmp.Equal(got, []string{"d1"}) {
		t.Errorf("after configuring discord: %q", got)
	}
}

func TestDispatcherRecoversAfterCrash(t *testing.T) {
	db := storetest.OpenSQLite(t)
	c := &clock{t: time.Now().UTC()}
	enqueueAll(t, db, c.Now(), bot.ChannelTelegram, "A", "a1", "a2")
	// A dispatcher claims a1 and dies before sending or marking it.
	if rs, err := db.ClaimOutbox(context.Background(), c.Now(), []bot.Channel{bot.ChannelTelegram}, time.Minute, 10); err != nil || len(rs) != 1 {
		t.Fatalf("claim: %v %v", rs, err)
	}
	tg := newFake(bot.ChannelTelegram)
	d := newDispatcher(t, db, c, tg)
	drain(t, d)
	if got := tg.sentTo("A"); len(got) != 0 {
		t.Fatalf("sent while the dead dispatcher's lease holds: %q", got)
	}
	c.Add(61 * time.Second)
	drain(t, d)
	if got := tg.sentTo("A"); !cmp.Equal(got, []string{"a1", "a2"}) {
		t.Errorf("after lease expiry: %q", got)
	}
}

func TestDispatcherRunDeliversEngineReplies(t *testing.T) {
	db := storetest.OpenSQLite(t)
	web := newFake(bot.ChannelWeb)
	d, err := bot.NewDispatcher(bot.DispatcherOptions{Store: db, Adapters: map[bot.Channel]bot.Adapter{bot.ChannelWeb: web},
		PollInterval: time.Hour}) // only Kick can wake it in time
	if err != nil {
		t.Fatal(err)
	}
	eng, err := bot.New(bot.Options{Store: db, Flows: scripted{}, Catalog: catalog{}, OnEnqueue: d.Kick})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	if err := eng.Deliver(ctx, bot.Event{Channel: bot.ChannelWeb, MsgID: "1", ChatID: "s", UserID: "s", Kind: bot.KindText, Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-web.got:
		if got != "zh-CN:greeting.hello" && got != "en:greeting.hello" {
			t.Errorf("delivered %q", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("reply not delivered after Kick")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run returned %v on cancel", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestBackoff(t *testing.T) {
	d, _ := bot.NewDispatcher(bot.DispatcherOptions{Store: storetest.OpenSQLite(t), BaseBackoff: time.Second, MaxBackoff: 10 * time.Second})
	for _, tc := range []struct {
		attempt int
		base    time.Duration
	}{{1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second}, {4, 8 * time.Second}, {5, 10 * time.Second}, {50, 10 * time.Second}} {
		for i := 0; i < 20; i++ {
			got := d.Backoff(tc.attempt)
			if got < tc.base*8/10 || got > tc.base*12/10 {
				t.Errorf("Backoff(%d) = %v, want %v ±20%%", tc.attempt, got, tc.base)
			}
		}
	}
}

// TestDispatcherLeaseCoversQueuedRows: a pass claims up to Batch rows but sends only Workers at a
// time, so a row can wait in the pass while slow sends run. Once its lease can no longer cover a
// whole send, another dispatcher (another process) may claim it: the waiting pass must not send it
// as well. Every row is still sent exactly once.
func TestDispatcherLeaseCoversQueuedRows(t *testing.T) {
	db := storetest.OpenSQLite(t)
	c := &clock{t: time.Now().UTC()}
	enqueueAll(t, db, c.Now(), bot.ChannelTelegram, "c1", "m1")
	enqueueAll(t, db, c.Now(), bot.ChannelTelegram, "c2", "m2")
	enqueueAll(t, db, c.Now(), bot.ChannelTelegram, "c3", "m3")
	other := newFake(bot.ChannelTelegram)
	d2, err := bot.NewDispatcher(bot.DispatcherOptions{Store: db, Adapters: map[bot.Channel]bot.Adapter{bot.ChannelTelegram: other},
		Now: c.Now, Lease: time.Minute, SendTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	slow := newFake(bot.ChannelTelegram)
	slow.fail = func(text string, _ int) error {
		// Each send takes its whole timeout; meanwhile the other dispatcher polls.
		c.Add(30 * time.Second)
		if _, err := d2.Flush(context.Background()); err != nil {
			t.Errorf("other dispatcher: %v", err)
		}
		return nil
	}
	d1, err := bot.NewDispatcher(bot.DispatcherOptions{Store: db, Adapters: map[bot.Channel]bot.Adapter{bot.ChannelTelegram: slow},
		Now: c.Now, Lease: time.Minute, SendTimeout: 30 * time.Second, Workers: 1, Batch: 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d1.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	drain(t, d1)
	drain(t, d2)
	count := map[string]int{}
	for _, chat := range []string{"c1", "c2", "c3"} {
		for _, s := range append(slow.sentTo(chat), other.sentTo(chat)...) {
			count[s]++
		}
	}
	if want := map[string]int{"m1": 1, "m2": 1, "m3": 1}; !cmp.Equal(count, want) {
		t.Errorf("sends per row: %v, want each once", count)
	}
}

// TestDispatcherTakesOverAKilledDispatcher: a dispatcher that dies holding claims (no heartbeat any
// more) stalls its chats for one Lease (seconds), not minutes; nothing is sent twice.
func TestDispatcherTakesOverAKilledDispatcher(t *testing.T) {
	db := storetest.OpenSQLite(t)
	c := &clock{t: time.Now().UTC()}
	enqueueAll(t, db, c.Now(), bot.ChannelTelegram, "A", "a1", "a2")
	ctx := context.Background()
	// The killed process: it beat once, claimed the chat, and was gone.
	if err := db.Heartbeat(ctx, "killed", c.Now(), c.Now().Add(5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if rs, err := db.ClaimBatch(ctx, "killed", c.Now(), []bot.Channel{bot.ChannelTelegram}, 10); err != nil || len(rs) != 2 {
		t.Fatalf("claim: %v %v", rs, err)
	}
	tg := newFake(bot.ChannelTelegram)
	d, err := bot.NewDispatcher(bot.DispatcherOptions{Store: db, Adapters: map[bot.Channel]bot.Adapter{bot.ChannelTelegram: tg}, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	c.Add(4 * time.Second)
	drain(t, d)
	if got := tg.sentTo("A"); len(got) != 0 {
		t.Fatalf("sent while the other dispatcher's heartbeat holds: %q", got)
	}
	c.Add(2 * time.Second) // the default Lease (5s) after its last heartbeat
	drain(t, d)
	if got := tg.sentTo("A"); !cmp.Equal(got, []string{"a1", "a2"}) {
		t.Errorf("after the killed dispatcher's lease: %q", got)
	}
	if got := statuses(t, db, bot.ChannelTelegram, "A"); !cmp.Equal(got, []string{"a1:sent:1", "a2:sent:1"}) {
		t.Errorf("rows: %q", got)
	}
}

// TestDispatcherShutdownGivesClaimsBack: a dispatcher that stops declares itself dead, so another one
// goes on at once with the rows it still held.
func TestDispatcherShutdownGivesClaimsBack(t *testing.T) {
	db := storetest.OpenSQLite(t)
	enqueueAll(t, db, time.Now(), bot.ChannelTelegram, "A", "a1", "a2")
	block := make(chan struct{})
	slow := newFake(bot.ChannelTelegram)
	slow.fail = func(text string, _ int) error { <-block; return errors.New("interrupted") }
	d1, err := bot.NewDispatcher(bot.DispatcherOptions{Store: db, Adapters: map[bot.Channel]bot.Adapter{bot.ChannelTelegram: slow}, Lease: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- d1.Run(ctx) }()
	waitUntil(t, func() bool { slow.mu.Lock(); defer slow.mu.Unlock(); return slow.tries["a1"] > 0 })
	cancel()
	close(block)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	tg := newFake(bot.ChannelTelegram)
	d2, err := bot.NewDispatcher(bot.DispatcherOptions{Store: db, Adapters: map[bot.Channel]bot.Adapter{bot.ChannelTelegram: tg}, Lease: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	drain(t, d2)
	if got := tg.sentTo("A"); !cmp.Equal(got, []string{"a1", "a2"}) {
		t.Errorf("after the first dispatcher stopped (its lease an hour): %q", got)
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not met within 10s")
}

// Every row given up on, whether by a permanent error or by running out of attempts, is reported to
// OnGiveUp once (the engine turns it into a note for the agents); sent rows never are.
func TestDispatcherReportsGivenUpRows(t *testing.T) {
	db := storetest.OpenSQLite(t)
	c := &clock{t: time.Now().UTC()}
	tg := newFake(bot.ChannelTelegram)
	tg.fail = func(s string, try int) error {
		switch s {
		case "window":
			return &bot.PermanentError{Err: fmt.Errorf("wechat: %w", bot.ErrWindowClosed)}
		case "flaky":
			return errors.New("502")
		}
		return nil
	}
	var mu sync.Mutex
	var reported []string
	d, err := bot.NewDispatcher(bot.DispatcherOptions{Store: db, Adapters: map[bot.Channel]bot.Adapter{bot.ChannelTelegram: tg},
		Now: c.Now, BaseBackoff: time.Second, MaxBackoff: time.Second, MaxAttempts: 2, Lease: time.Minute,
		OnGiveUp: func(_ context.Context, r bot.Reply, err error) error {
			mu.Lock()
			defer mu.Unlock()
			reported = append(reported, fmt.Sprintf("%s:%v", r.Text, errors.Is(err, bot.ErrWindowClosed)))
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	enqueueAll(t, db, c.Now(), bot.ChannelTelegram, "A", "window", "ok")
	enqueueAll(t, db, c.Now(), bot.ChannelTelegram, "B", "flaky")
	drain(t, d)
	c.Add(2 * time.Second)
	drain(t, d)
	sort.Strings(reported)
	if want := []string{"flaky:false", "window:true"}; !cmp.Equal(reported, want) {
		t.Errorf("reported %v, want %v", reported, want)
	}
}
