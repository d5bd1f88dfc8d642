package storage_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/storage"
	"github.com/kefu-dev/kefu/storage/storetest"
)

// TestPutBlob: a file is stored once per content, comes back byte for byte, and is refused over the cap
// or empty.
func TestPutBlob(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		db := open(t)
		ctx := context.Background()
		first, err := db.PutBlob(ctx, "image/jpeg", []byte("发票图片-1"), 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name    string
			data    []byte
			max     int64
			same    bool // the id of first
			wantErr error
		}{
			{name: "same bytes again", data: []byte("发票图片-1"), same: true},
			{name: "other bytes", data: []byte("发票图片-2")},
			{name: "at the cap", data: bytes.Repeat([]byte{7}, 64), max: 64},
			{name: "over the cap", data: bytes.Repeat([]byte{8}, 65), max: 64, wantErr: storage.ErrBlobTooLarge},
			{name: "over the default cap", data: make([]byte, storage.DefaultMaxBlob+1), wantErr: storage.ErrBlobTooLarge},
			{name: "empty", data: nil, wantErr: errors.New("any")},
		} {
			t.Run(tc.name, func(t *testing.T) {
				id, err := db.PutBlob(ctx, "application/octet-stream", tc.data, tc.max)
				if tc.wantErr != nil {
					if err == nil || (errors.Is(tc.wantErr, storage.ErrBlobTooLarge) && !errors.Is(err, storage.ErrBlobTooLarge)) {
						t.Fatalf("PutBlob = %d, %v; want %v", id, err, tc.wantErr)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if (id == first) != tc.same {
					t.Fatalf("id %d, first %d, want same=%v", id, first, tc.same)
				}
				b, err := db.Blob(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(b.Data, tc.data) || b.Size != int64(len(tc.data)) {
					t.Fatalf("Blob = %d bytes, want %d", len(b.Data), len(tc.data))
				}
			})
		}
		if _, err := db.Blob(ctx, first+1000); !errors.Is(err, bot.ErrNotFound) {
			t.Fatalf("missing blob: %v, want ErrNotFound", err)
		}
		var n int64
		db.Gorm().Raw("SELECT COUNT(*) FROM attachment_blobs").Scan(&n)
		if n != 3 {
			t.Fatalf("%d rows, want 3 (first, other, at the cap)", n)
		}
	})
}

// TestBlobSealedAtRest: the raw data and sha256 columns hold neither the bytes, their base64 nor their
// plain digest.
func TestBlobSealedAtRest(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		db := open(t)
		secret := []byte("王小明的身份证照片 110101199003074514")
		if _, err := db.PutBlob(context.Background(), "image/png", secret, 0); err != nil {
			t.Fatal(err)
		}
		var rows []struct{ Data, Sha256 string }
		if err := db.Gorm().Raw("SELECT data, sha256 FROM attachment_blobs").Scan(&rows).Error; err != nil || len(rows) != 1 {
			t.Fatalf("rows %v, %v", rows, err)
		}
		for _, bad := range []string{string(secret), "110101199003074514", base64.StdEncoding.EncodeToString(secret)} {
			if strings.Contains(rows[0].Data, bad) || strings.Contains(rows[0].Sha256, bad) {
				t.Fatalf("raw column holds %q", bad)
			}
		}
		if !storage.IsSealed(rows[0].Data) {
			t.Fatalf("data not sealed: %.40q", rows[0].Data)
		}
		if rows[0].Sha256 == "" || rows[0].Sha256 == plainSHA(secret) {
			t.Fatal("sha256 column holds the plain digest")
		}
	})
}

// TestEraseCustomerDeletesBlobs: erasing a customer deletes the files of their attachments and leaves
// another customer's; CustomerHasBlob ties a file to its customer only.
func TestEraseCustomerDeletesBlobs(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		db := open(t)
		ctx := context.Background()
		mine, err := db.PutBlob(ctx, "image/jpeg", []byte("mine"), 0)
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := db.PutBlob(ctx, "image/jpeg", []byte("theirs"), 0)
		if err != nil {
			t.Fatal(err)
		}
		save := func(chat string, blob int64) bot.Conversation {
			var conv bot.Conversation
			err := db.Tx(ctx, func(tx bot.Tx) error {
				var err error
				conv, err = tx.SaveInbound(ctx, bot.Event{Channel: bot.ChannelWeCom, MsgID: "m-" + chat, ChatID: chat, UserID: chat,
					Kind: bot.KindMedia, At: time.Now().UTC(), Attachments: []bot.Attachment{{Type: "photo", FileID: "media-" + chat, BlobID: blob}}})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return conv
		}
		a, b := save("kf|a", mine), save("kf|b", theirs)
		for _, tc := range []struct {
			customer, blob int64
			want           bool
		}{{a.CustomerID, mine, true}, {a.CustomerID, theirs, false}, {b.CustomerID, theirs, true}, {b.CustomerID, mine, false}} {
			if got, err := db.CustomerHasBlob(ctx, tc.customer, tc.blob); err != nil || got != tc.want {
				t.Fatalf("CustomerHasBlob(%d, %d) = %v, %v; want %v", tc.customer, tc.blob, got, err, tc.want)
			}
		}
		if _, err := db.EraseCustomer(ctx, a.CustomerID, time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Blob(ctx, mine); !errors.Is(err, bot.ErrNotFound) {
			t.Fatalf("erased customer's blob: %v, want ErrNotFound", err)
		}
		if _, err := db.Blob(ctx, theirs); err != nil {
			t.Fatalf("other customer's blob: %v", err)
		}
	})
}

func plainSHA(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestPurgeDeletesOldBlobs: the retention run deletes files stored before both horizons and keeps a
// file stored again since (its clock starts over).
func TestPurgeDeletesOldBlobs(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		db := open(t)
		ctx := context.Background()
		old, err := db.PutBlob(ctx, "image/png", []byte("old"), 0)
		if err != nil {
			t.Fatal(err)
		}
		again, err := db.PutBlob(ctx, "image/png", []byte("again"), 0)
		if err != nil {
			t.Fatal(err)
		}
		long := time.Now().UTC().AddDate(-4, 0, 0)
		for _, q := range []string{"UPDATE attachment_blobs SET created_at = ?", "UPDATE blob_refs SET created_at = ?"} {
			if err := db.Gorm().Exec(q, long).Error; err != nil {
				t.Fatal(err)
			}
		}
		if id, err := db.PutBlob(ctx, "image/png", []byte("again"), 0); err != nil || id != again {
			t.Fatalf("stored again: %d, %v; want %d", id, err, again)
		}
		_, st, err := db.PurgePersonalData(ctx, time.Now(), time.Hour, storage.PrivacyRetention{})
		if err != nil || st.Files != 1 {
			t.Fatalf("purge: %+v, %v; want 1 file", st, err)
		}
		if _, err := db.Blob(ctx, old); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("old file: %v, want ErrNotFound", err)
		}
		if _, err := db.Blob(ctx, again); err != nil {
			t.Errorf("file stored again: %v", err)
		}
	})
}
