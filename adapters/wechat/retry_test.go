package wechat

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/adapters/adaptertest"
	"github.com/kefu-dev/kefu/adapters/wechat/wechattest"
	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/storage/storetest"
)

// TestRetryFailedMedia: a follower's video the Official Account would not serve inside the callback
// (system error) is marked failed, then fetched by the background retry (through media/get's
// video_url) and stored in place of the mark.
func TestRetryFailedMedia(t *testing.T) {
	db := storetest.OpenSQLite(t)
	ctx := context.Background()
	r := newRig(t, true)
	a := r.adapter(t, func(o *Options) { o.Blobs, o.MediaRetryEvery = db, time.Hour })
	st := adaptertest.NewStore()
	run(t, a, st)
	mp4 := []byte("\x00\x00\x00\x18ftypmp42 冰箱异响")
	id := r.f.AddMedia(wechattest.Media{ContentType: "video/mp4", Body: mp4, Video: true})
	r.f.FailMedia(1)
	if err := r.f.Push(follower, wechattest.Field{Name: "MsgType", Value: "video"}, wechattest.Field{Name: "MediaId", Value: id},
		wechattest.Field{Name: "MsgId", Value: "88001"}); err != nil {
		t.Fatal(err)
	}
	ev := st.WaitFor(t, 1, 5*time.Second)[0]
	if len(ev.Attachments) != 1 || !ev.Attachments[0].Failed {
		t.Fatalf("attachments %+v, want marked failed", ev.Attachments)
	}
	var convID int64
	if err := db.Tx(ctx, func(tx bot.Tx) error {
		conv, err := tx.SaveInbound(ctx, ev)
		convID = conv.ID
		return err
	}); err != nil {
		t.Fatal(err)
	}
	r.clk.Advance(2 * time.Minute)
	if s, ok, err := a.RetryMedia(ctx); !ok || err != nil || s.Done != 1 {
		t.Fatalf("RetryMedia = %+v %v %v, want 1 done", s, ok, err)
	}
	as, err := db.InboundAttachments(ctx, convID)
	if err != nil || len(as) != 1 || as[0].Failed || as[0].BlobID == 0 || as[0].Type != "video" {
		t.Fatalf("after the retry: %+v, %v", as, err)
	}
	if b, err := db.Blob(ctx, as[0].BlobID); err != nil || !bytes.Equal(b.Data, mp4) {
		t.Fatalf("stored video: %v", err)
	}
}
