package slack

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/kefu-dev/kefu/bot"
)

type fakeComplaints struct{ calls []string }

func (f *fakeComplaints) Propose(_ context.Context, a bot.Actor, no, solution string, amount int64) (bot.Proposal, error) {
	f.calls = append(f.calls, fmt.Sprintf("Propose %s %s %s %d", no, a.ID, solution, amount))
	if solution == "cash" {
		return bot.Proposal{}, bot.ErrUnknownSolution
	}
	st := bot.ProposalOffered
	if amount > 10000 {
		st = bot.ProposalApproval
	}
	return bot.Proposal{ID: 7, TicketNo: no, Solution: solution, Amount: amount, Status: st}, nil
}

func (f *fakeComplaints) Approve(_ context.Context, a bot.Actor, no string, id int64) (bot.Proposal, error) {
	f.calls = append(f.calls, fmt.Sprintf("Approve %s %s %d", no, a.ID, id))
	switch id {
	case 99:
		return bot.Proposal{}, fmt.Errorf("bot: proposal #99 on %s: %w", no, bot.ErrNoProposal)
	case 98:
		return bot.Proposal{}, fmt.Errorf("bot: approve proposal #98: %w", bot.ErrSupervisorOnly)
	}
	return bot.Proposal{ID: id, Status: bot.ProposalOffered}, nil
}

func (f *fakeComplaints) Reject(_ context.Context, a bot.Actor, no string, id int64, reason string) (bot.Proposal, error) {
	f.calls = append(f.calls, fmt.Sprintf("Reject %s %s %d %s", no, a.ID, id, reason))
	return bot.Proposal{ID: id, Status: bot.ProposalRejected}, nil
}

func (f *fakeComplaints) RecordVisit(_ context.Context, a bot.Actor, no, outcome, note string) (bot.ReturnVisit, error) {
	f.calls = append(f.calls, fmt.Sprintf("Visit %s %s %s %s", no, a.ID, outcome, note))
	if outcome != bot.VisitSatisfied && outcome != bot.VisitNotSatisfied {
		return bot.ReturnVisit{}, bot.ErrBadInput
	}
	return bot.ReturnVisit{Outcome: outcome}, nil
}

// /kefu propose|approve|reject|visit run the complaint operations; bad input gets the usage line.
func TestComplaintCommands(t *testing.T) {
	fc := &fakeComplaints{}
	e := newEnv(t, func(o *Options) { o.Complaints = fc })
	const no = "GD20261123001"
	steps := []struct{ text, want, call string }{
		{"propose " + no + " refund 50", "slack.done.proposed", "Propose " + no + " slack:UAGENT1 refund 5000"},
		{"propose " + no + " refund 200", "slack.done.proposal_approval", "Propose " + no + " slack:UAGENT1 refund 20000"},
		{"propose " + no + " cash 10", "slack.error.bad_input", "Propose " + no + " slack:UAGENT1 cash 1000"},
		{"propose " + no + " refund lots", "slack.usage.complaint", ""},
		{"propose " + no, "slack.usage.complaint", ""},
		{"approve " + no + " 7", "slack.done.proposal_decided", "Approve " + no + " slack:UAGENT1 7"},
		{"approve " + no + " 99", "slack.error.no_proposal", "Approve " + no + " slack:UAGENT1 99"},
		{"approve " + no + " 98", "slack.error.supervisor_only", "Approve " + no + " slack:UAGENT1 98"},
		{"reject " + no + " 7", "slack.usage.complaint", ""},
		{"reject " + no + " 7 太多了", "slack.done.proposal_decided", "Reject " + no + " slack:UAGENT1 7 太多了"},
		{"visit " + no + " satisfied 客户满意", "slack.done.visit", "Visit " + no + " slack:UAGENT1 satisfied 客户满意"},
		{"visit " + no + " meh", "slack.error.bad_input", "Visit " + no + " slack:UAGENT1 meh "},
	}
	for _, s := range steps {
		n := len(fc.calls)
		if got := e.command(t, agent1, s.text); !strings.Contains(got, s.want) {
			t.Errorf("%q: %q lacks %q", s.text, got, s.want)
		}
		switch {
		case s.call == "" && len(fc.calls) != n:
			t.Errorf("%q: called %v", s.text, fc.calls[n:])
		case s.call != "" && (len(fc.calls) != n+1 || fc.calls[n] != s.call):
			t.Errorf("%q: calls %v, want %q", s.text, fc.calls[n:], s.call)
		}
	}
}
