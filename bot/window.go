package bot

import (
	"context"
	"fmt"
	"time"
)

// WindowClosedError is the desk's refusal of a reply the platform would no longer deliver: the
// ticket's channel has a reply window (ReplyWindow) and the customer last wrote before it. It wraps
// ErrWindowClosed. Nothing is written: no outbox row, no audit event.
type WindowClosedError struct {
	No          string    // the ticket
	Channel     Channel   // its conversation's channel
	LastInbound time.Time // when the customer last wrote
	ClosedAt    time.Time // when the window closed (LastInbound + the channel's window)
	// Never: the conversation holds no message of the customer (never wrote, or purged), so no window
	// was ever open; LastInbound and ClosedAt are zero.
	Never bool
}

func (e *WindowClosedError) Error() string {
	if e.Never {
		return fmt.Sprintf("bot: reply to %s: %s: %v: the customer has no message on this channel", e.No, e.Channel, ErrWindowClosed)
	}
	return fmt.Sprintf("bot: reply to %s: %s: %v since %s (customer last wrote at %s)", e.No, e.Channel, ErrWindowClosed,
		e.ClosedAt.UTC().Format(time.RFC3339), e.LastInbound.UTC().Format(time.RFC3339))
}

func (e *WindowClosedError) Unwrap() error { return ErrWindowClosed }

// checkWindow refuses a reply on conversation conv of ticket no unless WindowState.ReplyAllowed at
// now (the card's rule too): a conversation whose customer never wrote is refused.
func checkWindow(ctx context.Context, r Reader, no string, conv Conversation, now time.Time) error {
	if _, ok := ReplyWindow(conv.Channel); !ok {
		return nil
	}
	last, ok, err := r.LastInbound(ctx, conv.ID)
	if err != nil {
		return err
	}
	w := ReplyWindowAt(conv.Channel, last, ok, now)
	if w.ReplyAllowed() {
		return nil
	}
	if !ok {
		return &WindowClosedError{No: no, Channel: conv.Channel, Never: true}
	}
	return &WindowClosedError{No: no, Channel: conv.Channel, LastInbound: last, ClosedAt: w.Until}
}

// Key is the locale message every desk shows for the refusal: "window.closed" (when it closed, from
// Args) or "window.never" (the customer has no message on the channel).
func (e *WindowClosedError) Key() string {
	if e.Never {
		return "window.never"
	}
	return "window.closed"
}

// Args are the arguments of the locale message "window.closed" that every desk shows, with the times
// written by format (the desk's own: a Slack date token, the console's time zone): "at" when the window
// closed, "from" when the customer last wrote (the window ran from it).
func (e *WindowClosedError) Args(format func(time.Time) string) map[string]any {
	return map[string]any{"no": e.No, "channel": "window.channel." + string(e.Channel),
		"at": format(e.ClosedAt), "from": format(e.LastInbound)}
}
