package bot

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Teams (issue 17): agents belong to a team (AgentConfig.Team) and a ticket may be queued for a team
// (Ticket.Team, AssignTeam). An agent's own ticket list is theirs, the unassigned ones nobody queued
// for another team, and their team's (CanSee); the console's inbox uses the same rule in SQL.

// Agents returns the configured agents, sorted by id.
func (e *Engine) Agents() []AgentConfig {
	out := make([]AgentConfig, 0, len(e.agents))
	for _, a := range e.agents {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b AgentConfig) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Teams returns the configured teams' names, sorted.
func (e *Engine) Teams() []string {
	var out []string
	for _, a := range e.agents {
		if a.Team != "" && !slices.Contains(out, a.Team) {
			out = append(out, a.Team)
		}
	}
	slices.Sort(out)
	return out
}

// AgentTeam returns the team of a configured agent ("" for none or an unknown id).
func (e *Engine) AgentTeam(id string) string { return e.agents[id].Team }

// TeamMembers returns the ids of the team's agents, sorted ("" gives none).
func (e *Engine) TeamMembers(team string) []string {
	var out []string
	if team == "" {
		return nil
	}
	for _, a := range e.agents {
		if a.Team == team {
			out = append(out, a.ID)
		}
	}
	slices.Sort(out)
	return out
}

// CanSee reports whether agent id may see ticket t when agents are kept to their team: it is assigned
// to them, unassigned and not queued for another team, or their team's (queued for it, or assigned to
// one of its members). Supervisors see everything.
func (e *Engine) CanSee(id string, t Ticket) bool {
	a, ok := e.agents[id]
	if ok && a.Supervisor {
		return true
	}
	if id != "" && t.Assignee == id {
		return true
	}
	if t.Assignee == "" && (t.Team == "" || t.Team == a.Team) {
		return true
	}
	return a.Team != "" && (t.Team == a.Team || e.agents[t.Assignee].Team == a.Team)
}

// AssignTeam queues a ticket for a team (a configured agent's team; "" takes it out of any queue).
// The assignee stays; the team view of that team shows the ticket.
func (e *Engine) AssignTeam(ctx context.Context, a Actor, no, team string) (Ticket, error) {
	team = strings.TrimSpace(team)
	if team != "" && !slices.Contains(e.Teams(), team) {
		return Ticket{}, fmt.Errorf("bot: assign %s to team %q: not a configured team: %w", no, team, ErrBadInput)
	}
	return e.desk(ctx, a, no, func(ctx context.Context, d *deskTurn) error {
		if err := notClosed(d.t); err != nil {
			return err
		}
		if d.t.Team == team {
			return nil
		}
		d.event(EvTeam, d.t.Team+"->"+team, false)
		d.t.Team = team
		d.changed = true
		return nil
	})
}
