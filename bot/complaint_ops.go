package bot

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/kefu-dev/kefu/flows"
)

// EvComplaintLevel records a complaint's level and why ("L1 word: 漏电", "L2 repeat repeat_of=GD…").
// EvComplaint records the agent's core points, verification and responsible party.
const (
	EvComplaintLevel EventKind = "complaint_level"
	EvComplaint      EventKind = "complaint"
)

// complaintLevel applies the level rules to a new complaint: the customer's words, the category, the
// customer's flags and whether it repeats one of the last RepeatWindow.
func (e *Engine) complaintLevel(ctx context.Context, t *turn, in flows.Intake) (ComplaintLevel, string, string, error) {
	flags, err := t.tx.CustomerFlags(ctx, t.conv.CustomerID)
	if err != nil {
		return ComplaintLevel{}, "", "", err
	}
	repeatOf := ""
	if in.Category != "" {
		if repeatOf, err = t.tx.RecentComplaint(ctx, t.conv.CustomerID, in.Category, t.at.Add(-e.cc.RepeatWindow)); err != nil {
			return ComplaintLevel{}, "", "", err
		}
	}
	lv, why := e.cc.Level(ComplaintFacts{Text: in.Description + "\n" + in.FirstText, Category: in.Category, Flags: flags, Repeat: repeatOf != ""})
	return lv, repeatOf, why, nil
}

// ComplaintConfig returns the complaint configuration in use (defaults applied).
func (e *Engine) ComplaintConfig() ComplaintConfig { return e.cc }

// RecordComplaint records a complaint's core points, verification and responsible party (any of them
// may be left empty to keep what was recorded). Unknown keys are refused with ErrBadInput; the ticket
// must be a complaint.
func (e *Engine) RecordComplaint(ctx context.Context, a Actor, no string, d ComplaintDetails) (Ticket, error) {
	for _, p := range d.CorePoints {
		if !slices.Contains(e.cc.CorePoints, p) {
			return Ticket{}, fmt.Errorf("bot: complaint %s: core point %q: %w (known: %s)", no, p, ErrBadInput, strings.Join(e.cc.CorePoints, ", "))
		}
	}
	if d.Responsible != "" && !slices.Contains(e.cc.Parties, d.Responsible) {
		return Ticket{}, fmt.Errorf("bot: complaint %s: responsible party %q: %w (known: %s)", no, d.Responsible, ErrBadInput, strings.Join(e.cc.Parties, ", "))
	}
	d.Verification = flows.Normalize(d.Verification)
	return e.desk(ctx, a, no, func(ctx context.Context, dt *deskTurn) error {
		if !dt.t.Complaint {
			return fmt.Errorf("bot: complaint details on %s: %w: not a complaint", dt.t.No, ErrNotComplaint)
		}
		cur, err := dt.tx.ComplaintDetails(ctx, dt.t.ID)
		if err != nil {
			return err
		}
		if len(d.CorePoints) > 0 {
			cur.CorePoints = d.CorePoints
		}
		if d.Verification != "" {
			cur.Verification = d.Verification
		}
		if d.Responsible != "" {
			cur.Responsible = d.Responsible
		}
		cur.TicketID, cur.UpdatedBy, cur.UpdatedAt = dt.t.ID, dt.actor.ID, dt.at
		if err := dt.tx.SaveComplaintDetails(ctx, cur); err != nil {
			return err
		}
		dt.event(EvComplaint, fmt.Sprintf("points=%s responsible=%s verification=%s", strings.Join(cur.CorePoints, ","), cur.Responsible, cur.Verification), true)
		return nil
	})
}

// SetComplaintLevel changes a complaint's level (an agent's judgement); the priority is raised to the
// level's priority and the due times recomputed.
func (e *Engine) SetComplaintLevel(ctx context.Context, a Actor, no string, level int) (Ticket, error) {
	var lv *ComplaintLevel
	for i := range e.cc.Levels {
		if e.cc.Levels[i].Level == level {
			lv = &e.cc.Levels[i]
		}
	}
	if lv == nil {
		return Ticket{}, fmt.Errorf("bot: complaint level %d: %w", level, ErrBadInput)
	}
	return e.desk(ctx, a, no, func(ctx context.Context, d *deskTurn) error {
		if err := notClosed(d.t); err != nil {
			return err
		}
		if d.t.ComplaintLevel == level && d.t.Complaint {
			return nil
		}
		d.event(EvComplaintLevel, fmt.Sprintf("L%d->L%d by agent", d.t.ComplaintLevel, level), true)
		d.t.Complaint, d.t.ComplaintLevel = true, level
		if p := higher(d.t.Priority, lv.Priority); p != d.t.Priority {
			d.event(EvPriority, string(d.t.Priority)+"->"+string(p), false)
			d.t.Priority = p
		}
		d.t.FirstResponseDue, d.t.ResolutionDue = e.due(d.t.Priority, SLACategory(d.t.Category, level), d.t.Channel, d.t.CreatedAt)
		d.changed = true
		return nil
	})
}

// ErrNotComplaint refuses complaint operations on a ticket that is not a complaint.
var ErrNotComplaint = fmt.Errorf("not a complaint: %w", ErrBadInput)

// ComplaintView is what agents see of a complaint besides the ticket.
type ComplaintView struct {
	Details   ComplaintDetails
	Proposals []Proposal
	Visits    []ReturnVisit
	Tasks     []Task // follow-through tasks (any ticket may have them)
}

// Complaint returns the complaint records of a ticket (empty for tickets without any).
func (e *Engine) Complaint(ctx context.Context, t Ticket) (ComplaintView, error) {
	var v ComplaintView
	var err error
	if v.Details, err = e.store.ComplaintDetails(ctx, t.ID); err != nil {
		return v, err
	}
	if v.Proposals, err = e.store.Proposals(ctx, t.ID); err != nil {
		return v, err
	}
	if v.Visits, err = e.store.ReturnVisits(ctx, t.ID); err != nil {
		return v, err
	}
	if v.Tasks, err = e.store.Tasks(ctx, t.ID); err != nil {
		return v, err
	}
	for i := range v.Tasks {
		v.Tasks[i].TicketNo = t.No
	}
	return v, nil
}
