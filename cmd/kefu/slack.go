package main

import (
	"context"
	"fmt"
	"github.com/kefu-dev/kefu/improve"
	"log/slog"
	"time"

	"github.com/kefu-dev/kefu/adapters/slack"
	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/locales"
	"github.com/kefu-dev/kefu/reports/digest"
)

// The engine queues tickets for teams behind `/kefu team` (an optional Desk method: a changed signature
// must fail the build, not turn the command into "unavailable").
var _ slack.TeamQueuer = (*bot.Engine)(nil)

// slackOptions maps the slack section of the config to the package's options; Desk and Store are set
// by newSlack once the engine exists.
func slackOptions(cfg Config, log *slog.Logger) slack.Options {
	c := cfg.Slack
	routing := slack.Routing{
		Categories:  map[string]string{},
		Channels:    map[string]string{},
		Default:     c.DefaultChannel,
		Supervisors: c.SupervisorsChannel,
	}
	// Each routed category is its own team, named after the category.
	for category, channel := range c.Routes {
		routing.Categories[category] = category
		routing.Channels[category] = channel
	}
	if _, ok := c.Routes["complaint"]; ok {
		routing.ComplaintTeam = "complaint"
	}
	return slack.Options{
		BotToken:      c.BotToken,
		SigningSecret: c.SigningSecret,
		AppToken:      c.AppToken,
		APIURL:        c.APIURL,
		Routing:       routing,
		Agents:        splitMembers(c.Agents),
		Supervisors:   splitMembers(c.Supervisors),
		AutoAssign:    c.AutoAssign,
		OnDuty:        c.OnDuty,
		Lang:          c.Lang,
		T:             locales.Default().T,
		ConsoleURL:    cfg.PublicURL + "/console",
		Logger:        log,
	}
}

// slackAgents lists the Slack users (direct and through user groups) who may act on tickets, for the
// engine's agent list. Group membership is read once at start.
func slackAgents(ctx context.Context, cfg Config, log *slog.Logger) ([]bot.AgentConfig, error) {
	if cfg.Slack.BotToken == "" {
		return nil, nil
	}
	agents, err := slack.ResolveAgents(ctx, slackOptions(cfg, log))
	if err != nil {
		return nil, fmt.Errorf("slack: resolve agents: %w", err)
	}
	return agents, nil
}

// newSlack builds the agents' side on the engine and database.
func newSlack(a *app) (*slack.App, error) {
	o := slackOptions(a.cfg, a.log)
	o.Desk, o.Store = a.engine, a.db
	o.SLA = slaAcker{a}
	o.FAQ = faqAdmin{a}
	o.Reports = digest.NewReporter(digestOptions(a))                   // /kefu report today|week|month
	o.Improve = improve.Chat{S: a.improveService(), T: a.localizedT()} // /kefu improve …
	o.Customers = a.engine                                             // intake details and earlier tickets in the card's thread
	o.Complaints = a.engine                                            // /kefu propose|approve|reject|visit
	o.KnownIssues = func(ctx context.Context, category string) []string {
		nos, err := improve.KnownIssues(ctx, a.db, category)
		if err != nil {
			a.log.WarnContext(ctx, "slack card: known issues", "err", err)
		}
		return nos
	}
	o.FollowUp = slackFollowUp{a.engine} // /kefu task, the cards' task, FAQ-answer and FAQ-draft buttons
	o.ReplyWindow = a.replyWindow
	o.HandOff = func(ctx context.Context, actor bot.Actor, no string) (string, bool, error) { // /kefu handoff
		return a.wecomHandOff(ctx, actor, no, actor.ID, a.cfg.DefaultLang)
	}
	return slack.New(o)
}

// slackFollowUp is the engine as slack.FollowUp: FAQ suggestions as the cards show them.
type slackFollowUp struct{ *bot.Engine }

func (f slackFollowUp) FAQSuggestions(t bot.Ticket, k int) []slack.FAQEntry {
	var out []slack.FAQEntry
	for _, h := range f.Suggestions(t, k) {
		out = append(out, slack.FAQEntry{ID: h.Entry.ID, Lang: h.Entry.Lang, Question: h.Entry.Question, Answer: h.Entry.Answer})
	}
	return out
}

// replyWindow is a ticket's platform reply window, from its conversation's last inbound message.
func (a *app) replyWindow(ctx context.Context, t bot.Ticket) bot.WindowState {
	if _, ok := bot.ReplyWindow(t.Channel); !ok {
		return bot.WindowState{}
	}
	last, ok, err := a.db.LastInbound(ctx, t.ConversationID)
	if err != nil {
		a.log.WarnContext(ctx, "reply window", "ticket_no", t.No, "err", err)
		return bot.WindowState{}
	}
	return bot.ReplyWindowAt(t.Channel, last, ok, time.Now())
}

// slaAcker acknowledges SLA breaches from Slack (button, /kefu ack).
type slaAcker struct{ a *app }

func (s slaAcker) AckSLA(ctx context.Context, actor bot.Actor, no string) error {
	return s.a.ackSLA(ctx, actor, no)
}

// splitMembers separates Slack user ids (U…, W…) from user-group ids (S…).
func splitMembers(ids []string) slack.Members {
	var m slack.Members
	for _, id := range ids {
		if len(id) > 0 && id[0] == 'S' {
			m.Groups = append(m.Groups, id)
		} else {
			m.Users = append(m.Users, id)
		}
	}
	return m
}
