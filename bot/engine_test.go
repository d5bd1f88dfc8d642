package bot_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kefu-dev/kefu/bot"
)

var alice = bot.Actor{ID: "cli:alice", Name: "Alice"}

func TestJourney(t *testing.T) { forEachDB(t, testJourney) }

func testJourney(t *testing.T, mk envMaker) {
	e := mk(t)
	ctx := context.Background()

	if got, want := e.say(t, "s1", "hi"), []string{"en:greeting.hello"}; !cmp.Equal(got, want) {
		t.Fatalf("greeting: %s", cmp.Diff(want, got))
	}
	got := e.say(t, "s1", "ticket my parcel is lost")
	// 01:30 UTC = 09:30 in Shanghai; P2: first response 24h, resolution 72h.
	want := []string{"en:ticket.opened|no=GD20261123001|priority=priority.P2|due=2026-11-24 09:30 (UTC+08:00)|resolve_due=2026-11-26 09:30 (UTC+08:00)"}
	if !cmp.Equal(got, want) {
		t.Fatalf("ticket opened: %s", cmp.Diff(want, got))
	}
	if got := e.say(t, "s1", "it was due yesterday"); len(got) != 1 || got[0] != "en:ticket.added|no=GD20261123001" {
		t.Fatalf("add to ticket: %q", got)
	}

	tk, evs, err := e.eng.Ticket(ctx, "gd20261123001")
	if err != nil {
		t.Fatal(err)
	}
	if tk.Status != bot.StatusOpen || tk.Priority != bot.P2 || tk.Category != "order" || tk.Description != "my parcel is lost" {
		t.Errorf("ticket = %+v", tk)
	}
	if d := tk.FirstResponseDue.Sub(tk.CreatedAt); d != 24*time.Hour {
		t.Errorf("first response due after %v, want 24h", d)
	}
	if kinds := eventKinds(evs); !cmp.Equal(kinds, []bot.EventKind{bot.EvCreated, bot.EvCustomerMessage}) {
		t.Errorf("events = %v", kinds)
	}

	// An agent replies (reaches the customer), notes (does not), resolves (customer is asked).
	before, _ := e.db.LastWebMessageID(ctx, "s1")
	e.clock.Add(10 * time.Minute)
	if _, err := e.eng.Reply(ctx, alice, tk.No, "we found it"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.Note(ctx, alice, tk.No, "courier called"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.Resolve(ctx, alice, tk.No, "parcel delivered"); err != nil {
		t.Fatal(err)
	}
	got = e.after(t, "s1", before)
	want = []string{"en:agent.reply|no=GD20261123001|agent=Alice|text=we found it", "en:resolve.confirm|no=GD20261123001|summary=parcel delivered"}
	if !cmp.Equal(got, want) {
		t.Fatalf("agent messages: %s", cmp.Diff(want, got))
	}
	tk, _, _ = e.eng.Ticket(ctx, tk.No)
	if tk.FirstResponseAt == nil || !tk.FirstResponseAt.Equal(e.clock.Now()) || tk.Assignee != "cli:alice" || tk.Status != bot.StatusResolved {
		t.Errorf("after resolve: %+v", tk)
	}

	// Unsolved reopens; then resolved again, solved, rated 4 with a comment.
	e.press(t, "s1", "unsolved")
	tk, _, _ = e.eng.Ticket(ctx, tk.No)
	if tk.Status != bot.StatusOpen || tk.Reopens != 1 || tk.ResolvedAt != nil {
		t.Fatalf("after reopen: %+v", tk)
	}
	if _, err := e.eng.Resolve(ctx, alice, tk.No, ""); err != nil {
		t.Fatal(err)
	}
	e.press(t, "s1", "solved")
	e.press(t, "s1", "rate:4")
	if got := e.say(t, "s1", "fast, thanks"); !cmp.Equal(got, []string{"en:survey.thanks"}) {
		t.Fatalf("comment: %q", got)
	}
	tk, evs, _ = e.eng.Ticket(ctx, tk.No)
	if tk.Status != bot.StatusClosed || tk.Rating != 4 || tk.RatingComment != "fast, thanks" || tk.ClosedAt == nil {
		t.Errorf("after survey: %+v", tk)
	}
	wantKinds := []bot.EventKind{bot.EvCreated, bot.EvCustomerMessage, bot.EvClaimed, bot.EvAgentReply, bot.EvNote,
		bot.EvResolved, bot.EvReopened, bot.EvResolved, bot.EvClosed, bot.EvRated, bot.EvRated}
	if kinds := eventKinds(evs); !cmp.Equal(kinds, wantKinds) {
		t.Errorf("audit trail: %s", cmp.Diff(wantKinds, kinds))
	}
	for _, ev := range evs {
		if ev.Kind == bot.EvNote && !ev.Internal {
			t.Errorf("note not internal: %+v", ev)
		}
	}
}

func eventKinds(evs []bot.TicketEvent) []bot.EventKind {
	var out []bot.EventKind
	for _, e := range evs {
		out = append(out, e.Kind)
	}
	return out
}

func TestDuplicateDeliveredOnce(t *testing.T) {
	e := newEnv(t)
	ev := bot.Event{Channel: bot.ChannelTelegram, MsgID: "42", ChatID: "c", UserID: "u", Kind: bot.KindText, Text: "hi"}
	for i := 0; i < 3; i++ {
		if err := e.eng.Deliver(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := e.db.OutboxRows(context.Background(), bot.ChannelTelegram, "c")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 {
		t.Errorf("%d outbox rows for one message delivered 3 times, want 1", len(rows))
	}
}

func TestStepFailureStoresMessageAndApologizes(t *testing.T) {
	e := newEnv(t)
	e.say(t, "s", "hi")
	got := e.say(t, "s", "boom")
	if !cmp.Equal(got, []string{"en:error.internal"}) {
		t.Fatalf("reply to a failing step: %q", got)
	}
	conv, err := e.db.ConversationByChat(context.Background(), bot.ChannelWeb, "s")
	if err != nil {
		t.Fatal(err)
	}
	ms, err := e.db.Transcript(context.Background(), conv.ID)
	if err != nil {
		t.Fatal(err)
	}
	var in []string
	for _, m := range ms {
		if m.Direction == "in" {
			in = append(in, m.Text)
		}
	}
	if !cmp.Equal(in, []string{"hi", "boom"}) {
		t.Errorf("stored inbound = %q", in)
	}
	// The session did not move: the next message continues from the same state.
	if got := e.say(t, "s", "faq refund"); got[0] != "answer:refund:en" {
		t.Errorf("after failure: %q", got)
	}
}

func TestCustomerIsolation(t *testing.T) { forEachDB(t, testIsolation) }

func testIsolation(t *testing.T, mk envMaker) {
	e := mk(t)
	e.say(t, "a", "ticket a's problem")
	e.say(t, "b", "hi")
	got := e.say(t, "b", "/show GD20261123001")
	if !cmp.Equal(got, []string{"en:ticket.not_yours|no=GD20261123001"}) {
		t.Errorf("other customer's ticket: %q", got)
	}
	got = e.say(t, "b", "/status")
	if !cmp.Equal(got, []string{"en:ticket.list.empty"}) {
		t.Errorf("b's list: %q", got)
	}
	got = e.say(t, "a", "/status")
	if len(got) != 1 || !strings.Contains(got[0], "GD20261123001") {
		t.Errorf("a's list: %q", got)
	}
	got = e.say(t, "a", "/show gd20261123001")
	if len(got) != 1 || !strings.HasPrefix(got[0], "en:ticket.show|no=GD20261123001") {
		t.Errorf("a's ticket: %q", got)
	}
}

func TestLinkCodeMergesCustomers(t *testing.T) {
	e := newEnv(t)
	e.say(t, "web1", "ticket from web")
	got := e.say(t, "web1", "/link")
	if len(got) != 1 || !strings.HasPrefix(got[0], "en:link.code|code=") {
		t.Fatalf("link code: %q", got)
	}
	code, _, _ := strings.Cut(strings.TrimPrefix(got[0], "en:link.code|code="), "|")
	if !regexp.MustCompile(`^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$`).MatchString(code) {
		t.Fatalf("link code %q: want 12 unambiguous characters in groups of four", code)
	}
	ctx := context.Background()
	// Retyped in lower case with spaces instead of dashes, it still works.
	typed := strings.ToLower(strings.ReplaceAll(code, "-", " "))
	// (Telegram's language_code: a command alone says nothing of the language, flows.DetectLang.)
	tg := bot.Event{Channel: bot.ChannelTelegram, MsgID: "1", ChatID: "tg", UserID: "tgu", Kind: bot.KindText, Text: "/link " + typed, LangHint: "en", At: e.clock.Now()}
	if err := e.eng.Deliver(ctx, tg); err != nil {
		t.Fatal(err)
	}
	tg.MsgID, tg.Text = "2", "/status"
	if err := e.eng.Deliver(ctx, tg); err != nil {
		t.Fatal(err)
	}
	rows, _ := e.db.OutboxRows(ctx, bot.ChannelTelegram, "tg")
	if len(rows) != 2 || rows[0].Text != "en:link.done" || !strings.Contains(rows[1].Text, "GD20261123001") {
		t.Fatalf("telegram side: %+v", rows)
	}
	// The code is single-use.
	tg.MsgID, tg.Text = "3", "/link "+code
	e.eng.Deliver(ctx, tg)
	rows, _ = e.db.OutboxRows(ctx, bot.ChannelTelegram, "tg")
	if rows[len(rows)-1].Text != "en:link.bad_code" {
		t.Errorf("reused code: %q", rows[len(rows)-1].Text)
	}
}

func TestFAQCitationsAndUnanswered(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if got := e.say(t, "s", "faq refund"); !cmp.Equal(got, []string{"answer:refund:en", "en:faq.helped?"}) {
		t.Fatalf("faq: %q", got)
	}
	e.say(t, "s", "helped refund")
	e.say(t, "s", "faq refund")
	e.say(t, "s", "nothelped refund")
	e.say(t, "s", "faq refund")
	e.say(t, "s", "something odd")
	stats, err := e.db.FAQStats(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []storageStat{{"refund", 3, 1, 1}}; !cmp.Equal(toStats(stats), want) {
		t.Errorf("stats: %s", cmp.Diff(want, toStats(stats)))
	}
	un, err := e.db.UnansweredQuestions(ctx, 10)
	if err != nil || len(un) != 1 || un[0].Text != "something odd" {
		t.Errorf("unanswered: %+v %v", un, err)
	}
}

func TestComplaintIsEscalatedP1(t *testing.T) {
	e := newEnv(t)
	got := e.say(t, "s", "complaint")
	if len(got) != 2 || got[0] != "en:complaint.soothe" || !strings.Contains(got[1], "priority=priority.P1") {
		t.Fatalf("complaint: %q", got)
	}
	tk, evs, err := e.eng.Ticket(context.Background(), "GD20261123001")
	if err != nil {
		t.Fatal(err)
	}
	if !tk.Complaint || !tk.Escalated || tk.Priority != bot.P1 {
		t.Errorf("complaint ticket: %+v", tk)
	}
	if kinds := eventKinds(evs); !cmp.Equal(kinds, []bot.EventKind{bot.EvCreated, bot.EvEscalated, bot.EvComplaintLevel}) {
		t.Errorf("events: %v", kinds)
	}
}

func TestDeskAuthorization(t *testing.T) {
	ctx := context.Background()
	t.Run("no agents configured: cli actors only", func(t *testing.T) {
		e := newEnv(t)
		e.say(t, "s", "ticket x")
		if _, err := e.eng.Claim(ctx, bot.Actor{ID: "slack:U1"}, "GD20261123001"); !errors.Is(err, bot.ErrForbidden) {
			t.Errorf("slack actor without config: %v, want ErrForbidden", err)
		}
		if _, err := e.eng.Claim(ctx, bot.Actor{ID: "cli:"}, "GD20261123001"); !errors.Is(err, bot.ErrForbidden) {
			t.Errorf("anonymous cli actor: %v, want ErrForbidden", err)
		}
		if _, err := e.eng.Claim(ctx, bot.Actor{ID: "cli:bob"}, "GD20261123001"); err != nil {
			t.Errorf("cli actor: %v", err)
		}
	})
	t.Run("configured agents", func(t *testing.T) {
		e := newEnv(t, bot.AgentConfig{ID: "slack:U1", Name: "Una"})
		e.say(t, "s", "ticket x")
		if _, err := e.eng.Reply(ctx, bot.Actor{ID: "cli:bob"}, "GD20261123001", "hi"); !errors.Is(err, bot.ErrForbidden) {
			t.Errorf("unconfigured cli actor: %v, want ErrForbidden", err)
		}
		tk, err := e.eng.Reply(ctx, bot.Actor{ID: "slack:U1"}, "GD20261123001", "hi")
		if err != nil || tk.Assignee != "slack:U1" {
			t.Errorf("configured agent reply: %+v %v", tk, err)
		}
		if _, err := e.eng.Reply(ctx, bot.Actor{ID: "slack:U1"}, "GD20990101001", "hi"); !errors.Is(err, bot.ErrUnknownTkt) {
			t.Errorf("unknown ticket: %v", err)
		}
		if _, err := e.eng.SetPriority(ctx, bot.Actor{ID: "slack:U1"}, "GD20261123001", "P9"); !errors.Is(err, bot.ErrBadInput) {
			t.Errorf("bad priority: %v", err)
		}
	})
}

func TestSetPriorityRecomputesDue(t *testing.T) {
	e := newEnv(t)
	e.say(t, "s", "ticket x")
	tk, err := e.eng.SetPriority(context.Background(), alice, "GD20261123001", bot.P0)
	if err != nil {
		t.Fatal(err)
	}
	if d := tk.FirstResponseDue.Sub(tk.CreatedAt); d != 30*time.Minute {
		t.Errorf("P0 first response after %v", d)
	}
	if d := tk.ResolutionDue.Sub(tk.CreatedAt); d != 4*time.Hour {
		t.Errorf("P0 resolution after %v", d)
	}
}

func TestCloseSignalsCustomerAndBlocksReplies(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.say(t, "s", "ticket x")
	if _, err := e.eng.Reply(ctx, alice, "GD20261123001", "hello"); err != nil {
		t.Fatal(err)
	}
	before, _ := e.db.LastWebMessageID(ctx, "s")
	if _, err := e.eng.Close(ctx, alice, "GD20261123001"); err != nil {
		t.Fatal(err)
	}
	if got := e.after(t, "s", before); !cmp.Equal(got, []string{"en:ticket.closed|no=GD20261123001"}) {
		t.Errorf("close message: %q", got)
	}
	if _, err := e.eng.Reply(ctx, alice, "GD20261123001", "late"); !errors.Is(err, bot.ErrClosed) {
		t.Errorf("reply to closed: %v", err)
	}
}

func TestRestartContinuesConversation(t *testing.T) { forEachDB(t, testRestart) }

func testRestart(t *testing.T, mk envMaker) {
	e := mk(t)
	e.say(t, "s", "hi")
	e.say(t, "s", "ticket broken kettle")
	// Kill the process: close the database mid-conversation and start over from the file.
	if err := e.db.Close(); err != nil {
		t.Fatal(err)
	}
	e.open(t)
	got := e.say(t, "s", "it sparks")
	if !cmp.Equal(got, []string{"en:ticket.added|no=GD20261123001"}) {
		t.Fatalf("after restart: %q", got)
	}
	// The daily sequence continues too.
	e.say(t, "t", "ticket another")
	if _, _, err := e.eng.Ticket(context.Background(), "GD20261123002"); err != nil {
		t.Errorf("second ticket after restart: %v", err)
	}
}

// TestDeskClaimRace: of concurrent claims on one ticket through the Desk, exactly one wins and the
// others get ErrConflict.
func TestDeskClaimRace(t *testing.T) {
	forEachDB(t, func(t *testing.T, mk envMaker) {
		e := mk(t)
		ctx := context.Background()
		for round := 0; round < 4; round++ {
			e.say(t, fmt.Sprintf("c%d", round), "ticket race")
			no := fmt.Sprintf("GD20261123%03d", round+1)
			var wg sync.WaitGroup
			results := make(chan error, 4)
			for i := 0; i < 4; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := e.eng.Claim(ctx, bot.Actor{ID: fmt.Sprintf("cli:agent%d", i)}, no)
					results <- err
				}()
			}
			wg.Wait()
			close(results)
			var won, conflict int
			for err := range results {
				switch {
				case err == nil:
					won++
				case errors.Is(err, bot.ErrConflict):
					conflict++
				default:
					t.Errorf("claim: %v", err)
				}
			}
			if won != 1 || conflict != 3 {
				t.Fatalf("round %d: %d won, %d conflicts; want 1 and 3", round, won, conflict)
			}
			_, evs, _ := e.eng.Ticket(ctx, no)
			if n := len(evs); n != 2 { // created + one claimed
				t.Errorf("events after race: %v", eventKinds(evs))
			}
		}
	})
}

func TestDeskActions(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, bot.AgentConfig{ID: "cli:alice", Name: "Alice"}, bot.AgentConfig{ID: "slack:U2", Name: "Bo", Supervisor: true})
	e.say(t, "s", "ticket x")
	no := "GD20261123001"
	start, _ := e.eng.EventsAfter(ctx, 0, 100)

	steps := []struct {
		name string
		do   func() (bot.Ticket, error)
		want func(bot.Ticket) bool
	}{
		{"assign", func() (bot.Ticket, error) { return e.eng.Assign(ctx, alice, no, "slack:U2") },
			func(tk bot.Ticket) bool { return tk.Assignee == "slack:U2" && tk.Status == bot.StatusInProgress }},
		{"pending", func() (bot.Ticket, error) { return e.eng.SetStatus(ctx, alice, no, bot.StatusPending) },
			func(tk bot.Ticket) bool { return tk.Status == bot.StatusPending }},
		{"escalate", func() (bot.Ticket, error) { return e.eng.Escalate(ctx, alice, no, "VIP") },
			func(tk bot.Ticket) bool { return tk.Escalated }},
		{"priority", func() (bot.Ticket, error) { return e.eng.SetPriority(ctx, alice, no, "p1") },
			func(tk bot.Ticket) bool { return tk.Priority == bot.P1 }},
		{"resolve without a reply is refused", func() (bot.Ticket, error) {
			_, err := e.eng.SetStatus(ctx, alice, no, bot.StatusResolved)
			if !errors.Is(err, bot.ErrNoReply) {
				return bot.Ticket{}, fmt.Errorf("want ErrNoReply, got %v", err)
			}
			tk, _, err := e.eng.Ticket(ctx, no)
			return tk, err
		}, func(tk bot.Ticket) bool { return tk.Status == bot.StatusPending }},
		{"reply", func() (bot.Ticket, error) { return e.eng.Reply(ctx, alice, no, "on it") },
			func(tk bot.Ticket) bool { return tk.Status == bot.StatusInProgress && tk.FirstResponseAt != nil }},
		{"resolve via status", func() (bot.Ticket, error) { return e.eng.SetStatus(ctx, alice, no, bot.StatusResolved) },
			func(tk bot.Ticket) bool { return tk.Status == bot.StatusResolved && tk.ResolvedAt != nil }},
		{"close", func() (bot.Ticket, error) { return e.eng.Close(ctx, alice, no) },
			func(tk bot.Ticket) bool { return tk.Status == bot.StatusClosed && tk.ClosedAt != nil }},
		{"close again is a no-op", func() (bot.Ticket, error) { return e.eng.Close(ctx, alice, no) },
			func(tk bot.Ticket) bool { return tk.Status == bot.StatusClosed }},
	}
	for _, s := range steps {
		tk, err := s.do()
		if err != nil || !s.want(tk) {
			t.Fatalf("%s: %+v %v", s.name, tk, err)
		}
		stored, _, _ := e.eng.Ticket(ctx, no)
		if !s.want(stored) {
			t.Fatalf("%s: stored ticket %+v", s.name, stored)
		}
	}
	evs, err := e.eng.EventsAfter(ctx, start[len(start)-1].Seq, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := []bot.EventKind{bot.EvAssigned, bot.EvStatus, bot.EvEscalated, bot.EvPriority, bot.EvAgentReply, bot.EvResolved, bot.EvClosed}
	if got := eventKinds(evs); !cmp.Equal(got, want) {
		t.Errorf("feed: %s", cmp.Diff(want, got))
	}
	for _, ev := range evs {
		if ev.Actor != "cli:alice" || ev.TicketNo != no {
			t.Errorf("event %+v", ev)
		}
	}
	if _, err := e.eng.Assign(ctx, alice, no, "cli:nobody"); !errors.Is(err, bot.ErrBadInput) {
		t.Errorf("assign to a non-agent: %v", err)
	}
	if _, err := e.eng.SetStatus(ctx, alice, no, "weird"); !errors.Is(err, bot.ErrBadInput) {
		t.Errorf("bad status: %v", err)
	}
	if _, err := e.eng.Note(ctx, alice, no, "  "); !errors.Is(err, bot.ErrBadInput) {
		t.Errorf("empty note: %v", err)
	}
	if !e.eng.IsAgent("slack:U2") || e.eng.IsAgent("slack:U3") {
		t.Error("IsAgent")
	}
	list, err := e.eng.ListTickets(ctx, bot.TicketFilter{Statuses: []bot.Status{bot.StatusClosed}, Assignee: "slack:U2"})
	if err != nil || len(list) != 1 {
		t.Errorf("list closed of U2: %v %v", list, err)
	}
}

func TestMediaIsAddedToTicket(t *testing.T) {
	e := newEnv(t)
	e.say(t, "s", "ticket broken screen")
	att := []bot.Attachment{{Type: "photo", FileID: "AgAD1", Size: 1234}}
	e.deliver(t, bot.Event{Channel: bot.ChannelWeb, MsgID: "media1", ChatID: "s", UserID: "s", Kind: bot.KindMedia, Text: "photo of it", Attachments: att, At: e.clock.Now()})
	_, evs, err := e.eng.Ticket(context.Background(), "GD20261123001")
	if err != nil {
		t.Fatal(err)
	}
	last := evs[len(evs)-1]
	if last.Kind != bot.EvCustomerMessage || last.Text != "photo of it" || !cmp.Equal(last.Attachments, att) {
		t.Errorf("media event: %+v", last)
	}
}

func TestDeliverRejectsEventWithoutChat(t *testing.T) {
	e := newEnv(t)
	err := e.eng.Deliver(context.Background(), bot.Event{Channel: bot.ChannelWeb, MsgID: "x", Kind: bot.KindText, Text: "hi"})
	if !errors.Is(err, bot.ErrBadInput) {
		t.Errorf("event without chat id: %v, want ErrBadInput (nothing can be stored or answered)", err)
	}
}

// TestConcurrentCustomerAndAgent: customer messages added to a ticket while agents reply to it and
// note on it, all at once, never deadlock or fail (PostgreSQL row locks are taken in one order).
func TestConcurrentCustomerAndAgent(t *testing.T) {
	forEachDB(t, func(t *testing.T, mk envMaker) {
		e := mk(t)
		ctx := context.Background()
		e.say(t, "s", "ticket concurrent")
		const n = 15
		var wg sync.WaitGroup
		errs := make(chan error, 3*n)
		for i := 0; i < n; i++ {
			wg.Add(3)
			go func() {
				defer wg.Done()
				errs <- e.eng.Deliver(ctx, bot.Event{Channel: bot.ChannelWeb, MsgID: fmt.Sprintf("cc%d", i), ChatID: "s", UserID: "s",
					Kind: bot.KindText, Text: fmt.Sprintf("more %d", i), At: e.clock.Now()})
			}()
			go func() {
				defer wg.Done()
				_, err := e.eng.Reply(ctx, alice, "GD20261123001", fmt.Sprintf("reply %d", i))
				errs <- err
			}()
			go func() {
				defer wg.Done()
				_, err := e.eng.Note(ctx, alice, "GD20261123001", fmt.Sprintf("note %d", i))
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("concurrent: %v", err)
			}
		}
		_, evs, _ := e.eng.Ticket(ctx, "GD20261123001")
		count := map[bot.EventKind]int{}
		for _, ev := range evs {
			count[ev.Kind]++
		}
		if count[bot.EvCustomerMessage] != n || count[bot.EvAgentReply] != n || count[bot.EvNote] != n {
			t.Errorf("events: %v", count)
		}
		// No apology was needed: every customer message was handled by a real step.
		for _, r := range e.after(t, "s", 0) {
			if strings.Contains(r, "error.internal") {
				t.Errorf("apology sent: %q", r)
			}
		}
	})
}

func TestDueHookOverridesPolicy(t *testing.T) {
	e := newEnv(t)
	var gotCategory string
	var gotChannel bot.Channel
	eng, err := bot.New(bot.Options{Store: e.db, Flows: scripted{}, Catalog: catalog{}, Now: e.clock.Now,
		Due: func(p bot.Priority, category string, channel bot.Channel, from time.Time) (time.Time, time.Time) {
			gotCategory, gotChannel = category, channel
			return from.Add(7 * time.Hour), from.Add(9 * time.Hour)
		}})
	if err != nil {
		t.Fatal(err)
	}
	e.eng = eng
	e.say(t, "s", "ticket x")
	tk, _, _ := eng.Ticket(context.Background(), "GD20261123001")
	if tk.FirstResponseDue.Sub(tk.CreatedAt) != 7*time.Hour || tk.ResolutionDue.Sub(tk.CreatedAt) != 9*time.Hour || gotCategory != "order" || gotChannel != bot.ChannelWeb {
		t.Errorf("due hook not used: %+v (category %q, channel %q)", tk, gotCategory, gotChannel)
	}
}

// TestUnreadableSessionStartsOver: a stored session that cannot be decoded, or is in a state this
// version does not know, starts the conversation over instead of apologizing for ever.
func TestUnreadableSessionStartsOver(t *testing.T) {
	for name, session := range map[string]string{"bad json": `{"state":`, "unknown state": `{"state":"from_the_future","lang":"en","seq":3}`} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			e.say(t, "s", "hi")
			if err := e.db.Gorm().Exec("UPDATE conversations SET session = ?", session).Error; err != nil {
				t.Fatal(err)
			}
			if got := e.say(t, "s", "faq refund"); !cmp.Equal(got, []string{"answer:refund:en", "en:faq.helped?"}) {
				t.Fatalf("after a broken session: %q", got)
			}
		})
	}
}

// TestDeliverInline: the replies to the event's own chat are returned and recorded as delivered in the
// message's transaction (no dispatcher pass, no kick); an apology after a failed step too; a duplicate
// returns nothing and stores nothing.
func TestDeliverInline(t *testing.T) { forEachDB(t, testDeliverInline) }

func testDeliverInline(t *testing.T, mk envMaker) {
	e := mk(t)
	kicks := 0
	eng, err := bot.New(bot.Options{Store: e.db, Flows: scripted{}, KB: fakeKB{}, Catalog: catalog{}, Now: e.clock.Now,
		OnEnqueue: func() { kicks++ }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ev := func(id, text string) bot.Event {
		return bot.Event{Channel: bot.ChannelWeb, MsgID: id, ChatID: "s", UserID: "s", Kind: bot.KindText, Text: text, At: e.clock.Now()}
	}
	var texts []string
	for _, m := range []struct{ id, text string }{{"i1", "hi"}, {"i2", "faq refund"}, {"i3", "boom"}} {
		rs, err := eng.DeliverInline(ctx, ev(m.id, m.text))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			if r.OutboxID == 0 || r.ChatID != "s" {
				t.Errorf("reply without outbox id or chat: %+v", r)
			}
			texts = append(texts, r.Text)
		}
	}
	want := []string{"en:greeting.hello", "answer:refund:en", "en:faq.helped?", "en:error.internal"}
	if !cmp.Equal(texts, want) {
		t.Errorf("inline replies: %s", cmp.Diff(want, texts))
	}
	if rs, err := eng.DeliverInline(ctx, ev("i2", "faq refund")); err != nil || len(rs) != 0 {
		t.Errorf("duplicate: %v %v, want no replies", rs, err)
	}
	rows, err := e.db.OutboxRows(ctx, bot.ChannelWeb, "s")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(want) {
		t.Fatalf("%d outbox rows, want %d", len(rows), len(want))
	}
	for _, r := range rows {
		if r.Status != "sent" || r.Attempts != 1 {
			t.Errorf("row %q: %s after %d attempts, want sent after 1", r.Text, r.Status, r.Attempts)
		}
	}
	if kicks != 0 {
		t.Errorf("dispatcher kicked %d times for replies already delivered", kicks)
	}
	// Plain Deliver leaves them to the dispatcher.
	if err := eng.Deliver(ctx, ev("i4", "faq refund")); err != nil {
		t.Fatal(err)
	}
	if got := statuses(t, e.db, bot.ChannelWeb, "s"); got[len(got)-1] != "en:faq.helped?:pending:0" || kicks != 1 {
		t.Errorf("after Deliver: %q, %d kicks", got, kicks)
	}
}
