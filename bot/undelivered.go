package bot

import (
	"context"
	"errors"
	"fmt"
)

// ErrWindowClosed is what an adapter's Send wraps (in a *PermanentError) when the platform no longer
// lets kefu message the customer: WeChat's and WeCom's 48-hour reply window, for instance.
var ErrWindowClosed = errors.New("the platform's reply window for this customer is closed")

// ErrTakenOver is what an adapter's Send wraps (in a *PermanentError) when a person on the platform
// itself holds the conversation, so the platform lets no API reply through: a WeCom servicer who took
// the customer in the WeCom app, or the session waiting in WeCom's queue for one.
var ErrTakenOver = errors.New("a person on the platform holds this conversation")

// ErrQuotaUsed is what an adapter's Send wraps (in a *PermanentError) when the platform allows no more
// messages until the customer writes again: WeChat's and WeCom's 5 replies per customer message.
var ErrQuotaUsed = errors.New("the platform's reply quota for this customer's last message is used up")

// Undelivered tells the agents that reply r never reached the customer: an internal note on the
// customer's open ticket of that conversation (or their newest open ticket, or else the
// conversation's latest ticket, resolved or closed), in the ticket's language. Without any ticket
// there is no agent to tell and it only logs. The Dispatcher calls it
// through DispatcherOptions.OnGiveUp.
func (e *Engine) Undelivered(ctx context.Context, r Reply, cause error) error {
	reason := "channels.undelivered.failed"
	switch {
	case errors.Is(cause, ErrTakenOver):
		reason = "channels.undelivered.taken_over"
	case errors.Is(cause, ErrQuotaUsed):
		reason = "channels.undelivered.quota"
	case errors.Is(cause, ErrWindowClosed):
		reason = "channels.undelivered.window"
	}
	noted := ""
	err := e.store.Tx(ctx, func(tx Tx) error {
		conv, err := tx.Conversation(ctx, r.ConversationID)
		if err != nil {
			return err
		}
		if err := tx.LockConversation(ctx, conv.ID); err != nil {
			return err
		}
		open, err := tx.ListTickets(ctx, TicketFilter{CustomerID: conv.CustomerID, Limit: 20})
		if err != nil {
			return err
		}
		var t *Ticket
		for i := range open {
			if open[i].ConversationID == conv.ID {
				t = &open[i]
				break
			}
		}
		if t == nil && len(open) > 0 {
			t = &open[0]
		}
		if t == nil {
			// No open ticket: the agent answered and resolved (or closed) it before the reply failed.
			// Note it on the conversation's latest ticket all the same: the agent must hear of it.
			all, err := tx.ListTickets(ctx, TicketFilter{CustomerID: conv.CustomerID, Limit: 20,
				Statuses: []Status{StatusOpen, StatusInProgress, StatusPending, StatusResolved, StatusClosed}})
			if err != nil {
				return err
			}
			for i := range all {
				if all[i].ConversationID == conv.ID && (t == nil || all[i].CreatedAt.After(t.CreatedAt)) {
					t = &all[i]
				}
			}
		}
		if t == nil {
			return nil
		}
		text := e.t(t.Lang, reason, map[string]any{"channel": string(r.Channel), "text": excerpt(r.Text, 200)})
		if _, err := tx.AddEvent(ctx, TicketEvent{TicketID: t.ID, TicketNo: t.No, At: e.now(), Actor: "system",
			Kind: EvNote, Text: text, Channel: r.Channel, Internal: true}); err != nil {
			return err
		}
		noted = t.No
		return nil
	})
	if err != nil {
		return fmt.Errorf("bot: report undelivered reply %d: %w", r.OutboxID, err)
	}
	if noted == "" {
		e.log.WarnContext(ctx, "reply not delivered and no open ticket to note it on", "outbox_id", r.OutboxID, "channel", r.Channel)
	} else {
		e.log.InfoContext(ctx, "undelivered reply noted on the ticket", "outbox_id", r.OutboxID, "ticket_no", noted)
	}
	return nil
}

func excerpt(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
