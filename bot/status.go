package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/kefu-dev/kefu/flows"
)

// Status order (issue 11): a ticket reaches resolved or closed only after an agent answered the
// customer, or with a reason a supervisor gives (ForceResolve, ForceClose), recorded on the ticket.

// ErrNoReply refuses resolving or closing a ticket no agent has answered.
var ErrNoReply = errors.New("no agent reply yet")

// EvForced records a supervisor's reason for resolving or closing a ticket nobody answered.
const EvForced EventKind = "forced"

// statusOrder lets a resolve/close through when an agent replied (or the ticket was already resolved
// that way), or with force: a supervisor's non-empty reason, written to the audit trail.
func statusOrder(d *deskTurn, verb, force string) error {
	force = flows.Normalize(force)
	if force == "" {
		if d.t.FirstResponseAt != nil || d.t.Status == StatusResolved {
			return nil
		}
		return fmt.Errorf("bot: %s %s: %w (reply first, or a supervisor gives a reason)", verb, d.t.No, ErrNoReply)
	}
	if !d.actor.Supervisor {
		return fmt.Errorf("bot: %s %s with a reason: %w", verb, d.t.No, ErrSupervisorOnly)
	}
	d.event(EvForced, verb+": "+force, true)
	return nil
}

// ForceResolve resolves a ticket no agent answered, with a supervisor's reason (recorded).
func (e *Engine) ForceResolve(ctx context.Context, a Actor, no, summary, reason string) (Ticket, error) {
	if strings.TrimSpace(reason) == "" {
		return Ticket{}, fmt.Errorf("bot: force resolve %s: %w: empty reason", no, ErrBadInput)
	}
	return e.resolve(ctx, a, no, summary, reason)
}

// ForceClose closes a ticket no agent answered, with a supervisor's reason (recorded).
func (e *Engine) ForceClose(ctx context.Context, a Actor, no, reason string) (Ticket, error) {
	if strings.TrimSpace(reason) == "" {
		return Ticket{}, fmt.Errorf("bot: force close %s: %w: empty reason", no, ErrBadInput)
	}
	return e.close(ctx, a, no, reason)
}
