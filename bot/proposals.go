package bot

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/kefu-dev/kefu/flows"
)

// Standard solutions: an agent proposes one from the library; within the agent's limit it goes to the
// customer at once, above it a supervisor approves (or rejects) first. The customer accepts or declines
// with buttons on every channel; a decline goes back to the agent with the reason.

// EvProposal records a proposal's life: proposed, approved, rejected, offered, accepted, declined.
const EvProposal EventKind = "proposal"

// ErrUnknownSolution refuses a solution that is not in the library.
var ErrUnknownSolution = fmt.Errorf("unknown solution: %w", ErrBadInput)

// ParseYuan reads an amount in yuan ("200", "12.5", "¥30", "30元") as fen.
func ParseYuan(s string) (int64, error) {
	t := strings.TrimSpace(s)
	t = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(t, "¥"), "￥"), "元")
	v, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil || v <= 0 || v > 1e8 || math.IsNaN(v) {
		return 0, fmt.Errorf("bot: amount %q: %w (want yuan, like 200 or 12.50)", s, ErrBadInput)
	}
	fen := math.Round(v * 100)
	if math.Abs(fen-v*100) > 1e-6 {
		return 0, fmt.Errorf("bot: amount %q: %w (at most two decimals)", s, ErrBadInput)
	}
	return int64(fen), nil
}

// Yuan renders fen as yuan: "200", "12.50".
func Yuan(fen int64) string {
	if fen%100 == 0 {
		return strconv.FormatInt(fen/100, 10)
	}
	return fmt.Sprintf("%d.%02d", fen/100, fen%100)
}

func (e *Engine) solution(key string) (Solution, bool) {
	for _, s := range e.cc.Solutions {
		if s.Key == key {
			return s, true
		}
	}
	return Solution{}, false
}

// Limit is the amount (fen) actor may grant alone with solution s; -1 means every proposal needs a
// supervisor.
func (e *Engine) Limit(a Actor, s Solution) int64 {
	if s.Approval {
		return -1
	}
	yuan := s.Limit
	if m, ok := e.cc.AgentLimits[a.ID]; ok {
		if v, ok := m[s.Key]; ok {
			yuan = v
		}
	}
	return int64(math.Round(yuan * 100))
}

// Propose offers solution (with amount in fen, for solutions that take one) on ticket no.
func (e *Engine) Propose(ctx context.Context, a Actor, no, solution string, amount int64) (Proposal, error) {
	sol, ok := e.solution(solution)
	if !ok {
		keys := make([]string, len(e.cc.Solutions))
		for i, s := range e.cc.Solutions {
			keys[i] = s.Key
		}
		return Proposal{}, fmt.Errorf("bot: propose %q on %s: %w (known: %s)", solution, no, ErrUnknownSolution, strings.Join(keys, ", "))
	}
	switch {
	case sol.Amount && amount <= 0:
		return Proposal{}, fmt.Errorf("bot: propose %s on %s: %w: an amount is needed", solution, no, ErrBadInput)
	case !sol.Amount && amount != 0:
		return Proposal{}, fmt.Errorf("bot: propose %s on %s: %w: this solution takes no amount", solution, no, ErrBadInput)
	}
	var out Proposal
	_, err := e.desk(ctx, a, no, func(ctx context.Context, d *deskTurn) error {
		if err := notClosed(d.t); err != nil {
			return err
		}
		if !d.t.Complaint && !e.cc.ProposeAny {
			return fmt.Errorf("bot: propose on %s: %w (complaints.propose_any is off)", d.t.No, ErrNotComplaint)
		}
		ps, err := d.tx.Proposals(ctx, d.t.ID)
		if err != nil {
			return err
		}
		for _, p := range ps {
			if p.Status == ProposalApproval || p.Status == ProposalOffered {
				return fmt.Errorf("bot: propose on %s: proposal #%d is still %s: %w", d.t.No, p.ID, p.Status, ErrConflict)
			}
		}
		p := Proposal{TicketID: d.t.ID, TicketNo: d.t.No, Solution: sol.Key, Amount: amount, Status: ProposalOffered,
			ProposedBy: d.actor.ID, CreatedAt: d.at}
		limit := e.Limit(d.actor, sol)
		if !d.actor.Supervisor && (limit < 0 || amount > limit) {
			p.Status = ProposalApproval
		}
		if d.actor.Supervisor {
			p.ApprovedBy = d.actor.ID
		}
		if p, err = d.tx.SaveProposal(ctx, p); err != nil {
			return err
		}
		out = p
		if p.Status == ProposalApproval {
			d.event(EvProposal, fmt.Sprintf("#%d %s %s: needs approval (limit %s)", p.ID, p.Solution, Yuan(p.Amount), Yuan(max(limit, 0))), false)
			return nil
		}
		d.event(EvProposal, fmt.Sprintf("#%d %s %s: offered", p.ID, p.Solution, Yuan(p.Amount)), false)
		return e.offer(ctx, d, p)
	})
	return out, err
}

// offer sends p to the customer with accept / decline buttons.
func (e *Engine) offer(ctx context.Context, d *deskTurn, p Proposal) error {
	extra := map[string]any{"no": d.t.No, "solution": "solution." + p.Solution}
	if p.Amount > 0 {
		extra["amount"] = Yuan(p.Amount)
	}
	return e.signalInput(ctx, d, flows.Input{Signal: flows.SignalProposal, TicketNo: d.t.No, Args: strconv.FormatInt(p.ID, 10), At: d.at}, extra)
}

// Approve lets a proposal above the proposer's limit go to the customer (supervisors only).
func (e *Engine) Approve(ctx context.Context, a Actor, no string, id int64) (Proposal, error) {
	return e.supervise(ctx, a, no, id, true, "")
}

// Reject refuses a proposal waiting for approval, with a reason (supervisors only).
func (e *Engine) Reject(ctx context.Context, a Actor, no string, id int64, reason string) (Proposal, error) {
	if strings.TrimSpace(reason) == "" {
		return Proposal{}, fmt.Errorf("bot: reject proposal #%d: %w: a reason is needed", id, ErrBadInput)
	}
	return e.supervise(ctx, a, no, id, false, flows.Normalize(reason))
}

func (e *Engine) supervise(ctx context.Context, a Actor, no string, id int64, approve bool, reason string) (Proposal, error) {
	var out Proposal
	_, err := e.desk(ctx, a, no, func(ctx context.Context, d *deskTurn) error {
		if !d.actor.Supervisor {
			return fmt.Errorf("bot: approve proposal #%d: %w", id, ErrSupervisorOnly)
		}
		if err := notClosed(d.t); err != nil {
			return err
		}
		p, err := findProposal(ctx, d.tx, d.t, id)
		if err != nil {
			return err
		}
		if p.Status != ProposalApproval {
			return fmt.Errorf("bot: proposal #%d is %s, not waiting for approval: %w", id, p.Status, ErrConflict)
		}
		at := d.at
		p.DecidedAt = &at
		if approve {
			p.Status, p.ApprovedBy = ProposalOffered, d.actor.ID
		} else {
			p.Status, p.Reason = ProposalRejected, reason
		}
		if out, err = d.tx.SaveProposal(ctx, p); err != nil {
			return err
		}
		if !approve {
			d.event(EvProposal, fmt.Sprintf("#%d %s %s: rejected: %s", p.ID, p.Solution, Yuan(p.Amount), reason), false)
			return nil
		}
		d.event(EvProposal, fmt.Sprintf("#%d %s %s: approved and offered", p.ID, p.Solution, Yuan(p.Amount)), false)
		return e.offer(ctx, d, p)
	})
	return out, err
}

// ErrNoProposal refuses a decision on a proposal the ticket does not have.
var ErrNoProposal = fmt.Errorf("no such proposal: %w", ErrNotFound)

func findProposal(ctx context.Context, tx Tx, t Ticket, id int64) (Proposal, error) {
	ps, err := tx.Proposals(ctx, t.ID)
	if err != nil {
		return Proposal{}, err
	}
	for _, p := range ps {
		if p.ID == id {
			return p, nil
		}
	}
	return Proposal{}, fmt.Errorf("bot: proposal #%d on %s: %w", id, t.No, ErrNoProposal)
}

// decideProposal records the customer's answer (flows.DecideProposal) on their own ticket.
func (e *Engine) decideProposal(ctx context.Context, t *turn, x flows.DecideProposal) error {
	id, err := strconv.ParseInt(x.ID, 10, 64)
	if err != nil {
		e.log.WarnContext(ctx, "proposal decision without an id", "conversation_id", t.conv.ID)
		return nil
	}
	return e.customerTicket(ctx, t, x.No, func(tk *Ticket) (EventKind, string, error) {
		p, err := findProposal(ctx, t.tx, *tk, id)
		if errors.Is(err, ErrNotFound) {
			return "", "", nil
		}
		if err != nil {
			return "", "", err
		}
		if p.Status != ProposalOffered { // withdrawn or decided already: nothing to record
			return "", "", nil
		}
		at := t.at.UTC()
		p.DecidedAt = &at
		text := ""
		if x.Accept {
			p.Status = ProposalAccepted
			text = fmt.Sprintf("#%d %s %s: accepted by the customer", p.ID, p.Solution, Yuan(p.Amount))
			if p.ApprovedBy != "" {
				text += " (approved by " + p.ApprovedBy + ")"
			}
		} else {
			p.Status, p.Reason = ProposalDeclined, truncateRunes(x.Reason, 2000)
			text = fmt.Sprintf("#%d %s %s: declined by the customer: %s", p.ID, p.Solution, Yuan(p.Amount), p.Reason)
			if tk.Status == StatusPending {
				tk.Status = StatusInProgress
			}
		}
		if _, err := t.tx.SaveProposal(ctx, p); err != nil {
			return "", "", err
		}
		return EvProposal, text, nil
	})
}
