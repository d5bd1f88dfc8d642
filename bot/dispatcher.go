package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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
	// Lease is how long the claims of a dispatcher that stops (a killed process) hold before another
	// dispatcher takes the rows over (default 5s). A running dispatcher renews them with a heartbeat
	// every Lease/5, however long its sends take.
	Lease time.Duration
	// Batch is the most conversations claimed at once, each with all its pending rows (default 64);
	// Workers the most conversations sent to concurrently (default 8).
	Batch   int
	Workers int
	// MaxAttempts failed sends (not counting rate limits) before a row is marked failed (default 10).
	MaxAttempts int
	// BaseBackoff doubles per attempt up to MaxBackoff (defaults 1s and 10m), with ±20% jitter.
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// MarkEvery is how many sent rows a pass collects before it marks them sent in one statement
	// (default 64). A killed process sends the rows it had not marked yet again: 1 keeps that to the
	// sends in flight (webhooks, where a few more statements cost nothing).
	MarkEvery int
	// SendTimeout bounds one Adapter.Send (default 30s).
	SendTimeout time.Duration
	Now         func() time.Time
	// OnGiveUp, if set, is told about every row marked failed (a permanent error or MaxAttempts spent)
	// after it was recorded, so that the agents hear of a reply that never reached the customer (the
	// engine's Undelivered). Its error is logged.
	OnGiveUp func(ctx context.Context, r Reply, err error) error
}

// Dispatcher delivers the outbox: each row once, in order per conversation, with retries and backoff.
// Several dispatchers (processes) may run on one database. Each claims whole conversations at once
// (every pending row of a batch of conversations in one statement), sends each conversation's rows
// in order, marks the sent ones in batches, and keeps its claims alive with a heartbeat; the claims
// of a dispatcher whose heartbeat stops are freed by the others after Lease.
type Dispatcher struct {
	o        DispatcherOptions
	log      *slog.Logger
	channels []Channel
	kick     chan struct{}
	owner    string // this dispatcher's claims

	mu     sync.Mutex
	beatAt time.Time // last successful heartbeat (o.Now)
	held   []int64   // rows to give back whose release failed; retried every pass
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
		o.Lease = 5 * time.Second
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
	if o.MarkEvery <= 0 {
		o.MarkEvery = 64
	}
	if o.SendTimeout <= 0 {
		o.SendTimeout = 30 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := make([]byte, 12)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	d := &Dispatcher{o: o, log: log.With("component", "outbox"), kick: make(chan struct{}, 1), owner: hex.EncodeToString(b)}
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
	hbDone := make(chan struct{})
	go func() {
		defer close(hbDone)
		d.heartbeats(ctx)
	}()
	defer func() {
		<-hbDone
		// Stopping: declare this owner dead at once, so that rows still claimed go to others now.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		d.releaseHeld(sctx)
		now := d.o.Now()
		if err := d.o.Store.Heartbeat(sctx, d.owner, now, now); err != nil {
			d.log.WarnContext(ctx, "outbox: could not give up claims at shutdown", "err", err)
		}
	}()
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
			wait = 0 // more may be due right behind
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

// heartbeats renews this dispatcher's claims every Lease/5 until ctx is done.
func (d *Dispatcher) heartbeats(ctx context.Context) {
	t := time.NewTicker(max(d.o.Lease/5, 10*time.Millisecond))
	defer t.Stop()
	for {
		if err := d.beat(ctx); err != nil && ctx.Err() == nil {
			d.log.WarnContext(ctx, "outbox heartbeat failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (d *Dispatcher) beat(ctx context.Context) error {
	now := d.o.Now()
	if err := d.o.Store.Heartbeat(ctx, d.owner, now, now.Add(d.o.Lease)); err != nil {
		return err
	}
	d.mu.Lock()
	if now.After(d.beatAt) {
		d.beatAt = now
	}
	d.mu.Unlock()
	return nil
}

// alive makes sure this dispatcher's claims hold for a while yet: it renews them itself when the
// last heartbeat is a third of Lease old. False means the claims may be gone: send nothing.
func (d *Dispatcher) alive(ctx context.Context) error {
	d.mu.Lock()
	at := d.beatAt
	d.mu.Unlock()
	if d.o.Now().Sub(at) < d.o.Lease/3 {
		return nil
	}
	return d.beat(ctx)
}

// pass collects one Flush's outcomes: sent rows are marked every MarkEvery rows and at the end,
// rows given back are released at the end.
type pass struct {
	d       *Dispatcher
	mu      sync.Mutex
	sent    []Sent
	release []int64
	handled int
	errs    []error
}

func (p *pass) fail(err error) {
	if err != nil {
		p.mu.Lock()
		p.errs = append(p.errs, err)
		p.mu.Unlock()
	}
}

func (p *pass) done(ctx context.Context, s *Sent) {
	p.mu.Lock()
	p.handled++
	var batch []Sent
	if s != nil {
		p.sent = append(p.sent, *s)
		if len(p.sent) >= p.d.o.MarkEvery {
			batch, p.sent = p.sent, nil
		}
	}
	p.mu.Unlock()
	if batch != nil {
		p.fail(p.d.o.Store.MarkSentBatch(context.WithoutCancel(ctx), batch, p.d.o.Now()))
	}
}

func (p *pass) giveBack(rs []Reply) {
	p.mu.Lock()
	for _, r := range rs {
		p.release = append(p.release, r.OutboxID)
	}
	p.mu.Unlock()
}

// Flush claims the conversations due now with all their pending rows and sends them: each
// conversation's rows in order, several conversations concurrently. It returns how many rows it
// handled (sent, rescheduled or failed).
func (d *Dispatcher) Flush(ctx context.Context) (int, error) {
	if err := d.alive(ctx); err != nil {
		return 0, err
	}
	d.releaseHeld(ctx)
	rows, err := d.o.Store.ClaimBatch(ctx, d.owner, d.o.Now(), d.channels, d.o.Batch)
	if err != nil {
		return 0, err
	}
	if len(rows) == 0 {
		return 0, nil
	}
	type chat struct {
		ch Channel
		id string
	}
	var order []chat
	convs := map[chat][]Reply{}
	for _, r := range rows {
		k := chat{r.Channel, r.ChatID}
		if _, ok := convs[k]; !ok {
			order = append(order, k)
		}
		convs[k] = append(convs[k], r)
	}
	p := &pass{d: d}
	sem := make(chan struct{}, d.o.Workers)
	var wg sync.WaitGroup
	for _, k := range order {
		sem <- struct{}{}
		wg.Add(1)
		go func(rs []Reply) {
			defer wg.Done()
			defer func() { <-sem }()
			d.conversation(ctx, p, rs)
		}(convs[k])
	}
	wg.Wait()
	wctx := context.WithoutCancel(ctx)
	if len(p.sent) > 0 {
		p.fail(d.o.Store.MarkSentBatch(wctx, p.sent, d.o.Now()))
	}
	if len(p.release) > 0 {
		if err := d.o.Store.Release(wctx, d.owner, p.release); err != nil {
			d.mu.Lock()
			d.held = append(d.held, p.release...)
			d.mu.Unlock()
			p.fail(err)
		}
	}
	return p.handled, errors.Join(p.errs...)
}

// conversation sends one conversation's claimed rows in order. It stops at a row that must wait (a
// retry, a rate limit, shutting down, or claims that may have lapsed) and gives the rest back.
func (d *Dispatcher) conversation(ctx context.Context, p *pass, rs []Reply) {
	for i, r := range rs {
		if ctx.Err() != nil {
			p.giveBack(rs[i:])
			return
		}
		if err := d.alive(ctx); err != nil {
			// Another dispatcher may take these rows over: sending them here could send them twice.
			p.giveBack(rs[i:])
			p.fail(err)
			return
		}
		if !d.deliver(ctx, p, r) {
			p.giveBack(rs[i+1:])
			return
		}
	}
}

// releaseHeld retries giving back rows whose release failed in an earlier pass.
func (d *Dispatcher) releaseHeld(ctx context.Context) {
	d.mu.Lock()
	held := d.held
	d.held = nil
	d.mu.Unlock()
	if len(held) == 0 {
		return
	}
	if err := d.o.Store.Release(ctx, d.owner, held); err != nil {
		d.mu.Lock()
		d.held = append(d.held, held...)
		d.mu.Unlock()
	}
}

// deliver sends one claimed row and records the outcome; it reports whether the conversation's later
// rows may go ahead now.
func (d *Dispatcher) deliver(ctx context.Context, p *pass, r Reply) bool {
	a := d.o.Adapters[r.Channel]
	sctx, cancel := context.WithTimeout(ctx, d.o.SendTimeout)
	msgID, err := d.send(sctx, a, r)
	cancel()
	now := d.o.Now()
	wctx := context.WithoutCancel(ctx)
	log := d.log.With("outbox_id", r.OutboxID, "channel", r.Channel, "conversation_id", r.ConversationID)
	var rl *RateLimitedError
	var perm *PermanentError
	switch {
	case err == nil:
		p.done(ctx, &Sent{OutboxID: r.OutboxID, PlatformMsgID: msgID})
		return true
	case errors.As(err, &perm):
		log.WarnContext(ctx, "send failed permanently", "err", err)
		p.fail(d.giveUp(ctx, r, err))
		p.done(ctx, nil)
		return true
	case errors.As(err, &rl):
		wait := rl.Wait
		if wait <= 0 {
			wait = time.Second
		}
		log.InfoContext(ctx, "rate limited", "wait", wait)
		p.fail(d.o.Store.MarkRetry(wctx, r.OutboxID, now.Add(wait), err.Error(), false))
		p.done(ctx, nil)
		return false
	case ctx.Err() != nil:
		// Shutting down: release the row for the next run without counting an attempt.
		p.fail(d.o.Store.MarkRetry(wctx, r.OutboxID, now, "interrupted: "+err.Error(), false))
		p.done(ctx, nil)
		return false
	default:
		attempts := r.Attempts + 1
		if attempts >= d.o.MaxAttempts {
			log.ErrorContext(ctx, "send failed; giving up", "attempts", attempts, "err", err)
			p.fail(d.giveUp(ctx, r, err))
			p.done(ctx, nil)
			return true
		}
		next := now.Add(d.Backoff(attempts))
		log.WarnContext(ctx, "send failed; will retry", "attempts", attempts, "next_attempt_at", next, "err", err)
		p.fail(d.o.Store.MarkRetry(wctx, r.OutboxID, next, err.Error(), true))
		p.done(ctx, nil)
		return false
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
