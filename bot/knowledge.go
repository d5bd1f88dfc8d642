package bot

import (
	"context"
	"fmt"
	"strings"

	"github.com/kefu-dev/kefu/flows"
	"github.com/kefu-dev/kefu/kb"
)

// The knowledge loop (issue 11): agents see the top FAQ suggestions for the customer's words and reply
// with one, which is recorded as a KB citation (the seeds' 知识库引用率 is measured on agent replies).

// EvFAQReply marks an agent reply taken from an FAQ entry (Text: the entry id).
const EvFAQReply EventKind = "faq_reply"

// Suggestions returns up to k FAQ entries matching the ticket's description, in its language.
func (e *Engine) Suggestions(t Ticket, k int) []kb.Hit {
	if e.kb == nil {
		return nil
	}
	q := strings.TrimSpace(t.Description + "\n" + t.Summary)
	if q == "" {
		return nil
	}
	lang := t.Lang
	if lang == "" {
		lang = "zh-CN"
	}
	return e.kb.Match(q, lang, k)
}

// ReplyFAQ replies to the customer with FAQ entry id's answer (in the ticket's language) and records
// the citation, in one transaction. An unknown entry is refused with ErrNotFound.
func (e *Engine) ReplyFAQ(ctx context.Context, a Actor, no, id string) (Ticket, error) {
	t, err := e.store.TicketByNo(ctx, NormalizeTicketNo(no))
	if err != nil {
		return Ticket{}, err
	}
	var entry *kb.Entry
	if e.kb != nil {
		entry = e.kb.Entry(id, firstNonEmptyStr(t.Lang, "zh-CN"))
	}
	if entry == nil {
		return Ticket{}, fmt.Errorf("bot: reply to %s with FAQ %q: %w", no, id, ErrNotFound)
	}
	return e.replyWith(ctx, a, no, entry.Answer, func(ctx context.Context, d *deskTurn) error {
		d.event(EvFAQReply, entry.ID, true)
		return d.tx.Cite(ctx, Citation{EntryID: entry.ID, ConversationID: d.t.ConversationID, Lang: firstNonEmptyStr(entry.Lang, d.t.Lang),
			Query: "agent:" + d.t.No, At: d.at})
	})
}

// CustomerHistory returns the customer's other tickets, newest first (at most limit).
func (e *Engine) CustomerHistory(ctx context.Context, t Ticket, limit int) ([]Ticket, error) {
	ts, err := e.store.ListTickets(ctx, TicketFilter{CustomerID: t.CustomerID, Limit: limit + 1,
		Statuses: []Status{StatusOpen, StatusInProgress, StatusPending, StatusResolved, StatusClosed}})
	if err != nil {
		return nil, err
	}
	out := ts[:0]
	for _, x := range ts {
		if x.ID != t.ID && len(out) < limit {
			out = append(out, x)
		}
	}
	return out, nil
}

// CustomerProfile returns what customer id gave at intake (name, phone, e-mail; unmasked: mask it before
// it reaches anyone but a supervisor's audited reveal).
func (e *Engine) CustomerProfile(ctx context.Context, customerID int64) (flows.Profile, error) {
	var p flows.Profile
	err := e.store.Tx(ctx, func(tx Tx) error {
		var err error
		p, err = tx.CustomerProfile(ctx, customerID)
		return err
	})
	return p, err
}
