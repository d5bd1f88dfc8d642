package reports_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kefu-dev/kefu/reports"
	"github.com/kefu-dev/kefu/storage"
	"github.com/kefu-dev/kefu/storage/storetest"
)

// The fixture: nine tickets created in the week [2026-11-01, 2026-11-08) UTC (T1…T9), one before it
// (T0), fourteen conversations. Every expected number below is worked out by hand in the comments.
var (
	day  = func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, time.UTC) }
	from = day(1, 0, 0)
	to   = day(8, 0, 0)
	now  = day(8, 0, 30) // report time: backlog ages and "due passed" are measured from here
)

type fxTicket struct {
	id                int64
	channel, category string
	prio, status      string
	assignee          string
	created           time.Time
	frDue, resDue     time.Duration // after created
	fr, res           time.Duration // after created; 0 = not yet
	frStamp           *bool         // sla_first_response_met written by the SLA clock
	reopens, rating   int
}

var yes = true

var fixture = []fxTicket{
	{0, "web", "order", "P2", "open", "", day(31-30, 0, 0).AddDate(0, 0, -1).Add(8 * time.Hour), time.Hour, 24 * time.Hour, 0, 0, nil, 0, 0},
	{1, "web", "order", "P1", "closed", "cli:alice", day(1, 10, 0), 30 * time.Minute, 24 * time.Hour, 600 * time.Second, 7200 * time.Second, nil, 0, 5},
	{2, "telegram", "order", "P2", "closed", "cli:alice", day(2, 9, 0), time.Hour, 8 * time.Hour, 1800 * time.Second, 86400 * time.Second, nil, 1, 2},
	{3, "web", "tech", "P1", "closed", "cli:bob", day(2, 14, 0), 30 * time.Minute, 24 * time.Hour, 3600 * time.Second, 14400 * time.Second, nil, 0, 4},
	{4, "discord", "aftersale", "P1", "in_progress", "cli:bob", day(6, 9, 0), time.Hour, 24 * time.Hour, 7200 * time.Second, 0, &yes, 0, 0},
	{5, "web", "order", "P2", "resolved", "cli:bob", day(5, 8, 0), 15 * time.Minute, 4 * time.Hour, 900 * time.Second, 3600 * time.Second, nil, 0, 3},
	{6, "telegram", "tech", "P0", "open", "", day(3, 15, 0), time.Hour, 4 * time.Hour, 0, 0, nil, 0, 0},
	{7, "web", "complaint", "P2", "open", "", day(7, 12, 0), 24 * time.Hour, 48 * time.Hour, 0, 0, nil, 0, 0},
	{8, "discord", "product", "P2", "pending", "cli:alice", day(7, 22, 0), 24 * time.Hour, 48 * time.Hour, 0, 0, nil, 0, 0},
	{9, "web", "suggestion", "P2", "open", "", day(7, 23, 50), 24 * time.Hour, 48 * time.Hour, 0, 0, nil, 0, 0},
}

type fxEvent struct {
	ticket      int64
	at          time.Time
	actor, kind string
	text        string
}

var fixtureEvents = []fxEvent{
	{1, day(1, 10, 1), "cli:sup", "assigned", "->cli:alice"}, // a first assignment is no hand-off
	{1, day(1, 10, 10), "cli:alice", "agent_reply", "hi"},
	{1, day(1, 10, 10), "cli:alice", "faq_reply", "warranty"}, // that reply was an FAQ answer (a KB citation)
	{2, day(2, 9, 30), "cli:alice", "agent_reply", "hi"},
	{2, day(2, 12, 0), "customer", "reopened", "still broken"}, // reopen: no FCR
	{2, day(3, 11, 0), "cli:alice", "agent_reply", "sorry"},    // follow-up of the rating at 3 Nov 10:00
	{3, day(2, 14, 1), "cli:sup", "assigned", "->cli:carol"},
	{3, day(2, 14, 5), "cli:sup", "assigned", "cli:carol->cli:bob"}, // hand-off: no FCR
	{3, day(2, 15, 0), "cli:bob", "agent_reply", "hi"},
	{5, day(5, 8, 15), "cli:alice", "agent_reply", "hi"},
	{5, day(5, 8, 30), "cli:bob", "agent_reply", "hello"}, // second agent replying: no FCR
	{5, day(5, 11, 0), "cli:bob", "note", "before the rating: no follow-up"},
	{5, day(5, 12, 1), "customer", "customer_message", "thanks"},
}

// surveys: ticket -> time of the rating
var fixtureSurveys = map[int64]time.Time{1: day(1, 13, 0), 2: day(3, 10, 0), 3: day(2, 19, 0), 5: day(5, 12, 0)}

type fxConv struct {
	id      int64
	channel string
	created time.Time
	helped  []*bool // one FAQ citation per element
}

var (
	no         = false
	fixConvs   = []fxConv{{id: 10, channel: "web", created: day(2, 8, 0), helped: []*bool{&yes}}, {id: 11, channel: "telegram", created: day(3, 8, 0), helped: []*bool{nil}}, {id: 12, channel: "web", created: day(4, 8, 0), helped: []*bool{&no}}, {id: 13, channel: "discord", created: day(4, 9, 0)}, {id: 14, channel: "web", created: day(1, 0, 0).AddDate(0, 0, -2), helped: []*bool{&yes}}}
	ticketConv = map[int64][]*bool{1: {&no}} // conversation of T1 got an unhelpful FAQ answer, then the ticket
)

func loadFixture(t *testing.T, db *storage.DB) {
	t.Helper()
	g := db.Gorm()
	exec := func(q string, args ...any) {
		t.Helper()
		if err := g.Exec(q, args...).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec("INSERT INTO customers (id, name, created_at, updated_at) VALUES (1, 'c', ?, ?)", from, from)
	cite := func(conv int64, helped *bool, at time.Time) {
		exec("INSERT INTO faq_citations (entry_id, conversation_id, lang, helped, at) VALUES ('e1', ?, 'zh-CN', ?, ?)", conv, helped, at)
	}
	for _, c := range fixConvs {
		exec("INSERT INTO conversations (id, channel, chat_id, customer_id, created_at, updated_at) VALUES (?, ?, ?, 1, ?, ?)",
			c.id, c.channel, fmt.Sprint("chat", c.id), c.created, c.created)
		for _, h := range c.helped {
			cite(c.id, h, c.created.Add(time.Minute))
		}
	}
	for _, tk := range fixture {
		conv := 100 + tk.id // conversation started 5 minutes before the ticket
		exec("INSERT INTO conversations (id, channel, chat_id, customer_id, created_at, updated_at) VALUES (?, ?, ?, 1, ?, ?)",
			conv, tk.channel, fmt.Sprint("chat", conv), tk.created.Add(-5*time.Minute), tk.created)
		for _, h := range ticketConv[tk.id] {
			cite(conv, h, tk.created.Add(-4*time.Minute))
		}
		opt := func(d time.Duration) *time.Time {
			if d == 0 {
				return nil
			}
			x := tk.created.Add(d)
			return &x
		}
		exec(`INSERT INTO tickets (id, no, conversation_id, customer_id, channel, category, priority, status, assignee, reopens,
			created_at, updated_at, first_response_due, resolution_due, first_response_at, resolved_at, rating, sla_first_response_met)
			VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			tk.id, "GD"+tk.created.Format("20060102")+string(rune('0'+tk.id)), conv, tk.channel, tk.category, tk.prio, tk.status,
			tk.assignee, tk.reopens, tk.created, tk.created, tk.created.Add(tk.frDue), tk.created.Add(tk.resDue),
			opt(tk.fr), opt(tk.res), tk.rating, tk.frStamp)
	}
	for _, e := range fixtureEvents {
		exec("INSERT INTO ticket_events (ticket_id, ticket_no, at, actor, kind, text) VALUES (?, '', ?, ?, ?, ?)", e.ticket, e.at, e.actor, e.kind, e.text)
	}
	for id, at := range fixtureSurveys {
		exec("INSERT INTO surveys (ticket_id, customer_id, score, at) SELECT id, 1, rating, ? FROM tickets WHERE id = ?", at, id)
	}
}

func f(v float64) *float64 { return &v }

func tp(t time.Time) *time.Time { return &t }

func TestComputeFixture(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		db := open(t)
		loadFixture(t, db)
		got, err := reports.Compute(t.Context(), db, reports.Filter{From: from, To: to, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		want := reports.Report{
			From: from, To: to, Granularity: "day", // 7 days: daily trend
			TicketsCreated:  9, // T1…T9; T0 was created on 31 Oct
			TicketsResolved: 4, // T1, T2, T3, T5
			// Open now and created before To: T0 T6 T7 T9 open, T4 in_progress, T8 pending.
			// Ages at 8 Nov 00:30: T9 40 min, T8 2.5 h, T7 12.5 h, T4 39.5 h, T6 and T0 > 3 days.
			Backlog: reports.Backlog{Total: 6,
				ByStatus:   []reports.Count{{"open", 4}, {"in_progress", 1}, {"pending", 1}},
				ByPriority: []reports.Count{{"P0", 1}, {"P1", 1}, {"P2", 4}},
				ByAge:      []reports.Count{{"<1h", 1}, {"1h-4h", 1}, {"4h-24h", 1}, {"1d-3d", 1}, {">3d", 2}}},
			// First responses (s), sorted: 600 (T1) 900 (T5) 1800 (T2) 3600 (T3) 7200 (T4); n = 5.
			// median: position 0.5·4 = 2 → 1800. p90: position 0.9·4 = 3.6 → 3600·0.4 + 7200·0.6 = 5760.
			FirstResponse: reports.Durations{MedianS: f(1800), P90S: f(5760), Count: 5},
			// Resolutions (s), sorted: 3600 (T5) 7200 (T1) 14400 (T3) 86400 (T2); n = 4.
			// median: position 1.5 → (7200+14400)/2 = 10800. p90: position 2.7 → 14400·0.3 + 86400·0.7 = 64800.
			Resolution: reports.Durations{MedianS: f(10800), P90S: f(64800), Count: 4},
			// Response decided: T1…T5 answered, T6 due 3 Nov 16:00 passed; T7–T9 not due yet → 6.
			// Met: T1 (600 ≤ 1800), T2 (1800 ≤ 3600), T5 (900 ≤ 900), T4 (7200 > 3600 but the SLA clock
			// stamped it met — paused time) → 4; T3 (3600 > 1800) and T6 missed. 4/6 = 66.67 %.
			SLAResponseMetPct: f(66.67),
			// Resolution decided: T1 T2 T3 T5 resolved; T4 (due 7 Nov 09:00) and T6 (due 3 Nov 19:00) passed → 6.
			// Met: T1 (7200 ≤ 86400), T3 (14400 ≤ 86400), T5 (3600 ≤ 14400) → 3; T2 (86400 > 28800) missed. 50 %.
			SLAResolutionMetPct: f(50),
			// Ratings 5 (T1), 2 (T2), 4 (T3), 3 (T5): avg 14/4 = 3.5; 4 rated of 4 resolved = 100 %.
			CSAT: reports.CSAT{Avg: f(3.5), Count: 4, Dist: [5]int64{0, 1, 1, 1, 1}, ResponseRate: f(100),
				Low: []reports.LowRating{ // newest ticket first
					// T5 rated 3 on 5 Nov 12:00; bob's note was before the rating → no follow-up; > 24 h → overdue.
					{TicketNo: "GD202611055", Score: 3, Agent: "cli:bob", Channel: "web", Category: "order", RatedAt: tp(day(5, 12, 0)), FollowUp: "overdue"},
					// T2 rated 2 on 3 Nov 10:00; alice replied at 11:00.
					{TicketNo: "GD202611022", Score: 2, Agent: "cli:alice", Channel: "telegram", Category: "order", RatedAt: tp(day(3, 10, 0)), FollowUp: "followed_up", FollowedUpAt: tp(day(3, 11, 0))},
				}},
			// Resolved: T1 T2 T3 T5. T2 reopened, T3 handed from carol to bob, T5 had two agents replying → only T1. 25 %.
			FCRPct: f(25),
			// Conversations started in the week: 9 of the tickets (T0's started 31 Oct) + 10, 11, 12, 13 = 13
			// (14 started 30 Oct). Bot resolved (no ticket, an FAQ answer not marked unhelpful): 10 (helped),
			// 11 (no feedback) → 2/13 = 15.38 %. With an FAQ answer: T1's, 10, 11, 12 → 4/13 = 30.77 %.
			Conversations:  13,
			BotResolvedPct: f(15.38),
			KBCitationPct:  f(30.77),
			// 知识库引用率 on agent replies: 1 of the 6 replies on the cohort's tickets was an FAQ answer.
			AgentReplies: 6, AgentKBCitationPct: f(16.67),
			// order: T1 T2 T5 = 3/9 = 33.33 %; tech: T3 T6 = 22.22 %; then one each, by name: aftersale,
			// complaint, product (suggestion is the sixth).
			TopProblems: []reports.Problem{{"order", 3, 33.33}, {"tech", 2, 22.22}, {"aftersale", 1, 11.11}, {"complaint", 1, 11.11}, {"product", 1, 11.11}},
			// gonum LinInterp on order's sorted [3600 7200 86400] (n = 3): p·n = 0.75 → first sample = 3600;
			// 1.5 → halfway between samples 1 and 2 = 5400; 2.25 → 0.75·7200 + 0.25·86400 = 27000.
			// tech has T3 alone: 14400 everywhere.
			ResolutionBox: []reports.Box{
				{Category: "order", N: 3, Min: 3600, Q1: 3600, Median: 5400, Q3: 27000, Max: 86400},
				{Category: "tech", N: 1, Min: 14400, Q1: 14400, Median: 14400, Q3: 14400, Max: 14400},
			},
			// Pairs (first response s, rating): (600,5) (900,3) (1800,2) (3600,4).
			// Ranks x = 1 2 3 4, y = 4 2 1 3; deviations from 2.5: dx = −1.5 −0.5 0.5 1.5, dy = 1.5 −0.5 −1.5 0.5;
			// Σdx·dy = −2.25 + 0.25 − 0.75 + 0.75 = −2; Σdx² = Σdy² = 5 → ρ = −2/5 = −0.4 (faster answers, better ratings).
			ResponseVsCSAT: reports.ResponseVsCSAT{Spearman: f(-0.4), N: 4,
				Buckets: []reports.Bucket{{"<15m", f(5), 1}, {"15m-1h", f(2.5), 2}, {"1h-4h", f(4), 1}, {"4h-24h", nil, 0}, {">=24h", nil, 0}},
				Points:  [][2]float64{{600, 5}, {900, 3}, {1800, 2}, {3600, 4}}},
			Trend: []reports.Row{
				{Key: "2026-11-01", Tickets: 1, Resolved: 1, FirstResponse: d(600, 600, 1), Resolution: d(7200, 7200, 1), SLAResponseMetPct: f(100), SLAResolutionMetPct: f(100), FCRPct: f(100), CSATAvg: f(5), CSATCount: 1},
				// T2 and T3: first responses 1800, 3600 → median 2700, p90 1800·0.1 + 3600·0.9 = 3420;
				// resolutions 14400, 86400 → median 50400, p90 14400·0.1 + 86400·0.9 = 79200.
				{Key: "2026-11-02", Tickets: 2, Resolved: 2, FirstResponse: d(2700, 3420, 2), Resolution: d(50400, 79200, 2), SLAResponseMetPct: f(50), SLAResolutionMetPct: f(50), FCRPct: f(0), CSATAvg: f(3), CSATCount: 2},
				{Key: "2026-11-03", Tickets: 1, SLAResponseMetPct: f(0), SLAResolutionMetPct: f(0)}, // T6
				{Key: "2026-11-04"},
				{Key: "2026-11-05", Tickets: 1, Resolved: 1, FirstResponse: d(900, 900, 1), Resolution: d(3600, 3600, 1), SLAResponseMetPct: f(100), SLAResolutionMetPct: f(100), FCRPct: f(0), CSATAvg: f(3), CSATCount: 1},
				{Key: "2026-11-06", Tickets: 1, FirstResponse: d(7200, 7200, 1), SLAResponseMetPct: f(100), SLAResolutionMetPct: f(0)}, // T4
				{Key: "2026-11-07", Tickets: 3}, // T7 T8 T9: nothing due yet
			},
			// Three tickets each; equal counts sort by key ("" = unassigned sorts first).
			Agents: []reports.Row{
				{Key: reports.Unassigned, Tickets: 3, SLAResponseMetPct: f(0), SLAResolutionMetPct: f(0)}, // T6 T7 T9
				// alice: T1 T2 T8. First responses 600, 1800 → median 1200, p90 600·0.1 + 1800·0.9 = 1680;
				// resolutions 7200, 86400 → median 46800, p90 7200·0.1 + 86400·0.9 = 78480.
				{Key: "cli:alice", Tickets: 3, Resolved: 2, FirstResponse: d(1200, 1680, 2), Resolution: d(46800, 78480, 2), SLAResponseMetPct: f(100), SLAResolutionMetPct: f(50), FCRPct: f(50), CSATAvg: f(3.5), CSATCount: 2},
				// bob: T3 T4 T5. First responses 900, 3600, 7200 → median 3600, p90 position 1.8 → 3600·0.2 + 7200·0.8 = 6480;
				// resolutions 3600, 14400 → median 9000, p90 3600·0.1 + 14400·0.9 = 13320.
				// Response met T4 (stamp) and T5 of 3; resolution met T3 T5 of 3 decided (T4 due passed).
				{Key: "cli:bob", Tickets: 3, Resolved: 2, FirstResponse: d(3600, 6480, 3), Resolution: d(9000, 13320, 2), SLAResponseMetPct: f(66.67), SLAResolutionMetPct: f(66.67), FCRPct: f(0), CSATAvg: f(3.5), CSATCount: 2},
			},
			Channels: []reports.Row{
				// web: T1 T3 T5 T7 T9. First responses 600, 900, 3600 → median 900, p90 position 1.8 → 900·0.2 + 3600·0.8 = 3060;
				// resolutions 3600, 7200, 14400 → median 7200, p90 7200·0.2 + 14400·0.8 = 12960.
				{Key: "web", Tickets: 5, Resolved: 3, FirstResponse: d(900, 3060, 3), Resolution: d(7200, 12960, 3), SLAResponseMetPct: f(66.67), SLAResolutionMetPct: f(100), FCRPct: f(33.33), CSATAvg: f(4), CSATCount: 3},
				{Key: "discord", Tickets: 2, FirstResponse: d(7200, 7200, 1), SLAResponseMetPct: f(100), SLAResolutionMetPct: f(0)}, // T4 T8
				// telegram: T2 T6.
				{Key: "telegram", Tickets: 2, Resolved: 1, FirstResponse: d(1800, 1800, 1), Resolution: d(86400, 86400, 1), SLAResponseMetPct: f(50), SLAResolutionMetPct: f(0), FCRPct: f(0), CSATAvg: f(2), CSATCount: 1},
			},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("report (-want +got):\n%s", diff)
		}
	})
}

func d(m, p float64, n int64) reports.Durations {
	return reports.Durations{MedianS: f(m), P90S: f(p), Count: n}
}

func TestComputeFilters(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		db := open(t)
		loadFixture(t, db)
		for _, tc := range []struct {
			name                 string
			f                    reports.Filter
			created, conv        int64
			botResolved, kbCited *float64
		}{
			// web conversations in the week: T1 T3 T5 T7 T9's, 10 and 12 → 7; bot: 10 → 14.29 %;
			// with an FAQ answer: T1's, 10, 12 → 42.86 %.
			{"channel web", reports.Filter{Channel: "web"}, 5, 7, f(14.29), f(42.86)},
			{"category order", reports.Filter{Category: "order"}, 3, 0, nil, nil}, // conversations have no category
			{"priority P1", reports.Filter{Priority: "P1"}, 3, 0, nil, nil},
			{"agent alice", reports.Filter{Agent: "cli:alice"}, 3, 0, nil, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				tc.f.From, tc.f.To, tc.f.Now = from, to, now
				got, err := reports.Compute(t.Context(), db, tc.f)
				if err != nil {
					t.Fatal(err)
				}
				if got.TicketsCreated != tc.created || got.Conversations != tc.conv {
					t.Errorf("tickets %d, conversations %d; want %d, %d", got.TicketsCreated, got.Conversations, tc.created, tc.conv)
				}
				if diff := cmp.Diff([]*float64{tc.botResolved, tc.kbCited}, []*float64{got.BotResolvedPct, got.KBCitationPct}); diff != "" {
					t.Errorf("bot resolved, kb cited (-want +got):\n%s", diff)
				}
			})
		}
	})
}

// Every filter value is a bound parameter: injection attempts select nothing and change nothing.
func TestComputeInjection(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		db := open(t)
		loadFixture(t, db)
		attacks := []string{"web' OR '1'='1", "'; DROP TABLE tickets; --", `" OR 1=1 --`, "web') UNION SELECT 1--", "%", "_"}
		for _, a := range attacks {
			for _, fl := range []reports.Filter{{Channel: a}, {Category: a}, {Priority: a}, {Agent: a}} {
				fl.From, fl.To, fl.Now = from, to, now
				got, err := reports.Compute(t.Context(), db, fl)
				if err != nil {
					t.Fatalf("%+v: %v", fl, err)
				}
				if got.TicketsCreated != 0 || got.Backlog.Total != 0 {
					t.Errorf("%q selected %d tickets, backlog %d", a, got.TicketsCreated, got.Backlog.Total)
				}
			}
		}
		got, err := reports.Compute(t.Context(), db, reports.Filter{From: from, To: to, Now: now})
		if err != nil || got.TicketsCreated != 9 {
			t.Fatalf("after the attempts: %d tickets, %v; want 9", got.TicketsCreated, err)
		}
	})
}

func TestComputeBadFilter(t *testing.T) {
	db := storetest.OpenSQLite(t)
	for _, fl := range []reports.Filter{{}, {From: to, To: from}, {From: from, To: to, Granularity: "hour"}} {
		if _, err := reports.Compute(t.Context(), db, fl); err == nil {
			t.Errorf("%+v: no error", fl)
		}
	}
}
