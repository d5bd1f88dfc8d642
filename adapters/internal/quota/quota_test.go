package quota

import (
	"errors"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/adapters/internal/memstate"
	"github.com/kefu-dev/kefu/bot"
)

func TestCounter(t *testing.T) {
	ctx := t.Context()
	t0 := time.Unix(1764700000, 0)
	t1 := t0.Add(time.Hour)
	tests := []struct {
		name  string
		limit int
		do    func(c Counter) // what happened before
		start time.Time       // the window the check is for
		n     int
		ok    bool
	}{
		{"nothing recorded", 0, func(Counter) {}, t0, 5, true},
		{"more than the quota at once", 0, func(Counter) {}, t0, 6, false},
		{"four sent, one fits", 0, func(c Counter) { c.Add(ctx, "k", t0, 4) }, t0, 1, true},
		{"four sent, two do not", 0, func(c Counter) { c.Add(ctx, "k", t0, 4) }, t0, 2, false},
		{"a count of an older window is stale", 0, func(c Counter) { c.Add(ctx, "k", t0, 5) }, t1, 5, true},
		{"reset in the same second", 0, func(c Counter) { c.Add(ctx, "k", t0, 5); c.Reset(ctx, "k", t0) }, t0, 5, true},
		{"exhausted by the platform", 0, func(c Counter) { c.Add(ctx, "k", t0, 1); c.Exhaust(ctx, "k", t0) }, t0, 1, false},
		{"configured limit", 2, func(c Counter) { c.Add(ctx, "k", t0, 2) }, t0, 1, false},
		{"negative limit: no counting", -1, func(c Counter) { c.Add(ctx, "k", t0, 50) }, t0, 50, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Counter{State: memstate.New(), Limit: tc.limit}
			tc.do(c)
			err := c.Check(ctx, "k", tc.start, tc.n)
			if (err == nil) != tc.ok || err != nil && !errors.Is(err, bot.ErrQuotaUsed) {
				t.Errorf("Check = %v, want ok %v", err, tc.ok)
			}
		})
	}
}
