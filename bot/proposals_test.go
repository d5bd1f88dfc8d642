package bot_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
)

func TestParseYuan(t *testing.T) {
	for in, want := range map[string]int64{"200": 20000, "12.5": 1250, "¥30": 3000, "30元": 3000, "0.01": 1} {
		if got, err := bot.ParseYuan(in); err != nil || got != want {
			t.Errorf("ParseYuan(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "0", "-5", "abc", "1.234", "NaN", "1e12"} {
		if _, err := bot.ParseYuan(bad); !errors.Is(err, bot.ErrBadInput) {
			t.Errorf("ParseYuan(%q): %v", bad, err)
		}
	}
}

// An agent grants within their limit alone; above it (or a solution that always needs one) a
// supervisor approves; supervisors have no limit; bad input changes nothing.
func TestProposalLimits(t *testing.T) {
	ctx := context.Background()
	bob := bot.AgentConfig{ID: "cli:bob", Name: "Bob"} // a per-agent limit: refunds up to 500
	cfg := bot.ComplaintConfig{AgentLimits: map[string]map[string]float64{"cli:bob": {"refund": 500}},
		Solutions: append(bot.DefaultSolutions(), bot.Solution{Key: "compensation", Amount: true, Approval: true})}
	tests := []struct {
		name     string
		actor    string
		solution string
		amount   int64
		want     bot.ProposalStatus
		wantErr  error
	}{
		{"within the agent's limit", "cli:alice", "refund", 10000, bot.ProposalOffered, nil},
		{"above the agent's limit", "cli:alice", "refund", 10001, bot.ProposalApproval, nil},
		{"coupon limit 50", "cli:alice", "coupon", 6000, bot.ProposalApproval, nil},
		{"per-agent limit", "cli:bob", "refund", 50000, bot.ProposalOffered, nil},
		{"above the per-agent limit", "cli:bob", "refund", 50001, bot.ProposalApproval, nil},
		{"always needs approval", "cli:alice", "compensation", 100, bot.ProposalApproval, nil},
		{"supervisor has no limit", "cli:sue", "refund", 900000, bot.ProposalOffered, nil},
		{"no amount needed", "cli:alice", "exchange", 0, bot.ProposalOffered, nil},
		{"unknown solution", "cli:alice", "cash-in-envelope", 100, "", bot.ErrUnknownSolution},
		{"amount missing", "cli:alice", "refund", 0, "", bot.ErrBadInput},
		{"amount on exchange", "cli:alice", "exchange", 100, "", bot.ErrBadInput},
		{"not an agent", "cli:mallory", "refund", 100, "", bot.ErrForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, agentA, supS, bob)
			eng := complaintEngineWith(t, e, cfg)
			e.say(t, "c", "complaint")
			p, err := eng.Propose(ctx, bot.Actor{ID: tt.actor}, "GD20261123001", tt.solution, tt.amount)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			}
			ps, _ := e.db.Proposals(ctx, 1)
			if tt.wantErr != nil {
				if len(ps) != 0 {
					t.Errorf("refused proposal stored: %+v", ps)
				}
				return
			}
			if p.Status != tt.want || len(ps) != 1 || ps[0].Status != tt.want {
				t.Errorf("status %s (stored %+v), want %s", p.Status, ps, tt.want)
			}
		})
	}
	// Approval is for supervisors; a second proposal waits for the first; a non-complaint is refused.
	e := newEnv(t, agentA, supS)
	eng := complaintEngineWith(t, e, bot.ComplaintConfig{})
	e.say(t, "c", "complaint")
	no := "GD20261123001"
	p, err := eng.Propose(ctx, bot.Actor{ID: agentA.ID}, no, "refund", 50000)
	if err != nil || p.Status != bot.ProposalApproval {
		t.Fatalf("%+v %v", p, err)
	}
	if _, err := eng.Propose(ctx, bot.Actor{ID: agentA.ID}, no, "coupon", 1000); !errors.Is(err, bot.ErrConflict) {
		t.Errorf("second proposal while one waits: %v", err)
	}
	if _, err := eng.Approve(ctx, bot.Actor{ID: agentA.ID}, no, p.ID); !errors.Is(err, bot.ErrForbidden) {
		t.Errorf("agent approves: %v", err)
	}
	if _, err := eng.Reject(ctx, bot.Actor{ID: supS.ID}, no, p.ID, " "); !errors.Is(err, bot.ErrBadInput) {
		t.Errorf("reject without reason: %v", err)
	}
	if r, err := eng.Reject(ctx, bot.Actor{ID: supS.ID}, no, p.ID, "too much"); err != nil || r.Status != bot.ProposalRejected {
		t.Errorf("reject: %+v %v", r, err)
	}
	if _, err := eng.Approve(ctx, bot.Actor{ID: supS.ID}, no, p.ID); !errors.Is(err, bot.ErrConflict) {
		t.Errorf("approve a rejected proposal: %v", err)
	}
	e.say(t, "d", "ticket not a complaint")
	if _, err := eng.Propose(ctx, bot.Actor{ID: agentA.ID}, "GD20261123002", "refund", 100); !errors.Is(err, bot.ErrNotComplaint) {
		t.Errorf("proposal on a non-complaint: %v", err)
	}
}

func complaintEngineWith(t *testing.T, e *env, cfg bot.ComplaintConfig) *bot.Engine {
	t.Helper()
	loc, _ := time.LoadLocation("Asia/Shanghai")
	eng, err := bot.New(bot.Options{Store: e.db, Flows: scripted{}, KB: fakeKB{}, Catalog: catalog{}, Location: loc,
		Agents: e.agents, Now: e.clock.Now, Complaints: cfg})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// Housekeeping closes resolved tickets the customer never confirmed after 72 hours (with an audit
// event and a message), pings an overdue return visit exactly once, and a visit outcome stops it.
func TestHousekeeping(t *testing.T) { forEachDB(t, testHousekeeping) }

func testHousekeeping(t *testing.T, mk envMaker) {
	ctx := context.Background()
	e := mk(t, agentA, supS)
	eng := complaintEngineWith(t, e, bot.ComplaintConfig{})
	other := complaintEngineWith(t, e, bot.ComplaintConfig{}) // a second process
	alice := bot.Actor{ID: agentA.ID}
	e.say(t, "c", "complaint")
	no := "GD20261123001"
	if _, err := eng.Reply(ctx, alice, no, "sorry"); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Resolve(ctx, alice, no, "refunded"); err != nil {
		t.Fatal(err)
	}
	// Monday 09:30 Shanghai + 3 working days: Thursday 18:00.
	vs, _ := e.db.ReturnVisits(ctx, 1)
	if len(vs) != 1 || vs[0].Reason != bot.VisitComplaint || !vs[0].DueAt.Equal(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("visits %+v", vs)
	}
	e.clock.Add(71 * time.Hour)
	if res, err := eng.Housekeep(ctx); err != nil || res.AutoClosed != 0 {
		t.Fatalf("before 72h: %+v %v", res, err)
	}
	e.clock.Add(2 * time.Hour)
	before, _ := e.db.LastWebMessageID(ctx, "c")
	res, err := eng.Housekeep(ctx)
	if err != nil || res.AutoClosed != 1 {
		t.Fatalf("after 72h: %+v %v", res, err)
	}
	if got := e.after(t, "c", before); len(got) != 1 || got[0] != "en:ticket.closed|no="+no {
		t.Errorf("customer told %q", got)
	}
	tk, evs, _ := eng.Ticket(ctx, no)
	if tk.Status != bot.StatusClosed || evs[len(evs)-1].Kind != bot.EvClosed || evs[len(evs)-1].Actor != "system" {
		t.Errorf("auto-close: %s, last event %+v", tk.Status, evs[len(evs)-1])
	}
	// Thursday 18:00 passes: one ping across two processes and passes.
	if r, _ := eng.Housekeep(ctx); r.VisitsPinged != 0 {
		t.Errorf("visit pinged before it is due")
	}
	e.clock.Add(12 * time.Hour)
	total := 0
	for range 3 {
		for _, en := range []*bot.Engine{eng, other} {
			r, err := en.Housekeep(ctx)
			if err != nil {
				t.Fatal(err)
			}
			total += r.VisitsPinged
		}
	}
	if total != 1 {
		t.Errorf("visit pinged %d times, want 1", total)
	}
	if _, err := eng.Note(ctx, alice, no, "called, no answer"); err != nil {
		t.Fatal(err)
	}
	if vs, _ := e.db.ReturnVisits(ctx, 1); vs[0].Done() {
		t.Error("a note counts as a visit")
	}
	if _, err := eng.RecordVisit(ctx, alice, no, "meh", ""); !errors.Is(err, bot.ErrBadInput) {
		t.Errorf("bad outcome: %v", err)
	}
	if _, err := eng.RecordVisit(ctx, alice, no, bot.VisitNotSatisfied, "refund not received"); err != nil {
		t.Fatal(err)
	}
	if tk, _, _ := eng.Ticket(ctx, no); tk.Status != bot.StatusOpen || tk.Reopens != 1 {
		t.Errorf("not satisfied: status %s reopens %d, want reopened", tk.Status, tk.Reopens)
	}
	if _, err := eng.RecordVisit(ctx, alice, no, bot.VisitSatisfied, ""); !errors.Is(err, bot.ErrNoVisit) {
		t.Errorf("no visit due: %v", err)
	}
}
