package improve_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/improve"
	"github.com/kefu-dev/kefu/locales"
	"github.com/kefu-dev/kefu/storage"
	"github.com/kefu-dev/kefu/storage/storetest"
)

var agents = []bot.AgentConfig{
	{ID: "cli:alice", Name: "Alice"},
	{ID: "cli:bob", Name: "Bob"},
	{ID: "cli:sup", Name: "Sup", Supervisor: true},
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func newService(db *storage.DB, c *clock) *improve.Service {
	return improve.New(improve.Options{DB: db, Agents: agents, Now: c.Now})
}

// fxTicket inserts a ticket; resolved 0 = open; rating 0 = unrated.
type fxTicket struct {
	no, category string
	created      time.Time
	resolved     time.Duration
	rating       int
	prio         string
	assignee     string
}

var seedOnce sync.Map

func addTickets(t *testing.T, db *storage.DB, ts ...fxTicket) {
	t.Helper()
	g := db.Gorm()
	exec := func(q string, args ...any) {
		t.Helper()
		if err := g.Exec(q, args...).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, done := seedOnce.LoadOrStore(db, true); !done {
		base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		exec("INSERT INTO customers (id, name, created_at, updated_at) VALUES (1, 'c', ?, ?)", base, base)
		exec("INSERT INTO conversations (id, channel, chat_id, customer_id, created_at, updated_at) VALUES (1, 'web', 'chat1', 1, ?, ?)", base, base)
	}
	for _, tk := range ts {
		var res *time.Time
		status := "open"
		if tk.resolved > 0 {
			x := tk.created.Add(tk.resolved)
			res, status = &x, "closed"
		}
		prio := tk.prio
		if prio == "" {
			prio = "P2"
		}
		exec(`INSERT INTO tickets (no, conversation_id, customer_id, channel, category, priority, status, assignee, created_at, updated_at,
			first_response_due, resolution_due, resolved_at, rating) VALUES (?, 1, 1, 'web', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			tk.no, tk.category, prio, status, tk.assignee, tk.created, tk.created, tk.created.Add(time.Hour), tk.created.Add(24*time.Hour), res, tk.rating)
	}
}

var dec = func(d, h int) time.Time { return time.Date(2026, 12, d, h, 0, 0, 0, time.UTC) }

func validRecord() improve.NewRecord {
	return improve.NewRecord{Phenomenon: "客户投诉发票未收到", Whys: []string{"财务部未及时开具", "订单状态未同步至财务系统", "接口程序存在Bug"},
		RootCause: "测试用例设计不完善", Category: "invoice", Tickets: []string{"GD20261201001"}}
}

func validAction() improve.NewAction {
	return improve.NewAction{Term: "short", Description: "优化接口程序", Owner: "cli:alice", Due: "2026-12-15", Acceptance: "接口同步成功率 100%"}
}

// TestValidation: every kind of bad input gets its own localized message and stores nothing.
func TestValidation(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		ctx := context.Background()
		db := open(t)
		addTickets(t, db, fxTicket{no: "GD20261201001", category: "invoice", created: dec(1, 9)})
		s := newService(db, &clock{t: dec(3, 10)})
		rec := func(f func(*improve.NewRecord)) improve.NewRecord { r := validRecord(); f(&r); return r }
		for _, tc := range []struct {
			name, actor string
			in          improve.NewRecord
			key         string
		}{
			{"no phenomenon", "cli:alice", rec(func(r *improve.NewRecord) { r.Phenomenon = "  " }), "improve.err.phenomenon"},
			{"no why", "cli:alice", rec(func(r *improve.NewRecord) { r.Whys = nil }), "improve.err.whys_none"},
			{"only empty whys", "cli:alice", rec(func(r *improve.NewRecord) { r.Whys = []string{"", " "} }), "improve.err.whys_none"},
			{"six whys", "cli:alice", rec(func(r *improve.NewRecord) { r.Whys = []string{"1", "2", "3", "4", "5", "6"} }), "improve.err.whys_max"},
			{"no category", "cli:alice", rec(func(r *improve.NewRecord) { r.Category = "" }), "improve.err.category"},
			{"long why", "cli:alice", rec(func(r *improve.NewRecord) { r.Whys = []string{strings.Repeat("长", 2001)} }), "improve.err.too_long"},
			{"unknown ticket", "cli:alice", rec(func(r *improve.NewRecord) { r.Tickets = []string{"GD20261201999"} }), "improve.err.unknown_ticket"},
			{"stranger", "cli:mallory", validRecord(), "improve.err.not_agent"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := s.Create(ctx, tc.actor, tc.in)
				wantProblem(t, err, tc.key)
			})
		}
		var n int64
		db.Gorm().Table("improve_records").Count(&n)
		if n != 0 {
			t.Fatalf("%d records stored after bad input", n)
		}

		r, err := s.Create(ctx, "cli:alice", validRecord())
		if err != nil {
			t.Fatal(err)
		}
		act := func(f func(*improve.NewAction)) improve.NewAction { a := validAction(); f(&a); return a }
		for _, tc := range []struct {
			name string
			in   improve.NewAction
			key  string
		}{
			{"no owner", act(func(a *improve.NewAction) { a.Owner = "" }), "improve.err.owner_missing"},
			{"owner not an agent", act(func(a *improve.NewAction) { a.Owner = "cli:carol" }), "improve.err.owner_unknown"},
			{"no due date", act(func(a *improve.NewAction) { a.Due = "" }), "improve.err.due_missing"},
			{"bad due date", act(func(a *improve.NewAction) { a.Due = "2026-13-01" }), "improve.err.due_format"},
			{"bad term", act(func(a *improve.NewAction) { a.Term = "mid" }), "improve.err.term"},
			{"no description", act(func(a *improve.NewAction) { a.Description = "" }), "improve.err.description"},
			{"no acceptance", act(func(a *improve.NewAction) { a.Acceptance = "" }), "improve.err.acceptance"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := s.AddAction(ctx, "cli:alice", r.No, tc.in)
				wantProblem(t, err, tc.key)
			})
		}
		if _, err := s.AddAction(ctx, "cli:alice", "IMP-202612-999", validAction()); !isProblem(err, "improve.err.no_record") {
			t.Errorf("action on unknown record: %v", err)
		}
		db.Gorm().Table("improve_actions").Count(&n)
		if n != 0 {
			t.Fatalf("%d actions stored after bad input", n)
		}

		tgt := func(f func(*improve.Target)) improve.Target {
			x := improve.Target{Metric: "csat", Period: "2026-Q4", Op: ">=", Value: 4.5, Owner: "cli:sup", Review: "2026-12-31"}
			f(&x)
			return x
		}
		for _, tc := range []struct {
			name, actor string
			in          improve.Target
			key         string
		}{
			{"agent sets target", "cli:alice", tgt(func(*improve.Target) {}), "improve.err.supervisor_only"},
			{"unknown metric", "cli:sup", tgt(func(x *improve.Target) { x.Metric = "happiness" }), "improve.err.unknown_metric"},
			{"bad period", "cli:sup", tgt(func(x *improve.Target) { x.Period = "2026-Q5" }), "improve.err.period"},
			{"bad week", "cli:sup", tgt(func(x *improve.Target) { x.Period = "2026-W54" }), "improve.err.period"},
			{"bad op", "cli:sup", tgt(func(x *improve.Target) { x.Op = ">" }), "improve.err.target_op"},
			{"owner not an agent", "cli:sup", tgt(func(x *improve.Target) { x.Owner = "cli:carol" }), "improve.err.owner_unknown"},
			{"bad review date", "cli:sup", tgt(func(x *improve.Target) { x.Review = "soon" }), "improve.err.review"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := s.SetTarget(ctx, tc.actor, tc.in)
				wantProblem(t, err, tc.key)
			})
		}
		db.Gorm().Table("improve_targets").Count(&n)
		if n != 0 {
			t.Fatalf("%d targets stored after bad input", n)
		}
	})
}

func isProblem(err error, key string) bool {
	var p *improve.Problem
	return errors.As(err, &p) && p.Key == key
}

// wantProblem checks the key and that both languages render it without a placeholder left over.
func wantProblem(t *testing.T, err error, key string) {
	t.Helper()
	if !isProblem(err, key) {
		t.Fatalf("err = %v; want problem %s", err, key)
	}
	cat := locales.Default()
	for _, lang := range []string{"zh-CN", "en"} {
		msg := improve.Message(err, cat.T, lang)
		if msg == key || strings.Contains(msg, "<no value>") || !cat.Has(lang, key) {
			t.Errorf("%s: %s renders %q", lang, key, msg)
		}
	}
}

// TestRecordLifecycle: numbering, links, actions through every state, permissions, status and the
// audit trail.
func TestRecordLifecycle(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		ctx := context.Background()
		db := open(t)
		addTickets(t, db, fxTicket{no: "GD20261201001", category: "invoice", created: dec(1, 9)},
			fxTicket{no: "GD20261202001", category: "invoice", created: dec(2, 9)})
		c := &clock{t: dec(3, 10)}
		s := newService(db, c)
		r, err := s.Create(ctx, "cli:alice", validRecord())
		if err != nil {
			t.Fatal(err)
		}
		if r.No != "IMP-202612-001" || r.Status != improve.RecordOpen || len(r.Whys) != 3 || fmt.Sprint(r.Tickets) != "[GD20261201001]" {
			t.Fatalf("record = %+v", r)
		}
		if err := s.LinkTicket(ctx, "cli:bob", r.No, "gd20261202001"); err != nil {
			t.Fatal(err)
		}
		if err := s.LinkTicket(ctx, "cli:bob", r.No, "GD20261202001"); err != nil { // twice: no-op
			t.Fatal(err)
		}
		if known, err := s.KnownIssues(ctx, "invoice"); err != nil || fmt.Sprint(known) != "[IMP-202612-001]" {
			t.Fatalf("known issues = %v, %v", known, err)
		}
		a, err := s.AddAction(ctx, "cli:sup", r.No, validAction())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetActionState(ctx, "cli:bob", a.ID, improve.StateInProgress); !isProblem(err, "improve.err.not_owner") || !errors.Is(err, bot.ErrForbidden) {
			t.Fatalf("bob moves alice's action: %v", err)
		}
		if _, err := s.SetActionState(ctx, "cli:alice", a.ID, improve.StateDone); !isProblem(err, "improve.err.state") {
			t.Fatalf("open -> done: %v", err)
		}
		for _, st := range []string{improve.StateInProgress, improve.StateVerifying, improve.StateInProgress, improve.StateVerifying} {
			if _, err := s.SetActionState(ctx, "cli:alice", a.ID, st); err != nil {
				t.Fatalf("-> %s: %v", st, err)
			}
		}
		c.Set(dec(10, 12))
		done, err := s.SetActionState(ctx, "cli:sup", a.ID, improve.StateDone) // a supervisor may
		if err != nil || done.DoneAt == nil || !done.DoneAt.Equal(dec(10, 12)) {
			t.Fatalf("done = %+v, %v", done, err)
		}
		got, err := s.Record(ctx, r.No)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != improve.RecordDone || len(got.Tickets) != 2 || len(got.Actions) != 1 {
			t.Fatalf("record = %+v", got)
		}
		var kinds []string
		for _, e := range got.Events {
			kinds = append(kinds, e.Kind+":"+e.Actor)
		}
		want := "[created:cli:alice ticket_linked:cli:alice ticket_linked:cli:bob action_added:cli:sup action_state:cli:alice action_state:cli:alice action_state:cli:alice action_state:cli:alice action_state:cli:sup]"
		if fmt.Sprint(kinds) != want {
			t.Errorf("audit trail = %v\nwant %s", kinds, want)
		}
		if known, _ := s.KnownIssues(ctx, "invoice"); len(known) != 0 {
			t.Errorf("done record still a known issue: %v", known)
		}
		r2, err := s.Create(ctx, "cli:bob", improve.NewRecord{Phenomenon: "x", Whys: []string{"y"}, Category: "order"})
		if err != nil || r2.No != "IMP-202612-002" {
			t.Fatalf("second record %q, %v", r2.No, err)
		}
		c.Set(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
		r3, err := s.Create(ctx, "cli:bob", improve.NewRecord{Phenomenon: "x", Whys: []string{"y"}, Category: "order"})
		if err != nil || r3.No != "IMP-202701-001" {
			t.Fatalf("next month's record %q, %v", r3.No, err)
		}
	})
}

// TestConcurrentNumbers: records created at once from several connections get distinct, gapless numbers.
func TestConcurrentNumbers(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		ctx := context.Background()
		db := open(t)
		s := newService(db, &clock{t: dec(3, 10)})
		const n = 12
		nos := make(chan string, n)
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := s.Create(ctx, "cli:alice", improve.NewRecord{Phenomenon: "p", Whys: []string{"w"}, Category: "c"})
				if err != nil {
					t.Error(err)
					return
				}
				nos <- r.No
			}()
		}
		wg.Wait()
		close(nos)
		seen := map[string]bool{}
		for no := range nos {
			seen[no] = true
		}
		for i := 1; i <= n; i++ {
			if no := improve.RecordNo("202612", int64(i)); !seen[no] {
				t.Errorf("missing %s (got %v)", no, seen)
			}
		}
	})
}
