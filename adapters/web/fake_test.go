package web

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/kefu-dev/kefu/bot"
)

// fakeStore keeps web sessions and the web outbox in memory, like storage does in its tables.
type fakeStore struct {
	mu       sync.Mutex
	sessions map[string]string // id -> lang
	msgs     []bot.Reply       // ids grow
	nextID   int64
	err      error // returned by every method when set
}

func newFakeStore() *fakeStore { return &fakeStore{sessions: map[string]string{}} }

func (s *fakeStore) CreateWebSession(_ context.Context, id, lang string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	if _, ok := s.sessions[id]; ok {
		return fmt.Errorf("fake: session %s exists", id)
	}
	s.sessions[id] = lang
	return nil
}

func (s *fakeStore) WebSessionExists(_ context.Context, id string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return false, s.err
	}
	_, ok := s.sessions[id]
	return ok, nil
}

func (s *fakeStore) WebSessionLang(_ context.Context, id string) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return "", false, s.err
	}
	l, ok := s.sessions[id]
	return l, ok, nil
}

func (s *fakeStore) WebMessagesAfter(_ context.Context, session string, after int64, limit int) ([]bot.Reply, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	var out []bot.Reply
	for _, m := range s.msgs {
		if m.ChatID == session && m.OutboxID > after && len(out) < limit {
			out = append(out, m)
		}
	}
	return out, nil
}

func (s *fakeStore) LastWebMessageID(_ context.Context, session string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return 0, s.err
	}
	var last int64
	for _, m := range s.msgs {
		if m.ChatID == session {
			last = m.OutboxID
		}
	}
	return last, nil
}

// enqueue adds an outbox row for session, as the engine does in its transaction.
func (s *fakeStore) enqueue(session, text string, buttons ...bot.Button) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	s.msgs = append(s.msgs, bot.Reply{OutboxID: s.nextID, Channel: bot.ChannelWeb, ChatID: session, Text: text, Buttons: buttons})
	return s.nextID
}

func (s *fakeStore) setErr(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
}

// fakeSink plays the engine: it records events, drops duplicates by (Channel, MsgID) and enqueues
// canned replies into the store before returning.
type fakeSink struct {
	store  *fakeStore
	mu     sync.Mutex
	events []bot.Event
	seen   map[string]bool
	err    error
}

func newFakeSink(st *fakeStore) *fakeSink { return &fakeSink{store: st, seen: map[string]bool{}} }

func (k *fakeSink) Deliver(_ context.Context, ev bot.Event) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.err != nil {
		return k.err
	}
	k.events = append(k.events, ev)
	key := string(ev.Channel) + "|" + ev.MsgID
	if k.seen[key] {
		return nil // the engine swallows bot.ErrDuplicate
	}
	k.seen[key] = true
	switch {
	case ev.Kind == bot.KindButton:
		k.store.enqueue(ev.ChatID, "pressed "+ev.Payload)
	case ev.Text == "menu":
		k.store.enqueue(ev.ChatID, "pick one", bot.Button{Label: "Yes", Payload: "yes:1"}, bot.Button{Label: "No", Payload: "no:1"})
	case ev.Text == "two":
		k.store.enqueue(ev.ChatID, "first")
		k.store.enqueue(ev.ChatID, "second")
	default:
		k.store.enqueue(ev.ChatID, "echo "+ev.Text)
	}
	return nil
}

func (k *fakeSink) got() []bot.Event {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]bot.Event(nil), k.events...)
}

func (k *fakeSink) setErr(err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.err = err
}

// fakeT is a catalog: it knows every key but "error.bad_request" (to exercise the fallback) and
// shows which language and arguments it was asked for.
func fakeT(lang, key string, args map[string]any) string {
	if key == "error.bad_request" {
		return key
	}
	if key == "web.title" && args["company"] != nil {
		return fmt.Sprintf("%s|%s|%v", lang, key, args["company"])
	}
	return lang + "|" + key
}

var errFake = errors.New("fake failure")

// fixture is a running adapter with its fakes.
type fixture struct {
	a     *Adapter
	store *fakeStore
	sink  *fakeSink
}

func newFixture(t *testing.T, o Options) *fixture {
	t.Helper()
	st := newFakeStore()
	if o.Store == nil {
		o.Store = st
	}
	a, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	f := &fixture{a: a, store: st, sink: newFakeSink(st)}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, f.sink) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	waitRunning(a)
	return f
}

// waitRunning returns once Run has stored its sink (it does so before it blocks).
func waitRunning(a *Adapter) {
	for a.sink.Load() == nil {
		runtime.Gosched()
	}
}

// session makes a web session directly in the store.
func (f *fixture) session(t *testing.T) string {
	t.Helper()
	return f.sessionLang(t, "")
}

// sessionLang creates a session as POST /api/webchat/sessions does with "lang":lang.
func (f *fixture) sessionLang(t *testing.T, lang string) string {
	t.Helper()
	id := newID(sessionBytes)
	if err := f.store.CreateWebSession(t.Context(), id, lang); err != nil {
		t.Fatal(err)
	}
	return id
}
