package storage

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
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

// blobRef is one use of a stored file (0185): by a customer (their attachments), pending (0: stored by
// an adapter, its message not yet saved) or of unknown owner (-1: stored before references existed).
// A file is deleted only when no reference is left.
type blobRef struct {
	ID         int64 `gorm:"primaryKey"`
	BlobID     int64
	CustomerID int64
	CreatedAt  time.Time
}

func (blobRef) TableName() string { return "blob_refs" }

// pendingRefGrace is how long a pending reference protects its file: an adapter saves the message
// within seconds of storing its file; a reference still pending after this was never claimed (the
// delivery was a duplicate, or the process died) and no longer counts.
const pendingRefGrace = 24 * time.Hour

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
// bytes stored before return the earlier id. It adds a pending reference to the file, which the
// message naming it claims for its customer (SaveInbound): a concurrent erasure of another customer
// who sent the same bytes keeps the file.
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
		id = 0
		now := time.Now().UTC()
		var ids []int64
		if err := tx.Model(&attachmentBlob{}).Where("sha256 IN ? AND size = ?", db.keys.Hashes(digest), len(data)).
			Order("id").Limit(1).Pluck("id", &ids).Error; err != nil {
			return err
		}
		if len(ids) > 0 {
			// Stored again: the retention clock (PurgePersonalData) starts over. The UPDATE locks the row
			// (an erasure deleting it waits, then sees the reference below); none updated: an erasure
			// deleted it meanwhile, so it is stored anew.
			res := tx.Model(&attachmentBlob{}).Where("id = ?", ids[0]).Update("created_at", now)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 1 {
				id = ids[0]
			}
		}
		if id == 0 {
			row := attachmentBlob{SHA256: db.keys.Hash(digest), MIME: mime, Size: int64(len(data)),
				Data: base64.StdEncoding.EncodeToString(data), CreatedAt: now}
			if err := tx.Create(&row).Error; err != nil {
				return err
			}
			id = row.ID
		}
		return tx.Create(&blobRef{BlobID: id, CustomerID: 0, CreatedAt: now}).Error
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

// claimBlobRefs records that customer's message names the files of as: each claims a pending
// reference of its file (PutBlob's), or adds one when none is pending.
func claimBlobRefs(g *gorm.DB, customerID int64, as []bot.Attachment, now time.Time) error {
	for _, a := range as {
		if a.BlobID <= 0 {
			continue
		}
		// customer_id = 0 in the outer WHERE too: on PostgreSQL a concurrent claim of the same row is
		// re-checked against it after the wait, and then adds its own reference instead.
		res := g.Exec(`UPDATE blob_refs SET customer_id = ?, created_at = ? WHERE customer_id = 0 AND id =
 (SELECT MIN(id) FROM blob_refs WHERE blob_id = ? AND customer_id = 0)`, customerID, now, a.BlobID)
		if res.Error != nil {
			return fmt.Errorf("claim file reference: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			if err := g.Create(&blobRef{BlobID: a.BlobID, CustomerID: customerID, CreatedAt: now}).Error; err != nil {
				return fmt.Errorf("add file reference: %w", err)
			}
		}
	}
	return nil
}

// deleteCustomerBlobs drops customer's references to stored files (EraseCustomer) and deletes each
// file no reference is left to: a file another customer also sent stays theirs. References of unknown
// owner (files stored before 0185) go with the first customer naming the file, as before; a pending
// one protects the file while an adapter is storing the same bytes for someone (PutBlob) and is
// dropped once stale. On PostgreSQL the files' rows are locked before the last check, so a PutBlob
// that renewed one has committed its reference by then (or finds the row gone and stores it anew).
func deleteCustomerBlobs(tx *gorm.DB, customerID int64, pg bool, now time.Time) error {
	ids, err := customerBlobIDs(tx, customerID)
	if err != nil {
		return err
	}
	var refd []int64
	if err := tx.Raw("SELECT DISTINCT blob_id FROM blob_refs WHERE customer_id = ?", customerID).Scan(&refd).Error; err != nil {
		return err
	}
	for _, id := range refd {
		ids[id] = true
	}
	if err := tx.Exec("DELETE FROM blob_refs WHERE customer_id = ?", customerID).Error; err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	list := make([]int64, 0, len(ids))
	for id := range ids {
		list = append(list, id)
	}
	sort.Slice(list, func(i, j int) bool { return list[i] < list[j] })
	if err := tx.Exec("DELETE FROM blob_refs WHERE blob_id IN ? AND (customer_id = -1 OR (customer_id = 0 AND created_at < ?))",
		list, now.Add(-pendingRefGrace)).Error; err != nil {
		return err
	}
	if pg {
		var locked []int64
		if err := tx.Raw("SELECT id FROM attachment_blobs WHERE id IN ? ORDER BY id FOR UPDATE", list).Scan(&locked).Error; err != nil {
			return err
		}
	}
	return tx.Exec(`DELETE FROM attachment_blobs WHERE id IN ? AND NOT EXISTS (SELECT 1 FROM blob_refs r WHERE r.blob_id = attachment_blobs.id)`, list).Error
}
