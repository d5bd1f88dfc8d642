package storage

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/kefu-dev/kefu/bot"
)

// DefaultMaxBlob is the largest file kefu keeps a copy of unless configured otherwise; a bigger one
// stays a reference to the platform's media (marked TooLarge on its attachment).
const DefaultMaxBlob = 10 << 20

// attachmentBlob is a customer's file (issue 19). The serializer seals strings only, so the bytes are
// kept base64 in a sealed TEXT column; SHA256 is the keyed hash of the hex digest (see 0170).
type attachmentBlob struct {
	ID        int64  `gorm:"primaryKey"`
	SHA256    string `gorm:"column:sha256"`
	MIME      string `gorm:"column:mime"`
	Size      int64
	Data      string `gorm:"serializer:pii"`
	CreatedAt time.Time
}

func (attachmentBlob) TableName() string { return "attachment_blobs" }

// Blob is a stored file as PutBlob and Blob see it.
type Blob struct {
	ID   int64
	MIME string
	Size int64
	Data []byte
}

// ErrBlobTooLarge is PutBlob's answer to a file over the cap.
var ErrBlobTooLarge = errors.New("storage: attachment larger than the cap")

// PutBlob stores data (at most max bytes; max <= 0 means DefaultMaxBlob) and returns its id; the same
// bytes stored before return the earlier id.
func (db *DB) PutBlob(ctx context.Context, mime string, data []byte, max int64) (int64, error) {
	if max <= 0 {
		max = DefaultMaxBlob
	}
	if int64(len(data)) > max {
		return 0, fmt.Errorf("storage: put blob of %d bytes: %w", len(data), ErrBlobTooLarge)
	}
	if len(data) == 0 {
		return 0, errors.New("storage: put blob: empty file")
	}
	sum := sha256.Sum256(data)
	digest := hex.EncodeToString(sum[:])
	var id int64
	err := db.gdb.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var ids []int64
		if err := tx.Model(&attachmentBlob{}).Where("sha256 IN ? AND size = ?", db.keys.Hashes(digest), len(data)).
			Order("id").Limit(1).Pluck("id", &ids).Error; err != nil {
			return err
		}
		if len(ids) > 0 {
			id = ids[0]
			// Stored again: the retention clock (PurgePersonalData) starts over.
			return tx.Model(&attachmentBlob{}).Where("id = ?", id).Update("created_at", time.Now().UTC()).Error
		}
		row := attachmentBlob{SHA256: db.keys.Hash(digest), MIME: mime, Size: int64(len(data)),
			Data: base64.StdEncoding.EncodeToString(data), CreatedAt: time.Now().UTC()}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		id = row.ID
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("storage: put blob: %w", err)
	}
	return id, nil
}

// Blob returns stored file id (bot.ErrNotFound when there is none).
func (db *DB) Blob(ctx context.Context, id int64) (Blob, error) {
	var row attachmentBlob
	err := db.gdb.WithContext(ctx).Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Blob{}, bot.ErrNotFound
	}
	if err != nil {
		return Blob{}, fmt.Errorf("storage: blob %d: %w", id, err)
	}
	data, err := base64.StdEncoding.DecodeString(row.Data)
	if err != nil {
		return Blob{}, fmt.Errorf("storage: blob %d: %w", id, err)
	}
	return Blob{ID: row.ID, MIME: row.MIME, Size: row.Size, Data: data}, nil
}

// CustomerHasBlob reports whether blob id is the file of an attachment of one of customer's messages
// or tickets: the console serves a file only through a ticket the agent may see.
func (db *DB) CustomerHasBlob(ctx context.Context, customerID, id int64) (bool, error) {
	ids, err := customerBlobIDs(db.gdb.WithContext(ctx), customerID)
	if err != nil {
		return false, fmt.Errorf("storage: customer blob: %w", err)
	}
	return ids[id], nil
}

// customerBlobIDs collects the blob ids named by the attachments of a customer's messages, tickets
// and ticket events (the attachments are sealed, so they are read through the models).
func customerBlobIDs(tx *gorm.DB, customerID int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	add := func(s string) {
		if s == "" {
			return
		}
		var as []bot.Attachment
		if json.Unmarshal([]byte(s), &as) != nil {
			return
		}
		for _, a := range as {
			if a.BlobID > 0 {
				out[a.BlobID] = true
			}
		}
	}
	var msgs []message
	if err := tx.Select("id", "attachments").Where("attachments <> '' AND conversation_id IN (SELECT id FROM conversations WHERE customer_id = ?)", customerID).
		Find(&msgs).Error; err != nil {
		return nil, err
	}
	for _, m := range msgs {
		add(m.Attachments)
	}
	var tks []ticket
	if err := tx.Select("id", "attachments").Where("attachments <> '' AND customer_id = ?", customerID).Find(&tks).Error; err != nil {
		return nil, err
	}
	for _, t := range tks {
		add(t.Attachments)
	}
	var evs []ticketEvent
	if err := tx.Select("id", "attachments").Where("attachments <> '' AND ticket_id IN (SELECT id FROM tickets WHERE customer_id = ?)", customerID).
		Find(&evs).Error; err != nil {
		return nil, err
	}
	for _, e := range evs {
		add(e.Attachments)
	}
	return out, nil
}

// deleteCustomerBlobs deletes the files of a customer's attachments (EraseCustomer). A file is
// deduplicated by content, so one another customer also sent goes too: their attachment then shows
// as no longer stored, which erasure prefers to keeping the erased customer's file.
func deleteCustomerBlobs(tx *gorm.DB, customerID int64) error {
	ids, err := customerBlobIDs(tx, customerID)
	if err != nil || len(ids) == 0 {
		return err
	}
	list := make([]int64, 0, len(ids))
	for id := range ids {
		list = append(list, id)
	}
	return tx.Exec("DELETE FROM attachment_blobs WHERE id IN ?", list).Error
}
