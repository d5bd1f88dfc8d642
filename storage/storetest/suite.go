package storetest

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/flows"
	"github.com/kefu-dev/kefu/storage"
)

// Run is the storage semantics suite.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		f    func(t *testing.T, db *storage.DB)
	}{
		{"Migrations", testMigrations},
		{"DuplicateInbound", testDuplicateInbound},
		{"Identities", testIdentities},
		{"Session", testSession},
		{"TicketNumbers", testTicketNumbers},
		{"TicketNumbersConcurrent", testTicketNumbersConcurrent},
		{"TicketRoundTrip", testTicketRoundTrip},
		{"ClaimRace", testClaimRace},
		{"CustomerIsolation", testCustomerIsolation},
		{"OutboxOrder", testOutboxOrder},
		{"OutboxRetryAndLease", testOutboxRetryAndLease},
		{"OutboxConcurrentDispatchers", testOutboxConcurrent},
		{"OutboxClaimBatch", testOutboxClaimBatch},
		{"OutboxDeadOwner", testOutboxDeadOwner},
		{"OutboxClaimBatchConcurrent", testOutboxClaimBatchConcurrent},
		{"Retention", testRetention},
		{"WebMessages", testWebMessages},
		{"KV", testKV},
		{"LinkCodes", testLinkCodes},
		{"EventsFeed", testEventsFeed},
		{"EventsFeedNeverSkips", testEventsFeedConcurrent},
		{"RollbackLeavesNothing", testRollback},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.f(t, open(t)) })
	}
}

var t0 = time.Date(2026, 11, 23, 1, 30, 0, 0, time.UTC)

func inbound(ch bot.Channel, msgID, chat, user, text string) bot.Event {
	return bot.Event{Channel: ch, MsgID: msgID, ChatID: chat, UserID: user, Kind: bot.KindText, Text: text, At: t0}
}

func tx(t testing.TB, db *storage.DB, fn func(bot.Tx) error) {
	t.Helper()
	if err := db.Tx(context.Background(), fn); err != nil {
		t.Fatalf("tx: %v", err)
	}
}

func saveInbound(t testing.TB, db *storage.DB, ev bot.Event) bot.Conversation {
	t.Helper()
	var c bot.Conversation
	tx(t, db, func(tx bot.Tx) (err error) {
		c, err = tx.SaveInbound(context.Background(), ev)
		return err
	})
	return c
}

func createTicket(t testing.TB, db *storage.DB, conv bot.Conversation, day string) bot.Ticket {
	t.Helper()
	var tk bot.Ticket
	tx(t, db, func(tx bot.Tx) (err error) {
		tk, err = tx.CreateTicket(context.Background(), bot.Ticket{ConversationID: conv.ID, CustomerID: conv.CustomerID,
			Channel: conv.Channel, Priority: bot.P2, Status: bot.StatusOpen, CreatedAt: t0,
			FirstResponseDue: t0.Add(time.Hour), ResolutionDue: t0.Add(3 * time.Hour)}, day)
		return err
	})
	return tk
}

func testMigrations(t *testing.T, db *storage.DB) {
	ctx := context.Background()
	ms, err := storage.Migrations()
	if err != nil || len(ms) == 0 {
		t.Fatalf("migrations: %v %v", ms, err)
	}
	for i := 0; i < 2; i++ { // idempotent
		if err := db.Migrate(ctx); err != nil {
			t.Fatalf("migrate again: %v", err)
		}
	}
	v, err := db.SchemaVersion(ctx)
	if err != nil || v != ms[len(ms)-1].Version {
		t.Errorf("schema version = %d, %v; want %d", v, err, ms[len(ms)-1].Version)
	}
	if err := db.Ping(ctx); err != nil {
		t.Error(err)
	}
}

func testDuplicateInbound(t *testing.T, db *storage.DB) {
	ctx := context.Background()
	first := saveInbound(t, db, inbound(bot.ChannelTelegram, "m1", "c1", "u1", "hi"))
	err := db.Tx(ctx, func(tx bot.Tx) error {
		_, err := tx.SaveInbound(ctx, inbound(bot.ChannelTelegram, "m1", "c1", "u1", "hi again"))
		return err
	})
	if !errors.Is(err, bot.ErrDuplicate) {
		t.Fatalf("same (channel, msg id): %v, want ErrDuplicate", err)
	}
	// The same id on another channel is another message; empty ids are never deduplicated.
	saveInbound(t, db, inbound(bot.ChannelDiscord, "m1", "c1", "u1", "hi"))
	saveInbound(t, db, inbound(bot.ChannelTelegram, "", "c1", "u1", "a"))
	saveInbound(t, db, inbound(bot.ChannelTelegram, "", "c1", "u1", "b"))
	ms, err := db.Transcript(ctx, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, m := range ms {
		texts = append(texts, m.Text)
	}
	if want := []string{"hi", "a", "b"}; !cmp.Equal(texts, want) {
		t.Errorf("transcript: %s", cmp.Diff(want, texts))
	}
	// After a duplicate in a transaction the database is still usable (PostgreSQL aborts a transaction
	// on a unique violation; the store must not rely on one).
	saveInbound(t, db, inbound(bot.ChannelTelegram, "m2", "c1", "u1", "next"))
}

func testIdentities(t *testing.T, db *storage.DB) {
	a1 := saveInbound(t, db, inbound(bot.ChannelTelegram, "1", "chatA", "userA", "x"))
	a2 := saveInbound(t, db, inbound(bot.ChannelTelegram, "2", "groupChat", "userA", "x"))
	b := saveInbound(t, db, inbound(bot.ChannelTelegram, "3", "chatB", "userB", "x"))
	other := saveInbound(t, db, inbound(bot.ChannelDiscord, "4", "chatA", "userA", "x"))
	if a1.CustomerID != a2.CustomerID {
		t.Errorf("same user in two chats: customers %d and %d", a1.CustomerID, a2.CustomerID)
	}
	if a1.ID == a2.ID {
		t.Errorf("two chats share conversation %d", a1.ID)
	}
	if b.CustomerID == a1.CustomerID || other.CustomerID == a1.CustomerID {
		t.Errorf("different users (or same id on another platform) share a customer: %+v %+v %+v", a1, b, other)
	}
	again := saveInbound(t, db, bot.Event{Channel: bot.ChannelTelegram, MsgID: "5", ChatID: "chatA", UserID: "userA", UserName: "Ann", At: t0})
	if again.ID != a1.ID || again.UserName != "Ann" {
		t.Errorf("returning user: %+v, want conversation %d with name Ann", again, a1.ID)
	}
	err := db.Tx(context.Background(), func(tx bot.Tx) error {
		_, err := tx.SaveInbound(context.Background(), bot.Event{Channel: bot.ChannelWeb, MsgID: "x"})
		return err
	})
	if !errors.Is(err, bot.ErrBadInput) {
		t.Errorf("event without chat: %v, want ErrBadInput", err)
	}
}

func testSession(t *testing.T, db *storage.DB) {
	ctx := context.Background()
	c := saveInbound(t, db, inbound(bot.ChannelWeb, "1", "s", "s", "hi"))
	tx(t, db, func(tx bot.Tx) error {
		if _, err := tx.Session(ctx, c.ID); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("new conversation session: %v, want ErrNotFound", err)
		}
		return tx.SaveSession(ctx, c.ID, flows.Session{State: flows.StateAskOrder, Lang: "en", Seq: 7,
			Intake: flows.Intake{Category: "order", Description: "描述"}, Candidates: []string{"a", "b"}}, t0)
	})
	tx(t, db, func(tx bot.Tx) error {
		s, err := tx.Session(ctx, c.ID)
		if err != nil {
			return err
		}
		want := flows.Session{State: flows.StateAskOrder, Lang: "en", Seq: 7, Intake: flows.Intake{Category: "order", Description: "描述"}, Candidates: []string{"a", "b"}}
		if d := cmp.Diff(want, s, cmpopts.IgnoreUnexported(flows.Session{})); d != "" {
			t.Errorf("session round trip: %s", d)
		}
		if err := tx.SetCustomerLang(ctx, c.CustomerID, "en"); err != nil {
			return err
		}
		if err := tx.SaveSession(ctx, 999999, s, t0); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("save session of unknown conversation: %v", err)
		}
		return nil
	})
	if got := saveInbound(t, db, inbound(bot.ChannelWeb, "2", "s", "s", "hi")); got.Lang != "en" {
		t.Errorf("customer lang = %q, want en", got.Lang)
	}
}

var noRE = regexp.MustCompile(`^GD\d{8}\d{3,}$`)

func testTicketNumbers(t *testing.T, db *storage.DB) {
	c := saveInbound(t, db, inbound(bot.ChannelWeb, "1", "s", "s", "hi"))
	var got []string
	for _, day := range []string{"20261123", "20261123", "20261123", "20261124", "20261123"} {
		got = append(got, createTicket(t, db, c, day).No)
	}
	want := []string{"GD20261123001", "GD20261123002", "GD20261123003", "GD20261124001", "GD20261123004"}
	if !cmp.Equal(got, want) {
		t.Errorf("numbers: %s", cmp.Diff(want, got))
	}
	for _, no := range got {
		if !noRE.MatchString(no) {
			t.Errorf("%s does not match %s", no, noRE)
		}
	}
	if got := storage.TicketNo("20261123", 1234); got != "GD202611231234" {
		t.Errorf("4-digit sequence: %s", got)
	}
	err := db.Tx(context.Background(), func(tx bot.Tx) error {
		_, err := tx.CreateTicket(context.Background(), bot.Ticket{ConversationID: c.ID, CustomerID: c.CustomerID}, "2026-11-23")
		return err
	})
	if !errors.Is(err, bot.ErrBadInput) {
		t.Errorf("bad day: %v", err)
	}
}

func testTicketNumbersConcurrent(t *testing.T, db *storage.DB) {
	c := saveInbound(t, db, inbound(bot.ChannelWeb, "1", "s", "s", "hi"))
	const n = 24
	var mu sync.Mutex
	var nos []string
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := db.Tx(context.Background(), func(tx bot.Tx) error {
				tk, err := tx.CreateTicket(context.Background(), bot.Ticket{ConversationID: c.ID, CustomerID: c.CustomerID,
					Priority: bot.P2, CreatedAt: t0, FirstResponseDue: t0, ResolutionDue: t0}, "20261123")
				if err != nil {
					return err
				}
				mu.Lock()
				nos = append(nos, tk.No)
				mu.Unlock()
				return nil
			})
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent create: %v", err)
	}
	sort.Strings(nos)
	var want []string
	for i := 1; i <= n; i++ {
		want = append(want, fmt.Sprintf("GD20261123%03d", i))
	}
	if !cmp.Equal(nos, want) {
		t.Errorf("concurrent numbers: %s", cmp.Diff(want, nos))
	}
}

func testTicketRoundTrip(t *testing.T, db *storage.DB) {
	ctx := context.Background()
	c := saveInbound(t, db, inbound(bot.ChannelTelegram, "1", "chat", "user", "hi"))
	fr := t0.Add(2 * time.Hour)
	in := bot.Ticket{ConversationID: c.ID, CustomerID: c.CustomerID, Channel: bot.ChannelTelegram, CustomerName: "张三",
		CustomerPhone: "13800000000", Lang: "zh-CN", Category: "order", Priority: bot.P1, Status: bot.StatusOpen,
		Summary: "s", Description: "d", OrderNo: "123456789012", Urgency: "normal", Complaint: true, Escalated: true,
		CreatedAt: t0, FirstResponseDue: fr, ResolutionDue: t0.Add(24 * time.Hour),
		Attachments: []bot.Attachment{{Type: "photo", FileID: "f1"}}}
	var tk bot.Ticket
	tx(t, db, func(tx bot.Tx) (err error) {
		tk, err = tx.CreateTicket(ctx, in, "20261123")
		return err
	})
	want := in
	want.ID, want.No = tk.ID, "GD20261123001"
	got, err := db.TicketByNo(ctx, tk.No)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("ticket round trip: %s", d)
	}
	at := t0.Add(time.Minute)
	got.Status, got.FirstResponseAt, got.Rating, got.RatingComment, got.Reopens = bot.StatusInProgress, &at, 5, "好", 1
	tx(t, db, func(tx bot.Tx) error { return tx.UpdateTicket(ctx, got) })
	again, _ := db.TicketByNo(ctx, tk.No)
	if d := cmp.Diff(got, again); d != "" {
		t.Errorf("after update: %s", d)
	}
	if _, err := db.TicketByNo(ctx, "GD20000101001"); !errors.Is(err, bot.ErrUnknownTkt) {
		t.Errorf("unknown ticket: %v", err)
	}
	// Filters.
	list, err := db.ListTickets(ctx, bot.TicketFilter{Overdue: true, Now: t0.Add(3 * time.Hour)})
	if err != nil || len(list) != 0 {
		t.Errorf("overdue with first response given and resolution not due: %v %v", list, err)
	}
	list, _ = db.ListTickets(ctx, bot.TicketFilter{Overdue: true, Now: t0.Add(25 * time.Hour)})
	if len(list) != 1 {
		t.Errorf("overdue after resolution due: %d tickets", len(list))
	}
	list, _ = db.ListTickets(ctx, bot.TicketFilter{Statuses: []bot.Status{bot.StatusClosed}})
	if len(list) != 0 {
		t.Errorf("closed: %d", len(list))
	}
}

func testClaimRace(t *testing.T, db *storage.DB) {
	c := saveInbound(t, db, inbound(bot.ChannelWeb, "1", "s", "s", "hi"))
	for round := 0; round < 5; round++ {
		tk := createTicket(t, db, c, "20261123")
		var wins int
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, who := range []string{"cli:a", "cli:b", "cli:c"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := db.Tx(context.Background(), func(tx bot.Tx) error {
					won, err := tx.ClaimTicket(context.Background(), tk.ID, who, t0)
					if won {
						mu.Lock()
						wins++
						mu.Unlock()
					}
					return err
				})
				if err != nil {
					t.Errorf("claim: %v", err)
				}
			}()
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("round %d: %d claims won, want exactly 1", round, wins)
		}
	}
}

func testCustomerIsolation(t *testing.T, db *storage.DB) {
	ctx := context.Background()
	a := saveInbound(t, db, inbound(bot.ChannelWeb, "1", "a", "a", "hi"))
	b := saveInbound(t, db, inbound(bot.ChannelWeb, "2", "b", "b", "hi"))
	ta := createTicket(t, db, a, "20261123")
	createTicket(t, db, b, "20261123")
	list, err := db.ListTickets(ctx, bot.TicketFilter{CustomerID: a.CustomerID})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].No != ta.No {
		t.Errorf("customer a sees %+v", list)
	}
}

func enqueue(t testing.TB, db *storage.DB, ch bot.Channel, chat, text string, at time.Time) int64 {
	t.Helper()
	var id int64
	tx(t, db, func(tx bot.Tx) error {
		ids, err := tx.Enqueue(context.Background(), at, bot.Reply{Channel: ch, ChatID: chat, Text: text,
			Buttons: []bot.Button{{Label: "是", Payload: "1:yes"}}})
		if err == nil {
			id = ids[0]
		}
		return err
	})
	return id
}

func claimTexts(t testing.TB, db *storage.DB, now time.Time, chs ...bot.Channel) []string {
	t.Helper()
	rs, err := db.ClaimOutbox(context.Background(), now, chs, time.Minute, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rs {
		out = append(out, r.Text)
	}
	return out
}

func idOf(t testing.TB, db *storage.DB, text string) int64 {
	t.Helper()
	rows, err := db.OutboxRows(context.Background(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Text == text {
			return r.ID
		}
	}
	t.Fatalf("no outbox row %q", text)
	return 0
}

func testOutboxOrder(t *testing.T, db *storage.DB) {
	ctx := context.Background()
	for _, s := range []string{"a1", "a2", "a3"} {
		enqueue(t, db, bot.ChannelTelegram, "A", s, t0)
	}
	enqueue(t, db, bot.ChannelTelegram, "B", "b1", t0)
	enqueue(t, db, bot.ChannelDiscord, "A", "d1", t0) // another platform's chat "A"
	enqueue(t, db, bot.ChannelTelegram, "B", "b2", t0)

	if got, want := claimTexts(t, db, t0, bot.ChannelTelegram, bot.ChannelDiscord), []string{"a1", "b1", "d1"}; !cmp.Equal(got, want) {
		t.Fatalf("first claim: %s", cmp.Diff(want, got))
	}
	if got := claimTexts(t, db, t0, bot.ChannelTelegram, bot.ChannelDiscord); len(got) != 0 {
		t.Fatalf("leased rows claimed again, or a row overtook its predecessor: %q", got)
	}
	if err := db.MarkSent(ctx, idOf(t, db, "a1"), "tg-1", t0); err != nil {
		t.Fatal(err)
	}
	if got := claimTexts(t, db, t0, bot.ChannelTelegram); !cmp.Equal(got, []string{"a2"}) {
		t.Fatalf("after a1 sent: %q", got)
	}
	// A permanently failed row no longer holds its conversation back.
	if err := db.MarkFailed(ctx, idOf(t, db, "a2"), "blocked"); err != nil {
		t.Fatal(err)
	}
	if got := claimTexts(t, db, t0, bot.ChannelTelegram); !cmp.Equal(got, []string{"a3"}) {
		t.Fatalf("after a2 failed: %q", got)
	}
	// Channels without an adapter are never claimed.
	enqueue(t, db, bot.ChannelSlack, "S", "s1", t0)
	if got := claimTexts(t, db, t0.Add(time.Hour), bot.ChannelWeb); len(got) != 0 {
		t.Errorf("claimed rows of other channels: %q", got)
	}
	rows, _ := db.OutboxRows(ctx, bot.ChannelTelegram, "A")
	var st []string
	for _, r := range rows {
		st = append(st, r.Status+":"+r.PlatformMsgID)
	}
	if want := []string{"sent:tg-1", "failed:", "pending:"}; !cmp.Equal(st, want) {
		t.Errorf("statuses: %s", cmp.Diff(want, st))
	}
	rs, _ := db.WebMessagesAfter(ctx, "nobody", 0, 10)
	if len(rs) != 0 {
		t.Errorf("web messages of unknown session: %v", rs)
	}
}

func testOutboxRetryAndLease(t *testing.T, db *storage.DB) {
	ctx := context.Background()
	enqueue(t, db, bot.ChannelTelegram, "A", "a1", t0)
	enqueue(t, db, bot.ChannelTelegram, "A", "a2", t0)
	rs, err := db.ClaimOutbox(ctx, t0, []bot.Channel{bot.ChannelTelegram}, time.Minute, 10)
	if err != nil || len(rs) != 1 {
		t.Fatalf("claim: %v %v", rs, err)
	}
	r := rs[0]
	if r.Text != "a1" || r.Attempts != 0 || !cmp.Equal(r.Buttons, []bot.Button{{Label: "是", Payload: "1:yes"}}) || r.OutboxID == 0 {
		t.Errorf("claimed row: %+v", r)
	}
	// A crashed dispatcher: the lease runs out and the row comes back.
	if got := claimTexts(t, db, t0.Add(30*time.Second), bot.ChannelTelegram); len(got) != 0 {
		t.Fatalf("claimed within lease: %q", got)
	}
	if got := claimTexts(t, db, t0.Add(61*time.Second), bot.ChannelTelegram); !cmp.Equal(got, []string{"a1"}) {
		t.Fatalf("after lease expiry: %q", got)
	}
	// A failed attempt is retried at next_attempt_at, never earlier, and a2 waits behind it.
	next := t0.Add(5 * time.Minute)
	if err := db.MarkRetry(ctx, r.OutboxID, next, "boom", true); err != nil {
		t.Fatal(err)
	}
	if got := claimTexts(t, db, t0.Add(4*time.Minute), bot.ChannelTelegram); len(got) != 0 {
		t.Fatalf("claimed before next attempt: %q", got)
	}
	rs, _ = db.ClaimOutbox(ctx, next, []bot.Channel{bot.ChannelTelegram}, time.Minute, 10)
	if len(rs) != 1 || rs[0].Text != "a1" || rs[0].Attempts != 1 {
		t.Fatalf("retry claim: %+v", rs)
	}
	// Rate limits do not count as attempts.
	if err := db.MarkRetry(ctx, r.OutboxID, next, "429", false); err != nil {
		t.Fatal(err)
	}
	rs, _ = db.ClaimOutbox(ctx, next, []bot.Channel{bot.ChannelTelegram}, time.Minute, 10)
	if len(rs) != 1 || rs[0].Attempts != 1 {
		t.Fatalf("after rate limit: %+v", rs)
	}
	if err := db.MarkSent(ctx, r.OutboxID, "m", next); err != nil {
		t.Fatal(err)
	}
	if got := claimTexts(t, db, next, bot.ChannelTelegram); !cmp.Equal(got, []string{"a2"}) {
		t.Errorf("after sent: %q", got)
	}
}

// testOutboxConcurrent runs several claimers at once: every row is handed out exactly once and each
// chat's rows in order.
func testOutboxConcurrent(t *testing.T, db *storage.DB) {
	ctx := context.Background()
	const chats, per = 6, 8
	for i := 0; i < per; i++ {
		for c := 0; c < chats; c++ {
			enqueue(t, db, bot.ChannelTelegram, fmt.Sprintf("c%d", c), fmt.Sprintf("c%d-%02d", c, i), t0)
		}
	}
	var mu sync.Mutex
	seen := map[string][]string{}
	total := 0
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for idle := 0; idle < 50; {
				rs, err := db.ClaimOutbox(ctx, t0, []bot.Channel{bot.ChannelTelegram}, time.Hour, 3)
				if err != nil {
					t.Errorf("claim: %v", err)
					return
				}
				if len(rs) == 0 {
					mu.Lock()
					done := total == chats*per
					mu.Unlock()
					if done {
						return
					}
					idle++
					time.Sleep(2 * time.Millisecond)
					continue
				}
				for _, r := range rs {
					mu.Lock()
					seen[r.ChatID] = append(seen[r.ChatID], r.Text)
					total++
					mu.Unlock()
					if err := db.MarkSent(ctx, r.OutboxID, "x", t0); err != nil {
						t.Errorf("mark sent: %v", err)
					}
				}
			}
		}()
	}
	wg.Wait()
	for c := 0; c < chats; c++ {
		chat := fmt.Sprintf("c%d", c)
		var want []string
		for i := 0; i < per; i++ {
			want = append(want, fmt.Sprintf("%s-%02d", chat, i))
		}
		if !cmp.Equal(seen[chat], want) {
			t.Errorf("chat %s delivered: %s", chat, cmp.Diff(want, seen[chat]))
		}
	}
}

func testWebMessages(t *testing.T, db *storage.DB) {
	ctx := context.Background()
	if ok, err := db.WebSessionExists(ctx, "sess"); ok || err != nil {
		t.Fatalf("exists before create: %v %v", ok, err)
	}
	if err := db.CreateWebSession(ctx, "sess", "en"); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateWebSession(ctx, "sess", "en"); err == nil {
		t.Error("created the same session twice")
	}
	if ok, err := db.WebSessionExists(ctx, "sess"); !ok || err != nil {
		t.Fatalf("exists: %v %v", ok, err)
	}
	if id, err := db.LastWebMessageID(ctx, "sess"); id != 0 || err != nil {
		t.Errorf("last id of empty session: %d %v", id, err)
	}
	id1 := enqueue(t, db, bot.ChannelWeb, "sess", "one", t0)
	enqueue(t, db, bot.ChannelWeb, "other", "not mine", t0)
	id2 := enqueue(t, db, bot.ChannelWeb, "sess", "two", t0)
	if last, _ := db.LastWebMessageID(ctx, "sess"); last != id2 {
		t.Errorf("last = %d, want %d", last, id2)
	}
	rs, err := db.WebMessagesAfter(ctx, "sess", 0, 10)
	if err != nil || len(rs) != 2 || rs[0].Text != "one" || rs[1].Text != "two" || rs[0].OutboxID != id1 {
		t.Errorf("all: %+v %v", rs, err)
	}
	// A batch keeps its order.
	tx(t, db, func(tx bot.Tx) error {
		ids, err := tx.Enqueue(ctx, t0, bot.Reply{Channel: bot.ChannelWeb, ChatID: "batch", Text: "b1"},
			bot.Reply{Channel: bot.ChannelWeb, ChatID: "batch", Text: "b2"}, bot.Reply{Channel: bot.ChannelWeb, ChatID: "batch", Text: "b3"})
		if err == nil && !(len(ids) == 3 && ids[0] < ids[1] && ids[1] < ids[2]) {
			t.Errorf("batch ids %v", ids)
		}
		return err
	})
	if bs, _ := db.WebMessagesAfter(ctx, "batch", 0, 10); len(bs) != 3 || bs[0].Text != "b1" || bs[2].Text != "b3" {
		t.Errorf("batch: %+v", bs)
	}
	rs, _ = db.WebMessagesAfter(ctx, "sess", id1, 10)
	if len(rs) != 1 || rs[0].Text != "two" || len(rs[0].Buttons) != 1 {
		t.Errorf("after %d: %+v", id1, rs)
	}
}

func testKV(t *testing.T, db *storage.DB) {
	ctx := context.Background()
	if _, ok, err := db.GetKV(ctx, "slack.cursor"); ok || err != nil {
		t.Fatalf("missing key: %v %v", ok, err)
	}
	for _, v := range []string{"1", "42"} {
		if err := db.SetKV(ctx, "slack.cursor", v); err != nil {
			t.Fatal(err)
		}
	}
	if v, ok, err := db.GetKV(ctx, "slack.cursor"); v != "42" || !ok || err != nil {
		t.Errorf("get: %q %v %v", v, ok, err)
	}
	if err := db.DeleteKV(ctx, "slack.cursor"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := db.GetKV(ctx, "slack.cursor"); ok {
		t.Error("deleted key still there")
	}
}

func testLinkCodes(t *testing.T, db *storage.DB) {
	ctx := context.Background()
	web := saveInbound(t, db, inbound(bot.ChannelWeb, "1", "w", "w", "hi"))
	tg := saveInbound(t, db, inbound(bot.ChannelTelegram, "1", "t", "t", "hi"))
	tk := createTicket(t, db, tg, "20261123")
	tx(t, db, func(tx bot.Tx) error {
		if err := tx.SaveLinkCode(ctx, "12345678", web.CustomerID, t0.Add(10*time.Minute)); err != nil {
			return err
		}
		return tx.SaveLinkCode(ctx, "00000000", web.CustomerID, t0.Add(-time.Minute))
	})
	tx(t, db, func(tx bot.Tx) error {
		if _, err := tx.UseLinkCode(ctx, "00000000", tg.CustomerID, t0); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("expired code: %v", err)
		}
		if _, err := tx.UseLinkCode(ctx, "99999999", tg.CustomerID, t0); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("unknown code: %v", err)
		}
		got, err := tx.UseLinkCode(ctx, "12345678", tg.CustomerID, t0)
		if err != nil || got != web.CustomerID {
			t.Errorf("use code: %d %v, want %d", got, err, web.CustomerID)
		}
		if _, err := tx.UseLinkCode(ctx, "12345678", tg.CustomerID, t0); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("second use: %v", err)
		}
		return nil
	})
	// The telegram identity, its conversation and its ticket now belong to the web customer.
	again := saveInbound(t, db, inbound(bot.ChannelTelegram, "2", "t", "t", "hi"))
	if again.CustomerID != web.CustomerID {
		t.Errorf("telegram customer after link = %d, want %d", again.CustomerID, web.CustomerID)
	}
	list, _ := db.ListTickets(ctx, bot.TicketFilter{CustomerID: web.CustomerID})
	if len(list) != 1 || list[0].No != tk.No {
		t.Errorf("merged tickets: %+v", list)
	}
}

func testEventsFeed(t *testing.T, db *storage.DB) {
	ctx := context.Background()
	c := saveInbound(t, db, inbound(bot.ChannelWeb, "1", "s", "s", "hi"))
	tk := createTicket(t, db, c, "20261123")
	var ids []int64
	tx(t, db, func(tx bot.Tx) error {
		for _, k := range []bot.EventKind{bot.EvCreated, bot.EvNote, bot.EvAgentReply} {
			id, err := tx.AddEvent(ctx, bot.TicketEvent{TicketID: tk.ID, TicketNo: tk.No, At: t0, Actor: "cli:a", Kind: k,
				Text: string(k), Internal: k == bot.EvNote, Attachments: []bot.Attachment{{Type: "photo", FileID: "f"}}})
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	all, _ := db.TicketEvents(ctx, tk.ID)
	if len(all) != 3 || all[0].ID != ids[0] || all[0].Seq <= 0 || !(all[0].Seq < all[1].Seq && all[1].Seq < all[2].Seq) {
		t.Fatalf("ticket events (feed positions in the transaction's order): %+v", all)
	}
	evs, err := db.EventsAfter(ctx, all[0].Seq, 10)
	if err != nil || len(evs) != 2 || evs[0].Kind != bot.EvNote || !evs[0].Internal || evs[1].ID != ids[2] {
		t.Fatalf("events after: %+v %v", evs, err)
	}
	want := bot.TicketEvent{ID: ids[2], TicketID: tk.ID, TicketNo: tk.No, At: t0, Actor: "cli:a", Kind: bot.EvAgentReply,
		Text: "agent_reply", Attachments: []bot.Attachment{{Type: "photo", FileID: "f"}}, Seq: all[2].Seq}
	if d := cmp.Diff(want, evs[1]); d != "" {
		t.Errorf("event round trip: %s", d)
	}
}

func testRollback(t *testing.T, db *storage.DB) {
	ctx := context.Background()
	boom := errors.New("boom")
	err := db.Tx(ctx, func(tx bot.Tx) error {
		c, err := tx.SaveInbound(ctx, inbound(bot.ChannelWeb, "r1", "s", "s", "hi"))
		if err != nil {
			return err
		}
		if _, err := tx.Enqueue(ctx, t0, bot.Reply{ConversationID: c.ID, Channel: bot.ChannelWeb, ChatID: "s", Text: "x"}); err != nil {
			return err
		}
		if _, err := tx.CreateTicket(ctx, bot.Ticket{ConversationID: c.ID, CustomerID: c.CustomerID, Priority: bot.P2,
			CreatedAt: t0, FirstResponseDue: t0, ResolutionDue: t0}, "20261123"); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("tx error = %v", err)
	}
	if rows, _ := db.OutboxRows(ctx, "", ""); len(rows) != 0 {
		t.Errorf("outbox after rollback: %v", rows)
	}
	// The message id is free again, and so is the ticket number.
	c := saveInbound(t, db, inbound(bot.ChannelWeb, "r1", "s", "s", "hi"))
	if tk := createTicket(t, db, c, "20261123"); tk.No != "GD20261123001" {
		t.Errorf("number after rollback: %s", tk.No)
	}
}

// testEventsFeedConcurrent: a reader following EventsAfter with a cursor while many transactions add
// events (and take their time to commit) sees every event: ids never become visible out of order.
func testEventsFeedConcurrent(t *testing.T, db *storage.DB) {
	ctx := context.Background()
	c := saveInbound(t, db, inbound(bot.ChannelWeb, "1", "s", "s", "hi"))
	tk := createTicket(t, db, c, "20261123")
	const writers, per = 6, 10
	done := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				err := db.Tx(ctx, func(tx bot.Tx) error {
					_, err := tx.AddEvent(ctx, bot.TicketEvent{TicketID: tk.ID, TicketNo: tk.No, At: t0, Actor: "x", Kind: bot.EvNote,
						Text: fmt.Sprintf("%d-%d", w, i)})
					time.Sleep(time.Duration((w*7+i*3)%5) * time.Millisecond) // commit late, sometimes
					return err
				})
				if err != nil {
					t.Errorf("add event: %v", err)
				}
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()
	seen := map[string]bool{}
	var cursor int64
	read := func() {
		evs, err := db.EventsAfter(ctx, cursor, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			seen[ev.Text] = true
			cursor = ev.Seq
		}
	}
	for finished := false; !finished; {
		select {
		case <-done:
			finished = true
		default:
			time.Sleep(time.Millisecond)
		}
		read()
	}
	read()
	if len(seen) != writers*per {
		t.Errorf("feed reader saw %d of %d events", len(seen), writers*per)
	}
}
