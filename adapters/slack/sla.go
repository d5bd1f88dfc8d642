package slack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/slack-go/slack"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/bot/sla"
)

// actAck is the Acknowledge button on SLA breach pings; its value is the ticket number.
const actAck = "kefu_sla_ack"

// SLA acknowledges breaches: the Acknowledge button on pings and `/kefu ack GD…`. cmd/kefu wires it to
// the store (repeats and further escalations stop; the acknowledgement is audited). Optional: without
// it the button is not shown and the command answers "not available".
type SLA interface {
	AckSLA(ctx context.Context, a bot.Actor, ticketNo string) error
}

// Leaser is an optional Store capability. With several kefu processes on one database, only the
// holder of the feed lease follows the event feed, so every card update and SLA ping is posted once.
// Lease acquires or renews the lease name for holder for ttl and reports whether holder has it.
type Leaser interface {
	Lease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
}

const feedLease = "slack:feed"

// leaseTTL is how long a feed lease outlives its last renewal: another process takes over the feed
// this long after the holder stopped.
func (a *App) leaseTTL() time.Duration { return max(15*time.Second, 10*a.o.PollInterval) }

func newHolder() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

// holdsFeed reports whether this process may follow the feed now (always, without a Leaser).
func (a *App) holdsFeed(ctx context.Context) (bool, error) {
	l, ok := a.store.(Leaser)
	if !ok {
		return true, nil
	}
	got, err := l.Lease(ctx, feedLease, a.holder, a.leaseTTL())
	if err != nil {
		return false, fmt.Errorf("slack: feed lease: %w", err)
	}
	return got, nil
}

// releaseFeed lets another process take the feed at once after this one stops (a lease of 1ns).
func (a *App) releaseFeed() {
	l, ok := a.store.(Leaser)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := l.Lease(ctx, feedLease, a.holder, time.Nanosecond); err != nil {
		a.log.WarnContext(ctx, "feed lease not released", "err", err)
	}
}

// slaLine renders an SLA audit event for a card's thread or a ping ("" when n is not understood).
func (a *App) slaLine(n sla.Notify, t bot.Ticket, card cardRef) string {
	assignee := a.tr("slack.card.unassigned", nil)
	if t.Assignee != "" {
		assignee = mention(t.Assignee)
	}
	args := map[string]any{"no": t.No, "priority": string(t.Priority), "target": a.trOr("slack.sla.target."+string(n.Target), string(n.Target)),
		"due": slackDate(n.Due), "level": n.Level, "level_name": n.LevelName, "assignee": assignee, "by": mention(n.By)}
	if card.channel != "" {
		args["card"] = "<#" + card.channel + ">"
	}
	switch n.Kind {
	case sla.KindWarn:
		return a.tr("slack.sla.warn", args)
	case sla.KindBreach:
		return a.tr("slack.sla.breach", args)
	case sla.KindRepeat:
		return a.tr("slack.sla.repeat", args)
	case sla.KindEscalate:
		return a.tr("slack.sla.escalate", args)
	case sla.KindCustomerUpdate:
		return a.tr("slack.sla.customer_update", args)
	case sla.KindAck:
		return a.tr("slack.sla.ack", args)
	case sla.KindRecomputed:
		return a.tr("slack.sla.recomputed", args)
	}
	return ""
}

// destinations maps a notification's audiences to Slack channels: the assignee's DM (the team
// channel while unassigned), the team channel, and the supervisors' channel (team leads have no
// channel of their own: they read the supervisors' channel). Each destination once, in order.
func (a *App) destinations(n sla.Notify, t bot.Ticket) []string {
	_, team := a.team(t)
	var out []string
	add := func(ch string) {
		if ch != "" && !slices.Contains(out, ch) {
			out = append(out, ch)
		}
	}
	for _, aud := range n.Audience {
		switch aud {
		case sla.ToAssignee:
			if u := slackUser(t.Assignee); u != "" {
				add(u) // chat.postMessage to a user id posts in the app's DM with them
			} else {
				add(team)
			}
		case sla.ToTeam:
			add(team)
		case sla.ToTeamLead, sla.ToSupervisors:
			if a.o.Routing.Supervisors != "" {
				add(a.o.Routing.Supervisors)
			} else {
				add(team)
			}
		}
	}
	return out
}

// handleSLA posts an SLA event: warnings to the assignee and the team, breach pings, repeats and
// escalations to their audiences with an Acknowledge button, and a line in the card's thread for
// everything. Each post is marked in the store, so retrying the event (a later post failed) does not
// repeat the earlier ones.
func (a *App) handleSLA(ctx context.Context, ev bot.TicketEvent, t bot.Ticket, card cardRef) error {
	n, err := sla.ParseNotify(ev.Text)
	if err != nil {
		a.log.WarnContext(ctx, "sla event not understood", "ticket_no", ev.TicketNo, "event_id", ev.ID, "err", err)
		return nil
	}
	line := a.slaLine(n, t, card)
	if line == "" {
		return nil
	}
	var dests []string
	switch n.Kind {
	case sla.KindWarn, sla.KindBreach, sla.KindRepeat, sla.KindEscalate:
		dests = a.destinations(n, t)
	}
	for _, ch := range dests {
		if err := a.postOnce(ctx, ev.ID, ch, func() error {
			opts := []slack.MsgOption{slack.MsgOptionText(line, false), slack.MsgOptionDisableLinkUnfurl()}
			if n.Kind != sla.KindWarn {
				opts = append(opts, slack.MsgOptionBlocks(a.pingBlocks(n, t, line)...))
			}
			_, _, err := a.api.PostMessageContext(ctx, ch, opts...)
			return err
		}); err != nil {
			return fmt.Errorf("chat.postMessage (sla %s to %s): %w", n.Kind, ch, err)
		}
	}
	if slices.Contains(dests, card.channel) {
		return nil // the team channel has it already
	}
	return a.postOnce(ctx, ev.ID, "thread", func() error {
		_, _, err := a.api.PostMessageContext(ctx, card.channel, slack.MsgOptionTS(card.ts),
			slack.MsgOptionText(line, false), slack.MsgOptionDisableLinkUnfurl())
		return err
	})
}

// postOnce runs post unless the store says event id's post to dest was made.
func (a *App) postOnce(ctx context.Context, id int64, dest string, post func() error) error {
	key := "slack:sla:" + strconv.FormatInt(id, 10) + ":" + dest
	if _, done, err := a.store.GetKV(ctx, key); err != nil {
		return err
	} else if done {
		return nil
	}
	if err := post(); err != nil {
		return err
	}
	return a.store.SetKV(ctx, key, "1")
}

// pingBlocks is a breach ping: its text and, with an acknowledger configured, the Acknowledge
// button. The block id names the notification (kind, target, level) for whoever reads the blocks.
func (a *App) pingBlocks(n sla.Notify, t bot.Ticket, line string) []slack.Block {
	blocks := []slack.Block{slack.NewSectionBlock(mrkdwn(line), nil, nil,
		slack.SectionBlockOptionBlockID(fmt.Sprintf("kefu_sla:%s:%s:%s:%d", t.No, n.Kind, n.Target, n.Level)))}
	if a.o.SLA != nil {
		btn := slack.NewButtonBlockElement(actAck, t.No, plain(a.tr("slack.sla.ack_button", nil)))
		btn.Style = slack.StyleDanger
		blocks = append(blocks, slack.NewActionBlock("kefu_sla_actions:"+t.No, btn))
	}
	return blocks
}

// ack runs an acknowledgement for actor (button or command).
func (a *App) ack(ctx context.Context, actor bot.Actor, no string) error {
	if a.o.SLA == nil {
		return errNoSLA
	}
	if err := a.o.SLA.AckSLA(ctx, actor, no); err != nil {
		return err
	}
	a.kickFeed()
	return nil
}

var errNoSLA = fmt.Errorf("slack: sla acknowledgements: %w", errors.ErrUnsupported)
