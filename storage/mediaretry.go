package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/kefu-dev/kefu/bot"
)

// Retrying a customer's file whose download failed (issue 19): SaveInbound queues a job per failed
// attachment of a channel whose media expire (bot.MediaExpiry); the adapter's retry loop claims due
// jobs (ClaimMediaRetries: one process per attempt, however many share the database), downloads, and
// reports MediaRetryDone (the stored file replaces the marked reference on the message, the ticket and
// its trail) or MediaRetryFailed (backed off). Past the expiry a job gives up: the attachments keep
// their Failed mark and gain Expired.

type mediaRetryRow struct {
	ID           int64 `gorm:"primaryKey"`
	Channel      string
	MessageID    int64
	Idx          int
	FileID       string `gorm:"serializer:pii"`
	Attempts     int
	State        string
	NextAt       time.Time
	ExpiresAt    time.Time
	ClaimedUntil *time.Time
	CreatedAt    time.Time
}

func (mediaRetryRow) TableName() string { return "media_retries" }

// MediaRetry is one claimed attempt (bot.MediaRetry).
type MediaRetry = bot.MediaRetry

// MediaRetryKey labels MediaRetryCounts.
type MediaRetryKey struct {
	Channel bot.Channel
	State   string // pending | done | expired
}

// needsMediaRetry reports whether an attachment of as on ch is a failed download to retry.
func needsMediaRetry(ch bot.Channel, as []bot.Attachment) bool {
	if _, ok := bot.MediaExpiry(ch); !ok {
		return false
	}
	for _, a := range as {
		if retryable(a) {
			return true
		}
	}
	return false
}

func retryable(a bot.Attachment) bool {
	return a.Failed && a.FileID != "" && a.BlobID == 0 && !a.TooLarge && !a.Expired
}

// enqueueMediaRetries queues a retry for each failed download among the attachments of inbound message
// messageID (sent at at).
func enqueueMediaRetries(g *gorm.DB, ch bot.Channel, messageID int64, at time.Time, as []bot.Attachment) error {
	d, ok := bot.MediaExpiry(ch)
	if !ok {
		return nil
	}
	now := time.Now().UTC()
	for i, a := range as {
		if !retryable(a) {
			continue
		}
		row := mediaRetryRow{Channel: string(ch), MessageID: messageID, Idx: i, FileID: a.FileID, State: "pending",
			NextAt: now.Add(bot.MediaRetryFirst), ExpiresAt: at.UTC().Add(d), CreatedAt: now}
		if err := g.Create(&row).Error; err != nil {
			return fmt.Errorf("queue media retry: %w", err)
		}
	}
	return nil
}

// ClaimMediaRetries gives up the jobs of ch past their expiry and claims up to limit due ones for lease
// (a process that dies mid-attempt loses its claim when the lease ends). Each job is claimed by one
// caller only: a conditional UPDATE per job.
func (db *DB) ClaimMediaRetries(ctx context.Context, ch bot.Channel, now time.Time, lease time.Duration, limit int) ([]MediaRetry, error) {
	now = now.UTC()
	g := db.gdb.WithContext(ctx)
	var expired []int64
	if err := g.Model(&mediaRetryRow{}).Where("channel = ? AND state = 'pending' AND expires_at <= ?", string(ch), now).
		Order("id").Limit(100).Pluck("id", &expired).Error; err != nil {
		return nil, fmt.Errorf("storage: media retries: %w", err)
	}
	for _, id := range expired {
		err := g.Transaction(func(tx *gorm.DB) error {
			res := tx.Model(&mediaRetryRow{}).Where("id = ? AND state = 'pending'", id).
				Updates(map[string]any{"state": "expired", "claimed_until": nil})
			if res.Error != nil || res.RowsAffected == 0 {
				return res.Error
			}
			row, err := loadMediaRetry(tx, id)
			if err != nil {
				return err
			}
			_, err = replaceAttachment(tx, row, func(a *bot.Attachment) { a.Failed, a.Expired = true, true })
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("storage: media retry %d: give up: %w", id, err)
		}
		db.log.InfoContext(ctx, "media download given up: the platform's copy expired", "channel", string(ch), "retry", id)
	}
	var due []int64
	if err := g.Model(&mediaRetryRow{}).Where(`channel = ? AND state = 'pending' AND next_at <= ? AND expires_at > ?
 AND (claimed_until IS NULL OR claimed_until <= ?)`, string(ch), now, now, now).Order("next_at").Limit(limit).Pluck("id", &due).Error; err != nil {
		return nil, fmt.Errorf("storage: media retries: %w", err)
	}
	var out []MediaRetry
	for _, id := range due {
		res := g.Exec(`UPDATE media_retries SET claimed_until = ?, attempts = attempts + 1 WHERE id = ? AND state = 'pending'
 AND (claimed_until IS NULL OR claimed_until <= ?)`, now.Add(lease), id, now)
		if res.Error != nil {
			return nil, fmt.Errorf("storage: claim media retry %d: %w", id, res.Error)
		}
		if res.RowsAffected == 0 {
			continue // another process has it
		}
		row, err := loadMediaRetry(g, id)
		if err != nil {
			return nil, fmt.Errorf("storage: claim media retry %d: %w", id, err)
		}
		out = append(out, MediaRetry{ID: row.ID, Channel: bot.Channel(row.Channel), FileID: row.FileID, Attempt: row.Attempts,
			ExpiresAt: row.ExpiresAt.UTC()})
	}
	return out, nil
}

func loadMediaRetry(g *gorm.DB, id int64) (mediaRetryRow, error) {
	var row mediaRetryRow
	err := g.Where("id = ?", id).Take(&row).Error
	return row, err
}

// MediaRetryFailed releases job id after a failed attempt; the next is due at next.
func (db *DB) MediaRetryFailed(ctx context.Context, id int64, next time.Time) error {
	err := db.gdb.WithContext(ctx).Model(&mediaRetryRow{}).Where("id = ? AND state = 'pending'", id).
		Updates(map[string]any{"next_at": next.UTC(), "claimed_until": nil}).Error
	if err != nil {
		return fmt.Errorf("storage: media retry %d failed: %w", id, err)
	}
	return nil
}

// MediaRetryDone records job id's file stored (file: its BlobID, MIME, Size, Name): it replaces the
// marked reference on the message, the ticket and its trail, and becomes the customer's file (blob
// reference). A job already done is left alone.
func (db *DB) MediaRetryDone(ctx context.Context, id int64, file bot.Attachment) error {
	err := db.gdb.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&mediaRetryRow{}).Where("id = ? AND state <> 'done'", id).Updates(map[string]any{"state": "done", "claimed_until": nil})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		row, err := loadMediaRetry(tx, id)
		if err != nil {
			return err
		}
		customerID, err := replaceAttachment(tx, row, func(a *bot.Attachment) {
			a.BlobID, a.Failed, a.Expired, a.Size = file.BlobID, false, false, file.Size
			if file.MIME != "" {
				a.MIME = file.MIME
			}
			if a.Name == "" {
				a.Name = file.Name
			}
		})
		if err != nil || customerID == 0 {
			return err
		}
		return claimBlobRefs(tx, customerID, []bot.Attachment{file}, time.Now().UTC())
	})
	if err != nil {
		return fmt.Errorf("storage: media retry %d done: %w", id, err)
	}
	return nil
}

// replaceAttachment applies fn to the attachment row names on its message, and to the same file
// (by platform id, not yet stored) on the tickets of the message's conversation and their trails. It
// returns the conversation's customer (0 when the message is gone: erased or purged).
func replaceAttachment(tx *gorm.DB, row mediaRetryRow, fn func(*bot.Attachment)) (int64, error) {
	var m message
	err := tx.Select("id", "conversation_id", "attachments").Where("id = ?", row.MessageID).Take(&m).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	edit := func(s string, only int) (string, bool) {
		var as []bot.Attachment
		if s == "" || json.Unmarshal([]byte(s), &as) != nil {
			return s, false
		}
		changed := false
		for i := range as {
			if (only >= 0 && i != only) || as[i].FileID != row.FileID || as[i].BlobID != 0 {
				continue
			}
			fn(&as[i])
			changed = true
		}
		return toJSON(as), changed
	}
	if s, ok := edit(m.Attachments, row.Idx); ok {
		if err := tx.Model(&message{ID: m.ID}).Updates(map[string]any{"attachments": s}).Error; err != nil {
			return 0, err
		}
	}
	var tks []ticket
	if err := tx.Select("id", "attachments").Where("conversation_id = ? AND attachments <> ''", m.ConversationID).Find(&tks).Error; err != nil {
		return 0, err
	}
	for _, t := range tks {
		if s, ok := edit(t.Attachments, -1); ok {
			if err := tx.Model(&ticket{ID: t.ID}).Updates(map[string]any{"attachments": s}).Error; err != nil {
				return 0, err
			}
		}
		var evs []ticketEvent
		if err := tx.Select("id", "attachments").Where("ticket_id = ? AND attachments <> ''", t.ID).Find(&evs).Error; err != nil {
			return 0, err
		}
		for _, e := range evs {
			if s, ok := edit(e.Attachments, -1); ok {
				if err := tx.Model(&ticketEvent{ID: e.ID}).Updates(map[string]any{"attachments": s}).Error; err != nil {
					return 0, err
				}
			}
		}
	}
	var customerID int64
	if err := tx.Raw("SELECT customer_id FROM conversations WHERE id = ?", m.ConversationID).Scan(&customerID).Error; err != nil {
		return 0, err
	}
	return customerID, nil
}

// MediaRetryCounts counts the retry jobs by channel and state (the metrics' gauge).
func (db *DB) MediaRetryCounts(ctx context.Context) (map[MediaRetryKey]int64, error) {
	var rows []struct {
		Channel, State string
		N              int64
	}
	if err := db.gdb.WithContext(ctx).Raw("SELECT channel, state, COUNT(*) AS n FROM media_retries GROUP BY channel, state").
		Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("storage: media retry counts: %w", err)
	}
	out := map[MediaRetryKey]int64{}
	for _, r := range rows {
		out[MediaRetryKey{bot.Channel(r.Channel), r.State}] = r.N
	}
	return out, nil
}

// InboundAttachments returns the attachments of the customer's messages of a conversation, in order.
func (db *DB) InboundAttachments(ctx context.Context, conversationID int64) ([]bot.Attachment, error) {
	var ms []message
	if err := db.gdb.WithContext(ctx).Select("id", "attachments").Where("conversation_id = ? AND direction = 'in' AND attachments <> ''", conversationID).
		Order("id").Find(&ms).Error; err != nil {
		return nil, fmt.Errorf("storage: attachments of conversation %d: %w", conversationID, err)
	}
	var out []bot.Attachment
	for _, m := range ms {
		var as []bot.Attachment
		if err := json.Unmarshal([]byte(m.Attachments), &as); err == nil {
			out = append(out, as...)
		}
	}
	return out, nil
}
