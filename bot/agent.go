package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kefu-dev/kefu/flows"
)

// The Desk implementation: every change runs in one transaction that writes the ticket, an audit
// event and any customer message (outbox) together.

// authorize returns the configured agent for a, or ErrForbidden. With no agents configured, any CLI
// actor is accepted so a fresh install works from the command line.
func (e *Engine) authorize(a Actor) (Actor, error) {
	if len(e.agents) == 0 {
		if strings.HasPrefix(a.ID, "cli:") && len(a.ID) > len("cli:") {
			return a, nil
		}
		return a, fmt.Errorf("bot: actor %q: %w (no agents configured: only cli:NAME actors may act)", a.ID, ErrForbidden)
	}
	cfg, ok := e.agents[a.ID]
	if !ok {
		return a, fmt.Errorf("bot: actor %q is not a configured agent: %w", a.ID, ErrForbidden)
	}
	if a.Name == "" {
		a.Name = cfg.Name
	}
	a.Supervisor = cfg.Supervisor
	return a, nil
}

// IsAgent reports whether id may act on tickets.
func (e *Engine) IsAgent(id string) bool {
	_, err := e.authorize(Actor{ID: id})
	return err == nil
}

// IsSupervisor reports whether id is a configured supervisor: only supervisors may see a customer's
// personal data unmasked (and every time they do it is audited by the caller).
func (e *Engine) IsSupervisor(id string) bool {
	a, err := e.authorize(Actor{ID: id})
	return err == nil && a.Supervisor
}

// ListTickets implements Desk.
func (e *Engine) ListTickets(ctx context.Context, f TicketFilter) ([]Ticket, error) {
	if f.Overdue && f.Now.IsZero() {
		f.Now = e.now()
	}
	return e.store.ListTickets(ctx, f)
}

// Ticket implements Desk.
func (e *Engine) Ticket(ctx context.Context, no string) (Ticket, []TicketEvent, error) {
	t, err := e.store.TicketByNo(ctx, NormalizeTicketNo(no))
	if err != nil {
		return Ticket{}, nil, err
	}
	evs, err := e.store.TicketEvents(ctx, t.ID)
	if err != nil {
		return Ticket{}, nil, err
	}
	return t, evs, nil
}

// EventsAfter implements Desk.
func (e *Engine) EventsAfter(ctx context.Context, after int64, limit int) ([]TicketEvent, error) {
	return e.store.EventsAfter(ctx, after, limit)
}

// deskOp is one agent action inside a transaction. It may change *Ticket (saved afterwards when changed
// is set) and returns the audit events to write.
type deskOp func(ctx context.Context, d *deskTurn) error

type deskTurn struct {
	tx      Tx
	actor   Actor
	t       Ticket
	at      time.Time
	changed bool
	sent    int
	events  []TicketEvent
}

func (d *deskTurn) event(kind EventKind, text string, internal bool) {
	d.events = append(d.events, TicketEvent{TicketID: d.t.ID, TicketNo: d.t.No, At: d.at, Actor: d.actor.ID,
		Kind: kind, Text: text, Internal: internal})
}

func (e *Engine) desk(ctx context.Context, a Actor, no string, op deskOp) (Ticket, error) {
	a, err := e.authorize(a)
	if err != nil {
		return Ticket{}, err
	}
	return e.deskTx(ctx, a, no, op)
}

// deskTx runs op in a desk transaction for an already authorized actor (or kefu itself).
func (e *Engine) deskTx(ctx context.Context, a Actor, no string, op deskOp) (Ticket, error) {
	var err error
	no = NormalizeTicketNo(no)
	var out Ticket
	var sent int
	err = e.store.Tx(ctx, func(tx Tx) error {
		// Lock the customer's conversation before the ticket, in the order Deliver takes them.
		t, err := tx.TicketByNo(ctx, no)
		if err != nil {
			return err
		}
		if err := tx.LockConversation(ctx, t.ConversationID); err != nil {
			return err
		}
		t, err = tx.LockTicket(ctx, no)
		if err != nil {
			return err
		}
		if err := markOnce(ctx, tx, t.No); err != nil { // WithOnce: at most once, with this commit
			return err
		}
		d := &deskTurn{tx: tx, actor: a, t: t, at: e.now().UTC()}
		if err := op(ctx, d); err != nil {
			return err
		}
		if d.changed {
			if err := tx.UpdateTicket(ctx, d.t); err != nil {
				return err
			}
		}
		for _, ev := range d.events {
			if _, err := tx.AddEvent(ctx, ev); err != nil {
				return err
			}
		}
		out, sent = d.t, d.sent
		return nil
	})
	if err != nil {
		return Ticket{}, err
	}
	if sent > 0 {
		e.notify()
	}
	return out, nil
}

func notClosed(t Ticket) error {
	if t.Status == StatusClosed {
		return fmt.Errorf("bot: ticket %s: %w", t.No, ErrClosed)
	}
	return nil
}

// Claim implements Desk. Exactly one of two concurrent claims wins (a conditional UPDATE); the other
// gets ErrConflict. Claiming a ticket one already holds succeeds.
func (e *Engine) Claim(ctx context.Context, a Actor, no string) (Ticket, error) {
	return e.desk(ctx, a, no, func(ctx context.Context, d *deskTurn) error {
		if err := notClosed(d.t); err != nil {
			return err
		}
		if d.t.Assignee == d.actor.ID {
			return nil
		}
		won, err := d.tx.ClaimTicket(ctx, d.t.ID, d.actor.ID, d.at)
		if err != nil {
			return err
		}
		if !won {
			cur, err := d.tx.TicketByNo(ctx, d.t.No)
			if err == nil && cur.Assignee == d.actor.ID {
				d.t = cur
				return nil
			}
			return fmt.Errorf("bot: claim %s: held by %s: %w", d.t.No, cur.Assignee, ErrConflict)
		}
		d.t.Assignee = d.actor.ID
		if d.t.Status == StatusOpen {
			d.t.Status = StatusInProgress
			d.changed = true
		}
		d.event(EvClaimed, d.actor.ID, false)
		return nil
	})
}

// Assign implements Desk.
func (e *Engine) Assign(ctx context.Context, a Actor, no, assignee string) (Ticket, error) {
	if assignee != "" && len(e.agents) > 0 {
		if _, ok := e.agents[assignee]; !ok {
			return Ticket{}, fmt.Errorf("bot: assign %s to %q: not a configured agent: %w", no, assignee, ErrBadInput)
		}
	}
	return e.desk(ctx, a, no, func(ctx context.Context, d *deskTurn) error {
		if err := notClosed(d.t); err != nil {
			return err
		}
		if d.t.Assignee == assignee {
			return nil
		}
		d.event(EvAssigned, d.t.Assignee+"->"+assignee, false)
		d.t.Assignee = assignee
		if assignee != "" && d.t.Status == StatusOpen {
			d.t.Status = StatusInProgress
		}
		d.changed = true
		return nil
	})
}

// Reply implements Desk: the text reaches the customer through the outbox (locale key "agent.reply");
// the first reply stamps FirstResponseAt. An unassigned ticket is claimed by the replying agent.
func (e *Engine) Reply(ctx context.Context, a Actor, no, text string) (Ticket, error) {
	return e.replyWith(ctx, a, no, text, nil)
}

// replyWith is Reply that also runs also (e.g. a KB citation) in the same transaction.
func (e *Engine) replyWith(ctx context.Context, a Actor, no, text string, also deskOp) (Ticket, error) {
	text = flows.Normalize(text)
	if text == "" {
		return Ticket{}, fmt.Errorf("bot: reply to %s: %w: empty text", no, ErrBadInput)
	}
	return e.desk(ctx, a, no, func(ctx context.Context, d *deskTurn) error {
		if err := notClosed(d.t); err != nil {
			return err
		}
		conv, err := d.tx.Conversation(ctx, d.t.ConversationID)
		if err != nil {
			return err
		}
		if err := checkWindow(ctx, d.tx, d.t.No, conv, d.at); err != nil {
			return err
		}
		lang := d.t.Lang
		if s, err := d.tx.Session(ctx, conv.ID); err == nil && s.Lang != "" {
			lang = s.Lang
		}
		msg := e.t(lang, "agent.reply", map[string]any{"agent": d.actor.Name, "text": text, "no": d.t.No})
		if _, err := d.tx.Enqueue(ctx, d.at, Reply{ConversationID: conv.ID, Channel: conv.Channel, ChatID: conv.ChatID, Text: msg}); err != nil {
			return err
		}
		d.sent++
		if d.t.FirstResponseAt == nil {
			at := d.at
			d.t.FirstResponseAt = &at
			d.changed = true
		}
		if d.t.Assignee == "" {
			d.t.Assignee = d.actor.ID
			d.changed = true
			d.event(EvClaimed, d.actor.ID, false)
		}
		if d.t.Status == StatusOpen || d.t.Status == StatusPending {
			d.t.Status = StatusInProgress
			d.changed = true
		}
		d.events = append(d.events, TicketEvent{TicketID: d.t.ID, TicketNo: d.t.No, At: d.at, Actor: d.actor.ID,
			Kind: EvAgentReply, Text: text, Channel: conv.Channel})
		if also != nil {
			return also(ctx, d)
		}
		return nil
	})
}

// Note implements Desk: an internal note, never sent to the customer.
func (e *Engine) Note(ctx context.Context, a Actor, no, text string) (Ticket, error) {
	text = flows.Normalize(text)
	if text == "" {
		return Ticket{}, fmt.Errorf("bot: note on %s: %w: empty text", no, ErrBadInput)
	}
	return e.desk(ctx, a, no, func(ctx context.Context, d *deskTurn) error {
		d.event(EvNote, text, true)
		return nil
	})
}

// ParsePriority accepts P0/P1/P2 in any case.
func ParsePriority(s string) (Priority, error) {
	p := Priority(strings.ToUpper(strings.TrimSpace(s)))
	switch p {
	case P0, P1, P2:
		return p, nil
	}
	return "", fmt.Errorf("bot: priority %q: %w (want P0, P1 or P2)", s, ErrBadInput)
}

// SetPriority implements Desk. Due times are recomputed from the creation time with the new priority.
func (e *Engine) SetPriority(ctx context.Context, a Actor, no string, p Priority) (Ticket, error) {
	p, err := ParsePriority(string(p))
	if err != nil {
		return Ticket{}, err
	}
	return e.desk(ctx, a, no, func(ctx context.Context, d *deskTurn) error {
		if err := notClosed(d.t); err != nil {
			return err
		}
		if d.t.Priority == p {
			return nil
		}
		d.event(EvPriority, string(d.t.Priority)+"->"+string(p), false)
		d.t.Priority = p
		d.t.FirstResponseDue, d.t.ResolutionDue = e.due(p, SLACategory(d.t.Category, d.t.ComplaintLevel), d.t.Channel, d.t.CreatedAt)
		d.changed = true
		return nil
	})
}

// SetStatus implements Desk. Resolved and closed go through Resolve and Close (customer is asked).
func (e *Engine) SetStatus(ctx context.Context, a Actor, no string, s Status) (Ticket, error) {
	switch s {
	case StatusResolved:
		return e.Resolve(ctx, a, no, "")
	case StatusClosed:
		return e.Close(ctx, a, no)
	case StatusOpen, StatusInProgress, StatusPending:
	default:
		return Ticket{}, fmt.Errorf("bot: status %q: %w", s, ErrBadInput)
	}
	return e.desk(ctx, a, no, func(ctx context.Context, d *deskTurn) error {
		if err := notClosed(d.t); err != nil {
			return err
		}
		if d.t.Status == s {
			return nil
		}
		d.event(EvStatus, string(d.t.Status)+"->"+string(s), false)
		d.t.Status = s
		if s != StatusResolved {
			d.t.ResolvedAt = nil
		}
		d.changed = true
		return nil
	})
}

// Resolve implements Desk: the ticket becomes resolved and flows gets SignalResolved in the same
// transaction, so the customer is asked to confirm (已解决 / 未解决). A ticket nobody answered cannot be
// resolved (ErrNoReply): see ForceResolve.
func (e *Engine) Resolve(ctx context.Context, a Actor, no, summary string) (Ticket, error) {
	return e.resolve(ctx, a, no, summary, "")
}

func (e *Engine) resolve(ctx context.Context, a Actor, no, summary, force string) (Ticket, error) {
	summary = flows.Normalize(summary)
	return e.desk(ctx, a, no, func(ctx context.Context, d *deskTurn) error {
		if err := notClosed(d.t); err != nil {
			return err
		}
		if d.t.Status == StatusResolved {
			return fmt.Errorf("bot: resolve %s: already resolved: %w", d.t.No, ErrConflict)
		}
		if err := statusOrder(d, "resolve", force); err != nil {
			return err
		}
		if err := e.openTasksGuard(ctx, d, "resolve", force); err != nil {
			return err
		}
		at := d.at
		d.event(EvResolved, summary, false)
		d.t.Status, d.t.ResolvedAt = StatusResolved, &at
		d.changed = true
		if err := e.complaintVisit(ctx, d); err != nil {
			return err
		}
		return e.signal(ctx, d, flows.SignalResolved, map[string]any{"no": d.t.No, "summary": summary})
	})
}

// Close implements Desk. The customer's conversation gets SignalClosed. A ticket nobody answered
// cannot be closed (ErrNoReply): see ForceClose.
func (e *Engine) Close(ctx context.Context, a Actor, no string) (Ticket, error) {
	return e.close(ctx, a, no, "")
}

func (e *Engine) close(ctx context.Context, a Actor, no, force string) (Ticket, error) {
	return e.desk(ctx, a, no, func(ctx context.Context, d *deskTurn) error {
		if d.t.Status == StatusClosed {
			return nil
		}
		if err := statusOrder(d, "close", force); err != nil {
			return err
		}
		if err := e.openTasksGuard(ctx, d, "close", force); err != nil {
			return err
		}
		at := d.at
		d.event(EvClosed, "", false)
		d.t.Status, d.t.ClosedAt = StatusClosed, &at
		d.changed = true
		// A complaint closed without a resolution first still gets its return visit (回访); one
		// resolved before already has it (scheduleVisit keeps the earlier one).
		if err := e.complaintVisit(ctx, d); err != nil {
			return err
		}
		return e.signal(ctx, d, flows.SignalClosed, map[string]any{"no": d.t.No})
	})
}

// Escalate implements Desk.
func (e *Engine) Escalate(ctx context.Context, a Actor, no, reason string) (Ticket, error) {
	reason = flows.Normalize(reason)
	return e.desk(ctx, a, no, func(ctx context.Context, d *deskTurn) error {
		if err := notClosed(d.t); err != nil {
			return err
		}
		d.event(EvEscalated, reason, false)
		d.t.Escalated = true
		d.changed = true
		return nil
	})
}

// signal feeds a ticket signal into the customer's conversation and carries out the resulting effects
// (questions to the customer) inside the desk transaction.
func (e *Engine) signal(ctx context.Context, d *deskTurn, sig flows.Signal, extra map[string]any) error {
	return e.signalInput(ctx, d, flows.Input{Signal: sig, TicketNo: d.t.No, At: d.at}, extra)
}

// signalInput is signal with a full input (a proposal's id in Args).
func (e *Engine) signalInput(ctx context.Context, d *deskTurn, in flows.Input, extra map[string]any) error {
	sig := in.Signal
	conv, err := d.tx.Conversation(ctx, d.t.ConversationID)
	if err != nil {
		return err
	}
	s, err := d.tx.Session(ctx, conv.ID)
	if errors.Is(err, ErrNotFound) {
		s = flows.NewSession(d.t.Lang)
	} else if err != nil {
		return err
	}
	in.Caps = e.caps(conv.Channel)
	next, effects, err := e.flows.Step(s, in)
	if err != nil {
		return fmt.Errorf("bot: signal %s to conversation %d: %w", sig, conv.ID, err)
	}
	t := &turn{tx: d.tx, conv: conv, sess: &next, at: d.at, extra: extra}
	// Effects on this very ticket are applied to d.t by the desk turn; flows may still change others.
	if err := e.apply(ctx, t, effects); err != nil {
		return err
	}
	d.sent += t.sent
	return d.tx.SaveSession(ctx, conv.ID, next, d.at)
}
