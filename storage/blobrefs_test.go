package storage_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/storage"
	"github.com/kefu-dev/kefu/storage/storetest"
)

// sendFile stores data as an adapter does (PutBlob, then the message naming it) from customer chat.
func sendFile(t testing.TB, db *storage.DB, chat, msg string, data []byte) (bot.Conversation, int64) {
	t.Helper()
	conv, id, err := sendFileErr(db, chat, msg, data)
	if err != nil {
		t.Fatal(err)
	}
	return conv, id
}

func sendFileErr(db *storage.DB, chat, msg string, data []byte) (bot.Conversation, int64, error) {
	ctx := context.Background()
	id, err := db.PutBlob(ctx, "image/jpeg", data, 0)
	if err != nil {
		return bot.Conversation{}, 0, err
	}
	var conv bot.Conversation
	err = db.Tx(ctx, func(tx bot.Tx) error {
		var err error
		conv, err = tx.SaveInbound(ctx, bot.Event{Channel: bot.ChannelWeCom, MsgID: msg, ChatID: chat, UserID: chat,
			Kind: bot.KindMedia, At: time.Now().UTC(), Attachments: []bot.Attachment{{Type: "photo", FileID: "media-" + msg, BlobID: id}}})
		return err
	})
	return conv, id, err
}

// TestEraseCustomerKeepsSharedBlob: two customers sent the same bytes (one stored file, referenced
// twice): erasing one keeps the file for the other, erasing the other too deletes it; a file only the
// erased customer sent goes at once.
func TestEraseCustomerKeepsSharedBlob(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		db := open(t)
		ctx := context.Background()
		shared := []byte("同一张发票照片")
		a, fromA := sendFile(t, db, "kf|a", "a1", shared)
		_, againA := sendFile(t, db, "kf|a", "a2", shared) // A sends it twice: still one file
		b, fromB := sendFile(t, db, "kf|b", "b1", shared)
		_, onlyA := sendFile(t, db, "kf|a", "a3", []byte("只有A的文件"))
		if fromA != fromB || fromA != againA {
			t.Fatalf("blob ids %d %d %d: the same bytes were stored twice", fromA, againA, fromB)
		}
		if _, err := db.EraseCustomer(ctx, a.CustomerID, time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Blob(ctx, fromB); err != nil {
			t.Fatalf("B's file after erasing A: %v", err)
		}
		if ok, err := db.CustomerHasBlob(ctx, b.CustomerID, fromB); err != nil || !ok {
			t.Fatalf("CustomerHasBlob(B) = %v, %v", ok, err)
		}
		if _, err := db.Blob(ctx, onlyA); !errors.Is(err, bot.ErrNotFound) {
			t.Fatalf("A's own file after erasing A: %v, want ErrNotFound", err)
		}
		if _, err := db.EraseCustomer(ctx, b.CustomerID, time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Blob(ctx, fromB); !errors.Is(err, bot.ErrNotFound) {
			t.Fatalf("shared file after erasing both: %v, want ErrNotFound", err)
		}
	})
}

// TestEraseCustomerRacesPutBlob: erasing a customer while another customer's adapter stores the same
// bytes never leaves the second customer's message naming a deleted file (the file is kept, or stored
// anew).
func TestEraseCustomerRacesPutBlob(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		db := open(t)
		ctx := context.Background()
		for i := 0; i < 8; i++ {
			data := []byte(fmt.Sprintf("共享文件-%d", i))
			a, _ := sendFile(t, db, fmt.Sprintf("kf|ra%d", i), fmt.Sprintf("ra%d", i), data)
			var wg sync.WaitGroup
			var bID int64
			var errErase, errB error
			wg.Add(2)
			go func() {
				defer wg.Done()
				_, errErase = db.EraseCustomer(ctx, a.CustomerID, time.Now())
			}()
			go func() {
				defer wg.Done()
				_, bID, errB = sendFileErr(db, fmt.Sprintf("kf|rb%d", i), fmt.Sprintf("rb%d", i), data)
			}()
			wg.Wait()
			if errErase != nil || errB != nil {
				t.Fatalf("round %d: erase %v, send %v", i, errErase, errB)
			}
			if b, err := db.Blob(ctx, bID); err != nil || string(b.Data) != string(data) {
				t.Fatalf("round %d: B's file %d after a concurrent erase of A: %v", i, bID, err)
			}
		}
	})
}

// TestPurgeKeepsBlobOfOpenCase: the retention run deletes an old file nobody's open case needs, and
// keeps an equally old one while its customer still has an open ticket.
func TestPurgeKeepsBlobOfOpenCase(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		db := open(t)
		ctx := context.Background()
		long := time.Now().UTC().AddDate(-4, 0, 0)
		_, goneID1 := sendFile(t, db, "kf|old", "o1", []byte("旧文件"))
		openCase, kept := sendFile(t, db, "kf|open", "p1", []byte("未结工单的文件"))
		_, goneID := sendFile(t, db, "kf|old", "o2", []byte("旧文件-2"))
		err := db.Tx(ctx, func(tx bot.Tx) error {
			_, err := tx.CreateTicket(ctx, bot.Ticket{ConversationID: openCase.ID, CustomerID: openCase.CustomerID, Channel: bot.ChannelWeCom,
				Lang: "zh-CN", Category: "repair", Priority: bot.P2, Summary: "未结", CreatedAt: long, FirstResponseDue: long, ResolutionDue: long}, long.Format("20060102"))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{"UPDATE attachment_blobs SET created_at = ?", "UPDATE blob_refs SET created_at = ?"} {
			if err := db.Gorm().Exec(q, long).Error; err != nil {
				t.Fatal(err)
			}
		}
		_, st, err := db.PurgePersonalData(ctx, time.Now(), time.Hour, storage.PrivacyRetention{})
		if err != nil || st.Files != 2 {
			t.Fatalf("purge: %+v, %v; want 2 files", st, err)
		}
		for _, id := range []int64{goneID1, goneID} {
			if _, err := db.Blob(ctx, id); !errors.Is(err, bot.ErrNotFound) {
				t.Errorf("old file of a finished case: %v, want ErrNotFound", err)
			}
		}
		if _, err := db.Blob(ctx, kept); err != nil {
			t.Errorf("old file of a customer with an open ticket: %v", err)
		}
	})
}
