package bot

import (
	"context"
	"time"

	"github.com/kefu-dev/kefu/flows"
)

// Conversation is one chat with one customer on one channel, as the engine sees it.
type Conversation struct {
	ID         int64
	CustomerID int64
	Channel    Channel
	ChatID     string
	UserName   string // the platform display name of the customer (unmasked)
	Lang       string // the customer's remembered language, may be empty
}

// Citation records that an FAQ answer was given in a conversation. Helped is nil until the customer
// says whether it helped.
type Citation struct {
	EntryID        string
	ConversationID int64
	Lang           string
	Query          string
	Helped         *bool
	At             time.Time
}

// Store is the persistence the engine, the desk and the outbox dispatcher need. package storage
// implements it with gorm on SQLite and PostgreSQL.
type Store interface {
	Reader
	// Tx runs fn in one database transaction: the inbound row, the session, tickets, audit events and
	// outbox rows commit together or not at all.
	Tx(ctx context.Context, fn func(Tx) error) error
	Outbox
}

// GroupCommitter is a Store that may commit the transactions of several callers together (SQLite's
// group commit: one writer, one COMMIT for a batch of customers' messages). GroupTx has Tx's contract
// — fn's writes commit together or not at all, fn may be run again — and returns only once fn's
// writes are committed (or failed); one caller's failure never loses another's.
type GroupCommitter interface {
	GroupTx(ctx context.Context, fn func(Tx) error) error
}

// Outbox is the dispatcher's view of the store.
type Outbox interface {
	// ClaimOutbox leases up to limit pending rows that are due at now, for the given channels only,
	// at most one per conversation (channel, chat id) and only the oldest pending row of it, so rows of
	// one conversation are delivered in order. A claimed row is hidden from other claimers until
	// now+lease. On PostgreSQL rows are selected FOR UPDATE SKIP LOCKED.
	ClaimOutbox(ctx context.Context, now time.Time, channels []Channel, lease time.Duration, limit int) ([]Reply, error)
	// ClaimBatch claims for owner every unclaimed pending row of up to limit conversations (channel,
	// chat id) of the given channels whose oldest pending row is due at now, and returns them in id
	// order. The rows stay claimed until marked, released, or until owner's heartbeat runs out (then
	// any live owner's Heartbeat frees them).
	ClaimBatch(ctx context.Context, owner string, now time.Time, channels []Channel, limit int) ([]Reply, error)
	// Heartbeat records that owner is alive until until, and frees the claims of owners not alive at now.
	Heartbeat(ctx context.Context, owner string, now, until time.Time) error
	// MarkSentBatch records successful deliveries, all at at.
	MarkSentBatch(ctx context.Context, sent []Sent, at time.Time) error
	// Release gives claimed rows back unsent and untouched.
	Release(ctx context.Context, owner string, outboxIDs []int64) error
	// MarkSent records a successful delivery.
	MarkSent(ctx context.Context, outboxID int64, platformMsgID string, at time.Time) error
	// MarkRetry releases the lease and schedules another attempt at next. attempt counts the try
	// towards Reply.Attempts (rate limits do not).
	MarkRetry(ctx context.Context, outboxID int64, next time.Time, lastErr string, attempt bool) error
	// MarkFailed gives up on a row for good; later rows of its conversation go ahead.
	MarkFailed(ctx context.Context, outboxID int64, lastErr string) error
}

// Sent is one delivered outbox row and the platform's id of the message.
type Sent struct {
	OutboxID      int64
	PlatformMsgID string
}

// Reader holds the read operations, available on the Store and inside a Tx.
type Reader interface {
	// TicketByNo returns the ticket with this number or ErrUnknownTkt.
	TicketByNo(ctx context.Context, no string) (Ticket, error)
	// ListTickets returns tickets matching f, newest first.
	ListTickets(ctx context.Context, f TicketFilter) ([]Ticket, error)
	// TicketEvents returns a ticket's audit trail, oldest first.
	TicketEvents(ctx context.Context, ticketID int64) ([]TicketEvent, error)
	// EventsAfter returns audit events with Seq > after in Seq order (the feed: a cursor never passes an event that commits later).
	EventsAfter(ctx context.Context, after int64, limit int) ([]TicketEvent, error)
	// Conversation returns a conversation by id or ErrNotFound.
	Conversation(ctx context.Context, id int64) (Conversation, error)
	// LastInbound is when the customer of a conversation last wrote (their newest stored inbound
	// message); ok is false when they never did. Reply windows run from it (ReplyWindow).
	LastInbound(ctx context.Context, conversationID int64) (at time.Time, ok bool, err error)
	ComplaintReader // complaint details, proposals, return visits (complaints.go)
	TaskReader      // follow-through tasks (tasks.go)
}

// Tx is one transaction of the engine.
type Tx interface {
	Reader
	ComplaintTx // complaint levels, proposals, return visits (complaints.go)
	TaskTx      // follow-through tasks (tasks.go)
	FAQDraftTx  // draft FAQ entries from resolved tickets (drafts.go)
	// SaveInbound stores an inbound message once and resolves (creating if needed) the customer, the
	// identity (Channel, UserID) and the conversation (Channel, ChatID). A (Channel, MsgID) that was
	// stored before gives ErrDuplicate; an empty MsgID is never deduplicated.
	SaveInbound(ctx context.Context, ev Event) (Conversation, error)
	// Session returns the conversation's stored session, or ErrNotFound when there is none yet.
	Session(ctx context.Context, conversationID int64) (flows.Session, error)
	SaveSession(ctx context.Context, conversationID int64, s flows.Session, at time.Time) error
	// SetCustomerLang remembers the customer's language.
	SetCustomerLang(ctx context.Context, customerID int64, lang string) error
	// CustomerProfile returns what the customer gave at earlier intakes (name, phone, e-mail) and the
	// fields they were asked; SaveCustomerProfile replaces it.
	CustomerProfile(ctx context.Context, customerID int64) (flows.Profile, error)
	SaveCustomerProfile(ctx context.Context, customerID int64, p flows.Profile) error
	// Enqueue writes outbox rows (and the outbound messages), in order, and returns their ids.
	Enqueue(ctx context.Context, at time.Time, rs ...Reply) ([]int64, error)
	// EnqueueDelivered is Enqueue for replies the adapter hands over itself (web chat's HTTP
	// response): the rows are stored as sent at at, so no dispatcher handles them.
	EnqueueDelivered(ctx context.Context, at time.Time, rs ...Reply) ([]int64, error)

	// CreateTicket allocates the next number of day ("20261123": "GD20261123001", at least three digits
	// of daily sequence) and stores t; it returns t with ID and No set.
	CreateTicket(ctx context.Context, t Ticket, day string) (Ticket, error)
	// LockTicket is TicketByNo that also locks the row for the rest of the transaction (PostgreSQL).
	// Lock order: a conversation before its tickets (LockConversation first), so customer messages
	// and agent actions on the same ticket never deadlock.
	LockTicket(ctx context.Context, no string) (Ticket, error)
	// LockConversation locks a conversation row for the rest of the transaction (PostgreSQL; SQLite
	// transactions hold the database write lock anyway). ErrNotFound when there is none.
	LockConversation(ctx context.Context, id int64) error
	// UpdateTicket saves every mutable field of t (by t.ID).
	UpdateTicket(ctx context.Context, t Ticket) error
	// ClaimTicket sets the assignee only if the ticket is unassigned (a conditional UPDATE) and reports
	// whether this call won.
	ClaimTicket(ctx context.Context, ticketID int64, assignee string, at time.Time) (bool, error)
	// AddEvent appends to the audit trail and returns the event id.
	AddEvent(ctx context.Context, ev TicketEvent) (int64, error)
	// SaveSurvey stores a survey answer (score and/or comment) for a ticket.
	SaveSurvey(ctx context.Context, ticketID, customerID int64, score int, comment string, at time.Time) error

	// Cite records an FAQ answer; FAQFeedback sets Helped on the conversation's latest citation of entry.
	Cite(ctx context.Context, c Citation) error
	FAQFeedback(ctx context.Context, conversationID int64, entryID string, helped bool) error
	// SaveUnanswered records a question the library could not answer.
	SaveUnanswered(ctx context.Context, conversationID int64, lang, text string, at time.Time) error

	// SaveLinkCode stores a one-time code for customerID.
	SaveLinkCode(ctx context.Context, code string, customerID int64, expires time.Time) error
	// UseLinkCode consumes code and merges customerID into the customer who was issued it (identities,
	// conversations and tickets move over). It returns the surviving customer id, or ErrNotFound for an
	// unknown or expired code.
	UseLinkCode(ctx context.Context, code string, customerID int64, now time.Time) (int64, error)
}
