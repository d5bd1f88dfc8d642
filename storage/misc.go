package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/kb"
)

// Cite implements bot.Tx. On PostgreSQL the citation is written by the transaction's next reply
// INSERT (enqueuePG, in the same statement: one round trip less on the waiting path, issue 14) or,
// when none follows, before the COMMIT (flush); nothing in the transaction reads it before then but
// FAQFeedback, which writes it first.
func (t *txStore) Cite(ctx context.Context, c bot.Citation) error {
	m := faqCitation{EntryID: c.EntryID, ConversationID: c.ConversationID, Lang: c.Lang, Query: truncate(c.Query, 4000), Helped: c.Helped, At: utc(c.At)}
	if t.dialect == Postgres {
		t.cites = append(t.cites, m)
		return nil
	}
	if err := t.insertCitations(ctx, m); err != nil { // hand-written: hotpath.go
		return fmt.Errorf("storage: cite %s: %w", c.EntryID, err)
	}
	return nil
}

// flush writes what the transaction still holds back (Cite's citations); Tx runs it before COMMIT.
func (t *txStore) flush(ctx context.Context) error {
	if err := t.writeHeld(ctx); err != nil {
		return err
	}
	if len(t.cites) == 0 {
		return nil
	}
	cs := t.cites
	t.cites = nil
	if err := t.g.WithContext(ctx).Create(&cs).Error; err != nil {
		return fmt.Errorf("storage: cite %s: %w", cs[0].EntryID, err)
	}
	return nil
}

// FAQFeedback implements bot.Tx.
func (t *txStore) FAQFeedback(ctx context.Context, conversationID int64, entryID string, helped bool) error {
	if err := t.flush(ctx); err != nil {
		return err
	}
	g := t.g.WithContext(ctx)
	var m faqCitation
	err := g.Where("conversation_id = ? AND entry_id = ?", conversationID, entryID).Order("id DESC").Take(&m).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		// Feedback without a recorded citation (e.g. a library swapped meanwhile): keep it anyway.
		h := helped
		m = faqCitation{EntryID: entryID, ConversationID: conversationID, Helped: &h, At: time.Now().UTC()}
		if err := g.Create(&m).Error; err != nil {
			return fmt.Errorf("storage: faq feedback %s: %w", entryID, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("storage: faq feedback %s: %w", entryID, err)
	}
	if err := g.Model(&faqCitation{}).Where("id = ?", m.ID).Update("helped", helped).Error; err != nil {
		return fmt.Errorf("storage: faq feedback %s: %w", entryID, err)
	}
	return nil
}

// SaveUnanswered implements bot.Tx.
func (t *txStore) SaveUnanswered(ctx context.Context, conversationID int64, lang, text string, at time.Time) error {
	m := unansweredQuestion{ConversationID: conversationID, Lang: lang, Text: truncate(text, 4000), At: utc(at)}
	if err := t.g.WithContext(ctx).Create(&m).Error; err != nil {
		return fmt.Errorf("storage: save unanswered: %w", err)
	}
	return nil
}

// SaveLinkCode implements bot.Tx.
func (t *txStore) SaveLinkCode(ctx context.Context, code string, customerID int64, expires time.Time) error {
	m := linkCode{Code: code, CustomerID: customerID, ExpiresAt: expires.UTC(), CreatedAt: time.Now().UTC()}
	if err := t.g.WithContext(ctx).Create(&m).Error; err != nil {
		return fmt.Errorf("storage: save link code: %w", err)
	}
	return nil
}

// UseLinkCode implements bot.Tx.
func (t *txStore) UseLinkCode(ctx context.Context, code string, customerID int64, now time.Time) (int64, error) {
	g := t.g.WithContext(ctx)
	var lc linkCode
	if err := g.Where("code = ?", code).Take(&lc).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return 0, bot.ErrNotFound
		}
		return 0, fmt.Errorf("storage: use link code: %w", err)
	}
	if err := g.Where("code = ?", code).Delete(&linkCode{}).Error; err != nil {
		return 0, fmt.Errorf("storage: use link code: %w", err)
	}
	if !lc.ExpiresAt.After(now.UTC()) {
		return 0, bot.ErrNotFound
	}
	target, src := lc.CustomerID, customerID
	if target == src {
		return target, nil
	}
	for _, table := range []string{"identities", "conversations", "tickets", "surveys", "link_codes", "blob_refs"} {
		if err := g.Exec("UPDATE "+table+" SET customer_id = ? WHERE customer_id = ?", target, src).Error; err != nil {
			return 0, fmt.Errorf("storage: merge customer %d into %d: %s: %w", src, target, table, err)
		}
	}
	if err := g.Model(&customer{}).Where("id = ?", src).Updates(map[string]any{"merged_into": target, "updated_at": now.UTC()}).Error; err != nil {
		return 0, fmt.Errorf("storage: merge customer %d into %d: %w", src, target, err)
	}
	return target, nil
}

// Key/value store for adapters' cursors and references (Slack feed cursor, card message refs).

// GetKV returns the value of key and whether it exists.
func (db *DB) GetKV(ctx context.Context, key string) (string, bool, error) {
	var m kvRow
	err := db.gdb.WithContext(ctx).Where("key = ?", key).Take(&m).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("storage: get %s: %w", key, err)
	}
	return m.Value, true, nil
}

// SetKV sets key to value.
func (db *DB) SetKV(ctx context.Context, key, value string) error {
	m := kvRow{Key: key, Value: value, UpdatedAt: time.Now().UTC()}
	err := db.gdb.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "key"}},
		DoUpdates: clause.AssignmentColumns([]string{"value", "updated_at"}),
	}).Create(&m).Error
	if err != nil {
		return fmt.Errorf("storage: put %s: %w", key, err)
	}
	return nil
}

// MarkOnce implements bot.OnceMarker in a transaction: it records key (in kv) unless it is there.
func (t *txStore) MarkOnce(ctx context.Context, key, value string) (bool, error) {
	res := t.g.WithContext(ctx).Exec("INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING",
		key, value, time.Now().UTC())
	if res.Error != nil {
		return false, fmt.Errorf("storage: mark once %s: %w", key, res.Error)
	}
	return res.RowsAffected == 1, nil
}

// DeleteKV removes key.
func (db *DB) DeleteKV(ctx context.Context, key string) error {
	if err := db.gdb.WithContext(ctx).Where("key = ?", key).Delete(&kvRow{}).Error; err != nil {
		return fmt.Errorf("storage: delete %s: %w", key, err)
	}
	return nil
}

// FAQ library (imported with `kefu kb import`).

// ImportFAQ inserts or replaces entries by (id, locale) and returns how many were written.
func (db *DB) ImportFAQ(ctx context.Context, entries []kb.Entry) (int, error) {
	now := time.Now().UTC()
	rows := make([]faqEntry, 0, len(entries))
	for _, e := range entries {
		rows = append(rows, faqEntry{EntryID: e.ID, Lang: e.Lang, Category: e.Category, Question: e.Question, Answer: e.Answer,
			Examples: toJSON(e.Examples), Keywords: toJSON(e.Keywords), UpdatedAt: now})
	}
	if len(rows) == 0 {
		return 0, nil
	}
	err := db.gdb.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "entry_id"}, {Name: "lang"}},
		DoUpdates: clause.AssignmentColumns([]string{"category", "question", "answer", "examples", "keywords", "updated_at"}),
	}).CreateInBatches(rows, 200).Error
	if err != nil {
		return 0, fmt.Errorf("storage: import faq: %w", err)
	}
	return len(rows), nil
}

// FAQEntries returns the imported library, ordered by id and locale.
func (db *DB) FAQEntries(ctx context.Context) ([]kb.Entry, error) {
	var rows []faqEntry
	if err := db.gdb.WithContext(ctx).Order("entry_id, lang").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("storage: faq entries: %w", err)
	}
	out := make([]kb.Entry, len(rows))
	for i, r := range rows {
		out[i] = kb.Entry{ID: r.EntryID, Lang: r.Lang, Category: r.Category, Question: r.Question, Answer: r.Answer,
			Examples: fromJSON[string](r.Examples), Keywords: fromJSON[string](r.Keywords)}
	}
	return out, nil
}

// FAQStat is how often an entry was cited and how customers judged it.
type FAQStat struct {
	EntryID   string
	Cited     int
	Helped    int
	NotHelped int
}

// FAQStats aggregates citations per entry since a time (zero: all).
func (db *DB) FAQStats(ctx context.Context, since time.Time) ([]FAQStat, error) {
	var out []FAQStat
	err := db.gdb.WithContext(ctx).Model(&faqCitation{}).
		Select(`entry_id, COUNT(*) AS cited,
			SUM(CASE WHEN helped = TRUE THEN 1 ELSE 0 END) AS helped,
			SUM(CASE WHEN helped = FALSE THEN 1 ELSE 0 END) AS not_helped`).
		Where("at >= ?", since.UTC()).Group("entry_id").Order("cited DESC, entry_id").Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("storage: faq stats: %w", err)
	}
	return out, nil
}

// Unanswered is a question the library could not answer.
type Unanswered struct {
	ConversationID int64
	Lang           string
	Text           string
	At             time.Time
}

// UnansweredQuestions lists recent unanswered questions, newest first.
func (db *DB) UnansweredQuestions(ctx context.Context, limit int) ([]Unanswered, error) {
	if limit <= 0 {
		limit = 100
	}
	var rows []unansweredQuestion
	if err := db.gdb.WithContext(ctx).Order("id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("storage: unanswered: %w", err)
	}
	out := make([]Unanswered, len(rows))
	for i, r := range rows {
		out[i] = Unanswered{ConversationID: r.ConversationID, Lang: r.Lang, Text: r.Text, At: r.At.UTC()}
	}
	return out, nil
}

// Agent is a configured team member, mirrored into the agents table for reports.
type Agent struct {
	ID         string
	Name       string
	Supervisor bool
}

// SyncAgents upserts the configured agents.
func (db *DB) SyncAgents(ctx context.Context, agents []Agent) error {
	now := time.Now().UTC()
	for _, a := range agents {
		m := agent{ID: a.ID, Name: a.Name, Supervisor: a.Supervisor, CreatedAt: now, UpdatedAt: now}
		err := db.gdb.WithContext(ctx).Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "id"}},
			DoUpdates: clause.AssignmentColumns([]string{"name", "supervisor", "updated_at"}),
		}).Create(&m).Error
		if err != nil {
			return fmt.Errorf("storage: sync agent %s: %w", a.ID, err)
		}
	}
	return nil
}
