// Package quota counts the replies sent to a customer since their last message, for platforms that
// allow only a few per message: WeChat's customer-service messages and WeCom's kf/send_msg both allow 5
// within 48 hours of a customer's message, and a new message from the customer resets the count to 0
// (it does not add up).
//
// The count is kept in the adapter's State under a key per chat, as "<window start ms> <sent>". The
// window start (the customer's last message) is kept by the adapter itself and passed in: a count
// stored for another start is stale and reads as 0, so a send racing with a new inbound message cannot
// undo its reset. Reset also writes a zero count, for a message within the same millisecond (WeChat's
// times are whole seconds) as the one before.
package quota

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-dev/kefu/bot"
)

// DefaultLimit is the platforms' limit: 5 messages per customer message.
const DefaultLimit = 5

// KV is the part of an adapter's State the counter uses.
type KV interface {
	GetKV(ctx context.Context, key string) (string, bool, error)
	SetKV(ctx context.Context, key, value string) error
}

// Counter counts sends per chat key. Limit is the most messages after one customer message; 0 means
// DefaultLimit and a negative Limit counts nothing (Check always passes).
type Counter struct {
	State KV
	Limit int
}

func (c Counter) limit() int {
	if c.Limit == 0 {
		return DefaultLimit
	}
	return c.Limit
}

// Used returns how many messages were recorded for key since the window that started at start.
func (c Counter) Used(ctx context.Context, key string, start time.Time) (int, error) {
	v, ok, err := c.State.GetKV(ctx, key)
	if err != nil {
		return 0, fmt.Errorf("quota: read: %w", err)
	}
	if !ok {
		return 0, nil
	}
	ms, n, _ := strings.Cut(v, " ")
	at, err1 := strconv.ParseInt(ms, 10, 64)
	used, err2 := strconv.Atoi(n)
	if err1 != nil || err2 != nil || at != start.UnixMilli() || used < 0 {
		return 0, nil // stale (an older window) or unreadable: a fresh count
	}
	return used, nil
}

// Check returns nil if n more messages fit in key's quota for the window that started at start, and
// otherwise an error wrapping bot.ErrQuotaUsed that says how many were sent. It records nothing.
func (c Counter) Check(ctx context.Context, key string, start time.Time, n int) error {
	if c.limit() < 0 {
		return nil
	}
	used, err := c.Used(ctx, key, start)
	if err != nil {
		return err
	}
	if used+n > c.limit() {
		return fmt.Errorf("%w: %d of %d messages sent since the customer's message at %s, %d more needed",
			bot.ErrQuotaUsed, used, c.limit(), start.UTC().Format(time.RFC3339), n)
	}
	return nil
}

// Add records n more messages sent in the window that started at start.
func (c Counter) Add(ctx context.Context, key string, start time.Time, n int) error {
	if c.limit() < 0 {
		return nil
	}
	used, err := c.Used(ctx, key, start)
	if err != nil {
		return err
	}
	return c.set(ctx, key, start, used+n)
}

// Reset starts a fresh count for the window that starts at start (the customer wrote).
func (c Counter) Reset(ctx context.Context, key string, start time.Time) error {
	if c.limit() < 0 {
		return nil
	}
	return c.set(ctx, key, start, 0)
}

// Exhaust records the quota as used up (the platform refused a message for its count), so that the
// next replies wait for the customer instead of calling the platform.
func (c Counter) Exhaust(ctx context.Context, key string, start time.Time) error {
	if c.limit() < 0 {
		return nil
	}
	used, err := c.Used(ctx, key, start)
	if err != nil {
		return err
	}
	return c.set(ctx, key, start, max(used, c.limit()))
}

func (c Counter) set(ctx context.Context, key string, start time.Time, used int) error {
	if err := c.State.SetKV(ctx, key, strconv.FormatInt(start.UnixMilli(), 10)+" "+strconv.Itoa(used)); err != nil {
		return fmt.Errorf("quota: record: %w", err)
	}
	return nil
}
