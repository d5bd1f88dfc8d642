package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/kefu-dev/kefu/bot"
)

// TicketNo formats a ticket number: "GD" + day (yyyymmdd) + the daily sequence, at least 3 digits.
func TicketNo(day string, seq int64) string { return fmt.Sprintf("GD%s%03d", day, seq) }

// nextSeq allocates the next daily sequence number with one atomic upsert on the day's counter row.
// The row stays locked until the transaction ends, so concurrent allocations queue up on both databases
// and a rolled-back ticket gives its number back.
func nextSeq(g *gorm.DB, day string) (int64, error) {
	var seq int64
	err := g.Raw(`INSERT INTO ticket_counters (day, seq) VALUES (?, 1)
		ON CONFLICT (day) DO UPDATE SET seq = ticket_counters.seq + 1
		RETURNING seq`, day).Scan(&seq).Error
	if err != nil {
		return 0, err
	}
	if seq <= 0 {
		return 0, errors.New("counter returned no sequence")
	}
	return seq, nil
}

// CreateTicket implements bot.Tx.
func (t *txStore) CreateTicket(ctx context.Context, tk bot.Ticket, day string) (bot.Ticket, error) {
	if len(day) != 8 {
		return bot.Ticket{}, fmt.Errorf("storage: create ticket: %w: day %q is not yyyymmdd", bot.ErrBadInput, day)
	}
	g := t.g.WithContext(ctx)
	seq, err := nextSeq(g, day)
	if err != nil {
		return bot.Ticket{}, fmt.Errorf("storage: create ticket: allocate number: %w", err)
	}
	tk.No = TicketNo(day, seq)
	tk.ID = 0
	if tk.Status == "" {
		tk.Status = bot.StatusOpen
	}
	m := ticketFromBot(tk)
	m.UpdatedAt = m.CreatedAt
	if err := g.Create(&m).Error; err != nil {
		return bot.Ticket{}, fmt.Errorf("storage: create ticket %s: %w", tk.No, err)
	}
	return m.toBot(), nil
}

// TicketByNo implements bot.Reader.
func (r reader) TicketByNo(ctx context.Context, no string) (bot.Ticket, error) {
	return r.ticketByNo(r.g.WithContext(ctx), no)
}

func (r reader) ticketByNo(g *gorm.DB, no string) (bot.Ticket, error) {
	var m ticket
	if err := g.Where("no = ?", no).Take(&m).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return bot.Ticket{}, bot.ErrUnknownTkt
		}
		return bot.Ticket{}, fmt.Errorf("storage: ticket %s: %w", no, err)
	}
	return m.toBot(), nil
}

// LockTicket implements bot.Tx.
func (t *txStore) LockTicket(ctx context.Context, no string) (bot.Ticket, error) {
	g := t.g.WithContext(ctx)
	if t.dialect == Postgres {
		g = g.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	return t.ticketByNo(g, no)
}

// UpdateTicket implements bot.Tx.
func (t *txStore) UpdateTicket(ctx context.Context, tk bot.Ticket) error {
	m := ticketFromBot(tk)
	res := t.g.WithContext(ctx).Model(&ticket{}).Where("id = ?", tk.ID).Updates(map[string]any{
		"category":           m.Category,
		"priority":           m.Priority,
		"status":             m.Status,
		"summary":            m.Summary,
		"description":        m.Description,
		"order_no":           m.OrderNo,
		"urgency":            m.Urgency,
		"complaint":          m.Complaint,
		"escalated":          m.Escalated,
		"assignee":           m.Assignee,
		"team":               m.Team,
		"reopens":            m.Reopens,
		"updated_at":         time.Now().UTC(),
		"first_response_due": m.FirstResponseDue,
		"resolution_due":     m.ResolutionDue,
		"first_response_at":  m.FirstResponseAt,
		"resolved_at":        m.ResolvedAt,
		"closed_at":          m.ClosedAt,
		"rating":             m.Rating,
		"rating_comment":     m.RatingComment,
		"attachments":        m.Attachments,
		"customer_name":      m.CustomerName,
		"customer_phone":     m.CustomerPhone,
		"lang":               m.Lang,
		"complaint_level":    m.ComplaintLevel,
		"repeat_of":          m.RepeatOf,
		"expected_by":        m.ExpectedBy,
	})
	if res.Error != nil {
		return fmt.Errorf("storage: update ticket %s: %w", tk.No, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("storage: update ticket %s: %w", tk.No, bot.ErrUnknownTkt)
	}
	return nil
}

// ClaimTicket implements bot.Tx: UPDATE … WHERE assignee = ” decides a race in the database.
func (t *txStore) ClaimTicket(ctx context.Context, ticketID int64, assignee string, at time.Time) (bool, error) {
	res := t.g.WithContext(ctx).Model(&ticket{}).Where("id = ? AND assignee = ''", ticketID).
		Updates(map[string]any{"assignee": assignee, "updated_at": utc(at)})
	if res.Error != nil {
		return false, fmt.Errorf("storage: claim ticket %d: %w", ticketID, res.Error)
	}
	return res.RowsAffected == 1, nil
}

// AddEvent implements bot.Tx.
func (t *txStore) AddEvent(ctx context.Context, ev bot.TicketEvent) (int64, error) {
	m := ticketEvent{
		TicketID:    ev.TicketID,
		TicketNo:    ev.TicketNo,
		At:          utc(ev.At),
		Actor:       ev.Actor,
		Kind:        string(ev.Kind),
		Text:        SealEventText(t.keys, ev.Kind, ev.Text),
		Channel:     string(ev.Channel),
		Internal:    ev.Internal,
		Attachments: toJSON(ev.Attachments),
	}
	g := t.g.WithContext(ctx)
	// The audit trail doubles as a feed (EventsAfter). On PostgreSQL a smaller id can commit after a
	// larger one, so the feed follows seq, which a trigger assigns in commit order (migration 0175);
	// on SQLite, one writer at a time, it follows the id.
	//
	// The INSERT also returns the webhook endpoints (id:events;…) that webhookFanout needs: one
	// statement instead of a second query of webhook_endpoints on every event (issue 14), and always
	// current, unlike a cache (`kefu webhook add` runs in another process).
	agg := "group_concat(id || ':' || events, ';')"
	if t.dialect == Postgres {
		agg = "string_agg(id || ':' || events, ';')"
	}
	var row struct {
		ID    int64
		Hooks *string
	}
	err := g.Raw(`INSERT INTO ticket_events (ticket_id, ticket_no, at, actor, kind, text, channel, internal, attachments)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id, (SELECT `+agg+` FROM webhook_endpoints) AS hooks`,
		m.TicketID, m.TicketNo, m.At, m.Actor, m.Kind, m.Text, m.Channel, m.Internal, t.keys.Seal(m.Attachments)).Scan(&row).Error
	if err != nil {
		return 0, fmt.Errorf("storage: add %s event to %s: %w", ev.Kind, ev.TicketNo, err)
	}
	if row.ID == 0 {
		return 0, fmt.Errorf("storage: add %s event to %s: no id returned", ev.Kind, ev.TicketNo)
	}
	if err := t.advanceClock(ctx, g, ev); err != nil {
		return 0, err
	}
	var hooks string
	if row.Hooks != nil {
		hooks = *row.Hooks
	}
	if err := t.webhookFanout(ctx, g, ev, row.ID, hooks); err != nil {
		return 0, err
	}
	return row.ID, nil
}

// plainEventKinds are the audit events whose text is kefu's own bookkeeping (agent ids, statuses,
// priorities, SLA levels), never the customer's words: they stay plain so that reports can read them
// in SQL (reports.handoffEvent and the partial index ticket_events_handoff match "->%"). Every other
// kind, including kinds added later, is sealed.
var plainEventKinds = map[bot.EventKind]bool{bot.EvAssigned: true, bot.EvTeam: true, bot.EvClaimed: true, bot.EvPriority: true, bot.EvStatus: true, bot.EvSLA: true}

// SealEventText is what AddEvent stores as an event's text (for raw SQL writers such as reports/demo).
func SealEventText(r *Keyring, kind bot.EventKind, text string) string {
	if plainEventKinds[kind] {
		return text
	}
	return r.Seal(text)
}

// SaveSurvey implements bot.Tx.
func (t *txStore) SaveSurvey(ctx context.Context, ticketID, customerID int64, score int, comment string, at time.Time) error {
	m := survey{TicketID: ticketID, CustomerID: customerID, Score: score, Comment: comment, At: utc(at)}
	if err := t.g.WithContext(ctx).Create(&m).Error; err != nil {
		return fmt.Errorf("storage: save survey for ticket %d: %w", ticketID, err)
	}
	return nil
}

var openStatuses = []string{string(bot.StatusOpen), string(bot.StatusInProgress), string(bot.StatusPending)}

// ListTickets implements bot.Reader.
func (r reader) ListTickets(ctx context.Context, f bot.TicketFilter) ([]bot.Ticket, error) {
	g := r.g.WithContext(ctx).Model(&ticket{})
	if len(f.Statuses) == 0 {
		g = g.Where("status IN ?", openStatuses)
	} else {
		st := make([]string, len(f.Statuses))
		for i, s := range f.Statuses {
			st[i] = string(s)
		}
		g = g.Where("status IN ?", st)
	}
	if f.Assignee != "" {
		g = g.Where("assignee = ?", f.Assignee)
	}
	if f.Unassigned {
		g = g.Where("assignee = ''")
	}
	if f.CustomerID != 0 {
		g = g.Where("customer_id = ?", f.CustomerID)
	}
	if f.Overdue {
		now := f.Now
		if now.IsZero() {
			now = time.Now()
		}
		now = now.UTC()
		g = g.Where("status IN ?", openStatuses).
			Where("((first_response_at IS NULL AND first_response_due < ?) OR resolution_due < ?)", now, now)
	}
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	var ms []ticket
	if err := g.Order("id DESC").Limit(limit).Find(&ms).Error; err != nil {
		return nil, fmt.Errorf("storage: list tickets: %w", err)
	}
	out := make([]bot.Ticket, len(ms))
	for i, m := range ms {
		out[i] = m.toBot()
	}
	return out, nil
}

// TicketEvents implements bot.Reader.
func (r reader) TicketEvents(ctx context.Context, ticketID int64) ([]bot.TicketEvent, error) {
	var ms []ticketEvent
	if err := r.g.WithContext(ctx).Where("ticket_id = ?", ticketID).Order("id").Find(&ms).Error; err != nil {
		return nil, fmt.Errorf("storage: ticket events %d: %w", ticketID, err)
	}
	return r.eventsToBot(ms)
}

// eventsToBot opens the events' texts.
func (r reader) eventsToBot(ms []ticketEvent) ([]bot.TicketEvent, error) {
	out := make([]bot.TicketEvent, len(ms))
	for i, m := range ms {
		out[i] = m.toBot()
		text, err := r.keys.Open(m.Text)
		if err != nil {
			return nil, fmt.Errorf("storage: event %d: %w", m.ID, err)
		}
		out[i].Text = text
	}
	return out, nil
}

// EventsAfter implements bot.Reader.
func (r reader) EventsAfter(ctx context.Context, after int64, limit int) ([]bot.TicketEvent, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	var ms []ticketEvent
	col := r.feedCol()
	if err := r.g.WithContext(ctx).Where(col+" > ?", after).Order(col).Limit(limit).Find(&ms).Error; err != nil {
		return nil, fmt.Errorf("storage: events after %d: %w", after, err)
	}
	return r.eventsToBot(ms)
}

// feedCol is the column of the events' feed position: seq on PostgreSQL (assigned in commit order,
// migration 0175), the id on SQLite (one writer at a time commits ids in order).
func (r reader) feedCol() string {
	if r.dialect == Postgres {
		return "seq"
	}
	return "id"
}

// Reader methods on the pool, outside any transaction.

// TicketByNo implements bot.Reader.
func (db *DB) TicketByNo(ctx context.Context, no string) (bot.Ticket, error) {
	return db.r(ctx).TicketByNo(ctx, no)
}

// ListTickets implements bot.Reader.
func (db *DB) ListTickets(ctx context.Context, f bot.TicketFilter) ([]bot.Ticket, error) {
	return db.r(ctx).ListTickets(ctx, f)
}

// TicketEvents implements bot.Reader.
func (db *DB) TicketEvents(ctx context.Context, ticketID int64) ([]bot.TicketEvent, error) {
	return db.r(ctx).TicketEvents(ctx, ticketID)
}

// EventsAfter implements bot.Reader.
func (db *DB) EventsAfter(ctx context.Context, after int64, limit int) ([]bot.TicketEvent, error) {
	return db.r(ctx).EventsAfter(ctx, after, limit)
}

// Conversation implements bot.Reader.
func (db *DB) Conversation(ctx context.Context, id int64) (bot.Conversation, error) {
	return db.r(ctx).Conversation(ctx, id)
}

// TicketOfInbound is the ticket an inbound message opened: the first ticket of the message's
// conversation created at or after it (the API opens the ticket in the message's transaction, with the
// message's time). An integration that retries POST /tickets with the same Idempotency-Key gets the
// ticket its first call made. bot.ErrUnknownTkt when the message or its ticket is not there.
func (db *DB) TicketOfInbound(ctx context.Context, channel, platformMsgID string) (bot.Ticket, error) {
	g := db.gdb.WithContext(ctx)
	var m message
	if err := g.Where("channel = ? AND platform_msg_id = ? AND direction = 'in'", channel, platformMsgID).Take(&m).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return bot.Ticket{}, bot.ErrUnknownTkt
		}
		return bot.Ticket{}, fmt.Errorf("storage: ticket of inbound: message: %w", err)
	}
	var tk ticket
	if err := g.Where("conversation_id = ? AND created_at >= ?", m.ConversationID, m.At).Order("id").Take(&tk).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return bot.Ticket{}, bot.ErrUnknownTkt
		}
		return bot.Ticket{}, fmt.Errorf("storage: ticket of inbound: ticket: %w", err)
	}
	return tk.toBot(), nil
}
