package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/bot/sla"
)

// SLA support: the store keeps each ticket's SLA clock (bot/sla.TicketClock) in the sla_* columns
// and implements sla.Store for the scanner, following bot/sla/sql.go.
//
// The clock follows the audit trail: every ticket event written through bot.Tx.AddEvent (created,
// customer message, agent reply, status and priority changes …) advances the clock in the same
// transaction with the sla.Policy transitions, bumps sla_version and plans sla_next_at. The engine
// needs to know nothing about SLA.

// slaRow is a ticket's SLA view: the ticket fields the clock reads plus the sla_* columns.
type slaRow struct {
	ID                  int64
	No                  string
	ConversationID      int64
	Lang                string
	Assignee            string
	Priority            string
	Category            string
	Channel             string
	ComplaintLevel      int
	Status              string
	CreatedAt           time.Time
	FirstResponseAt     *time.Time
	ResolvedAt          *time.Time
	ClosedAt            *time.Time
	SlaStatus           string
	SlaPriority         string
	SlaStartAt          *time.Time
	SlaPriorityAt       *time.Time
	SlaPausedBusinessNs int64
	SlaPausedWallNs     int64
	SlaPendingSince     *time.Time
	SlaWaitingSince     *time.Time
	SlaLastUpdateAt     *time.Time
	SlaAckedAt          *time.Time
	SlaVersion          int64
	SlaNextAt           *int64
	SlaFirstResponseMet *bool
	SlaResolutionMet    *bool
}

func (slaRow) TableName() string { return "tickets" }

// setString assigns s to a string-typed field whatever its named type (the clock's priority and
// status types belong to package sla).
func setString[T ~string](dst *T, s string) { *dst = T(s) }

func tv(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

func tp(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// clock rebuilds the TicketClock; ok is false when the clock was never started.
func (r slaRow) clock() (sla.TicketClock, bool) {
	tc := sla.TicketClock{
		Category:        bot.SLACategory(r.Category, r.ComplaintLevel),
		Channel:         r.Channel,
		CreatedAt:       r.CreatedAt.UTC(),
		Start:           tv(r.SlaStartAt),
		PriorityAt:      tv(r.SlaPriorityAt),
		PausedBusiness:  time.Duration(r.SlaPausedBusinessNs),
		PausedWall:      time.Duration(r.SlaPausedWallNs),
		PendingSince:    tv(r.SlaPendingSince),
		FirstResponseAt: tv(r.FirstResponseAt),
		WaitingSince:    tv(r.SlaWaitingSince),
		LastUpdateAt:    tv(r.SlaLastUpdateAt),
		ResolvedAt:      tv(r.ResolvedAt),
	}
	setString(&tc.Priority, r.SlaPriority)
	setString(&tc.Status, r.SlaStatus)
	if tc.ResolvedAt.IsZero() && r.Status == string(bot.StatusClosed) {
		tc.ResolvedAt = tv(r.ClosedAt)
	}
	return tc, r.SlaStatus != ""
}

func (r slaRow) item(tc sla.TicketClock, version int64) sla.Item {
	return sla.Item{TicketID: r.ID, TicketNo: r.No, Assignee: r.Assignee, Version: version, AckedAt: tv(r.SlaAckedAt), Clock: tc}
}

func nextMillis(t time.Time) any {
	if t.IsZero() {
		return gorm.Expr("NULL")
	}
	return t.UnixMilli()
}

// saveClock writes tc (and the met stamps it decides) with a new version and the next check.
func saveClock(g *gorm.DB, p *sla.Policy, r slaRow, tc sla.TicketClock, now time.Time) error {
	version := r.SlaVersion + 1
	next := p.Next(r.item(tc, version), now)
	up := map[string]any{
		"sla_status":             string(tc.Status),
		"sla_priority":           string(tc.Priority),
		"sla_start_at":           tp(tc.Start),
		"sla_priority_at":        tp(tc.PriorityAt),
		"sla_paused_business_ns": int64(tc.PausedBusiness),
		"sla_paused_wall_ns":     int64(tc.PausedWall),
		"sla_pending_since":      tp(tc.PendingSince),
		"sla_waiting_since":      tp(tc.WaitingSince),
		"sla_last_update_at":     tp(tc.LastUpdateAt),
		"sla_version":            version,
		"sla_next_at":            nextMillis(next),
	}
	ds := p.Due(tc)
	// The list columns follow the clock (pauses, reopenings, priority changes), so that lists and
	// `--overdue` show the deadlines the scanner enforces. A paused deadline keeps its last value.
	if !ds.FirstResponse.Due.IsZero() {
		up["first_response_due"] = ds.FirstResponse.Due.UTC()
	}
	if !ds.Resolution.Due.IsZero() {
		up["resolution_due"] = ds.Resolution.Due.UTC()
	}
	if r.SlaFirstResponseMet == nil && !ds.FirstResponse.DoneAt.IsZero() && !ds.FirstResponse.Due.IsZero() {
		up["sla_first_response_met"] = ds.FirstResponse.Met()
	}
	if r.SlaResolutionMet == nil && !ds.Resolution.DoneAt.IsZero() && !ds.Resolution.Due.IsZero() {
		up["sla_resolution_met"] = ds.Resolution.Met()
	}
	return g.Model(&slaRow{}).Where("id = ?", r.ID).Updates(up).Error
}

// advanceClock moves a ticket's SLA clock on after ev was recorded (the ticket row already holds the
// new status and priority).
func (t *txStore) advanceClock(ctx context.Context, g *gorm.DB, ev bot.TicketEvent) error {
	p := t.sla
	if p == nil || ev.Kind == bot.EvSLA || ev.Kind == bot.EvNote {
		return nil
	}
	var r slaRow
	if err := g.Where("id = ?", ev.TicketID).Take(&r).Error; err != nil {
		return fmt.Errorf("storage: sla clock of ticket %d: %w", ev.TicketID, err)
	}
	at := utc(ev.At)
	tc, started := r.clock()
	old := tc
	pr, st := tc.Priority, tc.Status
	setString(&pr, r.Priority)
	setString(&st, r.Status)
	if !started || ev.Kind == bot.EvCreated {
		tc = p.OpenedOn(pr, bot.SLACategory(r.Category, r.ComplaintLevel), r.Channel, r.CreatedAt.UTC())
		tc.FirstResponseAt = tv(r.FirstResponseAt)
	}
	tc.Category, tc.Channel = bot.SLACategory(r.Category, r.ComplaintLevel), r.Channel
	if tc.Priority != pr {
		tc = p.PriorityChanged(tc, pr, at)
	}
	if tc.Status != st {
		tc = p.StatusChanged(tc, st, at)
	}
	switch ev.Kind {
	case bot.EvCustomerMessage:
		tc = p.CustomerMessage(tc, at)
	case bot.EvAgentReply:
		tc = p.AgentReply(tc, at)
	}
	if err := saveClock(g, p, r, tc, at); err != nil {
		return err
	}
	if started && (ev.Kind == bot.EvPriority || ev.Kind == bot.EvReopened) {
		return t.auditRecomputed(ctx, r, old, tc, at)
	}
	return nil
}

// auditRecomputed records, as EvSLA events, each deadline a priority change or reopening moved.
func (t *txStore) auditRecomputed(ctx context.Context, r slaRow, before, after sla.TicketClock, at time.Time) error {
	was, now := t.sla.Due(before).All(), t.sla.Due(after).All()
	for i, d := range now {
		if d.Due.IsZero() || d.Due.Equal(was[i].Due) || d.Target == sla.NextResponse {
			continue
		}
		n := sla.Notify{Key: sla.Key{TicketID: r.ID, Kind: sla.KindRecomputed, Target: d.Target, Due: d.Due},
			TicketNo: r.No, Priority: after.Priority, Assignee: r.Assignee, At: at}
		if _, err := t.AddEvent(ctx, bot.TicketEvent{TicketID: r.ID, TicketNo: r.No, At: at, Actor: "system",
			Kind: bot.EvSLA, Text: n.Text(), Internal: true}); err != nil {
			return err
		}
	}
	return nil
}

// SLAOptions configure the sla.Store view of a DB.
type SLAOptions struct {
	// CustomerText renders the "still being handled" message for a ticket in lang (required for
	// customer updates; e.g. the locale key "ticket.still_working").
	CustomerText func(lang string, t bot.Ticket) string
	// Lease is how long a claimed ticket is hidden from other scanners (default 1m).
	Lease time.Duration
	Now   func() time.Time
}

// SLAStore is the scanner's store (sla.Store) on a DB opened with Options.SLA.
type SLAStore struct {
	db *DB
	o  SLAOptions
}

var _ sla.Store = (*SLAStore)(nil)

// SLA returns the sla.Store of db. db must have been opened with Options.SLA.
func (db *DB) SLA(o SLAOptions) (*SLAStore, error) {
	if db.sla == nil {
		return nil, errors.New("storage: sla store: the database was opened without Options.SLA")
	}
	if o.Lease <= 0 {
		o.Lease = time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &SLAStore{db: db, o: o}, nil
}

// The claim (DueForAction): ?1 lease end (ms), ?2 now (ms), ?3 limit. SKIP LOCKED lets several
// processes claim disjoint tickets at once; the lease brings back a ticket whose scanner died.
// TestSLAClaimUsesPartialIndex checks that it range-scans the partial index.
const (
	slaClaimPostgres = `UPDATE tickets AS t SET sla_next_at = ?
FROM (SELECT id FROM tickets WHERE sla_next_at IS NOT NULL AND sla_next_at <= ?
      ORDER BY sla_next_at LIMIT ? FOR UPDATE SKIP LOCKED) AS due
WHERE t.id = due.id RETURNING t.id`
	slaClaimSQLite = `UPDATE tickets SET sla_next_at = ?
WHERE id IN (SELECT id FROM tickets WHERE sla_next_at IS NOT NULL AND sla_next_at <= ?
             ORDER BY sla_next_at LIMIT ?) RETURNING id`
)

// DueForAction implements sla.Store.
func (s *SLAStore) DueForAction(ctx context.Context, now time.Time, limit int) ([]sla.Item, error) {
	q := slaClaimSQLite
	if s.db.dialect == Postgres {
		q = slaClaimPostgres
	}
	g := s.db.gdb.WithContext(ctx)
	var ids []int64
	if err := g.Raw(q, now.Add(s.o.Lease).UnixMilli(), now.UnixMilli(), limit).Scan(&ids).Error; err != nil {
		return nil, fmt.Errorf("storage: sla claim: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	var rows []slaRow
	if err := g.Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("storage: sla claim: load: %w", err)
	}
	out := make([]sla.Item, 0, len(rows))
	for _, r := range rows {
		tc, started := r.clock()
		if !started {
			continue
		}
		out = append(out, r.item(tc, r.SlaVersion))
	}
	return out, nil
}

// MarkFired implements sla.Store: the sla_fired row and the notification's effects (an EvSLA audit
// event; for customer updates the customer's outbox row; for breaches the met=false stamp) commit
// together, once per key.
func (s *SLAStore) MarkFired(ctx context.Context, n sla.Notify) (bool, error) {
	now := s.o.Now().UTC()
	fired := false
	err := s.db.Tx(ctx, func(btx bot.Tx) error {
		fired = false
		tx := btx.(*txStore)
		g := tx.g.WithContext(ctx)
		res := g.Clauses(clause.OnConflict{DoNothing: true}).Create(&slaFired{TicketID: n.TicketID, Kind: string(n.Kind),
			Target: string(n.Target), Level: n.Level, DueAt: n.Due.UnixMilli(), FiredAt: now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return nil
		}
		fired = true
		var r slaRow
		if err := g.Where("id = ?", n.TicketID).Take(&r).Error; err != nil {
			return err
		}
		// Lock as the engine does (conversation, then ticket) before writing: the customer's outbox
		// row must take its id after the conversation's open transaction commits (outbox order and
		// the web page's ?after= cursor follow ids), and the clock must be read current.
		if r.ConversationID != 0 {
			if err := tx.LockConversation(ctx, r.ConversationID); err != nil && !errors.Is(err, bot.ErrNotFound) {
				return err
			}
		}
		lg := g
		if tx.dialect == Postgres {
			lg = g.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		r = slaRow{}
		if err := lg.Where("id = ?", n.TicketID).Take(&r).Error; err != nil {
			return err
		}
		if _, err := tx.AddEvent(ctx, bot.TicketEvent{TicketID: r.ID, TicketNo: r.No, At: now, Actor: "system",
			Kind: bot.EvSLA, Text: n.Text(), Internal: n.Kind != sla.KindCustomerUpdate}); err != nil {
			return err
		}
		switch {
		case n.Kind == sla.KindCustomerUpdate:
			if s.o.CustomerText == nil {
				return errors.New("storage: sla customer update: SLAOptions.CustomerText is nil")
			}
			conv, err := tx.Conversation(ctx, r.ConversationID)
			if err != nil {
				return err
			}
			lang := r.Lang
			if sess, err := tx.Session(ctx, conv.ID); err == nil && sess.Lang != "" {
				lang = sess.Lang
			}
			tk, err := tx.TicketByNo(ctx, r.No)
			if err != nil {
				return err
			}
			if _, err := tx.Enqueue(ctx, now, bot.Reply{ConversationID: conv.ID, Channel: conv.Channel, ChatID: conv.ChatID,
				Text: s.o.CustomerText(lang, tk)}); err != nil {
				return err
			}
			tc, _ := r.clock()
			return saveClock(g, s.db.sla, r, s.db.sla.CustomerUpdated(tc, now), now)
		case n.Kind == sla.KindBreach && n.Target == sla.FirstResponse && r.SlaFirstResponseMet == nil:
			return g.Model(&slaRow{}).Where("id = ?", r.ID).Update("sla_first_response_met", false).Error
		case n.Kind == sla.KindBreach && n.Target == sla.Resolution && r.SlaResolutionMet == nil:
			return g.Model(&slaRow{}).Where("id = ?", r.ID).Update("sla_resolution_met", false).Error
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("storage: sla mark %s: %w", n.Key, err)
	}
	return fired, nil
}

// Reschedule implements sla.Store.
func (s *SLAStore) Reschedule(ctx context.Context, ticketID, version int64, next time.Time) error {
	err := s.db.gdb.WithContext(ctx).Model(&slaRow{}).Where("id = ? AND sla_version = ?", ticketID, version).
		Update("sla_next_at", nextMillis(next)).Error
	if err != nil {
		return fmt.Errorf("storage: sla reschedule ticket %d: %w", ticketID, err)
	}
	return nil
}

// AckSLA records an acknowledgement of a ticket's breach at `at` (Slack button, /kefu ack): repeats
// and further escalations of deadlines passed by then stop.
func (s *SLAStore) AckSLA(ctx context.Context, ticketNo string, at time.Time) error {
	return s.AckSLABy(ctx, ticketNo, "system", at)
}

// AckSLABy is AckSLA on behalf of actor (an actor id such as "slack:U…"); the acknowledgement lands
// in the ticket's audit trail as an EvSLA event of kind sla.KindAck.
func (s *SLAStore) AckSLABy(ctx context.Context, ticketNo, actor string, at time.Time) error {
	return s.db.Tx(ctx, func(btx bot.Tx) error {
		tx := btx.(*txStore)
		g := tx.g.WithContext(ctx)
		q := g
		if tx.dialect == Postgres {
			// Read the clock under the row lock: a copy read before a concurrent change commits
			// would be saved over it below.
			q = g.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		var r slaRow
		if err := q.Where("no = ?", ticketNo).Take(&r).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return bot.ErrUnknownTkt
			}
			return err
		}
		r.SlaAckedAt = tp(at)
		if err := g.Model(&slaRow{}).Where("id = ?", r.ID).Update("sla_acked_at", at.UTC()).Error; err != nil {
			return err
		}
		tc, _ := r.clock()
		if err := saveClock(g, s.db.sla, r, tc, at.UTC()); err != nil {
			return err
		}
		n := sla.Notify{Key: sla.Key{TicketID: r.ID, Kind: sla.KindAck}, TicketNo: r.No, Priority: tc.Priority,
			Assignee: r.Assignee, At: at.UTC(), By: actor}
		_, err := tx.AddEvent(ctx, bot.TicketEvent{TicketID: r.ID, TicketNo: r.No, At: at.UTC(), Actor: actor,
			Kind: bot.EvSLA, Text: n.Text(), Internal: true})
		return err
	})
}

// SLAStamps returns a ticket's met/breached stamps (nil: not decided yet), for reports and tests.
func (db *DB) SLAStamps(ctx context.Context, ticketNo string) (firstResponse, resolution *bool, err error) {
	var r slaRow
	if err := db.gdb.WithContext(ctx).Where("no = ?", ticketNo).Take(&r).Error; err != nil {
		return nil, nil, fmt.Errorf("storage: sla stamps %s: %w", ticketNo, err)
	}
	return r.SlaFirstResponseMet, r.SlaResolutionMet, nil
}

type slaFired struct {
	TicketID int64  `gorm:"primaryKey;autoIncrement:false"`
	Kind     string `gorm:"primaryKey"`
	Target   string `gorm:"primaryKey"`
	Level    int    `gorm:"primaryKey;autoIncrement:false"`
	DueAt    int64  `gorm:"primaryKey;autoIncrement:false"`
	FiredAt  time.Time
}

func (slaFired) TableName() string { return "sla_fired" }
