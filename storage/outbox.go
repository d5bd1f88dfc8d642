package storage

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/kefu-dev/kefu/bot"
)

// claimQuery selects the oldest pending row of each conversation (channel, chat id), if it is due
// and not leased. A row never overtakes an older pending row of its conversation.
const claimQuery = `SELECT o.id FROM outbox o
WHERE o.status = 'pending' AND o.claimed_by IS NULL AND o.channel IN ? AND o.next_attempt_at <= ?
  AND (o.lease_until IS NULL OR o.lease_until <= ?)
  AND NOT EXISTS (SELECT 1 FROM outbox p
      WHERE p.channel = o.channel AND p.chat_id = o.chat_id AND p.status = 'pending' AND p.id < o.id)
ORDER BY o.id LIMIT ?`

// ClaimOutbox implements bot.Outbox.
func (db *DB) ClaimOutbox(ctx context.Context, now time.Time, channels []bot.Channel, lease time.Duration, limit int) ([]bot.Reply, error) {
	if len(channels) == 0 || limit <= 0 {
		return nil, nil
	}
	now = now.UTC()
	chs := make([]string, len(channels))
	for i, c := range channels {
		chs[i] = string(c)
	}
	g := db.gdb.WithContext(ctx)
	// A cheap read outside any transaction first: an idle poll takes no write lock.
	var ids []int64
	if err := g.Raw(claimQuery, chs, now, now, limit).Scan(&ids).Error; err != nil {
		return nil, fmt.Errorf("storage: claim outbox: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	var rows []outboxRow
	err := g.Transaction(func(tx *gorm.DB) error {
		q := claimQuery
		if db.dialect == Postgres {
			q += " FOR UPDATE OF o SKIP LOCKED"
		}
		ids = ids[:0]
		if err := tx.Raw(q, chs, now, now, limit).Scan(&ids).Error; err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		until := now.Add(lease)
		if err := tx.Model(&outboxRow{}).Where("id IN ?", ids).Update("lease_until", until).Error; err != nil {
			return err
		}
		return tx.Where("id IN ?", ids).Order("id").Find(&rows).Error
	})
	if err != nil {
		return nil, fmt.Errorf("storage: claim outbox: %w", err)
	}
	out := make([]bot.Reply, len(rows))
	for i, r := range rows {
		out[i] = r.toReply()
	}
	return out, nil
}

// MarkSent implements bot.Outbox.
func (db *DB) MarkSent(ctx context.Context, id int64, platformMsgID string, at time.Time) error {
	at = utc(at)
	err := db.gdb.WithContext(ctx).Model(&outboxRow{}).Where("id = ?", id).Updates(map[string]any{
		"status": outboxSent, "platform_msg_id": platformMsgID, "sent_at": at, "lease_until": nil, "claimed_by": nil,
		"attempts": gorm.Expr("attempts + 1"),
	}).Error
	if err != nil {
		return fmt.Errorf("storage: mark outbox %d sent: %w", id, err)
	}
	return nil
}

// MarkRetry implements bot.Outbox.
func (db *DB) MarkRetry(ctx context.Context, id int64, next time.Time, lastErr string, attempt bool) error {
	up := map[string]any{"next_attempt_at": next.UTC(), "lease_until": nil, "claimed_by": nil, "last_error": truncate(lastErr, 1000)}
	if attempt {
		up["attempts"] = gorm.Expr("attempts + 1")
	}
	err := db.gdb.WithContext(ctx).Model(&outboxRow{}).Where("id = ? AND status = ?", id, outboxPending).Updates(up).Error
	if err != nil {
		return fmt.Errorf("storage: reschedule outbox %d: %w", id, err)
	}
	return nil
}

// MarkFailed implements bot.Outbox.
func (db *DB) MarkFailed(ctx context.Context, id int64, lastErr string) error {
	err := db.gdb.WithContext(ctx).Model(&outboxRow{}).Where("id = ?", id).Updates(map[string]any{
		"status": outboxFailed, "lease_until": nil, "claimed_by": nil, "last_error": truncate(lastErr, 1000),
		"attempts": gorm.Expr("attempts + 1"),
	}).Error
	if err != nil {
		return fmt.Errorf("storage: mark outbox %d failed: %w", id, err)
	}
	return nil
}

// OutboxStatus is an outbox row's delivery state, for tools and tests.
type OutboxStatus struct {
	ID            int64
	Channel       bot.Channel
	ChatID        string
	Text          string
	Status        string // pending | sent | failed
	Attempts      int
	NextAttemptAt time.Time
	PlatformMsgID string
	LastError     string
}

// OutboxRows returns outbox rows of a chat (all chats when chatID is empty), oldest first.
func (db *DB) OutboxRows(ctx context.Context, ch bot.Channel, chatID string) ([]OutboxStatus, error) {
	g := db.gdb.WithContext(ctx)
	if ch != "" {
		g = g.Where("channel = ?", string(ch))
	}
	if chatID != "" {
		g = g.Where("chat_id = ?", chatID)
	}
	var rows []outboxRow
	if err := g.Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("storage: outbox rows: %w", err)
	}
	out := make([]OutboxStatus, len(rows))
	for i, r := range rows {
		out[i] = OutboxStatus{ID: r.ID, Channel: bot.Channel(r.Channel), ChatID: r.ChatID, Text: r.Text, Status: r.Status,
			Attempts: r.Attempts, NextAttemptAt: r.NextAttemptAt.UTC(), PlatformMsgID: r.PlatformMsgID, LastError: r.LastError}
	}
	return out, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// Web chat: messages are the outbox rows of channel "web" whose chat id is the session id.

// CreateWebSession stores a new web chat session.
func (db *DB) CreateWebSession(ctx context.Context, id, lang string) error {
	if id == "" {
		return fmt.Errorf("storage: create web session: %w: empty id", bot.ErrBadInput)
	}
	err := db.gdb.WithContext(ctx).Create(&webSession{ID: id, Lang: lang, CreatedAt: time.Now().UTC()}).Error
	if err != nil {
		return fmt.Errorf("storage: create web session: %w", err)
	}
	return nil
}

// WebSessionExists reports whether id is a known web chat session.
func (db *DB) WebSessionExists(ctx context.Context, id string) (bool, error) {
	var n int64
	if err := db.gdb.WithContext(ctx).Model(&webSession{}).Where("id = ?", id).Count(&n).Error; err != nil {
		return false, fmt.Errorf("storage: web session exists: %w", err)
	}
	return n > 0, nil
}

// WebSessionLang returns the language a web chat session was created with and whether it exists.
func (db *DB) WebSessionLang(ctx context.Context, id string) (string, bool, error) {
	var rows []webSession
	if err := db.gdb.WithContext(ctx).Where("id = ?", id).Limit(1).Find(&rows).Error; err != nil {
		return "", false, fmt.Errorf("storage: web session lang: %w", err)
	}
	if len(rows) == 0 {
		return "", false, nil
	}
	return rows[0].Lang, true, nil
}

// WebMessagesAfter returns the bot's messages to a web session with outbox id > afterID, oldest first.
func (db *DB) WebMessagesAfter(ctx context.Context, session string, afterID int64, limit int) ([]bot.Reply, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	var rows []outboxRow
	err := db.gdb.WithContext(ctx).Where("channel = ? AND chat_id = ? AND id > ?", string(bot.ChannelWeb), session, afterID).
		Order("id").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("storage: web messages after %d: %w", afterID, err)
	}
	out := make([]bot.Reply, len(rows))
	for i, r := range rows {
		out[i] = r.toReply()
	}
	return out, nil
}

// LastWebMessageID returns the newest outbox id of a web session (0 when none).
func (db *DB) LastWebMessageID(ctx context.Context, session string) (int64, error) {
	var id *int64
	err := db.gdb.WithContext(ctx).Model(&outboxRow{}).Select("MAX(id)").
		Where("channel = ? AND chat_id = ?", string(bot.ChannelWeb), session).Scan(&id).Error
	if err != nil {
		return 0, fmt.Errorf("storage: last web message: %w", err)
	}
	if id == nil {
		return 0, nil
	}
	return *id, nil
}
