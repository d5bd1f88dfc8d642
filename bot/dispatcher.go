package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"
)

// DispatcherOptions configure a Dispatcher. Store and Adapters are required.
type DispatcherOptions struct {
	Store    Outbox
	Adapters map[Channel]Adapter // rows of channels without an adapter stay queued
	Logger   *slog.Logger
	// PollInterval is how often the outbox is polled when idle (default 100ms); Kick wakes it at once.
	PollInterval time.Duration
	// Lease is how long a claimed row is hidden from other dispatchers (default 2m). It must exceed the
	// longest Send.
	Lease time.Duration
	// Batch is the most rows claimed at once (default 64); Workers the most concurrent sends (default 8).
	Batch   int
	Workers int
	// MaxAttempts failed sends (not counting rate limits) before a row is marked failed (default 10).
	MaxAttempts int
	// BaseBackoff doubles per attempt up to MaxBackoff (defaults 1s and 10m), with ±20% jitter.
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// SendTimeout bounds one Adapter.Send (default 30s).
	SendTimeout time.Duration
	Now         func() time.Time
	// OnGiveUp, if set, is told about every row marked failed (a permanent error or MaxAttempts spent)
	// after it was recorded, so that the agents hear of a reply that never reached the customer (the
	// engine's Undelivered). Its error is logged.
	OnGiveUp func(ctx context.Context, r Reply, err error) error
}

// Dispatcher delivers the outbox: each row once, in order per conversation, with retries and backoff.
// Several dispatchers (processes) may run on one database: rows are claimed with a lease.
type Dispatcher struct {
	o        DispatcherOptions
	log      *slog.Logger
	channels []Channel
	kick     chan struct{}
}

// NewDispatcher builds a Dispatcher.
func NewDispatcher(o DispatcherOptions) (*Dispatcher, error) {
	if o.Store == nil {
		return nil, errors.New("bot: new dispatcher: Store is required")
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 100 * time.Millisecond
	}
	if o.Lease <= 0 {
		o.Lease = 2 * time.Minute
	}
	if o.Batch <= 0 {
		o.Batch = 64
	}
	if o.Workers <= 0 {
		o.Workers = 8
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 10
	}
	if o.BaseBackoff <= 0 {
		o.BaseBackoff = time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 10 * time.Minute
	}
	if o.SendTimeout <= 0 {
		o.SendTimeout = 30 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Lease <= o.SendTimeout {
		return nil, fmt.Errorf("bot: new dispatcher: lease %s must exceed the send timeout %s", o.Lease, o.SendTimeout)
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &Dispatcher{o: o, log: log.With("component", "outbox"), kick: make(chan struct{}, 1)}
	for ch, a := range o.Adapters {
		if a == nil {
			return nil, fmt.Errorf("bot: new dispatcher: nil adapter for %s", ch)
		}
		d.channels = append(d.channels, ch)
	}
	sort.Slice(d.channels, func(i, j int) bool { return d.channels[i] < d.channels[j] })
	return d, nil
}

// Kick wakes the dispatcher now (the engine calls it after enqueueing, via Options.OnEnqueue).
func (d *Dispatcher) Kick() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// Run delivers until ctx is done; it returns nil on cancel.
func (d *Dispatcher) Run(ctx context.Context) error {
	if len(d.channels) == 0 {
		d.log.InfoContext(ctx, "no adapters: outbox stays queued")
		<-ctx.Done()
		return nil
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	failures := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		case <-d.kick:
		}
		n, err := d.Flush(ctx)
		wait := d.o.PollInterval
		switch {
		case err != nil && ctx.Err() == nil:
			// The database is unreachable or failing: back off (up to 5s) instead of logging every poll.
			failures++
			wait = min(d.o.PollInterval<<min(failures, 6), 5*time.Second)
			d.log.ErrorContext(ctx, "outbox pass failed", "err", err, "failures", failures, "retry_in", wait)
		case n > 0:
			failures = 0
			wait = 0 // more may be due right behind (the next row of each conversation)
		default:
			failures = 0
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
	}
}

// Flush claims the rows due now and sends them (one row per conversation per pass, concurrently across
// conversations). It returns how many rows it handled (sent, rescheduled or failed).
func (d *Dispatcher) Flush(ctx context.Context) (int, error) {
	claimed := d.o.Now()
	rows, err := d.o.Store.ClaimOutbox(ctx, claimed, d.channels, d.o.Lease, d.o.Batch)
	if err != nil {
		return 0, err
	}
	if len(rows) == 0 {
		return 0, nil
	}
	sem := make(chan struct{}, d.o.Workers)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for _, r := range rows {
		sem <- struct{}{}
		wg.Add(1)
		go func(r Reply) {
			defer wg.Done()
			defer func() { <-sem }()
			// A row may wait here behind slow sends. Once its lease cannot cover a whole send, another
			// dispatcher may claim it when the lease runs out: give it back unsent instead.
			if now, until := d.o.Now(), claimed.Add(d.o.Lease); !now.Add(d.o.SendTimeout).Before(until) {
				if now.Before(until) {
					if err := d.o.Store.MarkRetry(context.WithoutCancel(ctx), r.OutboxID, now, "lease ran out before sending", false); err != nil {
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
					}
				}
				return
			}
			if err := d.deliver(ctx, r); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}(r)
	}
	wg.Wait()
	return len(rows), errors.Join(errs...)
}

// deliver sends one claimed row and records the outcome. Only store errors are returned.
func (d *Dispatcher) deliver(ctx context.Context, r Reply) error {
	a := d.o.Adapters[r.Channel]
	sctx, cancel := context.WithTimeout(ctx, d.o.SendTimeout)
	msgID, err := d.send(sctx, a, r)
	cancel()
	now := d.o.Now()
	log := d.log.With("outbox_id", r.OutboxID, "channel", r.Channel, "conversation_id", r.ConversationID)
	var rl *RateLimitedError
	var perm *PermanentError
	switch {
	case err == nil:
		return d.o.Store.MarkSent(context.WithoutCancel(ctx), r.OutboxID, msgID, now)
	case errors.As(err, &perm):
		log.WarnContext(ctx, "send failed permanently", "err", err)
		return d.giveUp(ctx, r, err)
	case errors.As(err, &rl):
		wait := rl.Wait
		if wait <= 0 {
			wait = time.Second
		}
		log.InfoContext(ctx, "rate limited", "wait", wait)
		return d.o.Store.MarkRetry(context.WithoutCancel(ctx), r.OutboxID, now.Add(wait), err.Error(), false)
	case ctx.Err() != nil:
		// Shutting down: release the row for the next run without counting an attempt.
		return d.o.Store.MarkRetry(context.WithoutCancel(ctx), r.OutboxID, now, "interrupted: "+err.Error(), false)
	default:
		attempts := r.Attempts + 1
		if attempts >= d.o.MaxAttempts {
			log.ErrorContext(ctx, "send failed; giving up", "attempts", attempts, "err", err)
			return d.giveUp(ctx, r, err)
		}
		next := now.Add(d.Backoff(attempts))
		log.WarnContext(ctx, "send failed; will retry", "attempts", attempts, "next_attempt_at", next, "err", err)
		return d.o.Store.MarkRetry(context.WithoutCancel(ctx), r.OutboxID, next, err.Error(), true)
	}
}

// giveUp marks r failed and tells OnGiveUp.
func (d *Dispatcher) giveUp(ctx context.Context, r Reply, cause error) error {
	ctx = context.WithoutCancel(ctx)
	if err := d.o.Store.MarkFailed(ctx, r.OutboxID, cause.Error()); err != nil {
		return err
	}
	if d.o.OnGiveUp != nil {
		if err := d.o.OnGiveUp(ctx, r, cause); err != nil {
			d.log.ErrorContext(ctx, "undelivered reply not reported", "outbox_id", r.OutboxID, "err", err)
		}
	}
	return nil
}

func (d *Dispatcher) send(ctx context.Context, a Adapter, r Reply) (id string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("bot: adapter %s panicked: %v", a.Channel(), p)
		}
	}()
	return a.Send(ctx, r)
}

// Backoff is the delay before retry number attempt (1-based): BaseBackoff·2^(attempt-1), capped at
// MaxBackoff, with ±20% jitter.
func (d *Dispatcher) Backoff(attempt int) time.Duration {
	return Backoff{Min: d.o.BaseBackoff, Max: d.o.MaxBackoff, Jitter: 0.2}.Delay(attempt)
}
