package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"
)

// Backoff is an exponential backoff: Min, doubling with every attempt up to Max, each delay spread by
// ±Jitter (a fraction: 0.2 is ±20%, 0 none). Written here rather than taken from a library because it
// is these few lines and the adapters need it only with DeliverRetry and their own reconnect loops.
type Backoff struct {
	Min, Max time.Duration
	Jitter   float64
}

// Delay is the wait before retry number attempt (1 is the first retry).
func (b Backoff) Delay(attempt int) time.Duration {
	d := b.Min
	for i := 1; i < attempt && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	if b.Jitter > 0 {
		d = time.Duration(float64(d) * (1 - b.Jitter + 2*b.Jitter*rand.Float64()))
	}
	return d
}

// Sleep waits d or until ctx is done; it reports whether the full wait elapsed.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// DeliverRetry hands ev to sink until Deliver returns nil, waiting b.Delay(attempt) between attempts
// (at least the Wait of a *RateLimitedError) and logging each failure at warn level. It gives up and
// returns the error when it wraps ErrBadInput (retrying cannot fix it) or when ctx ends; the error
// then wraps both ctx.Err() and the last Deliver error. Adapters whose delivery does more than
// sink.Deliver (resolving a thread first …) pass a SinkFunc.
func DeliverRetry(ctx context.Context, sink Sink, ev Event, b Backoff, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for attempt := 1; ; attempt++ {
		err := sink.Deliver(ctx, ev)
		if err == nil {
			return nil
		}
		if errors.Is(err, ErrBadInput) {
			return fmt.Errorf("bot: deliver %s: %w", ev.MsgID, err)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("bot: deliver %s: %w (last error: %w)", ev.MsgID, ctx.Err(), err)
		}
		wait := b.Delay(attempt)
		if rl := (*RateLimitedError)(nil); errors.As(err, &rl) && rl.Wait > wait {
			wait = rl.Wait
		}
		log.WarnContext(ctx, "deliver failed; retrying", "msg_id", ev.MsgID, "chat_id", ev.ChatID,
			"attempt", attempt, "wait", wait, "err", err)
		if !Sleep(ctx, wait) {
			return fmt.Errorf("bot: deliver %s: %w (last error: %w)", ev.MsgID, ctx.Err(), err)
		}
	}
}
