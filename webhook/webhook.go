// Package webhook sends kefu's outbound webhooks: ticket.created, ticket.updated, ticket.resolved and
// survey.rated, as JSON signed with HMAC-SHA256 (Stripe-style "Kefu-Signature: t=…,v1=…").
//
// Delivery reuses the outbox: storage writes one outbox row of channel "webhook" per event and
// subscribed endpoint in the transaction that writes the ticket event (AddEvent), and a bot.Dispatcher
// with a Sender as its adapter claims, sends, retries with backoff and survives a killed process like
// any reply. The chat id of a row is "<endpoint id>:<ticket no>", so one endpoint receives each
// ticket's events in order while different tickets go out concurrently, and an event that keeps
// failing holds back only its own ticket. Delivery is at least once: a process killed after the
// receiver answered but before the row was marked sent delivers it again, with the same Kefu-Event-Id,
// which receivers use to deduplicate.
package webhook

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/pii"
)

// Channel is the outbox channel of webhook deliveries.
const Channel bot.Channel = "webhook"

// Event types.
const (
	TicketCreated  = "ticket.created"
	TicketUpdated  = "ticket.updated"
	TicketResolved = "ticket.resolved"
	SurveyRated    = "survey.rated"
)

// Ping is the event type of a test ping (`kefu webhook test`, the console's test button): sent to one
// endpoint on request, whatever it subscribed to, never queued or retried.
const Ping = "ping"

// Types lists every event type, in documentation order.
var Types = []string{TicketCreated, TicketUpdated, TicketResolved, SurveyRated}

// ValidType reports whether s names an event type.
func ValidType(s string) bool {
	for _, t := range Types {
		if t == s {
			return true
		}
	}
	return false
}

// TypeOf is the webhook event an audit event raises, if any. Internal notes, SLA bookkeeping and
// complaint-level records raise none; agents' replies and customers' messages are ticket.updated.
func TypeOf(ev bot.TicketEvent) (string, bool) {
	if ev.Internal {
		return "", false
	}
	switch ev.Kind {
	case bot.EvCreated:
		return TicketCreated, true
	case bot.EvResolved:
		return TicketResolved, true
	case bot.EvStatus:
		if strings.HasSuffix(ev.Text, "->"+string(bot.StatusResolved)) {
			return TicketResolved, true
		}
		return TicketUpdated, true
	case bot.EvRated:
		return SurveyRated, true
	case bot.EvClaimed, bot.EvAssigned, bot.EvPriority, bot.EvEscalated, bot.EvReopened, bot.EvClosed,
		bot.EvAgentReply, bot.EvCustomerMessage:
		return TicketUpdated, true
	}
	return "", false
}

// Ticket is a ticket as integrations see it, in webhooks and in the REST API: personal data masked
// (张*, 138****5678), as in Slack.
type Ticket struct {
	No               string     `json:"no"`
	Status           string     `json:"status"`
	Priority         string     `json:"priority"`
	Category         string     `json:"category"`
	Channel          string     `json:"channel"`
	Assignee         string     `json:"assignee"`
	Customer         string     `json:"customer"`
	Summary          string     `json:"summary"`
	Complaint        bool       `json:"complaint"`
	Escalated        bool       `json:"escalated"`
	CreatedAt        time.Time  `json:"created_at"`
	FirstResponseDue time.Time  `json:"first_response_due"`
	ResolutionDue    time.Time  `json:"resolution_due"`
	FirstResponseAt  *time.Time `json:"first_response_at"`
	ResolvedAt       *time.Time `json:"resolved_at"`
	Rating           int        `json:"rating"`
}

// TicketOf masks t for an integration.
func TicketOf(t bot.Ticket) Ticket {
	m := t.Masker()
	return Ticket{No: t.No, Status: string(t.Status), Priority: string(t.Priority), Category: t.Category,
		Channel: string(t.Channel), Assignee: t.Assignee, Customer: pii.MaskName(t.CustomerName), Summary: m.Text(t.Summary),
		Complaint: t.Complaint, Escalated: t.Escalated, CreatedAt: t.CreatedAt, FirstResponseDue: t.FirstResponseDue,
		ResolutionDue: t.ResolutionDue, FirstResponseAt: t.FirstResponseAt, ResolvedAt: t.ResolvedAt, Rating: t.Rating}
}

// Payload is the JSON body of a delivery.
type Payload struct {
	ID        string    `json:"id"`   // "evt_<audit event id>": the same in every retry and for every endpoint
	Type      string    `json:"type"` // ticket.created …
	CreatedAt time.Time `json:"created_at"`
	Data      Data      `json:"data"`
}

// Data is what happened: the kind of change (the audit event kind: assigned, agent_reply …), who made
// it (an agent id, "customer", "bot" or "system") and the ticket after the change.
type Data struct {
	Change string `json:"change"`
	Actor  string `json:"actor"`
	Ticket Ticket `json:"ticket"`
}

// PingData is the data of a ping.
type PingData struct {
	Endpoint string `json:"endpoint"`
}

// PingPayload is the JSON body of a ping: {"id":"ping_…","type":"ping","created_at":…,"data":{"endpoint":"crm"}}.
type PingPayload struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	CreatedAt time.Time `json:"created_at"`
	Data      PingData  `json:"data"`
}

// NewPing is a ping of the endpoint called name, with a fresh id (receivers must not deduplicate two
// pings into one).
func NewPing(name string, at time.Time) PingPayload {
	b := make([]byte, 8)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return PingPayload{ID: "ping_" + hex.EncodeToString(b), Type: Ping, CreatedAt: at.UTC(), Data: PingData{Endpoint: name}}
}

// EventID is the id receivers deduplicate by.
func EventID(auditEventID int64) string { return "evt_" + strconv.FormatInt(auditEventID, 10) }

// NewPayload builds the delivery of audit event ev (stored with id) of ticket t (after the change).
func NewPayload(id int64, typ string, ev bot.TicketEvent, t bot.Ticket) Payload {
	return Payload{ID: EventID(id), Type: typ, CreatedAt: ev.At.UTC(), Data: Data{Change: string(ev.Kind), Actor: ev.Actor, Ticket: TicketOf(t)}}
}
