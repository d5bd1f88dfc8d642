package bot_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kefu-dev/kefu/bot"
)

func TestBackoffDelay(t *testing.T) {
	tests := []struct {
		name     string
		b        bot.Backoff
		attempts []int
		want     []time.Duration
	}{
		{"doubles up to max", bot.Backoff{Min: 200 * time.Millisecond, Max: time.Second}, []int{1, 2, 3, 4, 5, 100},
			[]time.Duration{200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, time.Second, time.Second, time.Second}},
		{"min above max is capped", bot.Backoff{Min: 5 * time.Second, Max: time.Second}, []int{1, 2},
			[]time.Duration{time.Second, time.Second}},
		{"attempt 0 is the first", bot.Backoff{Min: time.Second, Max: time.Minute}, []int{0, 1},
			[]time.Duration{time.Second, time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []time.Duration
			for _, a := range tt.attempts {
				got = append(got, tt.b.Delay(a))
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("delays (-want +got):\n%s", d)
			}
		})
	}
}

func TestBackoffJitterStaysInBounds(t *testing.T) {
	b := bot.Backoff{Min: time.Second, Max: 8 * time.Second, Jitter: 0.2}
	for attempt, base := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 9: 8 * time.Second} {
		lo, hi := time.Duration(float64(base)*0.8), time.Duration(float64(base)*1.2)
		seen := map[time.Duration]bool{}
		for range 200 {
			d := b.Delay(attempt)
			if d < lo || d > hi {
				t.Fatalf("Delay(%d) = %v, want within [%v, %v]", attempt, d, lo, hi)
			}
			seen[d] = true
		}
		if len(seen) < 2 {
			t.Errorf("Delay(%d) gave one value in 200 draws; want it spread", attempt)
		}
	}
}

// failSink fails the first len(errs) calls with errs[i], then succeeds; it records when it was called.
type failSink struct {
	errs  []error
	calls []time.Duration // since start
	start time.Time
}

func (s *failSink) Deliver(ctx context.Context, ev bot.Event) error {
	s.calls = append(s.calls, time.Since(s.start))
	if n := len(s.calls); n <= len(s.errs) {
		return s.errs[n-1]
	}
	return nil
}

func TestDeliverRetry(t *testing.T) {
	boom := errors.New("database is locked")
	b := bot.Backoff{Min: time.Second, Max: 4 * time.Second}
	tests := []struct {
		name      string
		errs      []error
		cancelAt  time.Duration // cancel ctx this long after the start (0: never)
		wantCalls []time.Duration
		wantErr   []error // errors.Is targets of the returned error; none: nil
	}{
		{"first attempt succeeds", nil, 0, []time.Duration{0}, nil},
		{"failures back off 1s 2s 4s 4s", []error{boom, boom, boom, boom}, 0,
			[]time.Duration{0, time.Second, 3 * time.Second, 7 * time.Second, 11 * time.Second}, nil},
		{"rate limit waits at least its Wait", []error{&bot.RateLimitedError{Wait: 10 * time.Second}, boom}, 0,
			[]time.Duration{0, 10 * time.Second, 12 * time.Second}, nil},
		{"a short rate limit keeps the backoff", []error{&bot.RateLimitedError{Wait: time.Millisecond}}, 0,
			[]time.Duration{0, time.Second}, nil},
		{"bad input is not retried", []error{fmt.Errorf("score 9: %w", bot.ErrBadInput)}, 0,
			[]time.Duration{0}, []error{bot.ErrBadInput}},
		{"ctx ends while waiting", []error{boom, boom, boom, boom, boom, boom}, 5 * time.Second,
			[]time.Duration{0, time.Second, 3 * time.Second}, []error{context.Canceled, boom}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				if tt.cancelAt > 0 {
					time.AfterFunc(tt.cancelAt, cancel)
				}
				sink := &failSink{errs: tt.errs, start: time.Now()}
				err := bot.DeliverRetry(ctx, sink, bot.Event{MsgID: "m1", ChatID: "c1"}, b, nil)
				if d := cmp.Diff(tt.wantCalls, sink.calls); d != "" {
					t.Errorf("Deliver calls at (-want +got):\n%s", d)
				}
				if len(tt.wantErr) == 0 && err != nil {
					t.Errorf("DeliverRetry = %v, want nil", err)
				}
				for _, target := range tt.wantErr {
					if !errors.Is(err, target) {
						t.Errorf("DeliverRetry = %v, want it to wrap %v", err, target)
					}
				}
			})
		})
	}
}

// A failure that comes with ctx already done ends at once, without another wait.
func TestDeliverRetryStopsWhenDeliverSawCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		calls := 0
		sink := bot.SinkFunc(func(ctx context.Context, ev bot.Event) error {
			calls++
			cancel()
			return ctx.Err()
		})
		start := time.Now()
		err := bot.DeliverRetry(ctx, sink, bot.Event{MsgID: "m1"}, bot.Backoff{Min: time.Hour, Max: time.Hour}, nil)
		if !errors.Is(err, context.Canceled) || calls != 1 || time.Since(start) != 0 {
			t.Errorf("err = %v, calls = %d, took %v; want context.Canceled after one call and no wait", err, calls, time.Since(start))
		}
	})
}
