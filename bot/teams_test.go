package bot_test

import (
	"context"
	"errors"
	"testing"

	"github.com/kefu-dev/kefu/bot"
)

var teamAgents = []bot.AgentConfig{
	{ID: "cli:alice", Name: "Alice", Team: "tech"},
	{ID: "cli:carol", Name: "Carol", Team: "tech"},
	{ID: "cli:bob", Name: "Bob", Team: "billing"},
	{ID: "cli:nina", Name: "Nina"},
	{ID: "cli:sue", Name: "Sue", Supervisor: true},
}

// TestCanSee: an agent sees her tickets, unassigned ones not queued for another team, and her team's
// (queued for it or held by a member); an agent without a team only hers and the untagged queue;
// supervisors everything.
func TestCanSee(t *testing.T) {
	e := newEnv(t, teamAgents...)
	tests := []struct {
		who, assignee, team string
		want                bool
	}{
		{"cli:alice", "cli:alice", "", true},
		{"cli:alice", "cli:alice", "billing", true}, // hers even when queued elsewhere
		{"cli:alice", "", "", true},
		{"cli:alice", "", "tech", true},
		{"cli:alice", "", "billing", false},
		{"cli:alice", "cli:carol", "", true},
		{"cli:alice", "cli:bob", "", false},
		{"cli:alice", "cli:bob", "tech", true},
		{"cli:alice", "cli:nina", "", false},
		{"cli:nina", "", "", true},
		{"cli:nina", "", "tech", false},
		{"cli:nina", "cli:alice", "", false},
		{"cli:sue", "cli:bob", "billing", true},
		{"cli:stranger", "", "", true}, // unknown ids see the untagged queue only
		{"cli:stranger", "cli:alice", "", false},
	}
	for _, tc := range tests {
		if got := e.eng.CanSee(tc.who, bot.Ticket{Assignee: tc.assignee, Team: tc.team}); got != tc.want {
			t.Errorf("CanSee(%s, assignee %q team %q) = %v, want %v", tc.who, tc.assignee, tc.team, got, tc.want)
		}
	}
	if got := e.eng.Teams(); len(got) != 2 || got[0] != "billing" || got[1] != "tech" {
		t.Errorf("Teams() = %v", got)
	}
	if got := e.eng.TeamMembers("tech"); len(got) != 2 || got[0] != "cli:alice" || got[1] != "cli:carol" {
		t.Errorf("TeamMembers(tech) = %v", got)
	}
	if e.eng.AgentTeam("cli:bob") != "billing" || e.eng.AgentTeam("cli:x") != "" || len(e.eng.Agents()) != len(teamAgents) {
		t.Error("AgentTeam / Agents")
	}
}

// TestAssignTeam: queueing a ticket for a team is audited, kept, refused for unknown teams, closed
// tickets and non-agents, and "" takes it out of the queue.
func TestAssignTeam(t *testing.T) {
	forEachDB(t, func(t *testing.T, mk envMaker) {
		e := mk(t, teamAgents...)
		ctx := context.Background()
		e.say(t, "c1", "ticket printer broken")
		no := "GD20261123001"
		alice := bot.Actor{ID: "cli:alice"}
		if _, err := e.eng.AssignTeam(ctx, alice, no, "moon"); !errors.Is(err, bot.ErrBadInput) {
			t.Errorf("unknown team: %v", err)
		}
		if _, err := e.eng.AssignTeam(ctx, bot.Actor{ID: "cli:intruder"}, no, "tech"); !errors.Is(err, bot.ErrForbidden) {
			t.Errorf("not an agent: %v", err)
		}
		tk, err := e.eng.AssignTeam(ctx, alice, no, "billing")
		if err != nil || tk.Team != "billing" {
			t.Fatalf("assign team: %+v %v", tk.Team, err)
		}
		tk, evs, err := e.eng.Ticket(ctx, no)
		if err != nil || tk.Team != "billing" {
			t.Fatalf("stored team %q (%v)", tk.Team, err)
		}
		last := evs[len(evs)-1]
		if last.Kind != bot.EvTeam || last.Text != "->billing" || last.Actor != "cli:alice" {
			t.Errorf("audit event %+v", last)
		}
		if _, err := e.eng.AssignTeam(ctx, alice, no, ""); err != nil {
			t.Fatal(err)
		}
		if tk, _, _ := e.eng.Ticket(ctx, no); tk.Team != "" {
			t.Errorf("team after unqueueing: %q", tk.Team)
		}
		if _, err := e.eng.ForceClose(ctx, bot.Actor{ID: "cli:sue"}, no, "duplicate"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.eng.AssignTeam(ctx, alice, no, "tech"); !errors.Is(err, bot.ErrClosed) {
			t.Errorf("closed ticket: %v", err)
		}
	})
}
