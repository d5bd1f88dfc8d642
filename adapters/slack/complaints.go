package slack

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/kefu-dev/kefu/bot"
)

// Complaints is the optional runner of `/kefu propose|approve|reject|visit …` (*bot.Engine implements
// it): the same domain operations as `kefu complaint …` on the command line.
type Complaints interface {
	Propose(ctx context.Context, a bot.Actor, no, solution string, amount int64) (bot.Proposal, error)
	Approve(ctx context.Context, a bot.Actor, no string, id int64) (bot.Proposal, error)
	Reject(ctx context.Context, a bot.Actor, no string, id int64, reason string) (bot.Proposal, error)
	RecordVisit(ctx context.Context, a bot.Actor, no, outcome, note string) (bot.ReturnVisit, error)
}

// complaintVerbs take a ticket number and free text.
var complaintVerbs = []string{"propose", "approve", "reject", "visit"}

// complaint runs one complaint verb; c.Text is what follows the ticket number.
func (a *App) complaint(ctx context.Context, actor bot.Actor, c Command) (*slack.WebhookMessage, bool) {
	if a.o.Complaints == nil {
		return ephemeral(a.tr("slack.error.unavailable", nil)), false
	}
	usage := ephemeral(a.tr("slack.usage.complaint", nil))
	words := strings.Fields(c.Text)
	word := func(i int) string {
		if i < len(words) {
			return words[i]
		}
		return ""
	}
	args := map[string]any{"no": c.Ticket}
	var err error
	var key string
	switch c.Verb {
	case "propose":
		var amount int64
		if word(1) != "" {
			if amount, err = bot.ParseYuan(word(1)); err != nil {
				return usage, false
			}
		}
		var p bot.Proposal
		if p, err = a.o.Complaints.Propose(ctx, actor, c.Ticket, word(0), amount); err == nil {
			args["id"], args["solution"], args["amount"] = p.ID, a.tr("solution."+p.Solution, nil), amountText(p.Amount)
			key = "slack.done.proposed"
			if p.Status == bot.ProposalApproval {
				key = "slack.done.proposal_approval"
			}
		}
	case "approve", "reject":
		id, perr := strconv.ParseInt(word(0), 10, 64)
		if perr != nil || id <= 0 || c.Verb == "reject" && len(words) < 2 {
			return usage, false
		}
		var p bot.Proposal
		if c.Verb == "approve" {
			p, err = a.o.Complaints.Approve(ctx, actor, c.Ticket, id)
		} else {
			p, err = a.o.Complaints.Reject(ctx, actor, c.Ticket, id, strings.Join(words[1:], " "))
		}
		args["id"], args["status"] = p.ID, string(p.Status)
		key = "slack.done.proposal_decided"
	case "visit":
		var v bot.ReturnVisit
		if v, err = a.o.Complaints.RecordVisit(ctx, actor, c.Ticket, word(0), strings.Join(words[min(1, len(words)):], " ")); err == nil {
			args["outcome"] = v.Outcome
			key = "slack.done.visit"
		}
	}
	if err != nil {
		return ephemeral(a.errText(ctx, err, c.Ticket)), false
	}
	return ephemeral(a.tr(key, args)), true
}

func amountText(fen int64) string {
	if fen == 0 {
		return ""
	}
	return fmt.Sprintf(" %s", bot.Yuan(fen))
}
