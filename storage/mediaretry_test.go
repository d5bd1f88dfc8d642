package storage_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/storage"
	"github.com/kefu-dev/kefu/storage/storetest"
)

// failedMedia stores a WeCom customer's message whose file could not be downloaded, and a ticket on it.
func failedMedia(t testing.TB, db *storage.DB, chat string, at time.Time) (bot.Conversation, bot.Ticket) {
	t.Helper()
	ctx := context.Background()
	att := []bot.Attachment{{Type: "photo", FileID: "MEDIA-" + chat, Failed: true}}
	var conv bot.Conversation
	var tk bot.Ticket
	err := db.Tx(ctx, func(tx bot.Tx) error {
		var err error
		if conv, err = tx.SaveInbound(ctx, bot.Event{Channel: bot.ChannelWeCom, MsgID: "m-" + chat, ChatID: chat, UserID: chat,
			Kind: bot.KindMedia, At: at, Attachments: att}); err != nil {
			return err
		}
		tk, err = tx.CreateTicket(ctx, bot.Ticket{ConversationID: conv.ID, CustomerID: conv.CustomerID, Channel: bot.ChannelWeCom,
			Lang: "zh-CN", Category: "repair", Priority: bot.P2, Summary: "发票", CreatedAt: at, FirstResponseDue: at.Add(time.Hour),
			ResolutionDue: at.Add(24 * time.Hour), Attachments: att}, at.Format("20060102"))
		if err != nil {
			return err
		}
		_, err = tx.AddEvent(ctx, bot.TicketEvent{TicketID: tk.ID, TicketNo: tk.No, At: at, Actor: "customer", Kind: bot.EvCreated,
			Channel: bot.ChannelWeCom, Attachments: att})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return conv, tk
}

// TestMediaRetry: a file whose download failed is retried in the background: each attempt is claimed
// by exactly one of several processes, a failure backs off (longer each time), a success stores the
// file and replaces the marked reference on the message, the ticket and its trail (and the file is
// the customer's: erasure deletes it), and after the platform's media expiry the retry gives up with
// the mark kept and said (Expired).
func TestMediaRetry(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		db := open(t)
		ctx := context.Background()
		t0 := time.Now().UTC().Truncate(time.Second)
		conv, tk := failedMedia(t, db, "kf|r1", t0)

		// Nothing due before the first backoff.
		if got, err := db.ClaimMediaRetries(ctx, bot.ChannelWeCom, t0, time.Minute, 10); err != nil || len(got) != 0 {
			t.Fatalf("claim at once: %v, %v; want none yet", got, err)
		}
		// Several processes claim at once: exactly one gets the job.
		at := t0.Add(2 * time.Minute)
		var mu sync.Mutex
		var claimed []storage.MediaRetry
		var wg sync.WaitGroup
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, err := db.ClaimMediaRetries(ctx, bot.ChannelWeCom, at, time.Minute, 10)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				claimed = append(claimed, got...)
				mu.Unlock()
			}()
		}
		wg.Wait()
		if len(claimed) != 1 || claimed[0].FileID != "MEDIA-kf|r1" || claimed[0].Attempt != 1 {
			t.Fatalf("claimed %+v, want the job once (attempt 1)", claimed)
		}
		if got, _ := db.ClaimMediaRetries(ctx, bot.ChannelWeChat, at, time.Minute, 10); len(got) != 0 {
			t.Fatalf("another channel claimed %+v", got)
		}
		// A failure backs off: not due again at once, due after the (longer) second delay.
		next1 := claimed[0].Next(at)
		if err := db.MediaRetryFailed(ctx, claimed[0].ID, next1); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.ClaimMediaRetries(ctx, bot.ChannelWeCom, next1.Add(-time.Second), time.Minute, 10); len(got) != 0 {
			t.Fatalf("claimed before the backoff: %+v", got)
		}
		got, err := db.ClaimMediaRetries(ctx, bot.ChannelWeCom, next1, time.Minute, 10)
		if err != nil || len(got) != 1 || got[0].Attempt != 2 || got[0].Next(next1).Sub(next1) <= next1.Sub(at) {
			t.Fatalf("second attempt %+v, %v", got, err)
		}
		// Success: the file replaces the marked reference everywhere.
		blob, err := db.PutBlob(ctx, "image/png", []byte("补回来的发票"), 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.MediaRetryDone(ctx, got[0].ID, bot.Attachment{BlobID: blob, MIME: "image/png", Size: 18, Name: "a.png"}); err != nil {
			t.Fatal(err)
		}
		check := func(where string, as []bot.Attachment) {
			t.Helper()
			if len(as) != 1 || as[0].BlobID != blob || as[0].Failed || as[0].FileID != "MEDIA-kf|r1" || as[0].MIME != "image/png" {
				t.Errorf("%s attachments %+v, want the stored file %d", where, as, blob)
			}
		}
		ms, err := db.InboundAttachments(ctx, conv.ID)
		if err != nil {
			t.Fatal(err)
		}
		check("message", ms)
		ntk, err := db.TicketByNo(ctx, tk.No)
		if err != nil {
			t.Fatal(err)
		}
		evs, err := db.TicketEvents(ctx, tk.ID)
		if err != nil {
			t.Fatal(err)
		}
		check("ticket", ntk.Attachments)
		for _, ev := range evs {
			if ev.Kind == bot.EvCreated {
				check("trail", ev.Attachments)
			}
		}
		if ok, err := db.CustomerHasBlob(ctx, conv.CustomerID, blob); err != nil || !ok {
			t.Errorf("CustomerHasBlob = %v, %v", ok, err)
		}
		if got, _ := db.ClaimMediaRetries(ctx, bot.ChannelWeCom, t0.Add(48*time.Hour), time.Minute, 10); len(got) != 0 {
			t.Fatalf("a done job claimed again: %+v", got)
		}
		if _, err := db.EraseCustomer(ctx, conv.CustomerID, time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Blob(ctx, blob); err == nil {
			t.Error("the retried file outlived its customer's erasure")
		}

		// Expiry: a job never succeeding gives up after the platform's 3 days, the mark kept and said.
		conv2, tk2 := failedMedia(t, db, "kf|r2", t0)
		expiry, _ := bot.MediaExpiry(bot.ChannelWeCom)
		if got, _ := db.ClaimMediaRetries(ctx, bot.ChannelWeCom, t0.Add(expiry), time.Minute, 10); len(got) != 0 {
			t.Fatalf("claimed after the expiry: %+v", got)
		}
		ms, _ = db.InboundAttachments(ctx, conv2.ID)
		ntk2, _ := db.TicketByNo(ctx, tk2.No)
		for _, as := range [][]bot.Attachment{ms, ntk2.Attachments} {
			if len(as) != 1 || !as[0].Failed || !as[0].Expired || as[0].BlobID != 0 {
				t.Errorf("after the expiry: %+v, want marked failed and expired", as)
			}
		}
		// The erased customer's job went with their messages; the expired one stays, counted.
		st, err := db.MediaRetryCounts(ctx)
		if err != nil || st[storage.MediaRetryKey{Channel: bot.ChannelWeCom, State: "done"}] != 0 ||
			st[storage.MediaRetryKey{Channel: bot.ChannelWeCom, State: "expired"}] != 1 {
			t.Errorf("counts %v, %v", st, err)
		}
	})
}
