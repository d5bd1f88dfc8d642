package web

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter hands out one token bucket per key (a web session) and forgets buckets that have been
// idle for a while, so that memory stays bounded by the number of active chats.
type limiter struct {
	r     rate.Limit
	burst int

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

const idleBucket = 10 * time.Minute

// newLimiter returns nil (no limit) when perSecond is negative.
func newLimiter(perSecond float64, burst int) *limiter {
	if perSecond < 0 {
		return nil
	}
	return &limiter{r: rate.Limit(perSecond), burst: burst, buckets: map[string]*bucket{}}
}

// allow reports whether key may act now, and if not, how long to wait.
func (l *limiter) allow(key string, now time.Time) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > idleBucket {
		for k, b := range l.buckets {
			if now.Sub(b.seen) > idleBucket {
				delete(l.buckets, k)
			}
		}
		l.swept = now
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{lim: rate.NewLimiter(l.r, l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	res := b.lim.ReserveN(now, 1)
	if !res.OK() {
		return false, time.Second
	}
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

// retryAfter renders a wait as whole seconds for the Retry-After header (at least 1).
func retryAfter(d time.Duration) int {
	return int(math.Max(1, math.Ceil(d.Seconds())))
}
