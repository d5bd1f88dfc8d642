package main

import (
	"context"
	"fmt"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/bot/sla"
	"github.com/kefu-dev/kefu/storage"
)

// slaDue is the engine's due-time hook: the business-hours deadlines of a new ticket, so that the
// time the bot promises the customer respects nights, weekends, holidays and make-up days.
func slaDue(p *sla.Policy) func(bot.Priority, string, bot.Channel, time.Time) (time.Time, time.Time) {
	return func(pr bot.Priority, category string, channel bot.Channel, from time.Time) (time.Time, time.Time) {
		ds := p.Due(p.OpenedOn(sla.Priority(pr), category, string(channel), from))
		return ds.FirstResponse.Due, ds.Resolution.Due
	}
}

// channelTargets are the channels' own first-response targets, for the reports' channel rows.
func channelTargets(p *sla.Policy) map[string]time.Duration {
	out := map[string]time.Duration{}
	if p == nil {
		return out
	}
	for _, ch := range p.Channels() {
		if d, _, ok := p.ChannelWithin(ch, sla.P2); ok {
			out[ch] = d
		}
	}
	return out
}

// slaStore is the scanner's view of the database. Customer updates ("still being handled") are
// rendered in the customer's language from the locale key ticket.still_working.
func (a *app) slaStore(now func() time.Time) (*storage.SLAStore, error) {
	t := a.localizedT()
	return a.db.SLA(storage.SLAOptions{
		CustomerText: func(lang string, tk bot.Ticket) string {
			return t(lang, "ticket.still_working", map[string]any{"no": tk.No, "due": a.engine.FormatTime(tk.ResolutionDue, lang)})
		},
		Now: now,
	})
}

// newSLAScanner builds the scanner serve runs. Every process runs one: the store's claim (SKIP
// LOCKED on PostgreSQL) and its fired-notification table make each warning and ping happen once.
// Without Slack the scanner's log lines (ticket_no, kind, target, level) and `kefu ticket list
// --overdue` are the supervisors' view.
func (a *app) newSLAScanner(now func() time.Time) (*sla.Scanner, error) {
	st, err := a.slaStore(now)
	if err != nil {
		return nil, err
	}
	o := sla.Options{Store: st, Policy: a.policy, Interval: a.cfg.SLA.ScanInterval, Now: now, Logger: a.log}
	if a.metrics != nil {
		o.Store, o.OnScan = a.metrics.slaStore(st), a.metrics.observeScan
	}
	s, err := sla.NewScanner(o)
	if err != nil {
		return nil, fmt.Errorf("sla scanner: %w", err)
	}
	return s, nil
}

// ackSLA acknowledges a ticket's breach for actor (CLI `kefu ticket ack`, Slack button and
// `/kefu ack`): the repeats and further escalations stop, and the acknowledgement is audited.
func (a *app) ackSLA(ctx context.Context, actor bot.Actor, no string) error {
	if !a.engine.IsAgent(actor.ID) {
		return fmt.Errorf("ack %s: %w", no, bot.ErrForbidden)
	}
	st, err := a.slaStore(nil)
	if err != nil {
		return err
	}
	return st.AckSLABy(ctx, bot.NormalizeTicketNo(no), actor.ID, time.Now())
}
