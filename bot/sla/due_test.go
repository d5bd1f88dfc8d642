package sla

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

// testPolicy is the default policy on the test calendar, with a complaint override.
func testPolicy(t testing.TB, edit ...func(*Config)) *Policy {
	t.Helper()
	var cal CalendarConfig
	if err := yaml.Unmarshal([]byte(testCalendarYAML), &cal); err != nil {
		t.Fatal(err)
	}
	c := Config{Calendar: cal, Categories: map[string]map[Priority]Limits{
		"complaint": {P2: {FirstResponse: Limit{Within: Duration(4 * time.Hour)}}},
	}}
	for _, e := range edit {
		e(&c)
	}
	p, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// step is one change to a ticket's clock, applied through the Policy's transition methods.
type step struct {
	at   string
	what string // "pending", "in_progress", "resolved", "open", "reply", "customer", "P0"…, "update"
}

func apply(p *Policy, tc TicketClock, steps []step) TicketClock {
	for _, s := range steps {
		at := sh(s.at)
		switch s.what {
		case "reply":
			tc = p.AgentReply(tc, at)
		case "customer":
			tc = p.CustomerMessage(tc, at)
		case "update":
			tc = p.CustomerUpdated(tc, at)
		case "P0", "P1", "P2":
			tc = p.PriorityChanged(tc, Priority(s.what), at)
		default:
			tc = p.StatusChanged(tc, Status(s.what), at)
		}
	}
	return tc
}

// want lists expected times as "2006-01-02 15:04" ("" = zero).
type want struct {
	first, firstWarn    string
	next                string
	resolution, resWarn string
	paused              bool
	left                time.Duration
	customerUpdate      string
}

func fmtT(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(shanghai).Format("2006-01-02 15:04:05")
}

func norm(s string) string {
	if s == "" || len(s) > 16 {
		return s
	}
	return s + ":00"
}

func TestDue(t *testing.T) {
	tests := []struct {
		name     string
		restart  bool
		priority Priority
		category string
		created  string
		steps    []step
		want     want
	}{
		{
			name: "P1 in working hours", priority: P1, created: "2026-10-12 10:00",
			// 2h business; warn at 25% = 30m before. Resolution 24h business, warned 4h ahead.
			want: want{first: "2026-10-12 12:00", firstWarn: "2026-10-12 11:30",
				resolution: "2026-10-15 10:00", resWarn: "2026-10-14 15:00", customerUpdate: "2026-10-12 15:00"},
		},
		{
			name: "P0 runs 24x7 on a saturday night", priority: P0, created: "2026-10-17 03:00",
			want: want{first: "2026-10-17 03:30", firstWarn: "2026-10-17 03:22:30",
				resolution: "2026-10-17 07:00", resWarn: "2026-10-17 06:00", customerUpdate: "2026-10-17 07:00"},
		},
		{
			name: "P2 opened friday evening waits out the weekend", priority: P2, created: "2026-10-16 17:00",
			want: want{first: "2026-10-21 17:00", firstWarn: "2026-10-21 10:00",
				resolution: "2026-10-29 17:00", resWarn: "2026-10-29 12:00", customerUpdate: "2026-10-19 12:00"},
		},
		{
			name: "P1 opened at night", priority: P1, created: "2026-10-12 23:10",
			want: want{first: "2026-10-13 11:00", firstWarn: "2026-10-13 10:30",
				resolution: "2026-10-15 18:00", resWarn: "2026-10-15 14:00", customerUpdate: "2026-10-13 14:00"},
		},
		{
			name: "P1 before the national day holidays", priority: P1, created: "2026-09-30 17:00",
			want: want{first: "2026-10-08 10:00", firstWarn: "2026-10-08 09:30",
				resolution: "2026-10-10 16:00", resWarn: "2026-10-10 12:00", customerUpdate: "2026-10-08 12:00"},
		},
		{
			name: "P1 reaches a make-up saturday", priority: P1, created: "2026-10-09 17:00",
			want: want{first: "2026-10-10 10:00", firstWarn: "2026-10-10 09:30",
				resolution: "2026-10-13 16:00", resWarn: "2026-10-13 11:00", customerUpdate: "2026-10-10 12:00"},
		},
		{
			name: "category override", priority: P2, category: "complaint", created: "2026-10-12 10:00",
			want: want{first: "2026-10-12 15:00", firstWarn: "2026-10-12 14:00",
				resolution: "2026-10-23 10:00", resWarn: "2026-10-22 15:00", customerUpdate: "2026-10-12 15:00"},
		},
		{
			name: "pending pauses the resolution clock", priority: P1, created: "2026-10-12 10:00",
			steps: []step{{"2026-10-12 10:30", "reply"}, {"2026-10-12 11:00", "pending"}},
			want:  want{first: "2026-10-12 12:00", firstWarn: "2026-10-12 11:30", paused: true, left: 23 * time.Hour},
		},
		{
			name: "answer resumes it: 8h of pause moves the deadline a working day", priority: P1, created: "2026-10-12 10:00",
			steps: []step{{"2026-10-12 10:30", "reply"}, {"2026-10-12 11:00", "pending"}, {"2026-10-13 11:00", "customer"}},
			want: want{first: "2026-10-12 12:00", firstWarn: "2026-10-12 11:30", next: "2026-10-13 16:00",
				resolution: "2026-10-16 10:00", resWarn: "2026-10-15 15:00", customerUpdate: "2026-10-13 16:00"},
		},
		{
			name: "two pending periods add up", priority: P0, created: "2026-10-12 10:00",
			steps: []step{{"2026-10-12 10:05", "reply"}, {"2026-10-12 10:30", "pending"}, {"2026-10-12 11:30", "in_progress"},
				{"2026-10-12 12:00", "pending"}, {"2026-10-12 12:30", "in_progress"}},
			want: want{first: "2026-10-12 10:30", firstWarn: "2026-10-12 10:22:30",
				resolution: "2026-10-12 15:30", resWarn: "2026-10-12 14:30", customerUpdate: "2026-10-12 14:05"},
		},
		{
			name: "pending after the breach keeps the deadline", priority: P0, created: "2026-10-12 10:00",
			steps: []step{{"2026-10-12 10:05", "reply"}, {"2026-10-12 15:00", "pending"}},
			want:  want{first: "2026-10-12 10:30", firstWarn: "2026-10-12 10:22:30", resolution: "2026-10-12 14:00", resWarn: "2026-10-12 13:00"},
		},
		{
			name: "upgrade recomputes from creation", priority: P2, created: "2026-10-12 10:00",
			steps: []step{{"2026-10-12 11:00", "P0"}},
			want: want{first: "2026-10-12 10:30", firstWarn: "2026-10-12 10:22:30",
				resolution: "2026-10-12 14:00", resWarn: "2026-10-12 13:00", customerUpdate: "2026-10-12 14:00"},
		},
		{
			name: "upgrade in restart mode measures from the change", restart: true, priority: P2, created: "2026-10-12 10:00",
			steps: []step{{"2026-10-12 11:00", "P0"}},
			want: want{first: "2026-10-12 11:30", firstWarn: "2026-10-12 11:22:30",
				resolution: "2026-10-12 15:00", resWarn: "2026-10-12 14:00", customerUpdate: "2026-10-12 15:00"},
		},
		{
			name: "downgrade P0 to P1 switches to business hours", priority: P0, created: "2026-10-12 17:00",
			steps: []step{{"2026-10-12 17:10", "P1"}},
			want: want{first: "2026-10-13 10:00", firstWarn: "2026-10-13 09:30",
				resolution: "2026-10-15 17:00", resWarn: "2026-10-15 12:00", customerUpdate: "2026-10-13 12:00"},
		},
		{
			name: "resolved stops the clocks", priority: P1, created: "2026-10-12 10:00",
			steps: []step{{"2026-10-12 10:30", "reply"}, {"2026-10-13 10:00", "resolved"}},
			want:  want{first: "2026-10-12 12:00", firstWarn: "2026-10-12 11:30", resolution: "2026-10-15 10:00", resWarn: "2026-10-14 15:00"},
		},
		{
			name: "reopen restarts resolution from the reopening", priority: P1, created: "2026-10-12 10:00",
			steps: []step{{"2026-10-12 10:30", "reply"}, {"2026-10-12 11:00", "pending"}, {"2026-10-13 10:00", "resolved"},
				{"2026-10-14 10:00", "open"}},
			want: want{first: "2026-10-12 12:00", firstWarn: "2026-10-12 11:30",
				resolution: "2026-10-19 10:00", resWarn: "2026-10-16 15:00", customerUpdate: "2026-10-14 15:00"},
		},
		{
			name: "next response waits on the customer's oldest message", priority: P1, created: "2026-10-12 10:00",
			steps: []step{{"2026-10-12 11:00", "reply"}, {"2026-10-12 17:00", "customer"}, {"2026-10-12 17:30", "customer"}},
			want: want{first: "2026-10-12 12:00", firstWarn: "2026-10-12 11:30", next: "2026-10-13 12:00",
				resolution: "2026-10-15 10:00", resWarn: "2026-10-14 15:00", customerUpdate: "2026-10-13 12:00"},
		},
		{
			name: "bot progress update moves the customer update", priority: P1, created: "2026-10-12 10:00",
			steps: []step{{"2026-10-12 15:00", "update"}},
			want: want{first: "2026-10-12 12:00", firstWarn: "2026-10-12 11:30",
				resolution: "2026-10-15 10:00", resWarn: "2026-10-14 15:00", customerUpdate: "2026-10-13 10:00"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testPolicy(t, func(c *Config) {
				if tt.restart {
					c.OnPriorityChange = "restart"
				}
			})
			tc := apply(p, p.Opened(tt.priority, tt.category, sh(tt.created)), tt.steps)
			ds := p.Due(tc)
			got := want{
				first: fmtT(ds.FirstResponse.Due), firstWarn: fmtT(ds.FirstResponse.WarnAt),
				next:       fmtT(ds.NextResponse.Due),
				resolution: fmtT(ds.Resolution.Due), resWarn: fmtT(ds.Resolution.WarnAt),
				paused: ds.Resolution.Paused, left: ds.Resolution.Left,
				customerUpdate: fmtT(ds.CustomerUpdate),
			}
			w := tt.want
			for _, s := range []*string{&w.first, &w.firstWarn, &w.next, &w.resolution, &w.resWarn, &w.customerUpdate} {
				*s = norm(*s)
			}
			if diff := cmp.Diff(w, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("Due mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDeadlineOutcome(t *testing.T) {
	p := testPolicy(t)
	tc := p.Opened(P1, "", sh("2026-10-12 10:00"))
	late := p.AgentReply(tc, sh("2026-10-12 12:01"))
	ontime := p.AgentReply(tc, sh("2026-10-12 11:59"))
	if d := p.Due(late).FirstResponse; d.Met() || !d.Breached(sh("2026-10-12 12:01")) {
		t.Errorf("reply after the deadline: Met=%v Breached=%v", d.Met(), d.Breached(sh("2026-10-12 12:01")))
	}
	if d := p.Due(ontime).FirstResponse; !d.Met() || d.Breached(sh("2026-10-13 12:00")) {
		t.Errorf("reply in time: Met=%v", d.Met())
	}
	if d := p.Due(tc).FirstResponse; d.Met() || d.Breached(sh("2026-10-12 11:59")) || !d.Breached(sh("2026-10-12 12:00")) {
		t.Error("open first response: breached exactly at the deadline, not before")
	}
}

// Whatever the history, a running deadline's due time is never earlier than its clock's start
// and never inside closed hours of its clock.
func TestDueProperties(t *testing.T) {
	p := testPolicy(t)
	base := sh("2026-09-20 00:00")
	whats := []string{"reply", "customer", "pending", "in_progress", "resolved", "open", "P0", "P1", "P2", "update"}
	seed := uint64(7)
	rnd := func(n uint64) uint64 { seed = seed*6364136223846793005 + 1442695040888963407; return (seed >> 33) % n }
	for i := range 2000 {
		created := base.Add(time.Duration(rnd(60*24*60)) * time.Minute)
		tc := p.Opened(Priorities[rnd(3)], "", created)
		at := created
		for range rnd(8) {
			at = at.Add(time.Duration(rnd(3*24*60)) * time.Minute)
			tc = apply(p, tc, []step{{at.In(shanghai).Format("2006-01-02 15:04"), whats[rnd(uint64(len(whats)))]}})
		}
		for _, d := range p.Due(tc).All() {
			if d.Due.IsZero() {
				continue
			}
			if d.Due.Before(d.Start) {
				t.Fatalf("case %d: %s due %v before its start %v (%+v)", i, d.Target, d.Due, d.Start, tc)
			}
			if !p.cal(d.Clock).IsOpen(d.Due.Add(-time.Nanosecond)) {
				t.Fatalf("case %d: %s due %v in closed hours", i, d.Target, d.Due)
			}
			if !d.WarnAt.IsZero() && d.WarnAt.After(d.Due) {
				t.Fatalf("case %d: %s warns at %v after its due %v", i, d.Target, d.WarnAt, d.Due)
			}
		}
	}
}

func TestConfigValidate(t *testing.T) {
	bad := `
calendar: {tz: Nowhere/City}
priorities:
  P0: {clock: sundial, first_response: -5m}
  P1: {first_response: {within: 1h, warn_before: 2h}}
  P9: {first_response: 1h}
categories:
  vip: {P3: {first_response: 1h}}
warn_notify: [everyone]
repeat_every: 10s
escalation:
  - {name: agent, after: 1h, notify: [assignee]}
  - {name: lead, after: 30m, notify: []}
customer_update: {every: -1h}
on_priority_change: sometimes
`
	var c Config
	if err := yaml.Unmarshal([]byte(bad), &c); err != nil {
		t.Fatal(err)
	}
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate() = nil for a bad config")
	}
	for _, w := range []string{
		`tz "Nowhere/City"`,
		`priorities.P0.clock: unknown clock "sundial"`,
		`priorities.P0.first_response: the target must be positive`,
		`priorities.P1.first_response: warn_before 2h0m0s is not shorter than the target 1h0m0s`,
		`unknown priority "P9"`,
		`categories.vip.P3: unknown priority`,
		`warn_notify: unknown audience "everyone"`,
		`repeat_every: 10s is shorter than a minute`,
		`escalation[1]: after 30m0s must be later`,
		`escalation[1].notify: nobody to notify`,
		`customer_update.every`,
		`on_priority_change: "sometimes"`,
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("Validate() error does not mention %q:\n%v", w, err)
		}
	}
}

func TestConfigYAMLPartial(t *testing.T) {
	in := `
calendar: {hours: {mon-sat: ["08:00-20:00"]}}
priorities:
  P0: {first_response: 15m}
  P2: {clock: 24x7, resolution: {within: 5d, warn_before: 1d}}
warn_before: 10%
`
	var c Config
	if err := yaml.Unmarshal([]byte(in), &c); err != nil {
		t.Fatal(err)
	}
	p, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	type lim struct {
		Within time.Duration
		Clock  Clock
	}
	got := map[string]lim{}
	for _, pr := range Priorities {
		for _, tg := range []Target{FirstResponse, NextResponse, Resolution} {
			w, c := p.Within(pr, "", tg)
			got[string(pr)+"/"+string(tg)] = lim{w, c}
		}
	}
	wantMap := map[string]lim{
		"P0/first_response": {15 * time.Minute, AllDay}, "P0/next_response": {time.Hour, AllDay}, "P0/resolution": {4 * time.Hour, AllDay},
		"P1/first_response": {2 * time.Hour, Business}, "P1/next_response": {4 * time.Hour, Business}, "P1/resolution": {24 * time.Hour, Business},
		"P2/first_response": {24 * time.Hour, AllDay}, "P2/next_response": {24 * time.Hour, AllDay}, "P2/resolution": {120 * time.Hour, AllDay},
	}
	if diff := cmp.Diff(wantMap, got); diff != "" {
		t.Errorf("merged limits (-want +got):\n%s", diff)
	}
	if r := p.rule(P2, ""); r.resolution.lead != 24*time.Hour || r.first.lead != 144*time.Minute {
		t.Errorf("leads: resolution %v (want 24h), first %v (want 10%% of 24h)", r.resolution.lead, r.first.lead)
	}
	if !p.Calendar().IsOpen(sh("2026-10-17 19:00")) {
		t.Error("calendar hours not taken from the config")
	}
	// Round trip: the marshalled default config parses to the same policy.
	out, err := yaml.Marshal(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	var back Config
	if err := yaml.Unmarshal(out, &back); err != nil {
		t.Fatalf("default config does not parse back: %v\n%s", err, out)
	}
	if diff := cmp.Diff(DefaultConfig(), back); diff != "" {
		t.Errorf("default config round trip (-want +got):\n%s", diff)
	}
}

func TestParseLead(t *testing.T) {
	for in, want := range map[string]time.Duration{"25%": 30 * time.Minute, "4h": 4 * time.Hour, "off": 0, "12.5%": 15 * time.Minute} {
		l, err := ParseLead(in)
		if err != nil {
			t.Fatalf("ParseLead(%q): %v", in, err)
		}
		if got := l.Of(2 * time.Hour); got != want {
			t.Errorf("ParseLead(%q).Of(2h) = %v, want %v", in, got, want)
		}
	}
	for _, in := range []string{"100%", "-5%", "soon", "-1h", "%"} {
		if _, err := ParseLead(in); err == nil {
			t.Errorf("ParseLead(%q) = nil error", in)
		}
	}
}

func BenchmarkDue(b *testing.B) {
	p := testPolicy(b)
	tc := apply(p, p.Opened(P2, "", sh("2026-09-25 17:00")), []step{
		{"2026-09-28 10:00", "reply"}, {"2026-09-28 11:00", "pending"}, {"2026-09-29 15:00", "customer"}})
	for b.Loop() {
		p.Due(tc)
	}
}

func BenchmarkPlan(b *testing.B) {
	p := testPolicy(b)
	tc := apply(p, p.Opened(P1, "", sh("2026-10-12 10:00")), []step{{"2026-10-12 10:30", "reply"}})
	it := Item{TicketID: 1, TicketNo: "GD20261012001", Clock: tc}
	now := sh("2026-10-16 10:00")
	for b.Loop() {
		p.Plan(it, now)
	}
}
