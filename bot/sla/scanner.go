package sla

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Store is what the scanner needs from storage. Implementations: storage (PostgreSQL and SQLite,
// storage.SLAStore, see sql.go) wrapped by the engine; slatest.MemStore for tests.
type Store interface {
	// DueForAction claims up to limit tickets whose next check (sla_next_at) is at or before now,
	// earliest first. Claiming pushes their sla_next_at a lease ahead (e.g. now+1m) in the same
	// statement, so concurrent scanners mostly take different tickets (FOR UPDATE SKIP LOCKED), and
	// a ticket whose scanner died is picked up again when the lease runs out.
	DueForAction(ctx context.Context, now time.Time, limit int) ([]Item, error)
	// MarkFired records n once per n.Key and reports whether this call recorded it (false: it was
	// recorded before, by this or another process). The record and the notification's effect (the
	// EvSLA ticket event, the customer's outbox row, the breached stamp) must commit in one
	// transaction: that is what makes each notification exactly-once across crashes and processes.
	// PostgreSQL/SQLite: INSERT INTO sla_fired … ON CONFLICT DO NOTHING, then the effects if a row
	// was inserted.
	MarkFired(ctx context.Context, n Notify) (bool, error)
	// Reschedule sets the ticket's next check to next (zero: none, i.e. NULL) if the ticket's version
	// still equals version; otherwise it does nothing (the ticket changed and was rescheduled by the
	// engine, or will be picked up again when the lease runs out).
	Reschedule(ctx context.Context, ticketID, version int64, next time.Time) error
}

// Options configure a Scanner.
type Options struct {
	Store    Store   // required
	Policy   *Policy // required
	Interval time.Duration
	// Batch is how many tickets one DueForAction call claims (default 200).
	Batch  int
	Now    func() time.Time // default time.Now
	Logger *slog.Logger
	// OnScan, when set, is called after each scan Run makes with how long it took, how many
	// notifications it recorded and its error (monitoring: kefu_sla_scan_duration_seconds).
	OnScan func(elapsed time.Duration, fired int, err error)
}

// Scanner finds tickets whose SLA needs action and records the due notifications through the Store.
// Any number of scanners may run against one store.
type Scanner struct {
	store    Store
	policy   *Policy
	interval time.Duration
	batch    int
	now      func() time.Time
	log      *slog.Logger
	onScan   func(time.Duration, int, error)
}

// DefaultInterval is how often Run scans when Options.Interval is zero.
const DefaultInterval = 15 * time.Second

// maxRounds bounds one Scan: with the default batch it handles 10,000 due tickets, and the rest wait
// for the next tick rather than stall it.
const maxRounds = 50

// NewScanner checks o and returns a scanner.
func NewScanner(o Options) (*Scanner, error) {
	var errs []error
	if o.Store == nil {
		errs = append(errs, errors.New("Store is nil"))
	}
	if o.Policy == nil {
		errs = append(errs, errors.New("Policy is nil"))
	}
	if o.Interval < 0 || o.Batch < 0 {
		errs = append(errs, errors.New("Interval and Batch must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("sla: new scanner: %w", err)
	}
	s := &Scanner{store: o.Store, policy: o.Policy, interval: o.Interval, batch: o.Batch, now: o.Now, log: o.Logger, onScan: o.OnScan}
	if s.interval == 0 {
		s.interval = DefaultInterval
	}
	if s.batch == 0 {
		s.batch = 200
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("component", "sla")
	return s, nil
}

// Scan handles every ticket due at now: it offers each due notification to Store.MarkFired and
// reschedules the ticket. It returns the notifications this call recorded (not those another
// process recorded first). A failing ticket is skipped (its lease brings it back) and its error is
// joined into the result; the others are still handled.
func (s *Scanner) Scan(ctx context.Context, now time.Time) ([]Notify, error) {
	var fired []Notify
	var errs []error
	seen := map[int64]bool{}
	for range maxRounds {
		items, err := s.store.DueForAction(ctx, now, s.batch)
		if err != nil {
			return fired, fmt.Errorf("sla: scan: %w", errors.Join(append(errs, err)...))
		}
		fresh := 0
		for _, it := range items {
			if !seen[it.TicketID] {
				fresh++
				seen[it.TicketID] = true
			}
			f, err := s.handle(ctx, it, now)
			fired = append(fired, f...)
			if err != nil {
				errs = append(errs, err)
			}
		}
		if len(items) < s.batch || fresh == 0 || ctx.Err() != nil {
			break
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fired, fmt.Errorf("sla: scan: %w", err)
	}
	return fired, nil
}

func (s *Scanner) handle(ctx context.Context, it Item, now time.Time) ([]Notify, error) {
	due, next := s.policy.Plan(it, now)
	var fired []Notify
	for _, n := range due {
		ok, err := s.store.MarkFired(ctx, n)
		if err != nil {
			// Leave the ticket as claimed: the lease brings it back and MarkFired skips what was done.
			return fired, fmt.Errorf("ticket %s: mark %s: %w", it.TicketNo, n.Key, err)
		}
		if ok {
			fired = append(fired, n)
			s.log.InfoContext(ctx, "sla notification", "ticket_no", it.TicketNo, "kind", n.Kind,
				"target", n.Target, "level", n.Level, "due", n.Due)
		}
	}
	if err := s.store.Reschedule(ctx, it.TicketID, it.Version, next); err != nil {
		return fired, fmt.Errorf("ticket %s: reschedule: %w", it.TicketNo, err)
	}
	return fired, nil
}

// Run scans at once and then every Interval until ctx is done; it returns nil then. Scan errors are
// logged, not returned: a database hiccup must not stop the SLA clock.
func (s *Scanner) Run(ctx context.Context) error {
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		start := time.Now()
		fired, err := s.Scan(ctx, s.now())
		if err != nil && ctx.Err() == nil {
			s.log.ErrorContext(ctx, "sla scan failed", "err", err)
		}
		if s.onScan != nil {
			s.onScan(time.Since(start), len(fired), err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
