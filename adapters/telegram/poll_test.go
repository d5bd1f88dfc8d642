package telegram

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/kefu-dev/kefu/bot"
)

// store is a sink that behaves like the engine: it stores each (Channel, MsgID) once and returns nil
// for a duplicate. fail, if set, may fail a delivery before anything is stored.
type store struct {
	mu     sync.Mutex
	seen   map[string]bool
	events []bot.Event
	dups   int
	tries  map[string]int
	fail   func(ev bot.Event, try int) error
	stored chan bot.Event // each newly stored event, if non-nil
}

func newStore() *store {
	return &store{seen: make(map[string]bool), tries: make(map[string]int), stored: make(chan bot.Event, 1000)}
}

func (s *store) Deliver(ctx context.Context, ev bot.Event) error {
	s.mu.Lock()
	s.tries[ev.MsgID]++
	try := s.tries[ev.MsgID]
	fail := s.fail
	s.mu.Unlock()
	if fail != nil {
		if err := fail(ev, try); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen[ev.MsgID] {
		s.dups++
		return nil
	}
	s.seen[ev.MsgID] = true
	s.events = append(s.events, ev)
	s.stored <- ev
	return nil
}

func (s *store) msgIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for _, e := range s.events {
		ids = append(ids, e.MsgID)
	}
	return ids
}

// waitStored waits for n newly stored events.
func (s *store) waitStored(t *testing.T, n int) []bot.Event {
	t.Helper()
	var out []bot.Event
	for len(out) < n {
		select {
		case ev := <-s.stored:
			out = append(out, ev)
		case <-time.After(10 * time.Second):
			t.Fatalf("stored %d events, want %d", len(out), n)
		}
	}
	return out
}

func TestPollDeliversInOrder(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, nil)
	s := newStore()
	runAdapter(t, a, s)
	f.Push(textUpdate(1, "你好"), textUpdate(2, "/lang en"), callbackUpdate("q1", "cat:refund", "private"))
	got := s.waitStored(t, 3)
	var ids []string
	for _, e := range got {
		ids = append(ids, e.MsgID)
	}
	if diff := cmp.Diff([]string{"m:42:1", "m:42:2", "cb:q1"}, ids); diff != "" {
		t.Errorf("delivered (-want +got):\n%s", diff)
	}
	if len(f.Calls("deleteWebhook")) == 0 {
		t.Error("polling did not delete a leftover webhook")
	}
}

func TestPollOffsetAdvancesOnlyAfterDeliver(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, nil)
	s := newStore()
	ids := f.Push(textUpdate(1, "first"), textUpdate(2, "second"))
	var confirmedAtFailure []int
	s.fail = func(ev bot.Event, try int) error {
		if ev.MsgID == "m:42:2" && try <= 2 {
			confirmedAtFailure = append(confirmedAtFailure, f.ConfirmedOffset())
			return errors.New("database is locked")
		}
		return nil
	}
	runAdapter(t, a, s)
	s.waitStored(t, 2)
	// While the second update failed, Telegram was never told to drop it.
	for _, off := range confirmedAtFailure {
		if off > ids[1] {
			t.Errorf("offset %d confirmed while update %d was not stored", off, ids[1])
		}
	}
	if len(confirmedAtFailure) != 2 {
		t.Errorf("sink failed %d times, want 2", len(confirmedAtFailure))
	}
	// The next poll confirms both.
	f.Push(textUpdate(3, "third"))
	s.waitStored(t, 1)
	if got := f.ConfirmedOffset(); got < ids[1]+1 {
		t.Errorf("confirmed offset %d, want >= %d", got, ids[1]+1)
	}
	if diff := cmp.Diff([]string{"m:42:1", "m:42:2", "m:42:3"}, s.msgIDs()); diff != "" {
		t.Errorf("stored (-want +got):\n%s", diff)
	}
}

// An update the engine rejects as bad input is tried once, not retried forever: the loop moves on and
// the update is confirmed.
func TestPollBadInputIsNotRetried(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, nil)
	s := newStore()
	ids := f.Push(textUpdate(1, "bad"), textUpdate(2, "good"))
	s.fail = func(ev bot.Event, try int) error {
		if ev.MsgID == "m:42:1" {
			return fmt.Errorf("engine: score 9: %w", bot.ErrBadInput)
		}
		return nil
	}
	runAdapter(t, a, s)
	s.waitStored(t, 1)
	f.Push(textUpdate(3, "third"))
	s.waitStored(t, 1)
	if got := f.ConfirmedOffset(); got < ids[1]+1 {
		t.Errorf("confirmed offset %d, want >= %d", got, ids[1]+1)
	}
	s.mu.Lock()
	tries := s.tries["m:42:1"]
	s.mu.Unlock()
	if tries != 1 {
		t.Errorf("bad input delivered %d times, want 1", tries)
	}
	if diff := cmp.Diff([]string{"m:42:2", "m:42:3"}, s.msgIDs()); diff != "" {
		t.Errorf("stored (-want +got):\n%s", diff)
	}
}

// TestPollKillAndRestart stops the adapter at different moments (in the middle of a Deliver, right
// after a store, while long polling) and starts a fresh one on the same fake: every update ends up
// stored exactly once.
func TestPollKillAndRestart(t *testing.T) {
	const n = 30
	for _, killAfter := range []int{1, 7, 15, 29} {
		for _, during := range []string{"deliver", "after-store"} {
			t.Run(fmt.Sprintf("%s-%d", during, killAfter), func(t *testing.T) {
				f := newFakeAPI(t)
				s := newStore()
				var updates []string
				for i := 1; i <= n; i++ {
					updates = append(updates, textUpdate(i, fmt.Sprintf("msg %d", i)))
				}
				f.Push(updates...)

				ctx, cancel := context.WithCancel(t.Context())
				var mu sync.Mutex
				count := 0
				s.fail = func(ev bot.Event, try int) error {
					mu.Lock()
					defer mu.Unlock()
					count++
					if count == killAfter && during == "deliver" {
						cancel() // the process dies while storing: nothing is stored
						return ctx.Err()
					}
					if count == killAfter+1 && during == "after-store" {
						cancel() // died after the previous store, before the offset moved
						return ctx.Err()
					}
					return nil
				}
				a1 := newTestAdapter(t, f, nil)
				done := make(chan error, 1)
				go func() { done <- a1.Run(ctx, s) }()
				select {
				case err := <-done:
					if err != nil {
						t.Fatalf("Run after kill = %v, want nil", err)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("Run did not return after kill")
				}
				s.fail = nil

				a2 := newTestAdapter(t, f, nil)
				runAdapter(t, a2, s)
				for {
					if len(s.msgIDs()) == n {
						break
					}
					select {
					case <-s.stored:
					case <-time.After(10 * time.Second):
						t.Fatalf("after restart: stored %d of %d", len(s.msgIDs()), n)
					}
				}
				var want []string
				for i := 1; i <= n; i++ {
					want = append(want, fmt.Sprintf("m:42:%d", i))
				}
				if diff := cmp.Diff(want, s.msgIDs()); diff != "" {
					t.Errorf("stored (-want +got):\n%s", diff)
				}
				// The restart really re-read unconfirmed updates; the engine's dedupe absorbed them.
				if s.dups == 0 && killAfter > 1 {
					t.Errorf("no duplicate deliveries after restart; the kill did not hit the unconfirmed window")
				}
			})
		}
	}
}

func TestPollSurvivesGetUpdatesErrors(t *testing.T) {
	f := newFakeAPI(t)
	f.FailGetUpdates(3)
	a := newTestAdapter(t, f, nil)
	s := newStore()
	runAdapter(t, a, s)
	f.Push(textUpdate(1, "still here"))
	if got := s.waitStored(t, 1); got[0].Text != "still here" {
		t.Errorf("text = %q", got[0].Text)
	}
}

func TestRunReturnsSoonAfterCancel(t *testing.T) {
	f := newFakeAPI(t)
	// A 50 s long poll is in flight when ctx is cancelled; Run must not wait for it.
	a := newTestAdapter(t, f, func(o *Options) { o.PollTimeout = 50 * time.Second })
	s := newStore()
	stop := runAdapter(t, a, s)
	for len(f.Calls("getUpdates")) == 0 {
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	if err := stop(); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Run took %v to return after cancel", d)
	}
}

func TestCallbackAnsweredAndKeyboardRemoved(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, nil)
	s := newStore()
	runAdapter(t, a, s)
	f.Push(callbackUpdate("q9", "rate:5:s7", "private"), callbackUpdate("q10", "", "private"))
	got := s.waitStored(t, 1)
	if got[0].Kind != bot.KindButton || got[0].Payload != "rate:5:s7" || got[0].ChatID != "42" {
		t.Errorf("event = %+v", got[0])
	}
	// Both queries are answered, the data-less one too; both keyboards go.
	f.Push(textUpdate(1, "sync"))
	s.waitStored(t, 1)
	var answered []string
	for _, c := range f.Calls("answerCallbackQuery") {
		answered = append(answered, c.Params.Get("callback_query_id"))
	}
	if diff := cmp.Diff([]string{"q9", "q10"}, answered); diff != "" {
		t.Errorf("answered (-want +got):\n%s", diff)
	}
	edits := f.Calls("editMessageReplyMarkup")
	if len(edits) != 2 {
		t.Fatalf("editMessageReplyMarkup calls = %d, want 2", len(edits))
	}
	for _, e := range edits {
		if e.Params.Get("chat_id") != "42" || e.Params.Get("message_id") != "77" || e.Params.Get("reply_markup") != `{"inline_keyboard":[]}` {
			t.Errorf("edit params = %v", e.Params)
		}
	}
}

func TestGroupNotice(t *testing.T) {
	f := newFakeAPI(t)
	var langs []string
	a := newTestAdapter(t, f, func(o *Options) {
		o.GroupNotice = func(lang string) string {
			langs = append(langs, lang)
			return "请私聊 @" + testBotName + " (" + lang + ")"
		}
	})
	s := newStore()
	runAdapter(t, a, s)
	f.Push(groupMsg(1, `,"text":"/start"`), groupMsg(2, `,"text":"/help"`), groupMsg(3, `,"text":"chatter"`),
		textUpdate(4, "sync"))
	got := s.waitStored(t, 1)
	if got[0].MsgID != "m:42:4" {
		t.Fatalf("a group message reached the engine: %+v", got[0])
	}
	sent := f.Sent()
	if len(sent) != 1 {
		t.Fatalf("sent %d group notices, want 1 (one per interval): %+v", len(sent), sent)
	}
	if sent[0].ChatID != -100777 || !strings.Contains(sent[0].Text, "@"+testBotName) {
		t.Errorf("notice = %+v", sent[0])
	}
	if diff := cmp.Diff([]string{"en"}, langs); diff != "" {
		t.Errorf("notice langs (-want +got):\n%s", diff)
	}
}

func TestBotsIgnored(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, nil)
	s := newStore()
	runAdapter(t, a, s)
	f.Push(`{"message":{"message_id":1,"date":1,"chat":{"id":42,"type":"private"},"from":{"id":5,"is_bot":true,"first_name":"B"},"text":"spam"}}`,
		`{"edited_message":{"message_id":2,"date":1,"chat":{"id":42,"type":"private"},"from":{"id":42,"first_name":"L"},"text":"edit"}}`,
		`{"chosen_inline_result":{"result_id":"r","from":{"id":42,"first_name":"L"},"query":"q"}}`,
		textUpdate(3, "real"))
	got := s.waitStored(t, 1)
	if got[0].MsgID != "m:42:3" {
		t.Errorf("first stored = %+v, want the real message", got[0])
	}
	if ids := s.msgIDs(); len(ids) != 1 {
		t.Errorf("stored %v, want only m:42:3", ids)
	}
	if len(f.Sent()) != 0 {
		t.Errorf("answered ignored updates: %+v", f.Sent())
	}
}

func TestFakeHelpersForJourneys(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, nil)
	s := newStore()
	runAdapter(t, a, s)
	id := f.PushText(7, "zh-hans", "订单没收到")
	f.PushCallback(7, 3, "zh-hans", "cat:ship")
	got := s.waitStored(t, 2)
	want := []bot.Event{
		{Channel: bot.ChannelTelegram, MsgID: fmt.Sprintf("m:7:%d", id), ChatID: "7", UserID: "7", UserName: "Customer", Kind: bot.KindText, Text: "订单没收到", LangHint: "zh-hans"},
		{Channel: bot.ChannelTelegram, MsgID: "cb:cb2", ChatID: "7", UserID: "7", UserName: "Customer", Kind: bot.KindButton, Payload: "cat:ship", LangHint: "zh-hans"},
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(bot.Event{}, "At")); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}
