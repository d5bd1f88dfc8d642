package slack

import (
	"sync"
	"time"
)

// replayGuard remembers the signatures of the signed slash commands and interactions already
// handled, for as long as Slack's verifier accepts their timestamp (5 minutes), so a captured request
// replayed within that window does nothing (issue 15: a replayed `/kefu reply` reached the customer
// twice). A signature covers the timestamp and the whole body, so Slack's own requests never repeat
// one. The memory is per process: behind a load balancer, pin /slack/ to one instance or accept that a
// replay to another instance within 5 minutes is not caught.
type replayGuard struct {
	mu   sync.Mutex
	ttl  time.Duration
	seen map[string]time.Time // signature -> when it expires from memory
}

func newReplayGuard(ttl time.Duration) *replayGuard {
	return &replayGuard{ttl: ttl, seen: map[string]time.Time{}}
}

// first reports whether sig is seen for the first time, and remembers it.
func (g *replayGuard) first(sig string, now time.Time) bool {
	if sig == "" {
		return true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if exp, ok := g.seen[sig]; ok && now.Before(exp) {
		return false
	}
	if len(g.seen) >= 1024 {
		for k, exp := range g.seen {
			if !now.Before(exp) {
				delete(g.seen, k)
			}
		}
	}
	g.seen[sig] = now.Add(g.ttl)
	return true
}
