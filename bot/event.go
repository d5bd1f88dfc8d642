// Package bot holds kefu's normalized event and reply types, the adapter and store contracts, and
// the engine that runs customer conversations (flows) and agent actions (Desk) against a Store.
//
// bot never imports adapters/* or storage: they depend on it.
package bot

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Channel names a messaging platform.
type Channel string

const (
	ChannelWeb      Channel = "web"
	ChannelTelegram Channel = "telegram"
	ChannelDiscord  Channel = "discord"
	ChannelSlack    Channel = "slack"
	ChannelCLI      Channel = "cli"    // agents working from `kefu ticket …`
	ChannelWeChat   Channel = "wechat" // WeChat Official Account 公众号 (adapters/wechat)
	ChannelWeCom    Channel = "wecom"  // WeCom customer service 微信客服 (adapters/wecom)
	ChannelEmail    Channel = "email"  // support mailbox (adapters/email)
)

// Kind is what an inbound Event carries.
type Kind string

const (
	KindText    Kind = "text"    // free text typed by the customer
	KindButton  Kind = "button"  // a button press; Payload holds the button's payload
	KindCommand Kind = "command" // /start, /status, /lang en …; Payload is the command name without the slash, Text the arguments
	KindMedia   Kind = "media"   // photo, document, voice; Attachments is set, Text may hold a caption
)

// Attachment is a file a customer sent: the platform's reference and, where the adapter keeps a copy
// (WeCom, whose media expire), the stored file's id.
type Attachment struct {
	Type   string `json:"type"`    // photo | document | voice | video | other
	FileID string `json:"file_id"` // the platform's id or URL
	Name   string `json:"name,omitempty"`
	Size   int64  `json:"size,omitempty"`
	MIME   string `json:"mime,omitempty"`
	// BlobID is the stored copy (storage attachment_blobs); 0 for none.
	BlobID int64 `json:"blob_id,omitempty"`
	// TooLarge: the file is over the configured cap and only the reference is kept.
	TooLarge bool `json:"too_large,omitempty"`
	// Failed: the download failed; only the reference is kept, and the download is retried in the
	// background until the platform's copy expires (storage media_retries).
	Failed bool `json:"fetch_failed,omitempty"`
	// Expired: the download kept failing until the platform deleted its copy (MediaExpiry); the
	// Failed mark stays and no retry follows.
	Expired bool `json:"fetch_expired,omitempty"`
}

// Event is everything an adapter hands the engine: normalized, with no SDK types inside.
type Event struct {
	Channel     Channel
	MsgID       string // the platform's id; (Channel, MsgID) is the deduplication key
	ChatID      string // where a reply goes: Telegram chat, Discord DM/thread, web session
	UserID      string // the platform's user id (web: the session id)
	UserName    string // display name as the platform gives it (masked before it reaches a team channel)
	Kind        Kind
	Text        string // NFKC-normalized and trimmed (see Normalize)
	Payload     string // button payload or command name
	LangHint    string // platform language code, may be empty; flows decides the session language
	Attachments []Attachment
	At          time.Time
}

// Button is one choice under a reply.
type Button struct {
	Label   string `json:"label"`
	Payload string `json:"action"`
}

// Reply is one outbox row; Text is already rendered in the customer's language.
type Reply struct {
	OutboxID       int64 // stable across retries: the idempotency key where the platform allows one
	ConversationID int64
	Channel        Channel
	ChatID         string
	Text           string
	Buttons        []Button
	Attempts       int // delivery attempts so far
}

// Sink receives normalized events. The engine implements it.
type Sink interface {
	Deliver(ctx context.Context, ev Event) error
}

// InlineSink is a Sink for an adapter whose response to the customer carries the replies itself (web
// chat answers the POST with them). DeliverInline is Deliver, except that the replies to the event's
// own chat are recorded as delivered in the event's transaction and returned (with their OutboxID)
// instead of being left to the dispatcher. A duplicate event returns no replies.
type InlineSink interface {
	Sink
	DeliverInline(ctx context.Context, ev Event) ([]Reply, error)
}

// SinkFunc adapts a function to Sink, like http.HandlerFunc.
type SinkFunc func(context.Context, Event) error

// Deliver calls f.
func (f SinkFunc) Deliver(ctx context.Context, ev Event) error { return f(ctx, ev) }

// Adapter connects one platform. Adapters translate only; they hold no business rules.
type Adapter interface {
	Channel() Channel
	// Run receives until ctx is done and hands each Event to sink. It confirms receipt to the platform
	// (Telegram offset, Slack envelope ack) only after sink returns nil. On ctx cancel it returns nil.
	Run(ctx context.Context, sink Sink) error
	// Send delivers r and returns the platform's message id. On a 429 it returns *RateLimitedError.
	Send(ctx context.Context, r Reply) (msgID string, err error)
}

// Editor is an optional Adapter capability (found by type assertion): change a sent message, e.g. to
// remove the buttons of a keyboard that was used.
type Editor interface {
	Edit(ctx context.Context, chatID, msgID string, r Reply) error
}

// RateLimitedError is returned by Adapter.Send when the platform asks kefu to slow down.
type RateLimitedError struct{ Wait time.Duration }

func (e *RateLimitedError) Error() string { return "rate limited; retry after " + e.Wait.String() }

// PermanentError marks a send that can never succeed (chat deleted, bot blocked): the outbox gives up
// on it at once instead of retrying.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return "permanent: " + e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Sentinel errors of the bot contracts. Match with errors.Is.
var (
	ErrDuplicate  = errors.New("duplicate event") // (Channel, MsgID) already stored
	ErrNotFound   = errors.New("not found")
	ErrForbidden  = errors.New("forbidden")          // the actor may not do this (not an agent, not the customer's ticket)
	ErrConflict   = errors.New("conflict")           // e.g. ticket already claimed by someone else
	ErrBadInput   = errors.New("bad input")          // malformed command, bad priority …
	ErrClosed     = errors.New("ticket closed")      // action on a closed ticket
	ErrUnknownTkt = errors.New("unknown ticket")     // no such ticket number
	ErrBadSession = errors.New("unreadable session") // a stored session that cannot be decoded
	// ErrSupervisorOnly: the actor is an agent, but only supervisors may do this (approve above a
	// limit, --force, customer flags). It wraps ErrForbidden: errors.Is(err, ErrForbidden) holds too.
	ErrSupervisorOnly = fmt.Errorf("supervisors only: %w", ErrForbidden)
)
