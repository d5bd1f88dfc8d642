package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/kefu-dev/kefu/flows"
)

// ChannelAPI is the channel of tickets opened by integrations (the REST API). It has no adapter: kefu's
// messages to such a customer are stored as delivered to the integration, which reads them (the
// ticket's audit trail) or hears of them (webhooks).
const ChannelAPI Channel = "api"

// NewTicket is a ticket an integration opens for one of its customers.
type NewTicket struct {
	Source      string // the integration (its token's name): customer ids are per integration
	CustomerID  string // the customer's id in the integration; the same id is the same kefu customer
	Name, Phone string // the customer's name and phone, may be empty
	Lang        string
	Category    string   // a configured category key, may be empty
	Priority    Priority // P0, P1, P2; empty: P2
	Summary     string
	Description string
	// RequestID, when set, makes the call idempotent: a second call with it gives ErrDuplicate.
	RequestID string
}

// OpenTicket opens a ticket for an integration's customer, as agent a, in one transaction: the
// customer (found again by CustomerID), the request as the conversation's inbound message, the
// ticket with its SLA clock and the "created" audit event (and so the ticket.created webhooks).
func (e *Engine) OpenTicket(ctx context.Context, a Actor, nt NewTicket) (Ticket, error) {
	a, err := e.authorize(a)
	if err != nil {
		return Ticket{}, err
	}
	nt.Description = flows.Normalize(nt.Description)
	nt.Summary = flows.Normalize(nt.Summary)
	if nt.Source == "" || strings.TrimSpace(nt.CustomerID) == "" || nt.Description == "" {
		return Ticket{}, fmt.Errorf("bot: open ticket: %w: customer id and description are required", ErrBadInput)
	}
	if nt.Priority == "" {
		nt.Priority = P2
	}
	if !slices.Contains([]Priority{P0, P1, P2}, nt.Priority) {
		return Ticket{}, fmt.Errorf("bot: open ticket: %w: priority %q", ErrBadInput, nt.Priority)
	}
	if m, ok := e.flows.(interface{ Config() flows.Config }); ok && nt.Category != "" &&
		!slices.ContainsFunc(m.Config().Categories, func(c flows.Category) bool { return c.Key == nt.Category }) {
		return Ticket{}, fmt.Errorf("bot: open ticket: %w: category %q", ErrBadInput, nt.Category)
	}
	if nt.Summary == "" {
		nt.Summary = nt.Description
	}
	lang := flows.NewSession(nt.Lang).Lang
	at := e.now().UTC()
	chat := nt.Source + ":" + nt.CustomerID
	var out Ticket
	err = e.store.Tx(ctx, func(tx Tx) error {
		ev := Event{Channel: ChannelAPI, ChatID: chat, UserID: chat, UserName: nt.Name, Kind: KindText, Text: nt.Description, At: at}
		if nt.RequestID != "" {
			ev.MsgID = nt.Source + ":" + nt.RequestID
		}
		conv, err := tx.SaveInbound(ctx, ev)
		if err != nil {
			return err
		}
		if err := tx.LockConversation(ctx, conv.ID); err != nil {
			return err
		}
		first, res := e.due(nt.Priority, SLACategory(nt.Category, 0), ChannelAPI, at)
		tk, err := tx.CreateTicket(ctx, Ticket{ConversationID: conv.ID, CustomerID: conv.CustomerID, Channel: ChannelAPI,
			CustomerName: nt.Name, CustomerPhone: nt.Phone, Lang: lang, Category: nt.Category, Priority: nt.Priority,
			Status: StatusOpen, Summary: truncateRunes(nt.Summary, 200), Description: nt.Description, CreatedAt: at,
			FirstResponseDue: first, ResolutionDue: res}, at.In(e.loc).Format("20060102"))
		if err != nil {
			return err
		}
		if _, err := tx.AddEvent(ctx, TicketEvent{TicketID: tk.ID, TicketNo: tk.No, At: at, Actor: a.ID, Kind: EvCreated,
			Text: nt.Description, Channel: ChannelAPI}); err != nil {
			return err
		}
		s, err := tx.Session(ctx, conv.ID)
		if errors.Is(err, ErrNotFound) {
			s = flows.NewSession(lang)
		} else if err != nil {
			return err
		}
		s.TicketNo = tk.No
		if err := tx.SaveSession(ctx, conv.ID, s, at); err != nil {
			return err
		}
		out = tk
		return nil
	})
	if err != nil {
		return Ticket{}, err
	}
	e.log.InfoContext(ctx, "ticket opened by an integration", "ticket_no", out.No, "source", nt.Source, "actor", a.ID)
	return out, nil
}
