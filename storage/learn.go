package storage

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/kefu-dev/kefu/kb"
)

// The learning loop's storage (kefu kb learn, issue 18): customers' wordings confirmed for an FAQ
// entry come from faq_citations (helped = TRUE; the query is the customer's own words, also when they
// picked the entry among the bot's candidates), and a supervisor's decision on each is a faq_learned row.

type faqLearned struct {
	ID         int64 `gorm:"primaryKey"`
	CitationID int64
	EntryID    string
	Lang       string
	Text       string `gorm:"serializer:pii"` // the customer's words: sealed
	Status     string
	DecidedBy  string
	DecidedAt  time.Time
}

func (faqLearned) TableName() string { return "faq_learned" }

// Learned example states.
const (
	LearnAccepted = "accepted"
	LearnRejected = "rejected"
)

// LearnCandidate is a confirmed wording no supervisor has decided on yet.
type LearnCandidate struct {
	CitationID int64
	EntryID    string
	Lang       string
	Text       string
	At         time.Time
}

// LearnCandidates returns helped citations since the given time that have no decision yet, oldest
// first, at most limit.
func (db *DB) LearnCandidates(ctx context.Context, since time.Time, limit int) ([]LearnCandidate, error) {
	var rows []faqCitation
	err := db.gdb.WithContext(ctx).
		Where("helped = ? AND at >= ? AND query <> '' AND NOT EXISTS (SELECT 1 FROM faq_learned l WHERE l.citation_id = faq_citations.id)", true, since.UTC()).
		Order("id").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("storage: learn candidates: %w", err)
	}
	out := make([]LearnCandidate, len(rows))
	for i, r := range rows {
		out[i] = LearnCandidate{CitationID: r.ID, EntryID: r.EntryID, Lang: r.Lang, Text: r.Query, At: r.At}
	}
	return out, nil
}

// DecideLearned records a supervisor's decision on candidates (by citation id). An accepted one keeps
// the customer's text as an example of its entry; a rejected one keeps none. A citation decided
// before (by another supervisor meanwhile) keeps its first decision. It returns how many were
// decided now.
func (db *DB) DecideLearned(ctx context.Context, cands []LearnCandidate, accept bool, by string, at time.Time) (int, error) {
	if len(cands) == 0 {
		return 0, nil
	}
	rows := make([]faqLearned, len(cands))
	for i, c := range cands {
		rows[i] = faqLearned{CitationID: c.CitationID, EntryID: c.EntryID, Lang: c.Lang, Status: LearnRejected, DecidedBy: by, DecidedAt: at.UTC()}
		if accept {
			rows[i].Status, rows[i].Text = LearnAccepted, truncate(c.Text, 1000)
		}
	}
	var n int64
	err := db.gdb.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "citation_id"}}, DoNothing: true}).Create(&rows)
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return 0, fmt.Errorf("storage: decide learned examples: %w", err)
	}
	return int(n), nil
}

// LearnedExamples returns the accepted wordings, to be added to the library (kb.Library.WithExamples).
func (db *DB) LearnedExamples(ctx context.Context) ([]kb.Learned, error) {
	var rows []faqLearned
	if err := db.gdb.WithContext(ctx).Where("status = ?", LearnAccepted).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("storage: learned examples: %w", err)
	}
	out := make([]kb.Learned, len(rows))
	for i, r := range rows {
		out[i] = kb.Learned{EntryID: r.EntryID, Lang: r.Lang, Text: r.Text}
	}
	return out, nil
}
