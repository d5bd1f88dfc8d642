// Package flows is the customer conversation as a pure state machine: (Session, Input) -> (Session,
// []Effect). It performs no I/O and has no clock; the engine (package bot) persists the session and
// carries out the effects in one transaction.
package flows

import (
	"errors"
	"time"
)

// State is where a conversation stands. It is stored as-is.
type State string

// Known states. Each has its step in steps (see machine.go).
const (
	StateNew            State = "new"             // nothing said yet: greet
	StateIdle           State = "idle"            // greeted, waiting for a question
	StateAnswered       State = "answered"        // an FAQ answer was given: "did this solve it?"
	StateChoosing       State = "choosing"        // top-3 candidate questions offered
	StateAnythingElse   State = "anything_else"   // "anything else?"
	StateAskType        State = "ask_type"        // clarification: issue type
	StateAskDescription State = "ask_description" // clarification: 现象 + 影响 + 期望
	StateAskOrder       State = "ask_order"       // clarification: order number
	StateAskUrgency     State = "ask_urgency"     // clarification: urgency
	StateConfirm        State = "confirm"         // "您是想反馈……，对吗？"
	StateTicketOpen     State = "ticket_open"     // a ticket is open: messages are added to it
	StateConfirmSolved  State = "confirm_solved"  // agent resolved: 已解决 / 未解决
	StateReopenReason   State = "reopen_reason"   // 未解决: why?
	StateRating         State = "rating"          // 1–5 survey
	StateComment        State = "comment"         // optional comment after the rating
	StateAskField       State = "ask_field"       // clarification: an intake field (Session.Field; fields.go)
)

// ErrUnknownState is returned by Step for a session in a state with no step.
var ErrUnknownState = errors.New("unknown state")

// Intake is what clarification collects: the seeds' 客户需求登记表.
type Intake struct {
	Category    string `json:"category,omitempty"`
	Description string `json:"description,omitempty"` // 现象 + 影响 + 期望, as the customer wrote it
	OrderNo     string `json:"order_no,omitempty"`
	Urgency     string `json:"urgency,omitempty"`  // "urgent" | "normal" | "low"
	Priority    string `json:"priority,omitempty"` // P0 | P1 | P2
	Complaint   bool   `json:"complaint,omitempty"`
	Human       bool   `json:"human,omitempty"` // the customer asked for a person
	FirstText   string `json:"first_text,omitempty"`
	// Intake fields (fields.go): contact details given in this intake, the expected resolution time
	// (RFC 3339) and the fields asked in this intake, answered or skipped.
	Name     string   `json:"name,omitempty"`
	Phone    string   `json:"phone,omitempty"`
	Email    string   `json:"email,omitempty"`
	Expected string   `json:"expected,omitempty"`
	Asked    []string `json:"asked,omitempty"`
}

func (in Intake) value(field string) string {
	switch field {
	case FieldName:
		return in.Name
	case FieldPhone:
		return in.Phone
	case FieldEmail:
		return in.Email
	case FieldExpected:
		return in.Expected
	}
	return ""
}

func (in *Intake) set(field, v string) {
	switch field {
	case FieldName:
		in.Name = v
	case FieldPhone:
		in.Phone = v
	case FieldEmail:
		in.Email = v
	case FieldExpected:
		in.Expected = v
	}
}

// ExpectedBy is the parsed expected resolution time, or nil.
func (in Intake) ExpectedBy() *time.Time {
	if in.Expected == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339, in.Expected)
	if err != nil {
		return nil
	}
	return &t
}

// Session is a conversation's stored state.
type Session struct {
	State      State    `json:"state"`
	Lang       string   `json:"lang"` // "zh-CN" (default) or "en"
	Intake     Intake   `json:"intake"`
	Asked      int      `json:"asked,omitempty"`      // clarification attempts in the current state, to cap re-asking
	Seq        int      `json:"seq"`                  // increments when the state changes or new buttons are offered; buttons carry it so stale ones are refused
	Candidates []string `json:"candidates,omitempty"` // FAQ ids offered in StateChoosing
	LastFAQ    string   `json:"last_faq,omitempty"`   // FAQ id answered in StateAnswered
	TicketNo   string   `json:"ticket_no,omitempty"`  // the open (or just resolved) ticket
	Rating     int      `json:"rating,omitempty"`
	Proposal   string   `json:"proposal,omitempty"` // the proposal id on offer (StateProposal, StateDeclineReason)
	Field      string   `json:"field,omitempty"`    // the intake field asked (StateAskField)
	Batch      *Batch   `json:"batch,omitempty"`    // the intake in one message (StateAskAll; batch.go)

	caps Caps // Input.Caps of the step being run (not stored: the engine passes it every time)
}

// Signal is something that happened outside the conversation and moves it on.
type Signal string

const (
	SignalNone     Signal = ""
	SignalResolved Signal = "ticket_resolved" // an agent resolved Session.TicketNo: ask to confirm
	SignalClosed   Signal = "ticket_closed"   // an agent closed it without the customer
)

// Input is one step's input. Exactly one of Text, Button, Command, Signal is normally set.
type Input struct {
	Text     string // free text, normalized
	Button   string // button payload as issued by flows (carries Session.Seq)
	Command  string // "start", "status", "lang", "help" … (without the slash)
	Args     string // command arguments
	Signal   Signal
	TicketNo string // with Signal
	LangHint string // platform language code, may be empty
	Media    bool   // the message carried an attachment
	Caps     Caps   // what the customer's channel can do
	At       time.Time
	// Profile is what the customer gave at earlier intakes (name, phone, e-mail; fields asked). nil:
	// nothing known, every configured field is asked.
	Profile *Profile
	// Prematched is the FAQ lookup of Text made before the step (Machine.Prematch), or nil.
	Prematched *Prematched
}

// Scripts of Caps.Script: the seeds word the greeting and the closing differently per channel.
const (
	ScriptChat   = ""       // online chat (web, Telegram, Discord): 您好，我是…请问您需要咨询什么问题呢？
	ScriptSocial = "social" // social media (公众号, 微信客服): …已收到您的留言，请问您需要协助处理什么事项？
	ScriptEmail  = "email"  // e-mail: …已收到您的来信…
)

// Caps is what the customer's channel can do, as far as the conversation needs to know. The engine
// sets it on every input from the channel's configuration (bot.DefaultChannelCaps).
type Caps struct {
	// Script picks the channel's wording of the greeting and the closing (ScriptChat, ScriptSocial,
	// ScriptEmail); an unknown script is chat.
	Script string `json:"script,omitempty"`
	// Batch: the channel has no buttons and answers come back slowly (e-mail). Clarification asks all
	// its questions in one message and reads the answers from one reply (see batch.go).
	Batch bool `json:"batch,omitempty"`
}

// scriptKey is key in the wording of the channel's script: "channels.<key>.<script>" for a known
// non-chat script, key itself otherwise.
func (c Caps) scriptKey(key string) string {
	switch c.Script {
	case ScriptSocial, ScriptEmail:
		return "channels." + key + "." + c.Script
	}
	return key
}

// Effect is an instruction for the engine; flows performs no I/O.
type Effect interface{ effect() }

// Choice is a button: Key is a locales key for its label (Args fill it), or Label is literal text
// (an FAQ question) when Key is empty.
type Choice struct {
	Key     string         `json:"key,omitempty"`
	Label   string         `json:"label,omitempty"`
	Args    map[string]any `json:"args,omitempty"`
	Payload string         `json:"payload"`
}

// Say sends a localized message. Key is a locales key; Args fill its template.
type Say struct {
	Key     string
	Args    map[string]any
	Choices []Choice
}

// AnswerFAQ sends an FAQ entry's answer (the engine looks up the text in the session language) and
// records the citation.
type AnswerFAQ struct {
	EntryID string
	// Query is the customer's own question, also when they picked the entry among the candidates
	// (the citation keeps it: kefu kb learn turns confirmed wordings into examples).
	Query string
}

// FAQFeedback records whether a cited FAQ answer helped.
type FAQFeedback struct {
	EntryID string
	Helped  bool
}

// Unanswered records a question the library could not answer (for knowledge-base care).
type Unanswered struct{ Text string }

// OpenTicket opens a ticket from the intake; the engine then tells the customer its number and due
// time (locale key "ticket.opened") and sets Session.TicketNo.
type OpenTicket struct{ Intake Intake }

// AddToTicket appends the customer's message to the open ticket (Session.TicketNo).
type AddToTicket struct {
	Text  string
	Media bool
}

// ListTickets tells the customer their own tickets and their states.
type ListTickets struct{}

// ShowTicket tells the customer about one ticket, only if it is theirs.
type ShowTicket struct{ No string }

// Reopen reopens the resolved ticket with the customer's reason.
type Reopen struct {
	No     string
	Reason string
}

// ConfirmSolved records that the customer confirmed the resolution (the ticket is closed).
type ConfirmSolved struct{ No string }

// Rate stores the 1–5 satisfaction score on the ticket.
type Rate struct {
	No    string
	Score int
}

// Comment stores the optional survey comment on the ticket.
type Comment struct {
	No   string
	Text string
}

// SetLang changes the session language (already applied to the returned Session); the engine may
// remember it for the customer.
type SetLang struct{ Lang string }

func (Say) effect()           {}
func (AnswerFAQ) effect()     {}
func (FAQFeedback) effect()   {}
func (Unanswered) effect()    {}
func (OpenTicket) effect()    {}
func (AddToTicket) effect()   {}
func (ListTickets) effect()   {}
func (ShowTicket) effect()    {}
func (Reopen) effect()        {}
func (ConfirmSolved) effect() {}
func (Rate) effect()          {}
func (Comment) effect()       {}
func (SetLang) effect()       {}

// IssueLinkCode asks the engine for a one-time code that links this customer's identities across
// channels (`/link`); the engine tells the customer the code (locale key "link.code").
type IssueLinkCode struct{}

// UseLinkCode links this identity to the customer who was issued Code (`/link CODE`); the engine says
// "link.done" or "link.bad_code".
type UseLinkCode struct{ Code string }

func (IssueLinkCode) effect() {}
func (UseLinkCode) effect()   {}
