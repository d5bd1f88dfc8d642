package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/slack-go/slack"

	"github.com/kefu-dev/kefu/bot"
)

const listLimit = 20

// serveCommand answers /kefu within AckTimeout in the HTTP response, or acknowledges at once and
// posts the answer to response_url when the work takes longer.
func (a *App) serveCommand(w http.ResponseWriter, r *http.Request, _ []byte) {
	sc, err := slack.SlashCommandParse(r)
	if err != nil {
		http.Error(w, "bad command", http.StatusBadRequest)
		return
	}
	m, ok := a.answerCommand(r.Context(), sc)
	if !ok {
		w.WriteHeader(http.StatusOK) // acknowledged; the answer follows through response_url
		return
	}
	writeJSON(w, m)
}

func (a *App) answerCommand(ctx context.Context, sc slack.SlashCommand) (*slack.WebhookMessage, bool) {
	return a.within(ctx,
		func(ctx context.Context) *slack.WebhookMessage {
			return a.runCommand(ctx, sc.UserID, sc.UserName, sc.Text)
		},
		func(ctx context.Context, m *slack.WebhookMessage) { a.respond(ctx, sc.ResponseURL, m) })
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		http.Error(w, "encode", http.StatusInternalServerError)
	}
}

// runCommand checks the caller's rights, parses text and runs it against the Desk.
func (a *App) runCommand(ctx context.Context, user, userName, text string) *slack.WebhookMessage {
	actor, ok := a.actor(ctx, user, userName)
	if !ok {
		a.log.InfoContext(ctx, "command refused: not an agent", "user", user)
		return ephemeral(a.tr("slack.refused", nil))
	}
	cmd, err := Parse(text)
	if err != nil {
		pe, _ := asParseError(err)
		key := "slack.usage.unknown"
		if pe != nil {
			key = pe.Key
		}
		return ephemeral(a.tr("slack.error.syntax", map[string]any{"usage": a.tr(key, nil)}) + "\n" + a.tr("slack.help.hint", nil))
	}
	m, changed := a.exec(ctx, actor, cmd)
	if changed {
		a.kickFeed()
	}
	return m
}

// TeamQueuer is the desk's optional team queue (*bot.Engine has it): `/kefu team GD… TEAM` queues a
// ticket for a configured agent's team, `-` takes it out of any queue.
type TeamQueuer interface {
	AssignTeam(ctx context.Context, a bot.Actor, no, team string) (bot.Ticket, error)
}

// exec runs a parsed command; changed reports a successful change to a ticket.
func (a *App) exec(ctx context.Context, actor bot.Actor, c Command) (m *slack.WebhookMessage, changed bool) {
	no := c.Ticket
	args := map[string]any{"no": no}
	var (
		t   bot.Ticket
		err error
		ok  string // success key
	)
	switch c.Verb {
	case "help":
		return ephemeral(a.tr("slack.help", nil)), false
	case "list":
		return a.list(ctx, actor, c.Arg), false
	case "show":
		return a.show(ctx, no), false
	case "report":
		if a.o.Reports == nil {
			return ephemeral(a.tr("slack.report.unavailable", nil)), false
		}
		text, err := a.o.Reports.Report(ctx, c.Arg, a.o.Lang)
		if err != nil {
			return ephemeral(a.errText(ctx, err, "")), false
		}
		return ephemeral(text), false
	case "faq":
		return a.faq(ctx, actor, c), false
	case "propose", "approve", "reject", "visit":
		return a.complaint(ctx, actor, c)
	case "task":
		return a.task(ctx, actor, c)
	case "improve":
		if a.o.Improve == nil {
			return ephemeral(a.tr("improve.chat.unavailable", nil)), false
		}
		return ephemeral(a.o.Improve.Run(ctx, actor.ID, c.Text, a.o.Lang)), false
	case "handoff": // WeCom: the customer's session to the agent's WeCom servicer (cmd/kefu wecom handoff)
		if a.o.HandOff == nil {
			return ephemeral(a.tr("slack.error.unavailable", nil)), false
		}
		text, done, err := a.o.HandOff(ctx, actor, no)
		if err != nil {
			return ephemeral(a.errText(ctx, err, no)), false
		}
		return ephemeral(text), done
	case "ack":
		if err := a.ack(ctx, actor, no); err != nil {
			return ephemeral(a.errText(ctx, err, no)), false
		}
		return ephemeral(a.tr("slack.done.acked", args)), true
	case "claim":
		t, err = a.desk.Claim(ctx, actor, no)
		if errors.Is(err, bot.ErrConflict) {
			return ephemeral(a.claimedBy(ctx, no)), false
		}
		ok = "slack.done.claimed"
	case "reply":
		t, err = a.desk.Reply(ctx, actor, no, c.Text)
		ok = "slack.done.replied"
	case "note":
		t, err = a.desk.Note(ctx, actor, no, c.Text)
		ok = "slack.done.noted"
	case "escalate":
		t, err = a.desk.Escalate(ctx, actor, no, c.Text)
		ok = "slack.done.escalated"
	case "priority":
		t, err = a.desk.SetPriority(ctx, actor, no, bot.Priority(c.Arg))
		ok = "slack.done.priority"
		args["priority"] = c.Arg
	case "status":
		switch bot.Status(c.Arg) {
		case bot.StatusResolved:
			t, err = a.desk.Resolve(ctx, actor, no, "")
		case bot.StatusClosed:
			t, err = a.desk.Close(ctx, actor, no)
		default:
			t, err = a.desk.SetStatus(ctx, actor, no, bot.Status(c.Arg))
		}
		ok = "slack.done.status"
		args["status"] = a.statusLabel(bot.Status(c.Arg))
	case "team":
		tq, can := a.desk.(TeamQueuer)
		if !can {
			return ephemeral(a.tr("slack.error.unavailable", nil)), false
		}
		team := c.Arg
		if team == "-" {
			team = ""
		}
		t, err = tq.AssignTeam(ctx, actor, no, team)
		ok = "slack.done.team"
		if team == "" {
			ok = "slack.done.team_cleared"
		}
		args["team"] = team
	case "assign":
		if agent, _, _ := a.access.role(ctx, c.Arg); !agent {
			args["user"] = "<@" + c.Arg + ">"
			return ephemeral(a.tr("slack.error.not_agent", args)), false
		}
		t, err = a.desk.Assign(ctx, actor, no, actorID(c.Arg))
		ok = "slack.done.assigned"
		args["user"] = "<@" + c.Arg + ">"
	default:
		return ephemeral(a.tr("slack.usage.unknown", nil)), false
	}
	if err != nil {
		return ephemeral(a.errText(ctx, err, no)), false
	}
	args["status"] = a.statusLabel(t.Status)
	return ephemeral(a.tr(ok, args)), true
}

// claimedBy explains a lost claim: who holds the ticket now.
func (a *App) claimedBy(ctx context.Context, no string) string {
	t, _, err := a.desk.Ticket(ctx, no)
	if err != nil || t.Assignee == "" {
		return a.tr("slack.error.conflict", map[string]any{"no": no})
	}
	return a.tr("slack.error.claimed_by", map[string]any{"no": no, "user": mention(t.Assignee)})
}

func (a *App) list(ctx context.Context, actor bot.Actor, filter string) *slack.WebhookMessage {
	f := bot.TicketFilter{Limit: listLimit, Now: a.now()}
	switch filter {
	case "mine":
		f.Assignee = actor.ID
	case "overdue":
		f.Overdue = true
	case "unassigned":
		f.Unassigned = true
	}
	ts, err := a.desk.ListTickets(ctx, f)
	if err != nil {
		return ephemeral(a.errText(ctx, err, ""))
	}
	filterLabel := a.tr("slack.list.filter."+filter, nil)
	if len(ts) == 0 {
		return ephemeral(a.tr("slack.list.empty", map[string]any{"filter": filterLabel}))
	}
	var b strings.Builder
	b.WriteString(a.tr("slack.list.header", map[string]any{"filter": filterLabel, "count": len(ts)}))
	for _, t := range ts {
		assignee := a.tr("slack.card.unassigned", nil)
		if t.Assignee != "" {
			assignee = mention(t.Assignee)
		}
		b.WriteString("\n")
		b.WriteString(a.tr("slack.list.item", map[string]any{
			"no": t.No, "priority": string(t.Priority), "category": escape(a.categoryLabel(t.Category)),
			"status": a.statusLabel(t.Status), "assignee": assignee, "due": slackDate(t.ResolutionDue),
			"summary": truncate(escape(t.Masker().Text(t.Summary)), 80),
		}))
	}
	return ephemeral(b.String())
}

func (a *App) show(ctx context.Context, no string) *slack.WebhookMessage {
	t, evs, err := a.desk.Ticket(ctx, no)
	if err != nil {
		return ephemeral(a.errText(ctx, err, no))
	}
	blocks := a.cardBlocks(t, true)
	if n := len(evs); n > 0 {
		evs = evs[max(0, n-8):]
		var els []slack.MixedElement
		for _, ev := range evs {
			els = append(els, mrkdwn(truncate(fmt.Sprintf("%s · %s · %s", slackDate(ev.At), a.actorLabel(ev.Actor),
				a.eventLine(ev, t.Masker())), 300)))
		}
		blocks = append(blocks, slack.NewDividerBlock(), slack.NewContextBlock("kefu_history", els...))
	}
	if lines, err := a.customerLines(ctx, t); err != nil {
		a.log.WarnContext(ctx, "customer details for show", "ticket_no", t.No, "err", err)
	} else if len(lines) > 0 {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(truncate(strings.Join(lines, "\n"), 2900)), nil, nil,
			slack.SectionBlockOptionBlockID("kefu_customer")))
	}
	return &slack.WebhookMessage{ResponseType: slack.ResponseTypeEphemeral, Text: a.cardText(t),
		Blocks: &slack.Blocks{BlockSet: blocks}}
}

func (a *App) faq(ctx context.Context, actor bot.Actor, c Command) *slack.WebhookMessage {
	if a.o.FAQ == nil {
		return ephemeral(a.tr("slack.faq.unavailable", nil))
	}
	switch c.Arg {
	case "search":
		es, err := a.o.FAQ.Search(ctx, c.Text, a.o.Lang, 5)
		if err != nil {
			return ephemeral(a.errText(ctx, err, ""))
		}
		if len(es) == 0 {
			return ephemeral(a.tr("slack.faq.none", map[string]any{"query": escape(c.Text)}))
		}
		var b strings.Builder
		for i, e := range es {
			if i > 0 {
				b.WriteString("\n")
			}
			b.WriteString(a.tr("slack.faq.item", map[string]any{"id": e.ID, "question": escape(e.Question),
				"answer": truncate(escape(e.Answer), 300)}))
		}
		return ephemeral(b.String())
	case "add":
		q, ans := c.FAQQA()
		e, err := a.o.FAQ.Add(ctx, actor, FAQEntry{Lang: a.o.Lang, Question: q, Answer: ans})
		if err != nil {
			return ephemeral(a.errText(ctx, err, ""))
		}
		return ephemeral(a.tr("slack.faq.added", map[string]any{"id": e.ID}))
	case "edit":
		e, err := a.o.FAQ.Edit(ctx, actor, c.FAQID, c.Text)
		if errors.Is(err, bot.ErrNotFound) {
			return ephemeral(a.tr("slack.faq.unknown", map[string]any{"id": c.FAQID}))
		}
		if err != nil {
			return ephemeral(a.errText(ctx, err, ""))
		}
		return ephemeral(a.tr("slack.faq.edited", map[string]any{"id": e.ID}))
	}
	return ephemeral(a.tr("slack.usage.faq", nil))
}
