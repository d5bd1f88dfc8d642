package slack

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kefu-dev/kefu/bot"
)

// fakeDesk is an in-memory bot.Desk with the rules the adapter relies on: only agents act, a claimed
// ticket cannot be claimed by someone else, closed tickets refuse changes, every change is an event.
type fakeDesk struct {
	mu      sync.Mutex
	agents  map[string]bool // actor ids
	tickets map[string]*bot.Ticket
	events  []bot.TicketEvent
	calls   []string      // "Claim GD1 slack:U1"
	toCust  []string      // texts relayed to customers: "GD1: text"
	gate    chan struct{} // when set, every call waits for it (slow Desk)
	now     time.Time
}

func newFakeDesk(agents ...string) *fakeDesk {
	d := &fakeDesk{agents: map[string]bool{}, tickets: map[string]*bot.Ticket{},
		now: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	for _, a := range agents {
		d.agents[a] = true
	}
	return d
}

func (d *fakeDesk) wait() {
	if d.gate != nil {
		<-d.gate
	}
}

func (d *fakeDesk) event(no, actor string, kind bot.EventKind, text string, atts ...bot.Attachment) {
	t := d.tickets[no]
	d.events = append(d.events, bot.TicketEvent{ID: int64(len(d.events) + 1), Seq: int64(len(d.events) + 1), TicketID: t.ID, TicketNo: no,
		At: d.now, Actor: actor, Kind: kind, Text: text, Channel: t.Channel, Internal: kind == bot.EvNote,
		Attachments: atts})
}

// create opens a ticket as the engine would.
func (d *fakeDesk) create(t bot.Ticket) {
	d.mu.Lock()
	defer d.mu.Unlock()
	t.ID = int64(len(d.tickets) + 1)
	if t.Status == "" {
		t.Status = bot.StatusOpen
	}
	t.CreatedAt = d.now
	t.FirstResponseDue = d.now.Add(30 * time.Minute)
	t.ResolutionDue = d.now.Add(24 * time.Hour)
	d.tickets[t.No] = &t
	d.event(t.No, "bot", bot.EvCreated, t.Summary)
}

func (d *fakeDesk) customerSays(no, text string, atts ...bot.Attachment) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.event(no, "customer", bot.EvCustomerMessage, text, atts...)
}

func (d *fakeDesk) rate(no string, score int, comment string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	t := d.tickets[no]
	t.Rating, t.RatingComment = score, comment
	d.event(no, "customer", bot.EvRated, strings.TrimSpace(fmt.Sprintf("%d %s", score, comment)))
}

func (d *fakeDesk) snapshot() (calls, toCust []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.calls), slices.Clone(d.toCust)
}

func (d *fakeDesk) ticket(no string) bot.Ticket {
	d.mu.Lock()
	defer d.mu.Unlock()
	return *d.tickets[no]
}

// act runs the common checks and records the call.
func (d *fakeDesk) act(a bot.Actor, op, no string, fn func(t *bot.Ticket) error) (bot.Ticket, error) {
	d.wait()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, strings.TrimSpace(op+" "+no+" "+a.ID))
	if !d.agents[a.ID] {
		return bot.Ticket{}, bot.ErrForbidden
	}
	t, ok := d.tickets[no]
	if !ok {
		return bot.Ticket{}, fmt.Errorf("fake: %s: %w", no, bot.ErrUnknownTkt)
	}
	if t.Status == bot.StatusClosed {
		return bot.Ticket{}, bot.ErrClosed
	}
	if err := fn(t); err != nil {
		return bot.Ticket{}, err
	}
	return *t, nil
}

func (d *fakeDesk) ListTickets(ctx context.Context, f bot.TicketFilter) ([]bot.Ticket, error) {
	d.wait()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, fmt.Sprintf("List assignee=%q unassigned=%v overdue=%v", f.Assignee, f.Unassigned, f.Overdue))
	var out []bot.Ticket
	for _, t := range d.tickets {
		if !t.Open() || f.Assignee != "" && t.Assignee != f.Assignee || f.Unassigned && t.Assignee != "" ||
			f.Overdue && !t.ResolutionDue.Before(f.Now) {
			continue
		}
		out = append(out, *t)
	}
	slices.SortFunc(out, func(a, b bot.Ticket) int { return strings.Compare(a.No, b.No) })
	return out, nil
}

func (d *fakeDesk) Ticket(ctx context.Context, no string) (bot.Ticket, []bot.TicketEvent, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	t, ok := d.tickets[no]
	if !ok {
		return bot.Ticket{}, nil, bot.ErrUnknownTkt
	}
	var evs []bot.TicketEvent
	for _, e := range d.events {
		if e.TicketNo == no {
			evs = append(evs, e)
		}
	}
	return *t, evs, nil
}

func (d *fakeDesk) Claim(ctx context.Context, a bot.Actor, no string) (bot.Ticket, error) {
	return d.act(a, "Claim", no, func(t *bot.Ticket) error {
		if t.Assignee != "" && t.Assignee != a.ID {
			return bot.ErrConflict
		}
		t.Assignee, t.Status = a.ID, bot.StatusInProgress
		d.event(no, a.ID, bot.EvClaimed, "")
		return nil
	})
}

func (d *fakeDesk) Assign(ctx context.Context, a bot.Actor, no, assignee string) (bot.Ticket, error) {
	return d.act(a, "Assign", no, func(t *bot.Ticket) error {
		d.event(no, a.ID, bot.EvAssigned, t.Assignee+"->"+assignee)
		t.Assignee = assignee
		return nil
	})
}

func (d *fakeDesk) AssignTeam(ctx context.Context, a bot.Actor, no, team string) (bot.Ticket, error) {
	return d.act(a, "AssignTeam", no, func(t *bot.Ticket) error {
		if team == "nosuch" {
			return fmt.Errorf("team %q: %w", team, bot.ErrBadInput)
		}
		t.Team = team
		return nil
	})
}

func (d *fakeDesk) Reply(ctx context.Context, a bot.Actor, no, text string) (bot.Ticket, error) {
	return d.act(a, "Reply", no, func(t *bot.Ticket) error {
		if t.FirstResponseAt == nil {
			at := d.now
			t.FirstResponseAt = &at
		}
		d.toCust = append(d.toCust, no+": "+text)
		d.event(no, a.ID, bot.EvAgentReply, text)
		return nil
	})
}

func (d *fakeDesk) Note(ctx context.Context, a bot.Actor, no, text string) (bot.Ticket, error) {
	return d.act(a, "Note", no, func(t *bot.Ticket) error {
		d.event(no, a.ID, bot.EvNote, text)
		return nil
	})
}

func (d *fakeDesk) SetPriority(ctx context.Context, a bot.Actor, no string, p bot.Priority) (bot.Ticket, error) {
	return d.act(a, "SetPriority", no, func(t *bot.Ticket) error {
		old := t.Priority
		t.Priority = p
		d.event(no, a.ID, bot.EvPriority, string(old)+"->"+string(p))
		return nil
	})
}

func (d *fakeDesk) SetStatus(ctx context.Context, a bot.Actor, no string, s bot.Status) (bot.Ticket, error) {
	return d.act(a, "SetStatus", no, func(t *bot.Ticket) error {
		old := t.Status
		t.Status = s
		d.event(no, a.ID, bot.EvStatus, string(old)+"->"+string(s))
		return nil
	})
}

func (d *fakeDesk) Resolve(ctx context.Context, a bot.Actor, no, summary string) (bot.Ticket, error) {
	return d.act(a, "Resolve", no, func(t *bot.Ticket) error {
		if t.Status == bot.StatusResolved {
			return bot.ErrBadInput
		}
		t.Status = bot.StatusResolved
		at := d.now
		t.ResolvedAt = &at
		d.toCust = append(d.toCust, no+": [resolved: please confirm and rate]")
		d.event(no, a.ID, bot.EvResolved, summary)
		return nil
	})
}

func (d *fakeDesk) Close(ctx context.Context, a bot.Actor, no string) (bot.Ticket, error) {
	return d.act(a, "Close", no, func(t *bot.Ticket) error {
		t.Status = bot.StatusClosed
		d.event(no, a.ID, bot.EvClosed, "")
		return nil
	})
}

func (d *fakeDesk) Escalate(ctx context.Context, a bot.Actor, no, reason string) (bot.Ticket, error) {
	return d.act(a, "Escalate", no, func(t *bot.Ticket) error {
		t.Escalated = true
		d.event(no, a.ID, bot.EvEscalated, reason)
		return nil
	})
}

func (d *fakeDesk) EventsAfter(ctx context.Context, after int64, limit int) ([]bot.TicketEvent, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []bot.TicketEvent
	for _, e := range d.events {
		if e.Seq > after && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

// memStore is an in-memory Store.
type memStore struct { // guarded by mu
	mu sync.Mutex
	kv map[string]string
}

func newMemStore() *memStore { return &memStore{kv: map[string]string{}} }

func (s *memStore) GetKV(ctx context.Context, key string) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.kv[key]
	return v, ok, nil
}

func (s *memStore) SetKV(ctx context.Context, key, val string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.kv[key] = val
	return nil
}

var _ bot.Desk = (*fakeDesk)(nil)
