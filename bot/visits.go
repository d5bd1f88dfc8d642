package bot

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kefu-dev/kefu/flows"
)

// Return visits (回访): resolving a complaint makes a visit due in ComplaintConfig.VisitDays working days
// (the SLA calendar); a survey score <= 3 makes one due within LowRatingVisit. A visit is done only
// when its owner records an outcome (an internal note is not a visit); "not satisfied" reopens the
// ticket. An undone visit at its due time pings the supervisors once (sla_fired), and resolved tickets
// the customer never confirms close themselves after AutoClose (Housekeep).

// EvVisit records a return visit's creation and outcome; EvVisitOverdue the supervisors' ping.
const (
	EvVisit        EventKind = "return_visit"
	EvVisitOverdue EventKind = "return_visit_overdue"
)

// ErrNoVisit refuses an outcome on a ticket with no return visit due.
var ErrNoVisit = fmt.Errorf("no return visit due: %w", ErrBadInput)

// Workdays adds working days (bot/sla's *Calendar implements it).
type Workdays interface {
	AddWorkdays(start time.Time, n int) time.Time
}

// weekdays is the default calendar of return visits: Monday to Friday, closing at 18:00 in loc.
type weekdays struct{ loc *time.Location }

func (w weekdays) AddWorkdays(start time.Time, n int) time.Time {
	t := start.In(w.loc)
	d := time.Date(t.Year(), t.Month(), t.Day(), 18, 0, 0, 0, w.loc)
	for n > 0 {
		d = d.AddDate(0, 0, 1)
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			n--
		}
	}
	return d
}

// scheduleVisit makes a return visit of reason due at due on t, unless one of that reason is done.
func scheduleVisit(ctx context.Context, tx Tx, t Ticket, reason, owner string, due, at time.Time) (bool, error) {
	vs, err := tx.ReturnVisits(ctx, t.ID)
	if err != nil {
		return false, err
	}
	for _, v := range vs {
		if v.Reason == reason && (v.Done() || !v.DueAt.After(due)) {
			return false, nil // done already, or due as early
		}
	}
	_, err = tx.SaveReturnVisit(ctx, ReturnVisit{TicketID: t.ID, Reason: reason, Owner: owner, DueAt: due, CreatedAt: at})
	return err == nil, err
}

// complaintVisit schedules the visit of a resolved complaint (in the resolve desk turn).
func (e *Engine) complaintVisit(ctx context.Context, d *deskTurn) error {
	if !d.t.Complaint {
		return nil
	}
	due := e.workdays.AddWorkdays(d.at, e.cc.VisitDays)
	ok, err := scheduleVisit(ctx, d.tx, d.t, VisitComplaint, firstNonEmptyStr(d.t.Assignee, d.actor.ID), due, d.at)
	if err != nil || !ok {
		return err
	}
	d.event(EvVisit, fmt.Sprintf("%s due %s", VisitComplaint, e.stamp(due)), false)
	return nil
}

// lowRatingVisit schedules a supervisor's visit after a score <= 3 (in the customer's turn).
func (e *Engine) lowRatingVisit(ctx context.Context, t *turn, tk Ticket) error {
	due := t.at.Add(e.cc.LowRatingVisit)
	ok, err := scheduleVisit(ctx, t.tx, tk, VisitLowRating, "", due, t.at)
	if err != nil || !ok {
		return err
	}
	_, err = t.tx.AddEvent(ctx, TicketEvent{TicketID: tk.ID, TicketNo: tk.No, At: t.at, Actor: "bot", Kind: EvVisit,
		Text: fmt.Sprintf("%s due %s", VisitLowRating, e.stamp(due))})
	return err
}

// RecordVisit records the outcome of the ticket's earliest undone return visit (satisfied or
// not_satisfied, with a note). "not_satisfied" reopens the ticket for the agent.
func (e *Engine) RecordVisit(ctx context.Context, a Actor, no, outcome, note string) (ReturnVisit, error) {
	if outcome != VisitSatisfied && outcome != VisitNotSatisfied {
		return ReturnVisit{}, fmt.Errorf("bot: return visit outcome %q: %w (want satisfied or not_satisfied)", outcome, ErrBadInput)
	}
	note = flows.Normalize(note)
	var out ReturnVisit
	_, err := e.desk(ctx, a, no, func(ctx context.Context, d *deskTurn) error {
		vs, err := d.tx.ReturnVisits(ctx, d.t.ID)
		if err != nil {
			return err
		}
		var v *ReturnVisit
		for i := range vs {
			if !vs[i].Done() && (v == nil || vs[i].DueAt.Before(v.DueAt)) {
				v = &vs[i]
			}
		}
		if v == nil {
			return fmt.Errorf("bot: return visit on %s: %w", d.t.No, ErrNoVisit)
		}
		at := d.at
		v.Outcome, v.Note, v.DoneBy, v.DoneAt = outcome, truncateRunes(note, 2000), d.actor.ID, &at
		if out, err = d.tx.SaveReturnVisit(ctx, *v); err != nil {
			return err
		}
		out.TicketNo = d.t.No
		d.event(EvVisit, fmt.Sprintf("%s: %s %s", v.Reason, outcome, note), false)
		if outcome == VisitNotSatisfied && !d.t.Open() {
			d.t.Status, d.t.ResolvedAt, d.t.ClosedAt = StatusOpen, nil, nil
			d.t.Reopens++
			d.changed = true
			d.event(EvReopened, "return visit: not satisfied: "+note, false)
		}
		return nil
	})
	return out, err
}

// HousekeepResult counts what one Housekeep pass did.
type HousekeepResult struct {
	AutoClosed   int
	VisitsPinged int
	TasksPinged  int // late follow-through tasks (tasks.go)
}

// systemActor acts for kefu itself (auto-closing): never authorized from outside.
var systemActor = Actor{ID: "system", Name: "kefu", Supervisor: true}

// Housekeep closes resolved tickets unconfirmed for ComplaintConfig.AutoClose (an audit event says
// so, the customer is told) and pings the supervisors once for each return visit and each
// follow-through task past its due time.
// Several processes may run it: each close is a conditional desk transaction and each ping is
// recorded once in sla_fired.
func (e *Engine) Housekeep(ctx context.Context) (HousekeepResult, error) {
	var res HousekeepResult
	now := e.now().UTC()
	if e.cc.AutoClose > 0 {
		tks, err := e.store.ListTickets(ctx, TicketFilter{Statuses: []Status{StatusResolved}, Limit: 500})
		if err != nil {
			return res, err
		}
		for _, tk := range tks {
			if tk.ResolvedAt == nil || now.Sub(*tk.ResolvedAt) < e.cc.AutoClose {
				continue
			}
			closed := false
			_, err := e.deskTx(ctx, systemActor, tk.No, func(ctx context.Context, d *deskTurn) error {
				if d.t.Status != StatusResolved || d.t.ResolvedAt == nil || now.Sub(*d.t.ResolvedAt) < e.cc.AutoClose {
					return nil // confirmed, reopened or closed meanwhile
				}
				at := d.at
				d.event(EvClosed, fmt.Sprintf("auto-closed: resolved %s ago, not confirmed by the customer", e.cc.AutoClose), false)
				d.t.Status, d.t.ClosedAt = StatusClosed, &at
				d.changed, closed = true, true
				return e.signal(ctx, d, flows.SignalClosed, map[string]any{"no": d.t.No})
			})
			if err != nil && !errors.Is(err, ErrUnknownTkt) {
				return res, err
			}
			if closed {
				res.AutoClosed++
			}
		}
	}
	err := e.store.Tx(ctx, func(tx Tx) error {
		res.VisitsPinged = 0
		vs, err := tx.DueVisits(ctx, now, 200)
		if err != nil {
			return err
		}
		for _, v := range vs {
			first, err := tx.FireOnce(ctx, v.TicketID, "return_visit", v.Reason, v.DueAt, now)
			if err != nil {
				return err
			}
			if !first {
				continue
			}
			owner := firstNonEmptyStr(v.Owner, "-")
			if _, err := tx.AddEvent(ctx, TicketEvent{TicketID: v.TicketID, TicketNo: v.TicketNo, At: now, Actor: "system",
				Kind: EvVisitOverdue, Text: fmt.Sprintf("%s due %s, owner %s", v.Reason, e.stamp(v.DueAt), owner)}); err != nil {
				return err
			}
			res.VisitsPinged++
		}
		res.TasksPinged, err = e.pingLateTasks(ctx, tx, now)
		return err
	})
	return res, err
}

func firstNonEmptyStr(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
