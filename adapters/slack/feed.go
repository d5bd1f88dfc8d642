package slack

import (
	"github.com/kefu-dev/kefu/pii"

	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/kefu-dev/kefu/bot"
)

const (
	cursorKey  = "slack:feed:cursor"
	feedBatch  = 100
	followUp   = 24 * time.Hour // low-rating follow-up window (seeds: 主管需在24小时内介入回访)
	lowRating  = 3
	maxBackoff = time.Minute
)

// Run follows the Desk's event feed until ctx is done, keeping cards and supervisor posts in step; with
// an app-level token it serves Socket Mode as well. It returns nil on cancel.
func (a *App) Run(ctx context.Context) error {
	resp, err := a.api.AuthTestContext(ctx)
	if err != nil {
		return fmt.Errorf("slack: auth.test: %w", err)
	}
	a.botUser.Store(resp.UserID)
	errc := make(chan error, 1)
	if a.o.AppToken != "" {
		go func() { errc <- a.runSocket(ctx) }()
	} else {
		errc <- nil
	}
	a.follow(ctx)
	a.releaseFeed()
	if err := <-errc; err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}

func (a *App) follow(ctx context.Context) {
	backoff := time.Second
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-a.kick:
		}
		n, err := a.Sync(ctx)
		wait := a.o.PollInterval
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			var rl *slack.RateLimitedError
			if errors.As(err, &rl) {
				wait = rl.RetryAfter
			} else {
				wait = backoff
				backoff = min(backoff*2, maxBackoff)
			}
			a.log.WarnContext(ctx, "feed stalled; will retry", "wait", wait, "err", err)
		case n == feedBatch:
			wait, backoff = 0, time.Second
		default:
			backoff = time.Second
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
	}
}

// Sync handles the feed events after the stored cursor (one batch) and returns how many it handled.
// The cursor moves past an event only after its Slack calls succeeded (or failed permanently).
func (a *App) Sync(ctx context.Context) (int, error) {
	a.feedMu.Lock()
	defer a.feedMu.Unlock()
	if ok, err := a.holdsFeed(ctx); err != nil || !ok {
		return 0, err // another process follows the feed
	}
	cur, err := a.cursor(ctx)
	if err != nil {
		return 0, err
	}
	evs, err := a.desk.EventsAfter(ctx, cur, feedBatch)
	if err != nil {
		return 0, fmt.Errorf("slack: feed: events after %d: %w", cur, err)
	}
	for i, ev := range evs {
		if err := a.handle(ctx, ev); err != nil {
			if !permanent(err) {
				return i, fmt.Errorf("slack: feed: event %d (%s %s): %w", ev.ID, ev.TicketNo, ev.Kind, err)
			}
			a.log.ErrorContext(ctx, "feed event skipped", "event_id", ev.ID, "ticket_no", ev.TicketNo, "kind", ev.Kind, "err", err)
		}
		if err := a.store.SetKV(ctx, cursorKey, strconv.FormatInt(ev.Seq, 10)); err != nil {
			return i, fmt.Errorf("slack: feed: save cursor: %w", err)
		}
	}
	return len(evs), nil
}

func (a *App) cursor(ctx context.Context) (int64, error) {
	v, ok, err := a.store.GetKV(ctx, cursorKey)
	if err != nil {
		return 0, fmt.Errorf("slack: feed: load cursor: %w", err)
	}
	if !ok || v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("slack: feed: bad cursor %q: %w", v, err)
	}
	return n, nil
}

// permanent reports errors that retrying cannot fix: an unknown ticket, or Slack refusing the call for
// good (channel not found, bot not in channel, invalid blocks …). Rate limits and network errors are
// retried.
func permanent(err error) bool {
	if errors.Is(err, bot.ErrUnknownTkt) || errors.Is(err, bot.ErrNotFound) || errors.Is(err, errNoChannel) {
		return true
	}
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return false
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		switch se.Err {
		case "internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited":
			return false
		}
		return true
	}
	return false
}

type cardRef struct{ channel, ts string }

func (r cardRef) String() string { return r.channel + "/" + r.ts }

func (a *App) loadRef(ctx context.Context, key string) (cardRef, bool, error) {
	v, ok, err := a.store.GetKV(ctx, key)
	if err != nil || !ok {
		return cardRef{}, false, err
	}
	ch, ts, found := strings.Cut(v, "/")
	if !found {
		return cardRef{}, false, nil
	}
	return cardRef{ch, ts}, true, nil
}

// team returns the team a ticket belongs to, and its channel.
func (a *App) team(t bot.Ticket) (team, channel string) {
	r := a.o.Routing
	team = r.DefaultTeam
	if t.Complaint && r.ComplaintTeam != "" {
		team = r.ComplaintTeam
	} else if tm, ok := r.Categories[t.Category]; ok {
		team = tm
	}
	channel = r.Channels[team]
	if channel == "" {
		channel = r.Default
	}
	if channel == "" {
		channel = r.Supervisors
	}
	return team, channel
}

func (a *App) needsSupervisors(t bot.Ticket) bool {
	return t.Priority == bot.P0 || t.Complaint || t.Escalated
}

// handle applies one feed event to Slack.
func (a *App) handle(ctx context.Context, ev bot.TicketEvent) error {
	t, _, err := a.desk.Ticket(ctx, ev.TicketNo)
	if err != nil {
		return fmt.Errorf("ticket %s: %w", ev.TicketNo, err)
	}
	card, created, err := a.ensureCard(ctx, t)
	if err != nil {
		return err
	}
	if ev.Kind == bot.EvCreated && a.o.AutoAssign && t.Assignee == "" {
		if nt, ok := a.autoAssign(ctx, t); ok {
			t = nt
			created = false // card must show the assignee
		}
	}
	if !created {
		if err := a.updateCard(ctx, card, t); err != nil {
			return err
		}
	}
	if err := a.supervisorCard(ctx, t); err != nil {
		return err
	}
	if ev.Kind == bot.EvSLA {
		return a.handleSLA(ctx, ev, t, card)
	}
	if line := a.threadLine(ctx, ev, t); line != "" {
		if _, _, err := a.api.PostMessageContext(ctx, card.channel, slack.MsgOptionTS(card.ts),
			slack.MsgOptionText(line, false), slack.MsgOptionDisableLinkUnfurl()); err != nil {
			return fmt.Errorf("chat.postMessage (thread %s): %w", card, err)
		}
	}
	if text := a.supervisorLine(ev, t, card); text != "" && a.o.Routing.Supervisors != "" {
		if _, _, err := a.api.PostMessageContext(ctx, a.o.Routing.Supervisors, slack.MsgOptionText(text, false)); err != nil {
			return fmt.Errorf("chat.postMessage (supervisors): %w", err)
		}
	}
	return nil
}

// ensureCard posts the ticket's card in its team channel unless it exists; created reports a new post.
func (a *App) ensureCard(ctx context.Context, t bot.Ticket) (ref cardRef, created bool, err error) {
	ref, ok, err := a.loadRef(ctx, cardKey(t.No))
	if err != nil {
		return cardRef{}, false, fmt.Errorf("load card ref: %w", err)
	}
	if ok {
		return ref, false, nil
	}
	_, channel := a.team(t)
	if channel == "" {
		return cardRef{}, false, fmt.Errorf("no channel for ticket %s: %w", t.No, errNoChannel)
	}
	ch, ts, err := a.api.PostMessageContext(ctx, channel, slack.MsgOptionText(a.cardText(t), false),
		slack.MsgOptionBlocks(a.cardBlocks(t, true)...))
	if err != nil {
		return cardRef{}, false, fmt.Errorf("chat.postMessage (card %s): %w", t.No, err)
	}
	ref = cardRef{ch, ts}
	if err := a.store.SetKV(ctx, cardKey(t.No), ref.String()); err != nil {
		return cardRef{}, false, fmt.Errorf("save card ref: %w", err)
	}
	if err := a.store.SetKV(ctx, threadKey(ch, ts), t.No); err != nil {
		return cardRef{}, false, fmt.Errorf("save thread ref: %w", err)
	}
	return ref, true, nil
}

var errNoChannel = errors.New("no channel configured") // permanent: fix the routing, then replay

func (a *App) updateCard(ctx context.Context, ref cardRef, t bot.Ticket) error {
	_, _, _, err := a.api.UpdateMessageContext(ctx, ref.channel, ref.ts, slack.MsgOptionText(a.cardText(t), false),
		slack.MsgOptionBlocks(a.cardBlocks(t, true)...))
	if err != nil {
		return fmt.Errorf("chat.update (card %s): %w", t.No, err)
	}
	return nil
}

// supervisorCard keeps a copy of P0, complaint and escalated tickets' cards in the supervisors' channel.
func (a *App) supervisorCard(ctx context.Context, t bot.Ticket) error {
	sup := a.o.Routing.Supervisors
	if sup == "" {
		return nil
	}
	ref, ok, err := a.loadRef(ctx, supCardKey(t.No))
	if err != nil {
		return fmt.Errorf("load supervisor card ref: %w", err)
	}
	if ok {
		return a.updateCard(ctx, ref, t)
	}
	if !a.needsSupervisors(t) {
		return nil
	}
	if _, ch := a.team(t); ch == sup {
		return nil // the team channel is the supervisors' channel: one card is enough
	}
	ch, ts, err := a.api.PostMessageContext(ctx, sup, slack.MsgOptionText(a.cardText(t), false),
		slack.MsgOptionBlocks(a.cardBlocks(t, true)...))
	if err != nil {
		return fmt.Errorf("chat.postMessage (supervisor card %s): %w", t.No, err)
	}
	if err := a.store.SetKV(ctx, supCardKey(t.No), cardRef{ch, ts}.String()); err != nil {
		return fmt.Errorf("save supervisor card ref: %w", err)
	}
	// Supervisors may answer in their copy's thread too.
	if err := a.store.SetKV(ctx, threadKey(ch, ts), t.No); err != nil {
		return fmt.Errorf("save supervisor thread ref: %w", err)
	}
	return nil
}

// autoAssign gives a new ticket to the on-duty agent of its team with the fewest open tickets.
func (a *App) autoAssign(ctx context.Context, t bot.Ticket) (bot.Ticket, bool) {
	team, _ := a.team(t)
	best, bestN := "", -1
	for _, u := range a.o.OnDuty[team] {
		ts, err := a.desk.ListTickets(ctx, bot.TicketFilter{Assignee: actorID(u), Limit: 1000, Now: a.now()})
		if err != nil {
			a.log.WarnContext(ctx, "auto-assign: list failed", "user", u, "err", err)
			continue
		}
		if bestN < 0 || len(ts) < bestN {
			best, bestN = u, len(ts)
		}
	}
	if best == "" {
		return t, false
	}
	actor := bot.Actor{ID: actorID(best), Name: a.access.name(ctx, best, best)}
	nt, err := a.desk.Assign(ctx, actor, t.No, actorID(best))
	if err != nil {
		a.log.WarnContext(ctx, "auto-assign failed", "ticket_no", t.No, "user", best, "err", err)
		return t, false
	}
	return nt, true
}

// threadLine is what the card's thread shows for an event ("" for nothing).
func (a *App) threadLine(ctx context.Context, ev bot.TicketEvent, t bot.Ticket) string {
	switch ev.Kind {
	case bot.EvCreated:
		// Who the customer is: intake details and earlier tickets (nothing when there is neither).
		lines, err := a.customerLines(ctx, t)
		if err != nil {
			a.log.WarnContext(ctx, "customer details for the thread", "ticket_no", t.No, "err", err)
			return ""
		}
		return strings.Join(lines, "\n")
	case bot.EvAgentReply, bot.EvNote:
		if a.relayedFromThread(ctx, ev) {
			return ""
		}
	}
	return a.actorLabel(ev.Actor) + " · " + a.eventLine(ev, t.Masker())
}

// relayedFromThread reports whether ev repeats a thread message an agent typed (already visible).
func (a *App) relayedFromThread(ctx context.Context, ev bot.TicketEvent) bool {
	v, ok, err := a.store.GetKV(ctx, relayedKey(ev.TicketNo, ev.Actor, ev.Text))
	if err != nil || !ok {
		return false
	}
	at, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return false
	}
	d := ev.At.Sub(time.Unix(at, 0))
	return d > -10*time.Minute && d < 10*time.Minute
}

func (a *App) actorLabel(actor string) string {
	switch actor {
	case "customer", "bot", "system":
		return a.tr("slack.actor."+actor, nil)
	}
	return mention(actor)
}

// eventLine describes one audit event in Slack mrkdwn; customer text is masked (m: the ticket's
// masker) and escaped.
func (a *App) eventLine(ev bot.TicketEvent, m pii.Masker) string {
	args := map[string]any{"no": ev.TicketNo, "text": truncate(escape(m.Text(ev.Text)), 2800), "channel": a.channelLabel(ev.Channel)}
	if ev.Kind == bot.EvAssigned { // Text: "old->new" (or just the new assignee)
		to := ev.Text
		if _, after, ok := strings.Cut(to, "->"); ok {
			to = after
		}
		args["user"] = a.tr("slack.card.unassigned", nil)
		if to != "" {
			args["user"] = mention(to)
		}
	}
	line := a.tr("slack.event."+string(ev.Kind), args)
	for _, at := range ev.Attachments {
		name := m.Text(at.Name)
		if name == "" {
			name = at.FileID
		}
		line += "\n" + a.tr("slack.event.attachment", map[string]any{"type": at.Type, "name": escape(truncate(name, 200)),
			"size": at.Size})
	}
	return line
}

// supervisorLine is what the supervisors' channel gets for an event ("" for nothing).
func (a *App) supervisorLine(ev bot.TicketEvent, t bot.Ticket, card cardRef) string {
	args := map[string]any{"no": t.No, "priority": string(t.Priority), "card": "<#" + card.channel + ">",
		"actor": a.actorLabel(ev.Actor), "text": truncate(escape(t.Masker().Text(ev.Text)), 1000)}
	switch ev.Kind {
	case bot.EvEscalated:
		return a.tr("slack.sup.escalated", args)
	case bot.EvReopened:
		return a.tr("slack.sup.reopened", args)
	case bot.EvVisitOverdue: // once per visit (sla_fired)
		return a.tr("slack.sup.visit_overdue", args)
	case bot.EvTaskLate: // once per task and due time (sla_fired); the owner is mentioned when a Slack user
		args["owner"] = taskOwner(ev.Text)
		return a.tr("slack.sup.task_late", args)
	case bot.EvProposal:
		if strings.Contains(ev.Text, "needs approval") {
			return a.tr("slack.sup.proposal_approval", args)
		}
		return ""
	case bot.EvRated:
		score, comment := t.Rating, t.RatingComment
		if s, c := parseRating(ev.Text); s > 0 {
			score, comment = s, c
		}
		if score <= 0 || score > lowRating {
			return ""
		}
		args["score"], args["comment"] = score, truncate(escape(t.Masker().Text(comment)), 1000)
		args["due"] = slackDate(ev.At.Add(followUp))
		return a.tr("slack.sup.low_rating", args)
	}
	return ""
}

// parseRating reads a rated event's text: the score, then an optional comment ("2 太慢了").
func parseRating(s string) (int, string) {
	w, rest := cut(s)
	n, err := strconv.Atoi(strings.TrimSuffix(w, "/5"))
	if err != nil || n < 1 || n > 5 {
		return 0, ""
	}
	return n, rest
}

// taskOwner mentions the owner of a late task ("#1 refund owner=slack:U1 due=…"): a Slack user is
// pinged, anyone else is named.
func taskOwner(text string) string {
	for _, f := range strings.Fields(text) {
		if o, ok := strings.CutPrefix(f, "owner="); ok {
			return mention(o)
		}
	}
	return ""
}
