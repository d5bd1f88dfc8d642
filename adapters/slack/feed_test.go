package slack

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/adapters/slack/slacktest"
)

// The cursor only moves past an event once Slack accepted the call: a 429 leaves it in place and the
// next pass posts the card exactly once.
func TestFeedCursorWaitsForSlack(t *testing.T) {
	e := newEnv(t)
	e.desk.create(ticketGD1())
	e.slack.FailNext("chat.postMessage", 429)
	n, err := e.app.Sync(t.Context())
	if err == nil || n != 0 {
		t.Fatalf("Sync = %d, %v; want a rate-limit error", n, err)
	}
	if !strings.Contains(err.Error(), "rate limit") {
		t.Errorf("error %v", err)
	}
	if v, ok, _ := e.store.GetKV(t.Context(), cursorKey); ok {
		t.Fatalf("cursor moved to %s", v)
	}
	e.sync(t)
	if got := len(e.slack.Called("chat.postMessage")); got != 1 {
		t.Fatalf("cards posted: %d", got)
	}
	if v, _, _ := e.store.GetKV(t.Context(), cursorKey); v != "1" {
		t.Fatalf("cursor %q", v)
	}
	// A restart (new App on the same store) does not repeat anything.
	app2, err := New(e.app.o)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := app2.Sync(t.Context()); err != nil || n != 0 {
		t.Fatalf("second Sync = %d, %v", n, err)
	}
	if got := len(e.slack.Called("chat.postMessage")); got != 1 {
		t.Fatalf("cards after restart: %d", got)
	}
}

// A permanent Slack error (channel gone, no channel configured) is logged and skipped so that the feed
// does not stall behind it.
func TestFeedSkipsPermanentErrors(t *testing.T) {
	tests := []struct {
		name    string
		routing func(*Routing)
		calls   int
	}{
		{"channel_not_found", func(r *Routing) { r.Channels["tech"] = "CGONE" }, 1},
		{"no channel configured", func(r *Routing) { *r = Routing{} }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(o *Options) { tt.routing(&o.Routing) })
			e.desk.create(ticketGD1())
			n, err := e.app.Sync(t.Context())
			if err != nil || n != 1 {
				t.Fatalf("Sync = %d, %v; want the event skipped", n, err)
			}
			if got := len(e.slack.Called("chat.postMessage")) + len(e.slack.Refused("chat.postMessage")); got != tt.calls {
				t.Errorf("chat.postMessage calls: %d, want %d", got, tt.calls)
			}
			if v, _, _ := e.store.GetKV(t.Context(), cursorKey); v != "1" {
				t.Errorf("cursor %q", v)
			}
		})
	}
}

func TestAutoAssign(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		o.AutoAssign = true
		o.OnDuty = map[string][]string{"tech": {agent1, agent2}}
	})
	busy := ticketGD1()
	busy.No, busy.Assignee = "GD20261123000", "slack:"+agent1
	e.desk.create(busy)
	e.desk.create(ticketGD1())
	e.sync(t)
	if a := e.desk.ticket("GD20261123001").Assignee; a != "slack:"+agent2 {
		t.Fatalf("auto-assigned to %q, want the least busy %s", a, agent2)
	}
	var card string
	for _, c := range e.slack.Called("chat.postMessage", "chat.update") {
		if strings.Contains(c.Form.Get("blocks"), "GD20261123001") {
			card = raw(c.Form.Get("blocks"))
		}
	}
	if !strings.Contains(card, "<@"+agent2+">") {
		t.Errorf("latest card does not show the assignee: %s", card)
	}
}

func TestParseRating(t *testing.T) {
	tests := []struct {
		in      string
		score   int
		comment string
	}{
		{"2 太慢了", 2, "太慢了"}, {"5", 5, ""}, {"3/5 一般", 3, "一般"}, {"9", 0, ""}, {"", 0, ""}, {"good", 0, ""},
	}
	for _, tt := range tests {
		s, c := parseRating(tt.in)
		if s != tt.score || c != tt.comment {
			t.Errorf("parseRating(%q) = %d %q", tt.in, s, c)
		}
	}
}

// Run follows the feed: a change made from Slack wakes it at once (no polling wait), and it returns nil
// on cancel.
func TestRunFollowsFeed(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.PollInterval = time.Hour })
	notify := e.slack.Notify(64)
	e.desk.create(ticketGD1())
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- e.app.Run(ctx) }()
	waitFor := func(method string) slacktest.Call {
		t.Helper()
		timeout := time.After(10 * time.Second)
		for {
			select {
			case c := <-notify:
				if c.Method == method {
					return c
				}
			case <-timeout:
				t.Fatalf("no %s", method)
			}
		}
	}
	if c := waitFor("chat.postMessage"); c.Form.Get("channel") != "CTECH" {
		t.Fatalf("first card to %s", c.Form.Get("channel"))
	}
	// The hourly poll is far away: only the kick from the command can bring the update.
	if got := e.command(t, agent1, "claim GD20261123001"); !strings.Contains(got, "slack.done.claimed") {
		t.Fatal(got)
	}
	if c := waitFor("chat.update"); !strings.Contains(raw(c.Form.Get("blocks")), "<@"+agent1+">") {
		t.Errorf("update without the assignee")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
}

// flakyStore fails the next n GetKV calls, like a database restart.
type flakyStore struct {
	*memStore
	fails int
}

func (s *flakyStore) GetKV(ctx context.Context, key string) (string, bool, error) {
	s.mu.Lock()
	if s.fails > 0 {
		s.fails--
		s.mu.Unlock()
		return "", false, errors.New("database is restarting")
	}
	s.mu.Unlock()
	return s.memStore.GetKV(ctx, key)
}

// A thread reply that cannot be handled right now gets a 503, so that Slack redelivers it; the
// redelivery reaches the customer once.
func TestThreadReplyRedeliveredAfterTransientFailure(t *testing.T) {
	st := &flakyStore{memStore: newMemStore()}
	e := newEnv(t, func(o *Options) { o.Store = st })
	e.desk.create(ticketGD1())
	e.sync(t)
	cardTS := "1763888400.000001"
	body := slacktest.MessageEventBody("Ev1", agent1, "CTECH", "1763888500.000100", cardTS, "您好", false)
	st.mu.Lock()
	st.fails = 1
	st.mu.Unlock()
	if w := e.do(t, slacktest.NewSignedRequest("/slack/events", "application/json", body, time.Now(), testSecret)); w.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", w.Code)
	}
	for range 2 { // Slack's retry, and one more
		if w := e.do(t, slacktest.NewSignedRequest("/slack/events", "application/json", body, time.Now(), testSecret)); w.Code != http.StatusOK {
			t.Fatalf("redelivery status %d", w.Code)
		}
	}
	if _, to := e.desk.snapshot(); len(to) != 1 || to[0] != "GD20261123001: 您好" {
		t.Fatalf("customer got %q", to)
	}
}
