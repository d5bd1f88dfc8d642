package sla

import (
	"time"
)

// TicketClock is everything the due-time computation needs to know about a ticket. Storage keeps
// these fields as columns of the ticket (see the package doc); the engine updates them with the
// pure transition methods below (Opened, StatusChanged, PriorityChanged, CustomerMessage,
// AgentReply, CustomerUpdated) in the same transaction as the change they record.
// Zero times mean "not set".
type TicketClock struct {
	Priority Priority
	Category string
	Channel  string // the channel the ticket was opened from: its own first-response promise applies
	Status   Status

	CreatedAt time.Time // the first-response clock starts here
	// Start is when the resolution clock started: CreatedAt, the last reopening, or (policy
	// on_priority_change: restart) the last priority change. Zero means CreatedAt.
	Start time.Time
	// PriorityAt is the last priority change; with on_priority_change: restart the first-response
	// clock runs from it. Zero: never changed.
	PriorityAt time.Time

	// Paused time since Start, on both clocks (a priority change may switch clocks): the sum of the
	// finished pending periods. The current one, if any, starts at PendingSince.
	PausedBusiness time.Duration
	PausedWall     time.Duration
	PendingSince   time.Time // set while Status is pending

	FirstResponseAt time.Time // the first agent reply to the customer
	WaitingSince    time.Time // the customer's oldest message not answered yet (after the first response)
	LastUpdateAt    time.Time // the last agent reply or bot progress update that reached the customer
	ResolvedAt      time.Time // resolved or closed; cleared by a reopening
}

func (tc TicketClock) start() time.Time {
	if tc.Start.IsZero() {
		return tc.CreatedAt
	}
	return tc.Start
}

func closed(s Status) bool { return s == StatusResolved || s == StatusClosed }

// Deadline is one target's state.
type Deadline struct {
	Target Target
	Clock  Clock
	Within time.Duration
	Start  time.Time // where the clock started (zero: the target does not apply now)
	// Due is when the target is missed. It is zero when the target does not apply (no customer
	// waiting) or while its clock is paused and not yet run out; then Left tells what remains.
	Due    time.Time
	WarnAt time.Time // when to warn; zero: no warning
	Paused bool
	Left   time.Duration // time left on the clock while Paused
	DoneAt time.Time     // when the target was met or missed for good (reply, resolution)
}

// Applies reports whether the target is being measured (running, paused or done).
func (d Deadline) Applies() bool { return !d.Start.IsZero() }

// Running reports whether the clock is running towards Due.
func (d Deadline) Running() bool { return !d.Due.IsZero() && d.DoneAt.IsZero() }

// Breached reports whether the target is missed at now: done after Due, or not done and now >= Due.
func (d Deadline) Breached(now time.Time) bool {
	if d.Due.IsZero() {
		return false
	}
	if !d.DoneAt.IsZero() {
		return d.DoneAt.After(d.Due)
	}
	return !now.Before(d.Due)
}

// Met reports whether a done target was met in time (false while not done).
func (d Deadline) Met() bool { return !d.DoneAt.IsZero() && !d.Due.IsZero() && !d.DoneAt.After(d.Due) }

// Deadlines are a ticket's due times.
type Deadlines struct {
	FirstResponse Deadline
	NextResponse  Deadline
	Resolution    Deadline
	// CustomerUpdate is when the customer is owed a "still being handled" message: the update
	// interval after the latest of creation, reopening, the last update that reached them, and their
	// oldest unanswered message. Zero: not owed (resolved, pending, or turned off).
	CustomerUpdate time.Time
}

// All returns the three deadlines in a fixed order.
func (ds Deadlines) All() [3]Deadline {
	return [3]Deadline{ds.FirstResponse, ds.NextResponse, ds.Resolution}
}

// Due computes a ticket's deadlines. It is a pure function of the policy and tc: calling it again
// after any change (priority, pending, reopening) recomputes everything.
func (p *Policy) Due(tc TicketClock) Deadlines {
	r := p.rule(tc.Priority, tc.Category)
	var ds Deadlines

	// First response: from creation (or, in restart mode, the last priority change); never paused.
	{
		start := tc.CreatedAt
		if p.restart && tc.PriorityAt.After(start) && tc.FirstResponseAt.IsZero() {
			start = tc.PriorityAt
		}
		g, _ := p.firstGoal(tc.Priority, tc.Category, tc.Channel, start)
		cal := p.cal(g.clock)
		d := Deadline{Target: FirstResponse, Clock: g.clock, Within: g.within, Start: start, DoneAt: tc.FirstResponseAt}
		d.Due = cal.Add(start, g.within)
		if g.lead > 0 {
			d.WarnAt = cal.Add(start, g.within-g.lead)
		}
		ds.FirstResponse = d
	}

	// Next response: from the customer's oldest unanswered message, once the first response is out.
	if !tc.FirstResponseAt.IsZero() && !tc.WaitingSince.IsZero() && !closed(tc.Status) && tc.Status != StatusPending {
		g := r.next
		cal := p.cal(g.clock)
		d := Deadline{Target: NextResponse, Clock: g.clock, Within: g.within, Start: tc.WaitingSince}
		d.Due = cal.Add(tc.WaitingSince, g.within)
		if g.lead > 0 {
			d.WarnAt = cal.Add(tc.WaitingSince, g.within-g.lead)
		}
		ds.NextResponse = d
	} else {
		ds.NextResponse = Deadline{Target: NextResponse, Clock: r.next.clock, Within: r.next.within}
	}

	// Resolution: from Start, minus the finished pending periods; paused while pending.
	{
		g := r.resolution
		cal := p.cal(g.clock)
		start := tc.start()
		paused := tc.PausedBusiness
		if g.clock == AllDay {
			paused = tc.PausedWall
		}
		d := Deadline{Target: Resolution, Clock: g.clock, Within: g.within, Start: start, DoneAt: tc.ResolvedAt}
		// Past pauses all lie before now, so the clock reaches within+paused of elapsed time exactly
		// when within of unpaused time has run.
		due := cal.Add(start, g.within+paused)
		if tc.Status == StatusPending && !tc.PendingSince.IsZero() && due.After(tc.PendingSince) {
			d.Paused = true
			d.Left = g.within - (cal.Elapsed(start, tc.PendingSince) - paused)
		} else {
			d.Due = due
			if g.lead > 0 {
				d.WarnAt = cal.Add(start, g.within-g.lead+paused)
				if tc.Status == StatusPending && !tc.PendingSince.IsZero() && d.WarnAt.After(tc.PendingSince) {
					d.WarnAt = time.Time{} // breached before the pause: the warning is moot
				}
			}
		}
		ds.Resolution = d
	}

	// Customer update: every custEvery without an update, while the ticket is being worked on.
	if p.custEvery > 0 && !closed(tc.Status) && tc.Status != StatusPending {
		c := p.custClock
		if c == "" {
			c = r.resolution.clock
		}
		// Silence counts from the last update that reached the customer, or from their own oldest
		// unanswered message (after a pending period, the clock starts when they answer).
		base := latest(tc.CreatedAt, tc.Start, tc.LastUpdateAt, tc.WaitingSince)
		ds.CustomerUpdate = p.cal(c).Add(base, p.custEvery)
	}
	return ds
}

func latest(ts ...time.Time) time.Time {
	var m time.Time
	for _, t := range ts {
		if t.After(m) {
			m = t
		}
	}
	return m
}

// Opened returns the clock of a ticket opened at `at`.
func (p *Policy) Opened(pr Priority, category string, at time.Time) TicketClock {
	return TicketClock{Priority: pr, Category: category, Status: StatusOpen, CreatedAt: at, Start: at}
}

// OpenedOn returns the clock of a ticket opened at `at` from channel.
func (p *Policy) OpenedOn(pr Priority, category, channel string, at time.Time) TicketClock {
	tc := p.Opened(pr, category, at)
	tc.Channel = channel
	return tc
}

// resume folds a running pending period into the paused totals.
func (p *Policy) resume(tc TicketClock, at time.Time) TicketClock {
	if tc.PendingSince.IsZero() {
		return tc
	}
	from := latest(tc.PendingSince, tc.start())
	if at.After(from) {
		tc.PausedBusiness += p.business.Elapsed(from, at)
		tc.PausedWall += at.Sub(from)
	}
	tc.PendingSince = time.Time{}
	return tc
}

// StatusChanged records a status change at `at`: entering pending pauses the resolution clock,
// leaving it resumes the clock, resolving/closing stops it, and moving a resolved or closed ticket
// back to open or in_progress reopens it (the resolution clock restarts from `at`).
func (p *Policy) StatusChanged(tc TicketClock, s Status, at time.Time) TicketClock {
	old := tc.Status
	if old == s {
		return tc
	}
	if old == StatusPending {
		tc = p.resume(tc, at)
	}
	switch {
	case closed(s):
		if tc.ResolvedAt.IsZero() {
			tc.ResolvedAt = at
		}
	case closed(old): // reopened
		tc.Start = at
		tc.PausedBusiness, tc.PausedWall = 0, 0
		tc.ResolvedAt = time.Time{}
		tc.LastUpdateAt = at // the reopening itself is acknowledged to the customer
		if s == StatusPending {
			tc.PendingSince = at
		}
	case s == StatusPending:
		tc.PendingSince = at
	}
	tc.Status = s
	return tc
}

// PriorityChanged records a priority change at `at`. Due then measures the new priority's targets
// from the original start (recompute) or from `at` (restart).
func (p *Policy) PriorityChanged(tc TicketClock, pr Priority, at time.Time) TicketClock {
	if tc.Priority == pr {
		return tc
	}
	tc.Priority = pr
	tc.PriorityAt = at
	if p.restart && !closed(tc.Status) {
		tc.Start = at
		tc.PausedBusiness, tc.PausedWall = 0, 0
		if tc.Status == StatusPending {
			tc.PendingSince = at
		}
	}
	return tc
}

// CustomerMessage records a customer message at `at`: the next-response clock starts if it is not
// running, and a pending ticket resumes (its Status becomes in_progress, which the engine mirrors on
// the ticket).
func (p *Policy) CustomerMessage(tc TicketClock, at time.Time) TicketClock {
	if tc.Status == StatusPending {
		tc = p.StatusChanged(tc, StatusInProgress, at)
	}
	if tc.WaitingSince.IsZero() && !tc.FirstResponseAt.IsZero() && !closed(tc.Status) {
		tc.WaitingSince = at
	}
	return tc
}

// AgentReply records an agent reply that reached the customer at `at`: it is the first response if
// there was none, and it answers the waiting customer.
func (p *Policy) AgentReply(tc TicketClock, at time.Time) TicketClock {
	if tc.FirstResponseAt.IsZero() {
		tc.FirstResponseAt = at
	}
	tc.WaitingSince = time.Time{}
	tc.LastUpdateAt = at
	return tc
}

// CustomerUpdated records a bot progress message ("still being handled") sent at `at`.
func (p *Policy) CustomerUpdated(tc TicketClock, at time.Time) TicketClock {
	tc.LastUpdateAt = at
	return tc
}
