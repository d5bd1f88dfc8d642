package storage

import (
	"encoding/json"
	"time"

	"github.com/kefu-dev/kefu/bot"
)

// gorm models. They mirror migrations/*.sql and never leave this package.

type customer struct {
	ID        int64  `gorm:"primaryKey"`
	Name      string `gorm:"serializer:pii"`
	Phone     string `gorm:"serializer:pii"`
	PhoneHash string
	// Intake fields (migration 0140): what the customer gave at intake, and the fields asked.
	ContactName string `gorm:"serializer:pii"`
	Email       string `gorm:"serializer:pii"`
	EmailHash   string
	IntakeAsked string
	Lang        string
	MergedInto  *int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (customer) TableName() string { return "customers" }

type identity struct {
	ID                 int64 `gorm:"primaryKey"`
	Channel            string
	PlatformUserID     string `gorm:"serializer:pii"`
	PlatformUserIDHash string
	CustomerID         int64
	UserName           string `gorm:"serializer:pii"`
	CreatedAt          time.Time
}

func (identity) TableName() string { return "identities" }

type conversation struct {
	ID         int64 `gorm:"primaryKey"`
	Channel    string
	ChatID     string
	CustomerID int64
	State      string
	Session    string `gorm:"serializer:pii"`
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

func (conversation) TableName() string { return "conversations" }

type message struct {
	ID             int64 `gorm:"primaryKey"`
	ConversationID int64
	Direction      string // "in" | "out"
	Channel        string
	PlatformMsgID  *string
	UserID         string `gorm:"serializer:pii"`
	Kind           string
	Text           string `gorm:"serializer:pii"`
	Payload        string
	Attachments    string `gorm:"serializer:pii"`
	OutboxID       *int64
	At             time.Time
	CreatedAt      time.Time
}

func (message) TableName() string { return "messages" }

type ticket struct {
	ID                int64 `gorm:"primaryKey"`
	No                string
	ConversationID    int64
	CustomerID        int64
	Channel           string
	CustomerName      string `gorm:"serializer:pii"`
	CustomerPhone     string `gorm:"serializer:pii"`
	CustomerPhoneHash string
	Lang              string
	Category          string
	Priority          string
	Status            string
	Summary           string `gorm:"serializer:pii"`
	Description       string `gorm:"serializer:pii"`
	OrderNo           string
	Urgency           string
	Complaint         bool
	Escalated         bool
	Assignee          string
	Team              string
	Reopens           int
	CreatedAt         time.Time
	UpdatedAt         time.Time
	FirstResponseDue  time.Time
	ResolutionDue     time.Time
	FirstResponseAt   *time.Time
	ResolvedAt        *time.Time
	ClosedAt          *time.Time
	Rating            int
	RatingComment     string `gorm:"serializer:pii"`
	Attachments       string `gorm:"serializer:pii"`
	ComplaintLevel    int
	RepeatOf          string
	ExpectedBy        *time.Time
}

func (ticket) TableName() string { return "tickets" }

type ticketEvent struct {
	ID          int64 `gorm:"primaryKey"`
	TicketID    int64
	TicketNo    string
	At          time.Time
	Actor       string
	Kind        string
	Text        string
	Channel     string
	Internal    bool
	Attachments string `gorm:"serializer:pii"`
	// Seq is the event's feed position on PostgreSQL (migration 0175), assigned as its transaction
	// commits; nil on SQLite (the position is the id) and before the commit.
	Seq *int64 `gorm:"->"`
}

func (ticketEvent) TableName() string { return "ticket_events" }

// feedPos is the event's position in the feed (EventsAfter's cursor).
func (e ticketEvent) feedPos() int64 {
	if e.Seq != nil {
		return *e.Seq
	}
	return e.ID
}

type survey struct {
	ID         int64 `gorm:"primaryKey"`
	TicketID   int64
	CustomerID int64
	Score      int
	Comment    string `gorm:"serializer:pii"`
	At         time.Time
}

func (survey) TableName() string { return "surveys" }

type faqCitation struct {
	ID             int64 `gorm:"primaryKey"`
	EntryID        string
	ConversationID int64
	Lang           string
	Query          string `gorm:"serializer:pii"`
	Helped         *bool
	At             time.Time
}

func (faqCitation) TableName() string { return "faq_citations" }

type unansweredQuestion struct {
	ID             int64 `gorm:"primaryKey"`
	ConversationID int64
	Lang           string
	Text           string `gorm:"serializer:pii"`
	At             time.Time
}

func (unansweredQuestion) TableName() string { return "unanswered_questions" }

type outboxRow struct {
	ID             int64 `gorm:"primaryKey"`
	ConversationID int64
	Channel        string
	ChatID         string
	Text           string `gorm:"serializer:pii"`
	Buttons        string
	Status         string
	Attempts       int
	NextAttemptAt  time.Time
	LeaseUntil     *time.Time
	ClaimedBy      *string
	LastError      string
	PlatformMsgID  string
	CreatedAt      time.Time
	SentAt         *time.Time
}

func (outboxRow) TableName() string { return "outbox" }

// outboxOwner is a dispatcher's heartbeat: its claims hold while alive_until is in the future.
type outboxOwner struct {
	ID         string `gorm:"primaryKey"`
	AliveUntil time.Time
}

func (outboxOwner) TableName() string { return "outbox_owners" }

// Outbox row states.
const (
	outboxPending = "pending"
	outboxSent    = "sent"
	outboxFailed  = "failed"
)

type webSession struct {
	ID        string `gorm:"primaryKey"`
	Lang      string
	CreatedAt time.Time
}

func (webSession) TableName() string { return "web_sessions" }

type linkCode struct {
	Code       string `gorm:"primaryKey"`
	CustomerID int64
	ExpiresAt  time.Time
	CreatedAt  time.Time
}

func (linkCode) TableName() string { return "link_codes" }

type kvRow struct {
	Key       string `gorm:"primaryKey"`
	Value     string
	UpdatedAt time.Time
}

func (kvRow) TableName() string { return "kv" }

type faqEntry struct {
	ID        int64 `gorm:"primaryKey"`
	EntryID   string
	Lang      string
	Category  string
	Question  string
	Answer    string
	Examples  string
	Keywords  string
	UpdatedAt time.Time
}

func (faqEntry) TableName() string { return "faq_entries" }

type agent struct {
	ID         string `gorm:"primaryKey"`
	Name       string
	Supervisor bool
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

func (agent) TableName() string { return "agents" }

// toJSON stores a list as JSON text; an empty list is stored as "".
func toJSON[T any](v []T) string {
	if len(v) == 0 {
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// fromJSON reads a list stored by toJSON; "" and unreadable text give nil.
func fromJSON[T any](s string) []T {
	if s == "" {
		return nil
	}
	var v []T
	if json.Unmarshal([]byte(s), &v) != nil {
		return nil
	}
	return v
}

func (t ticket) toBot() bot.Ticket {
	return bot.Ticket{
		ID:               t.ID,
		No:               t.No,
		ConversationID:   t.ConversationID,
		CustomerID:       t.CustomerID,
		Channel:          bot.Channel(t.Channel),
		CustomerName:     t.CustomerName,
		CustomerPhone:    t.CustomerPhone,
		Lang:             t.Lang,
		Category:         t.Category,
		Priority:         bot.Priority(t.Priority),
		Status:           bot.Status(t.Status),
		Summary:          t.Summary,
		Description:      t.Description,
		OrderNo:          t.OrderNo,
		Urgency:          t.Urgency,
		Complaint:        t.Complaint,
		Escalated:        t.Escalated,
		Assignee:         t.Assignee,
		Team:             t.Team,
		Reopens:          t.Reopens,
		CreatedAt:        t.CreatedAt.UTC(),
		FirstResponseDue: t.FirstResponseDue.UTC(),
		ResolutionDue:    t.ResolutionDue.UTC(),
		FirstResponseAt:  utcPtr(t.FirstResponseAt),
		ResolvedAt:       utcPtr(t.ResolvedAt),
		ClosedAt:         utcPtr(t.ClosedAt),
		Rating:           t.Rating,
		RatingComment:    t.RatingComment,
		Attachments:      fromJSON[bot.Attachment](t.Attachments),
		ComplaintLevel:   t.ComplaintLevel,
		RepeatOf:         t.RepeatOf,
		ExpectedBy:       utcPtr(t.ExpectedBy),
	}
}

func ticketFromBot(t bot.Ticket) ticket {
	return ticket{
		ID:               t.ID,
		No:               t.No,
		ConversationID:   t.ConversationID,
		CustomerID:       t.CustomerID,
		Channel:          string(t.Channel),
		CustomerName:     t.CustomerName,
		CustomerPhone:    t.CustomerPhone,
		Lang:             t.Lang,
		Category:         t.Category,
		Priority:         string(t.Priority),
		Status:           string(t.Status),
		Summary:          t.Summary,
		Description:      t.Description,
		OrderNo:          t.OrderNo,
		Urgency:          t.Urgency,
		Complaint:        t.Complaint,
		Escalated:        t.Escalated,
		Assignee:         t.Assignee,
		Team:             t.Team,
		Reopens:          t.Reopens,
		CreatedAt:        utc(t.CreatedAt),
		UpdatedAt:        time.Now().UTC(),
		FirstResponseDue: t.FirstResponseDue.UTC(),
		ResolutionDue:    t.ResolutionDue.UTC(),
		FirstResponseAt:  utcPtr(t.FirstResponseAt),
		ResolvedAt:       utcPtr(t.ResolvedAt),
		ClosedAt:         utcPtr(t.ClosedAt),
		Rating:           t.Rating,
		RatingComment:    t.RatingComment,
		Attachments:      toJSON(t.Attachments),
		ComplaintLevel:   t.ComplaintLevel,
		RepeatOf:         t.RepeatOf,
		ExpectedBy:       utcPtr(t.ExpectedBy),
	}
}

func (e ticketEvent) toBot() bot.TicketEvent {
	return bot.TicketEvent{
		ID:          e.ID,
		TicketID:    e.TicketID,
		TicketNo:    e.TicketNo,
		At:          e.At.UTC(),
		Actor:       e.Actor,
		Kind:        bot.EventKind(e.Kind),
		Text:        e.Text,
		Channel:     bot.Channel(e.Channel),
		Internal:    e.Internal,
		Attachments: fromJSON[bot.Attachment](e.Attachments),
		Seq:         e.feedPos(),
	}
}

func (o outboxRow) toReply() bot.Reply {
	return bot.Reply{
		OutboxID:       o.ID,
		ConversationID: o.ConversationID,
		Channel:        bot.Channel(o.Channel),
		ChatID:         o.ChatID,
		Text:           o.Text,
		Buttons:        fromJSON[bot.Button](o.Buttons),
		Attempts:       o.Attempts,
	}
}
