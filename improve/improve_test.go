package improve_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/improve"
	"github.com/kefu-dev/kefu/locales"
	"github.com/kefu-dev/kefu/reports"
	"github.com/kefu-dev/kefu/reports/export"
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

func addTickets(t *testing.T, db *storage.DB, ts ...fxTicket) {
	t.Helper()
	g := db.Gorm()
	exec := func(q string, args ...any) {
		t.Helper()
		if err := g.Exec(q, args...).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	exec("INSERT INTO customers (id, name, created_at, updated_at) VALUES (1, 'c', ?, ?) ON CONFLICT DO NOTHING", base, base)
	exec("INSERT INTO conversations (id, channel, chat_id, customer_id, created_at, updated_at) VALUES (1, 'web', 'chat1', 1, ?, ?) ON CONFLICT DO NOTHING", base, base)
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

// doAction moves an action to done at the clock's time t.
func doAction(t *testing.T, s *improve.Service, c *clock, id int64, at time.Time) {
	t.Helper()
	for _, st := range []string{improve.StateInProgress, improve.StateVerifying, improve.StateDone} {
		c.Set(at)
		if _, err := s.SetActionState(context.Background(), "cli:sup", id, st); err != nil {
			t.Fatal(err)
		}
	}
}

// TestEffectCheck: the hand-worked fixture. The first action is done on 10 Dec 12:00 (a second one
// later does not move the pivot); with 2 weeks the windows are [26 Nov 12:00, 10 Dec 12:00) and
// [10 Dec 12:00, 24 Dec 12:00).
//
//	before (invoice): 27 Nov (10 h, ★2), 1 Dec (4 h, ★3), 5 Dec (6 h, unrated), 9 Dec (open)
//	  → 4 tickets, 2/week, median resolution of {4, 6, 10} = 6 h, CSAT (2+3)/2 = 2.5 of 2
//	after: 10 Dec 12:00 (2 h, ★5), 15 Dec (3 h, ★4), 20 Dec (open)
//	  → 3 tickets, 1.5/week, median of {2, 3} = 2.5 h, CSAT 4.5 of 2
//	left out: invoice 26 Nov 11:00 (before the window), invoice 24 Dec 12:00 (at its end),
//	order 2 Dec (another category).
func TestEffectCheck(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		ctx := context.Background()
		db := open(t)
		addTickets(t, db, effectTickets...)
		c := &clock{t: dec(3, 10)}
		s := newService(db, c)
		r, err := s.Create(ctx, "cli:alice", validRecord())
		if err != nil {
			t.Fatal(err)
		}
		a1, err := s.AddAction(ctx, "cli:alice", r.No, validAction())
		if err != nil {
			t.Fatal(err)
		}
		a2, err := s.AddAction(ctx, "cli:alice", r.No, validAction())
		if err != nil {
			t.Fatal(err)
		}
		if e, err := s.Effect(ctx, r.No, 2); err != nil || e.Pivot != nil {
			t.Fatalf("before any action is done: %+v, %v", e, err)
		}
		doAction(t, s, c, a1.ID, dec(10, 12))
		doAction(t, s, c, a2.ID, dec(12, 9))
		c.Set(time.Date(2027, 1, 5, 0, 0, 0, 0, time.UTC))
		e, err := s.Effect(ctx, r.No, 2)
		if err != nil {
			t.Fatal(err)
		}
		f := func(v *float64) string {
			if v == nil {
				return "nil"
			}
			return fmt.Sprint(*v)
		}
		side := func(x improve.EffectSide) string {
			return fmt.Sprintf("%s..%s n=%d pw=%s med=%s csat=%s/%d", x.From.Format("01-02 15h"), x.To.Format("01-02 15h"), x.Tickets,
				f(x.PerWeek), f(x.MedianResolutionH), f(x.CSAT), x.CSATCount)
		}
		if got, want := side(e.Before), "11-26 12h..12-10 12h n=4 pw=2 med=6 csat=2.5/2"; got != want {
			t.Errorf("before = %s\nwant     %s", got, want)
		}
		if got, want := side(e.After), "12-10 12h..12-24 12h n=3 pw=1.5 med=2.5 csat=4.5/2"; got != want {
			t.Errorf("after = %s\nwant    %s", got, want)
		}
		if _, err := s.Effect(ctx, r.No, 0); !isProblem(err, "improve.err.weeks") {
			t.Errorf("0 weeks: %v", err)
		}
	})
}

func nov(d, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, time.UTC) }

var effectTickets = []fxTicket{
	fxTicket{no: "GD20261126001", category: "invoice", created: nov(26, 11), resolved: time.Hour, rating: 1},
	fxTicket{no: "GD20261127001", category: "invoice", created: nov(27, 10), resolved: 10 * time.Hour, rating: 2},
	fxTicket{no: "GD20261201001", category: "invoice", created: dec(1, 9), resolved: 4 * time.Hour, rating: 3},
	fxTicket{no: "GD20261202001", category: "order", created: dec(2, 9), resolved: 40 * time.Hour, rating: 1},
	fxTicket{no: "GD20261205001", category: "invoice", created: dec(5, 9), resolved: 6 * time.Hour},
	fxTicket{no: "GD20261209001", category: "invoice", created: dec(9, 9)},
	fxTicket{no: "GD20261210001", category: "invoice", created: dec(10, 12), resolved: 2 * time.Hour, rating: 5},
	fxTicket{no: "GD20261215001", category: "invoice", created: dec(15, 9), resolved: 3 * time.Hour, rating: 4},
	fxTicket{no: "GD20261220001", category: "invoice", created: dec(20, 9)},
	fxTicket{no: "GD20261224001", category: "invoice", created: dec(24, 12), resolved: time.Hour, rating: 1},
}

// TestTargets: actual vs target per period on the effect fixture, met or not, and the attainment.
//
//	2026-12 csat >= 4.5: December ratings 3, 1, 5, 4, 1 → 2.8, not met, 2.8/4.5 = 62.22%
//	2026-12 tickets <= 10: 8 tickets created in December → met, 100%
//	2026-11 csat >= 2: 1 and 2 → 1.5, not met, 75%
//	2026-W50 resolution_median_h <= 5: 7–13 Dec, resolved 10 Dec after 2 h → 2, met
//	2027-Q1 backlog <= 1: not started → no actual
func TestTargets(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		ctx := context.Background()
		db := open(t)
		addTickets(t, db, effectTickets...)
		s := newService(db, &clock{t: time.Date(2026, 12, 31, 12, 0, 0, 0, time.UTC)})
		for _, x := range []improve.Target{
			{Metric: "csat", Period: "2026-12", Op: ">=", Value: 4.5},
			{Metric: "tickets", Period: "2026-12", Op: "<=", Value: 10},
			{Metric: "csat", Period: "2026-11", Op: ">=", Value: 2},
			{Metric: "resolution_median_h", Period: "2026-w50", Op: "<=", Value: 5},
			{Metric: "backlog", Period: "2027-Q1", Op: "<=", Value: 1},
		} {
			x.Owner, x.Review = "cli:alice", "2027-01-10"
			if _, err := s.SetTarget(ctx, "cli:sup", x); err != nil {
				t.Fatal(err)
			}
		}
		ts, err := s.Targets(ctx, dec(1, 0), dec(31, 0)) // December only: W50 and 2026-12
		if err != nil {
			t.Fatal(err)
		}
		if len(ts) != 3 {
			t.Fatalf("targets overlapping December = %+v", ts)
		}
		ts, _ = s.Targets(ctx, time.Time{}, time.Time{})
		st, err := s.Evaluate(ctx, ts)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, x := range st {
			a, p := "nil", "nil"
			if x.Actual != nil {
				a = fmt.Sprint(*x.Actual)
			}
			if x.Attainment != nil {
				p = fmt.Sprint(*x.Attainment)
			}
			got = append(got, fmt.Sprintf("%s %s %s%v actual=%s met=%v att=%s", x.Period, x.Metric, x.Op, x.Value, a, x.Met, p))
		}
		want := []string{
			"2026-11 csat >=2 actual=1.5 met=false att=75",
			"2026-12 csat >=4.5 actual=2.8 met=false att=62.22",
			"2026-12 tickets <=10 actual=8 met=true att=100",
			"2026-W50 resolution_median_h <=5 actual=2 met=true att=100",
			"2027-Q1 backlog <=1 actual=nil met=false att=nil",
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("targets:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		// Setting the same metric and period again replaces the goal.
		if _, err := s.SetTarget(ctx, "cli:sup", improve.Target{Metric: "csat", Period: "2026-12", Op: ">=", Value: 2.5, Owner: "cli:bob", Review: "2027-01-10"}); err != nil {
			t.Fatal(err)
		}
		ts, _ = s.Targets(ctx, dec(1, 0), dec(2, 0))
		st, _ = s.Evaluate(ctx, ts)
		if len(st) != 2 || st[0].Metric != "csat" || !st[0].Met || st[0].Owner != "cli:bob" {
			t.Errorf("after replacing: %+v", st)
		}
	})
}

// TestMonthlySheet: the monthly workbook's improvement sheet has one row per action with the record's
// 5-Why, states and effect numbers (the effect fixture over 4 weeks), and text typed by people cannot
// become a formula.
func TestMonthlySheet(t *testing.T) {
	ctx := context.Background()
	db := storetest.OpenSQLite(t)
	addTickets(t, db, effectTickets...)
	c := &clock{t: dec(3, 10)}
	s := newService(db, c)
	in := validRecord()
	in.Phenomenon = `=HYPERLINK("http://evil.example","x")`
	r, err := s.Create(ctx, "cli:alice", in)
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.AddAction(ctx, "cli:alice", r.No, validAction())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddAction(ctx, "cli:alice", r.No, improve.NewAction{Term: "long", Description: "完善测试流程", Owner: "cli:bob", Due: "2027-01-31", Acceptance: "SOP 修订"}); err != nil {
		t.Fatal(err)
	}
	doAction(t, s, c, a.ID, dec(10, 12))
	c.Set(time.Date(2027, 1, 5, 0, 0, 0, 0, time.UTC))
	if _, err := s.Create(ctx, "cli:alice", improve.NewRecord{Phenomenon: "next month", Whys: []string{"w"}, Category: "order"}); err != nil {
		t.Fatal(err)
	}
	sh, err := s.MonthlySheet(ctx, dec(1, 0), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := export.MonthlyXLSX(reports.Report{}, "2026-12", &buf, sh); err != nil {
		t.Fatal(err)
	}
	x, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	rows, err := x.GetRows(improve.SheetName)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 { // header + two actions; January's record is left out
		t.Fatalf("rows = %q", rows)
	}
	got := strings.Join(rows[1], "|")
	for _, want := range []string{"IMP-202612-001|invoice|'=HYPERLINK", "财务部未及时开具", "|open|GD20261201001|#1|short|优化接口程序|cli:alice|2026-12-15|", "|done|2026-12-10 12:00|"} {
		if !strings.Contains(got, want) {
			t.Errorf("row 1 lacks %q:\n%s", want, got)
		}
	}
	// Effect over 4 weeks: before [12 Nov, 10 Dec): 26 Nov, 27 Nov, 1, 5, 9 Dec = 5 tickets → 1.25/wk;
	// after [10 Dec, 5 Jan cut by now): 10, 15, 20, 24 Dec = 4 tickets over 25.5 days → 1.1/wk.
	if tail := rows[1][len(rows[1])-6:]; tail[0] != "1.25" || tail[1] != "1.1" {
		t.Errorf("effect columns = %q", tail)
	}
	if !strings.Contains(strings.Join(rows[2], "|"), "#2|long|完善测试流程|cli:bob|2027-01-31|SOP 修订|open") {
		t.Errorf("row 2 = %q", rows[2])
	}
}
