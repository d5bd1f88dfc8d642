package storage

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/kefu-dev/kefu/bot"
)

// Complaint records (migrations/0050_complaints.sql): details, proposals and return visits.

type complaintDetail struct {
	TicketID     int64 `gorm:"primaryKey;autoIncrement:false"`
	CorePoints   string
	Verification string `gorm:"serializer:pii"`
	Responsible  string
	UpdatedBy    string
	UpdatedAt    time.Time
}

func (complaintDetail) TableName() string { return "complaint_details" }

type proposalRow struct {
	ID         int64 `gorm:"primaryKey"`
	TicketID   int64
	Solution   string
	Amount     int64
	Status     string
	ProposedBy string
	ApprovedBy string
	Reason     string `gorm:"serializer:pii"`
	CreatedAt  time.Time
	DecidedAt  *time.Time
}

func (proposalRow) TableName() string { return "proposals" }

type returnVisitRow struct {
	ID        int64 `gorm:"primaryKey"`
	TicketID  int64
	Reason    string
	Owner     string
	DueAt     time.Time
	Outcome   string
	Note      string `gorm:"serializer:pii"`
	DoneBy    string
	DoneAt    *time.Time
	CreatedAt time.Time
}

func (returnVisitRow) TableName() string { return "return_visits" }

func (p proposalRow) toBot(no string) bot.Proposal {
	return bot.Proposal{ID: p.ID, TicketID: p.TicketID, TicketNo: no, Solution: p.Solution, Amount: p.Amount,
		Status: bot.ProposalStatus(p.Status), ProposedBy: p.ProposedBy, ApprovedBy: p.ApprovedBy, Reason: p.Reason,
		CreatedAt: p.CreatedAt.UTC(), DecidedAt: utcPtr(p.DecidedAt)}
}

func (v returnVisitRow) toBot(no string) bot.ReturnVisit {
	return bot.ReturnVisit{ID: v.ID, TicketID: v.TicketID, TicketNo: no, Reason: v.Reason, Owner: v.Owner,
		DueAt: v.DueAt.UTC(), Outcome: v.Outcome, Note: v.Note, DoneBy: v.DoneBy, DoneAt: utcPtr(v.DoneAt),
		CreatedAt: v.CreatedAt.UTC()}
}

func (r reader) ticketNoOf(g *gorm.DB, id int64) (string, error) {
	var no string
	if err := g.Model(&ticket{}).Where("id = ?", id).Select("no").Scan(&no).Error; err != nil {
		return "", fmt.Errorf("storage: ticket %d: %w", id, err)
	}
	return no, nil
}

// withTicketNos converts rows to their bot values, each with the number of its ticket (ticketID).
func withTicketNos[R, B any](r reader, g *gorm.DB, rows []R, ticketID func(R) int64, toBot func(R, string) B) ([]B, error) {
	out := make([]B, len(rows))
	for i, row := range rows {
		no, err := r.ticketNoOf(g, ticketID(row))
		if err != nil {
			return nil, err
		}
		out[i] = toBot(row, no)
	}
	return out, nil
}

// ComplaintDetails implements bot.ComplaintReader.
func (r reader) ComplaintDetails(ctx context.Context, ticketID int64) (bot.ComplaintDetails, error) {
	var rows []complaintDetail
	if err := r.g.WithContext(ctx).Where("ticket_id = ?", ticketID).Limit(1).Find(&rows).Error; err != nil {
		return bot.ComplaintDetails{}, fmt.Errorf("storage: complaint details %d: %w", ticketID, err)
	}
	if len(rows) == 0 {
		return bot.ComplaintDetails{TicketID: ticketID}, nil
	}
	m := rows[0]
	var points []string
	if m.CorePoints != "" {
		points = strings.Split(m.CorePoints, ",")
	}
	return bot.ComplaintDetails{TicketID: ticketID, CorePoints: points, Verification: m.Verification,
		Responsible: m.Responsible, UpdatedBy: m.UpdatedBy, UpdatedAt: m.UpdatedAt.UTC()}, nil
}

// Proposals implements bot.ComplaintReader.
func (r reader) Proposals(ctx context.Context, ticketID int64) ([]bot.Proposal, error) {
	g := r.g.WithContext(ctx)
	var rows []proposalRow
	if err := g.Where("ticket_id = ?", ticketID).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("storage: proposals of %d: %w", ticketID, err)
	}
	no, err := r.ticketNoOf(g, ticketID)
	if err != nil {
		return nil, err
	}
	out := make([]bot.Proposal, len(rows))
	for i, p := range rows {
		out[i] = p.toBot(no)
	}
	return out, nil
}

// ReturnVisits implements bot.ComplaintReader.
func (r reader) ReturnVisits(ctx context.Context, ticketID int64) ([]bot.ReturnVisit, error) {
	g := r.g.WithContext(ctx)
	var rows []returnVisitRow
	if err := g.Where("ticket_id = ?", ticketID).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("storage: return visits of %d: %w", ticketID, err)
	}
	no, err := r.ticketNoOf(g, ticketID)
	if err != nil {
		return nil, err
	}
	out := make([]bot.ReturnVisit, len(rows))
	for i, v := range rows {
		out[i] = v.toBot(no)
	}
	return out, nil
}

// RecentComplaint implements bot.ComplaintTx.
func (t *txStore) RecentComplaint(ctx context.Context, customerID int64, category string, since time.Time) (string, error) {
	var nos []string
	err := t.g.WithContext(ctx).Model(&ticket{}).
		Where("customer_id = ? AND complaint = ? AND category = ? AND created_at >= ?", customerID, true, category, utc(since)).
		Order("created_at DESC").Limit(1).Pluck("no", &nos).Error
	if err != nil {
		return "", fmt.Errorf("storage: recent complaint: %w", err)
	}
	if len(nos) == 0 {
		return "", nil
	}
	return nos[0], nil
}

// CustomerFlags implements bot.ComplaintTx.
func (t *txStore) CustomerFlags(ctx context.Context, customerID int64) ([]string, error) {
	var flags []string
	if err := t.g.WithContext(ctx).Model(&customer{}).Where("id = ?", customerID).Pluck("flags", &flags).Error; err != nil {
		return nil, fmt.Errorf("storage: customer flags: %w", err)
	}
	if len(flags) == 0 || flags[0] == "" {
		return nil, nil
	}
	return strings.Split(flags[0], ","), nil
}

// SetCustomerFlags implements bot.ComplaintTx.
func (t *txStore) SetCustomerFlags(ctx context.Context, customerID int64, flags []string) error {
	res := t.g.WithContext(ctx).Model(&customer{}).Where("id = ?", customerID).Update("flags", strings.Join(flags, ","))
	if res.Error != nil {
		return fmt.Errorf("storage: set customer flags: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("storage: set customer flags: customer %d: %w", customerID, bot.ErrNotFound)
	}
	return nil
}

// SaveComplaintDetails implements bot.ComplaintTx.
func (t *txStore) SaveComplaintDetails(ctx context.Context, d bot.ComplaintDetails) error {
	m := complaintDetail{TicketID: d.TicketID, CorePoints: strings.Join(d.CorePoints, ","), Verification: d.Verification,
		Responsible: d.Responsible, UpdatedBy: d.UpdatedBy, UpdatedAt: utc(d.UpdatedAt)}
	err := t.g.WithContext(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "ticket_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"core_points", "verification", "responsible", "updated_by", "updated_at"})}).
		Create(&m).Error
	if err != nil {
		return fmt.Errorf("storage: save complaint details: %w", err)
	}
	return nil
}

// SaveProposal implements bot.ComplaintTx.
func (t *txStore) SaveProposal(ctx context.Context, p bot.Proposal) (bot.Proposal, error) {
	g := t.g.WithContext(ctx)
	m := proposalRow{ID: p.ID, TicketID: p.TicketID, Solution: p.Solution, Amount: p.Amount, Status: string(p.Status),
		ProposedBy: p.ProposedBy, ApprovedBy: p.ApprovedBy, Reason: p.Reason, CreatedAt: utc(p.CreatedAt), DecidedAt: utcPtr(p.DecidedAt)}
	if p.ID == 0 {
		if err := g.Create(&m).Error; err != nil {
			return bot.Proposal{}, fmt.Errorf("storage: save proposal: %w", err)
		}
		p.ID = m.ID
		return p, nil
	}
	res := g.Model(&proposalRow{}).Where("id = ?", p.ID).Updates(map[string]any{"status": m.Status,
		"approved_by": m.ApprovedBy, "reason": m.Reason, "decided_at": m.DecidedAt})
	if res.Error != nil {
		return bot.Proposal{}, fmt.Errorf("storage: update proposal %d: %w", p.ID, res.Error)
	}
	if res.RowsAffected == 0 {
		return bot.Proposal{}, fmt.Errorf("storage: update proposal %d: %w", p.ID, bot.ErrNotFound)
	}
	return p, nil
}

// SaveReturnVisit implements bot.ComplaintTx.
func (t *txStore) SaveReturnVisit(ctx context.Context, v bot.ReturnVisit) (bot.ReturnVisit, error) {
	g := t.g.WithContext(ctx)
	var cur []returnVisitRow
	if err := g.Where("ticket_id = ? AND reason = ?", v.TicketID, v.Reason).Limit(1).Find(&cur).Error; err != nil {
		return bot.ReturnVisit{}, fmt.Errorf("storage: return visit: %w", err)
	}
	m := returnVisitRow{TicketID: v.TicketID, Reason: v.Reason, Owner: v.Owner, DueAt: utc(v.DueAt), Outcome: v.Outcome,
		Note: v.Note, DoneBy: v.DoneBy, DoneAt: utcPtr(v.DoneAt), CreatedAt: utc(v.CreatedAt)}
	if len(cur) == 0 {
		if err := g.Create(&m).Error; err != nil {
			return bot.ReturnVisit{}, fmt.Errorf("storage: create return visit: %w", err)
		}
		v.ID = m.ID
		return v, nil
	}
	m.ID, v.ID = cur[0].ID, cur[0].ID
	if err := g.Model(&returnVisitRow{}).Where("id = ?", m.ID).Updates(map[string]any{"owner": m.Owner, "due_at": m.DueAt,
		"outcome": m.Outcome, "note": m.Note, "done_by": m.DoneBy, "done_at": m.DoneAt}).Error; err != nil {
		return bot.ReturnVisit{}, fmt.Errorf("storage: update return visit: %w", err)
	}
	return v, nil
}

// DueVisits implements bot.ComplaintTx.
func (t *txStore) DueVisits(ctx context.Context, now time.Time, limit int) ([]bot.ReturnVisit, error) {
	g := t.g.WithContext(ctx)
	var rows []returnVisitRow
	if err := g.Where("done_at IS NULL AND due_at <= ?", utc(now)).Order("due_at, id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("storage: due visits: %w", err)
	}
	return withTicketNos(t.reader, g, rows, func(v returnVisitRow) int64 { return v.TicketID }, returnVisitRow.toBot)
}

// FireOnce implements bot.ComplaintTx with the SLA engine's sla_fired table: its primary key makes one
// insert win across processes.
func (t *txStore) FireOnce(ctx context.Context, ticketID int64, kind, target string, due, at time.Time) (bool, error) {
	res := t.g.WithContext(ctx).Exec(`INSERT INTO sla_fired (ticket_id, kind, target, level, due_at, fired_at)
		VALUES (?, ?, ?, 0, ?, ?) ON CONFLICT DO NOTHING`, ticketID, kind, target, due.UnixMilli(), utc(at))
	if res.Error != nil {
		return false, fmt.Errorf("storage: fire %s %s of ticket %d: %w", kind, target, ticketID, res.Error)
	}
	return res.RowsAffected == 1, nil
}

// Complaint reads on the pool, outside any transaction.

// ComplaintDetails implements bot.ComplaintReader.
func (db *DB) ComplaintDetails(ctx context.Context, ticketID int64) (bot.ComplaintDetails, error) {
	return db.r(ctx).ComplaintDetails(ctx, ticketID)
}

// Proposals implements bot.ComplaintReader.
func (db *DB) Proposals(ctx context.Context, ticketID int64) ([]bot.Proposal, error) {
	return db.r(ctx).Proposals(ctx, ticketID)
}

// ReturnVisits implements bot.ComplaintReader.
func (db *DB) ReturnVisits(ctx context.Context, ticketID int64) ([]bot.ReturnVisit, error) {
	return db.r(ctx).ReturnVisits(ctx, ticketID)
}
