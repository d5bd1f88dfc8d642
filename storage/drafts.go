package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/kefu-dev/kefu/bot"
)

// Draft FAQ entries and the library's change log (migrations/0146_faq_drafts.sql).

type faqDraftRow struct {
	ID        int64 `gorm:"primaryKey"`
	TicketNo  string
	Lang      string
	Category  string
	Question  string `gorm:"serializer:pii"`
	Answer    string `gorm:"serializer:pii"`
	Status    string
	EntryID   string
	CreatedBy string
	CreatedAt time.Time
	DecidedBy string
	DecidedAt *time.Time
	Reason    string `gorm:"serializer:pii"`
}

func (faqDraftRow) TableName() string { return "faq_drafts" }

func (r faqDraftRow) toBot() bot.FAQDraft {
	return bot.FAQDraft{ID: r.ID, TicketNo: r.TicketNo, Lang: r.Lang, Category: r.Category, Question: r.Question, Answer: r.Answer,
		Status: bot.FAQDraftStatus(r.Status), EntryID: r.EntryID, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.UTC(),
		DecidedBy: r.DecidedBy, DecidedAt: utcPtr(r.DecidedAt), Reason: r.Reason}
}

// SaveFAQDraft implements bot.FAQDraftTx.
func (t *txStore) SaveFAQDraft(ctx context.Context, d bot.FAQDraft) (bot.FAQDraft, error) {
	m := faqDraftRow{TicketNo: d.TicketNo, Lang: d.Lang, Category: d.Category, Question: d.Question, Answer: d.Answer,
		Status: string(d.Status), CreatedBy: d.CreatedBy, CreatedAt: utc(d.CreatedAt)}
	if err := t.g.WithContext(ctx).Create(&m).Error; err != nil {
		return bot.FAQDraft{}, fmt.Errorf("storage: save faq draft: %w", err)
	}
	d.ID = m.ID
	return d, nil
}

// OpenFAQDraft implements bot.FAQDraftTx.
func (t *txStore) OpenFAQDraft(ctx context.Context, ticketNo string) (bot.FAQDraft, bool, error) {
	var rows []faqDraftRow
	if err := t.g.WithContext(ctx).Where("ticket_no = ? AND status = ?", ticketNo, string(bot.DraftOpen)).Limit(1).Find(&rows).Error; err != nil {
		return bot.FAQDraft{}, false, fmt.Errorf("storage: open faq draft of %s: %w", ticketNo, err)
	}
	if len(rows) == 0 {
		return bot.FAQDraft{}, false, nil
	}
	return rows[0].toBot(), true, nil
}

// FAQDrafts returns drafts with the given status ("" for all), newest first.
func (db *DB) FAQDrafts(ctx context.Context, status bot.FAQDraftStatus, limit int) ([]bot.FAQDraft, error) {
	q := db.gdb.WithContext(ctx).Order("id DESC").Limit(limit)
	if status != "" {
		q = q.Where("status = ?", string(status))
	}
	var rows []faqDraftRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("storage: faq drafts: %w", err)
	}
	out := make([]bot.FAQDraft, len(rows))
	for i, r := range rows {
		out[i] = r.toBot()
	}
	return out, nil
}

// FAQDraft returns draft id, or bot.ErrNotFound.
func (db *DB) FAQDraft(ctx context.Context, id int64) (bot.FAQDraft, error) {
	var rows []faqDraftRow
	if err := db.gdb.WithContext(ctx).Where("id = ?", id).Limit(1).Find(&rows).Error; err != nil {
		return bot.FAQDraft{}, fmt.Errorf("storage: faq draft %d: %w", id, err)
	}
	if len(rows) == 0 {
		return bot.FAQDraft{}, fmt.Errorf("storage: faq draft %d: %w", id, bot.ErrNotFound)
	}
	return rows[0].toBot(), nil
}

// DecideFAQDraft records a supervisor's decision on a waiting draft (status, the possibly edited
// question and answer, the entry id, who, when, why), only if it still waits: bot.ErrConflict when
// someone decided first.
func (db *DB) DecideFAQDraft(ctx context.Context, d bot.FAQDraft) error {
	m := faqDraftRow{Question: d.Question, Answer: d.Answer, Status: string(d.Status), EntryID: d.EntryID, DecidedBy: d.DecidedBy,
		DecidedAt: utcPtr(d.DecidedAt), Reason: d.Reason}
	res := db.gdb.WithContext(ctx).Model(&faqDraftRow{}).Where("id = ? AND status = ?", d.ID, string(bot.DraftOpen)).
		Select("question", "answer", "status", "entry_id", "decided_by", "decided_at", "reason").Updates(&m)
	if res.Error != nil {
		return fmt.Errorf("storage: decide faq draft %d: %w", d.ID, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("storage: decide faq draft %d: decided already: %w", d.ID, bot.ErrConflict)
	}
	return nil
}

// FAQChange is one deliberate change to the FAQ library.
type FAQChange struct {
	EntryID, Lang string
	Change        string // new | revised
	Source        string // draft | slack | import
	Actor         string
	At            time.Time
}

type faqChangeRow struct {
	ID      int64 `gorm:"primaryKey"`
	EntryID string
	Lang    string
	Change  string
	Source  string
	Actor   string
	At      time.Time
}

func (faqChangeRow) TableName() string { return "faq_changes" }

// RecordFAQChanges appends to the library's change log.
func (db *DB) RecordFAQChanges(ctx context.Context, cs []FAQChange) error {
	if len(cs) == 0 {
		return nil
	}
	rows := make([]faqChangeRow, len(cs))
	for i, c := range cs {
		rows[i] = faqChangeRow{EntryID: c.EntryID, Lang: c.Lang, Change: c.Change, Source: c.Source, Actor: c.Actor, At: utc(c.At)}
	}
	if err := db.gdb.WithContext(ctx).CreateInBatches(rows, 200).Error; err != nil {
		return fmt.Errorf("storage: record faq changes: %w", err)
	}
	return nil
}

// FAQChanges returns the changes at or after since, oldest first.
func (db *DB) FAQChanges(ctx context.Context, since time.Time) ([]FAQChange, error) {
	var rows []faqChangeRow
	if err := db.gdb.WithContext(ctx).Where("at >= ?", utc(since)).Order("at, id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("storage: faq changes: %w", err)
	}
	out := make([]FAQChange, len(rows))
	for i, r := range rows {
		out[i] = FAQChange{EntryID: r.EntryID, Lang: r.Lang, Change: r.Change, Source: r.Source, Actor: r.Actor, At: r.At.UTC()}
	}
	return out, nil
}

// CountFAQDrafts counts drafts with the given status.
func (db *DB) CountFAQDrafts(ctx context.Context, status bot.FAQDraftStatus) (int64, error) {
	var n int64
	if err := db.gdb.WithContext(ctx).Model(&faqDraftRow{}).Where("status = ?", string(status)).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("storage: count faq drafts: %w", err)
	}
	return n, nil
}
