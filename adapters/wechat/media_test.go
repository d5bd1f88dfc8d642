package wechat

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/adapters/adaptertest"
	"github.com/kefu-dev/kefu/adapters/wechat/wechattest"
	"github.com/kefu-dev/kefu/bot"
)

type memBlobs struct {
	mu    sync.Mutex
	files map[int64][]byte
	fail  bool
}

func (m *memBlobs) PutBlob(_ context.Context, _ string, data []byte, max int64) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail || int64(len(data)) > max {
		return 0, errors.New("not stored")
	}
	id := int64(len(m.files) + 1)
	m.files[id] = bytes.Clone(data)
	return id, nil
}

// TestKeepMedia: a follower's image and voice are fetched from media/get within the callback and
// stored, the stored id on the attachment; over the cap, an expired media id, a revoked token (one
// refresh) and a failing store are handled without losing the message.
func TestKeepMedia(t *testing.T) {
	jpg := []byte("\xff\xd8\xff 王小明的截图")
	tests := []struct {
		name      string
		msgtype   string
		media     *wechattest.Media
		max       int64
		revoke    bool
		storeFail bool
		wantBlob  bool
		tooLarge  bool
		failed    bool
	}{
		{"image", "image", &wechattest.Media{ContentType: "image/jpeg", Name: "a.jpg", Body: jpg}, 0, false, false, true, false, false},
		{"voice", "voice", &wechattest.Media{ContentType: "audio/amr", Body: []byte("#!AMR")}, 0, false, false, true, false, false},
		{"after a revoked token", "image", &wechattest.Media{ContentType: "image/jpeg", Body: jpg}, 0, true, false, true, false, false},
		{"over the cap", "image", &wechattest.Media{ContentType: "image/jpeg", Body: jpg}, 4, false, false, false, true, false},
		// Video and short video: media/get answers {"video_url": …} (the documented answer for video
		// media), and the file is fetched from there.
		{"video", "video", &wechattest.Media{ContentType: "video/mp4", Name: "v.mp4", Body: []byte("\x00\x00\x00\x18ftypmp42 冰箱异响视频"), Video: true}, 0, false, false, true, false, false},
		{"shortvideo", "shortvideo", &wechattest.Media{ContentType: "video/mp4", Body: []byte("\x00\x00\x00\x18ftypisom 小视频"), Video: true}, 0, false, false, true, false, false},
		{"video over the cap", "video", &wechattest.Media{ContentType: "video/mp4", Body: bytes.Repeat([]byte{9}, 64), Video: true}, 16, false, false, false, true, false},
		{"video after a revoked token", "video", &wechattest.Media{ContentType: "video/mp4", Body: []byte("ftyp 视频"), Video: true}, 0, true, false, true, false, false},
		{"expired media id", "image", nil, 0, false, false, false, false, true},
		{"store fails", "image", &wechattest.Media{ContentType: "image/jpeg", Body: jpg}, 0, false, true, false, false, true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, true)
			blobs := &memBlobs{files: map[int64][]byte{}, fail: tc.storeFail}
			a := r.adapter(t, func(o *Options) { o.Blobs, o.MaxAttachment = blobs, tc.max })
			st := adaptertest.NewStore()
			run(t, a, st)
			if _, err := a.token(t.Context(), ""); err != nil {
				t.Fatal(err)
			}
			if tc.revoke {
				r.f.RevokeTokens()
			}
			id := "MEDIA_expired"
			if tc.media != nil {
				id = r.f.AddMedia(*tc.media)
			}
			fields := []wechattest.Field{{Name: "MsgType", Value: tc.msgtype}, {Name: "MediaId", Value: id},
				{Name: "MsgId", Value: "77" + string(rune('0'+i))}}
			if tc.msgtype == "voice" {
				fields = append(fields, wechattest.Field{Name: "Format", Value: "amr"})
			}
			if tc.msgtype == "video" || tc.msgtype == "shortvideo" {
				fields = append(fields, wechattest.Field{Name: "ThumbMediaId", Value: r.f.AddMedia(wechattest.Media{ContentType: "image/jpeg", Body: []byte("thumb")})})
			}
			if err := r.f.Push(follower, fields...); err != nil {
				t.Fatal(err)
			}
			ev := st.WaitFor(t, 1, 5*time.Second)[0]
			if ev.Kind != bot.KindMedia || len(ev.Attachments) != 1 {
				t.Fatalf("event = %+v", ev)
			}
			at := ev.Attachments[0]
			if at.FileID != id || at.TooLarge != tc.tooLarge || at.Failed != tc.failed || (at.BlobID != 0) != tc.wantBlob {
				t.Fatalf("attachment = %+v", at)
			}
			if tc.wantBlob && !bytes.Equal(blobs.files[at.BlobID], tc.media.Body) {
				t.Fatalf("stored %q", blobs.files[at.BlobID])
			}
			if tc.media != nil && tc.media.Video && (at.Type != "video" || at.MIME != "video/mp4") {
				t.Errorf("video attachment = %+v", at)
			}
			if !tc.wantBlob && len(blobs.files) != 0 {
				t.Fatalf("stored %d files", len(blobs.files))
			}
		})
	}
}
