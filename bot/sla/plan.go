package sla

import (
	"encoding/json"
	"fmt"
	"time"
)

// Kind is what a notification is about.
type Kind string

const (
	// KindWarn: the deadline is near (the warning lead). Goes to the policy's warn_notify.
	KindWarn Kind = "warn"
	// KindBreach: the deadline passed (escalation level 1). For first_response and resolution the
	// engine also stamps the target as breached on the ticket.
	KindBreach Kind = "breach"
	// KindEscalate: a further escalation level was reached (Level >= 2).
	KindEscalate Kind = "escalate"
	// KindRepeat: the breach is still not acknowledged; Level is the repeat number (1, 2, …).
	KindRepeat Kind = "repeat"
	// KindCustomerUpdate: tell the customer the ticket is still being handled.
	KindCustomerUpdate Kind = "customer_update"

	// The two kinds below are never planned; they only record changes in the audit trail (EvSLA
	// events with the same JSON Text).

	// KindAck: a breach was acknowledged (By holds who acknowledged it).
	KindAck Kind = "ack"
	// KindRecomputed: a priority change or reopening moved Target's deadline to Due.
	KindRecomputed Kind = "recomputed"
)

// Key identifies a notification. A notification is sent at most once per Key: a recomputed
// deadline (priority change, reopening, pause) has a new Due and so new keys.
type Key struct {
	TicketID int64
	Kind     Kind
	Target   Target // empty for customer updates
	Level    int    // escalation level (breach 1, escalate 2…), repeat number, or 0
	Due      time.Time
}

func (k Key) String() string {
	return fmt.Sprintf("%d/%s/%s/%d/%s", k.TicketID, k.Kind, k.Target, k.Level, k.Due.UTC().Format(time.RFC3339Nano))
}

// Notify is one notification for the engine to record and deliver.
type Notify struct {
	Key
	TicketNo  string
	Priority  Priority
	Assignee  string
	LevelName string     // escalation level name ("team_lead")
	Audience  []Audience // empty for customer updates (the customer)
	At        time.Time  // when it was scheduled (warn time, deadline, …)
	By        string     // KindAck: who acknowledged (an actor id)
}

type notifyJSON struct {
	TicketID int64     `json:"ticket_id"`
	Kind     Kind      `json:"kind"`
	Target   Target    `json:"target,omitempty"`
	Level    int       `json:"level,omitempty"`
	Due      time.Time `json:"due"`
	notifyRest
}

type notifyRest struct {
	TicketNo  string     `json:"ticket_no"`
	Priority  Priority   `json:"priority"`
	Assignee  string     `json:"assignee,omitempty"`
	LevelName string     `json:"level_name,omitempty"`
	Audience  []Audience `json:"audience,omitempty"`
	At        time.Time  `json:"at"`
	By        string     `json:"by,omitempty"`
}

// Text encodes n as one line of JSON: the Text of the EvSLA ticket event that records it, which
// team-side workers (Slack) read back with ParseNotify.
func (n Notify) Text() string {
	b, _ := json.Marshal(notifyJSON{n.TicketID, n.Kind, n.Target, n.Level, n.Due.UTC(),
		notifyRest{n.TicketNo, n.Priority, n.Assignee, n.LevelName, n.Audience, n.At.UTC(), n.By}})
	return string(b)
}

// ParseNotify decodes the Text of an EvSLA event.
func ParseNotify(s string) (Notify, error) {
	var j notifyJSON
	if err := json.Unmarshal([]byte(s), &j); err != nil {
		return Notify{}, fmt.Errorf("sla: parse notify: %w", err)
	}
	if j.Kind == "" || j.TicketID == 0 {
		return Notify{}, fmt.Errorf("sla: parse notify: missing kind or ticket id")
	}
	return Notify{Key: Key{j.TicketID, j.Kind, j.Target, j.Level, j.Due}, TicketNo: j.TicketNo,
		Priority: j.Priority, Assignee: j.Assignee, LevelName: j.LevelName, Audience: j.Audience, At: j.At, By: j.By}, nil
}

// Item is what the scanner reads about a ticket that is due for a check.
type Item struct {
	TicketID int64
	TicketNo string
	Assignee string
	// Version changes with every change of the ticket's clock fields (or of AckedAt); Reschedule
	// only writes when it still matches, so a stale plan never overwrites a fresh one.
	Version int64
	// AckedAt is the last acknowledgement of a breach (button or /kefu ack). It stops the repeats
	// and further escalation of every deadline that had passed by then.
	AckedAt time.Time
	Clock   TicketClock
}

func acked(it Item, due time.Time) bool { return !it.AckedAt.IsZero() && !it.AckedAt.Before(due) }

// Plan returns the notifications due for it at now and the next instant at which the ticket needs
// looking at (zero: never, until its clock changes). It is pure: the scanner offers every returned
// notification to Store.MarkFired, which drops the ones already sent, so planning the same ticket
// twice, or in three processes at once, sends nothing twice.
//
// Only current notifications are returned: a warning whose deadline has passed is dropped, and of
// the breach repeats only the latest is offered, so a scanner that was down for hours sends one
// catch-up ping, not a burst.
func (p *Policy) Plan(it Item, now time.Time) (due []Notify, next time.Time) {
	ds := p.Due(it.Clock)
	soon := func(t time.Time) {
		if t.After(now) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	mk := func(k Kind, t Target, level int, dueAt, at time.Time, aud []Audience, name string) Notify {
		return Notify{Key: Key{it.TicketID, k, t, level, dueAt}, TicketNo: it.TicketNo,
			Priority: it.Clock.Priority, Assignee: it.Assignee, LevelName: name, Audience: aud, At: at}
	}
	for _, d := range ds.All() {
		if !d.Running() {
			continue
		}
		if !d.WarnAt.IsZero() && d.WarnAt.Before(d.Due) {
			if !now.Before(d.WarnAt) && now.Before(d.Due) {
				due = append(due, mk(KindWarn, d.Target, 0, d.Due, d.WarnAt, p.warnNotify, ""))
			}
			soon(d.WarnAt)
		}
		soon(d.Due)
		if now.Before(d.Due) {
			continue
		}
		ack := acked(it, d.Due)
		reached := -1
		for i, l := range p.levels {
			at := d.Due.Add(time.Duration(l.After))
			if i > 0 && ack {
				break
			}
			if at.After(now) {
				soon(at)
				break
			}
			reached = i
			kind := KindEscalate
			if i == 0 {
				kind = KindBreach
			}
			due = append(due, mk(kind, d.Target, i+1, d.Due, at, l.Notify, l.Name))
		}
		if p.repeat > 0 && !ack && reached >= 0 {
			n := int(now.Sub(d.Due) / p.repeat)
			at := d.Due.Add(time.Duration(n) * p.repeat)
			if n >= 1 && !p.atLevel(d.Due, at) {
				l := p.levels[reached]
				due = append(due, mk(KindRepeat, d.Target, n, d.Due, at, l.Notify, l.Name))
			}
			soon(d.Due.Add(time.Duration(n+1) * p.repeat))
		}
	}
	if cu := ds.CustomerUpdate; !cu.IsZero() {
		if now.Before(cu) {
			soon(cu)
		} else {
			due = append(due, mk(KindCustomerUpdate, "", 0, cu, cu, nil, ""))
			// The engine records the update (CustomerUpdated), which moves the next one; look again
			// one interval from now in case it did not.
			c := p.custClock
			if c == "" {
				c = p.rule(it.Clock.Priority, it.Clock.Category).resolution.clock
			}
			soon(p.cal(c).Add(now, p.custEvery))
		}
	}
	return due, next
}

// atLevel reports whether a repeat at `at` coincides with an escalation level (which pings anyway).
func (p *Policy) atLevel(due, at time.Time) bool {
	for _, l := range p.levels {
		if due.Add(time.Duration(l.After)).Equal(at) {
			return true
		}
	}
	return false
}

// Next returns when the ticket should next be looked at, for the engine to store with a clock
// change: now if something is due already, else the next planned instant (zero: never).
func (p *Policy) Next(it Item, now time.Time) time.Time {
	due, next := p.Plan(it, now)
	if len(due) > 0 {
		return now
	}
	return next
}
