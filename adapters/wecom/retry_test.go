package wecom

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/adapters/adaptertest"
	"github.com/kefu-dev/kefu/adapters/wecom/wecomtest"
	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/storage/storetest"
)

// TestRetryFailedMedia: against the strict fake and real storage, a file WeCom would not serve at
// first (system busy) is marked failed, then fetched by the background retry and stored in place of
// the mark; one the platform no longer serves is retried with backoff and given up after WeCom's 3-day
// media expiry, the mark kept and said. A second process retrying at the same time does not fetch
// twice.
func TestRetryFailedMedia(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		db := open(t)
		ctx := context.Background()
		r := newRig(t)
		mk := func() *Adapter {
			a, err := New(Options{CorpID: wecomtest.CorpID, Secret: wecomtest.Secret, Token: wecomtest.Token,
				EncodingAESKey: wecomtest.EncodingAESKey, APIURL: r.f.URL, State: r.state, Now: r.clk.Now,
				PollInterval: 2 * time.Second, Blobs: db, MediaRetryEvery: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		a, other := mk(), mk()
		r.cur.Store(a)
		st := adaptertest.NewStore()
		start(t, a, st)
		png := []byte("\x89PNG\r\n\x1a\n 第二次才下载成功的发票")
		good := r.f.AddMedia(wecomtest.Media{ContentType: "image/png", Name: "invoice.png", Body: png})
		r.f.FailMedia(1)
		r.f.PushMedia(customer, "image", good)
		gone := "MEDIA-never-served"
		r.f.PushMedia(customer, "video", gone)
		evs := st.WaitFor(t, 2, 5*time.Second)
		var convID int64
		for i, ev := range evs {
			if len(ev.Attachments) != 1 || !ev.Attachments[0].Failed {
				t.Fatalf("event %d attachments %+v, want marked failed", i, ev.Attachments)
			}
			err := db.Tx(ctx, func(tx bot.Tx) error { // as the engine stores it
				conv, err := tx.SaveInbound(ctx, ev)
				convID = conv.ID
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		r.clk.Advance(2 * time.Minute)
		var total retryTotals
		for _, ad := range []*Adapter{a, other} {
			s, ok, err := ad.RetryMedia(ctx)
			if !ok || err != nil {
				t.Fatalf("RetryMedia: %v %v", ok, err)
			}
			total.done += s.Done
			total.failed += s.Failed
		}
		if total.done != 1 || total.failed != 1 {
			t.Fatalf("two processes retried: %+v, want 1 done and 1 failed (each job once)", total)
		}
		as, err := db.InboundAttachments(ctx, convID)
		if err != nil || len(as) != 2 {
			t.Fatalf("attachments %+v, %v", as, err)
		}
		if as[0].Failed || as[0].BlobID == 0 || as[0].FileID != good || as[0].Name != "invoice.png" {
			t.Fatalf("retried attachment %+v, want the stored file", as[0])
		}
		if b, err := db.Blob(ctx, as[0].BlobID); err != nil || !bytes.Equal(b.Data, png) {
			t.Fatalf("stored file: %v", err)
		}
		// The other keeps failing, backed off: not retried again before the first backoff (1 min).
		r.clk.Advance(30 * time.Second)
		if s, _, _ := a.RetryMedia(ctx); s.Done+s.Failed != 0 {
			t.Fatalf("retried before its backoff: %+v", s)
		}
		for i := 0; i < 20 && r.clk.Now().Before(evs[1].At.Add(73*time.Hour)); i++ {
			r.clk.Advance(6 * time.Hour)
			if _, _, err := a.RetryMedia(ctx); err != nil {
				t.Fatal(err)
			}
		}
		as, _ = db.InboundAttachments(ctx, convID)
		if !as[1].Failed || !as[1].Expired || as[1].BlobID != 0 || as[1].Type != "video" {
			t.Fatalf("after WeCom's expiry: %+v, want marked failed and expired", as[1])
		}
		r.clk.Advance(24 * time.Hour)
		if s, _, _ := a.RetryMedia(ctx); s.Done+s.Failed != 0 {
			t.Fatalf("retried after giving up: %+v", s)
		}
	})
}

type retryTotals struct{ done, failed int }
