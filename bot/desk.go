package bot

import (
	"context"
	"time"
)

// Priority of a ticket: P0 (urgent), P1 (important), P2 (normal), as in the seeds.
type Priority string

const (
	P0 Priority = "P0"
	P1 Priority = "P1"
	P2 Priority = "P2"
)

// Status of a ticket. The seeds' 待处理→处理中→待验证→已关闭 map to open→in_progress→resolved→closed;
// pending means waiting on the customer.
type Status string

const (
	StatusOpen       Status = "open"
	StatusInProgress Status = "in_progress"
	StatusPending    Status = "pending"
	StatusResolved   Status = "resolved"
	StatusClosed     Status = "closed"
)

// Ticket is the team-side view of a ticket. Personal data is unmasked here; mask it (see Mask*) before
// it reaches a team channel or a log.
type Ticket struct {
	ID               int64
	No               string // GD20261123001
	ConversationID   int64
	CustomerID       int64
	Channel          Channel // channel the ticket was opened from
	CustomerName     string
	CustomerPhone    string
	Lang             string
	Category         string
	Priority         Priority
	Status           Status
	Summary          string // the restated request ("您是想反馈……")
	Description      string
	OrderNo          string
	Urgency          string
	Complaint        bool
	ComplaintLevel   int    // 1 (most severe) …; 0 for a ticket that is not a complaint
	RepeatOf         string // an earlier complaint of the same customer and category (repeat complaint)
	Escalated        bool
	Assignee         string // agent id, empty when unassigned
	Team             string // the team the ticket is queued for (AssignTeam), empty for none
	Reopens          int
	CreatedAt        time.Time
	FirstResponseDue time.Time
	ResolutionDue    time.Time
	FirstResponseAt  *time.Time
	ResolvedAt       *time.Time
	ClosedAt         *time.Time
	Rating           int // 0 = not rated
	RatingComment    string
	Attachments      []Attachment
	ExpectedBy       *time.Time // the customer's expected resolution time (期望解决时间), if asked
}

// Open reports whether the ticket still needs work.
func (t Ticket) Open() bool { return t.Status != StatusResolved && t.Status != StatusClosed }

// EventKind names an entry in a ticket's audit trail.
type EventKind string

const (
	EvCreated         EventKind = "created"
	EvCustomerMessage EventKind = "customer_message" // Text, Channel, Attachments
	EvAgentReply      EventKind = "agent_reply"      // relayed to the customer
	EvNote            EventKind = "note"             // internal, never reaches the customer
	EvClaimed         EventKind = "claimed"
	EvAssigned        EventKind = "assigned"
	EvTeam            EventKind = "team"     // Text: "old->new" team
	EvPriority        EventKind = "priority" // Text: "P2->P0"
	EvStatus          EventKind = "status"   // Text: "open->in_progress"
	EvEscalated       EventKind = "escalated"
	EvResolved        EventKind = "resolved"
	EvReopened        EventKind = "reopened" // Text: the customer's reason
	EvClosed          EventKind = "closed"
	EvRated           EventKind = "rated" // Text: score, then comment
	EvSLA             EventKind = "sla"   // warnings, breaches, acknowledgements
)

// TicketEvent is one row of a ticket's audit trail: who did what, when. It doubles as the durable feed
// that team-side workers (Slack cards, SLA) follow by increasing ID.
type TicketEvent struct {
	ID          int64
	TicketID    int64
	TicketNo    string
	At          time.Time
	Actor       string // "customer", "bot", "system", or an agent id like "slack:U123" / "cli:alice"
	Kind        EventKind
	Text        string
	Channel     Channel // where the message came from or went to
	Internal    bool
	Attachments []Attachment
	// Seq is the event's position in the team feed: EventsAfter's cursor (the ID on SQLite; on
	// PostgreSQL assigned in commit order, so it can differ from the ID, which is assigned earlier).
	Seq int64
}

// Actor is an agent or supervisor acting on tickets.
type Actor struct {
	ID         string // "cli:alice", "slack:U123"
	Name       string
	Supervisor bool
}

// TicketFilter selects tickets for lists.
type TicketFilter struct {
	Statuses   []Status // empty: all open (open, in_progress, pending)
	Assignee   string   // "" any
	Unassigned bool
	Overdue    bool // first-response or resolution due time passed while open
	CustomerID int64
	Limit      int
	Now        time.Time // for Overdue; zero means time.Now()
}

// Desk is what agents can do to tickets, from the CLI or Slack. Every method checks that the actor is a
// configured agent (ErrForbidden), writes an audit event, and enqueues any customer message in the same
// transaction (a reply reaches the customer through the outbox; a note never does).
type Desk interface {
	ListTickets(ctx context.Context, f TicketFilter) ([]Ticket, error)
	Ticket(ctx context.Context, no string) (Ticket, []TicketEvent, error)
	Claim(ctx context.Context, a Actor, no string) (Ticket, error) // ErrConflict when someone else holds it
	Assign(ctx context.Context, a Actor, no, assignee string) (Ticket, error)
	Reply(ctx context.Context, a Actor, no, text string) (Ticket, error)
	Note(ctx context.Context, a Actor, no, text string) (Ticket, error)
	SetPriority(ctx context.Context, a Actor, no string, p Priority) (Ticket, error)
	SetStatus(ctx context.Context, a Actor, no string, s Status) (Ticket, error)
	Resolve(ctx context.Context, a Actor, no, summary string) (Ticket, error) // asks the customer to confirm
	Close(ctx context.Context, a Actor, no string) (Ticket, error)
	Escalate(ctx context.Context, a Actor, no, reason string) (Ticket, error)
	// EventsAfter returns audit events with Seq > after in Seq order (oldest first): the team-side feed.
	EventsAfter(ctx context.Context, after int64, limit int) ([]TicketEvent, error)
}
