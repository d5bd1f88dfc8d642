package wecom

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/adapters/adaptertest"
	"github.com/kefu-dev/kefu/adapters/wecom/wecomtest"
	"github.com/kefu-dev/kefu/bot"
)

// memBlobs is a Blobs that keeps files in memory and may be told to fail.
type memBlobs struct {
	mu    sync.Mutex
	files map[int64][]byte
	mimes map[int64]string
	fail  bool
}

func (m *memBlobs) PutBlob(_ context.Context, mime string, data []byte, max int64) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail {
		return 0, errors.New("disk full")
	}
	if int64(len(data)) > max {
		return 0, errors.New("over the cap")
	}
	id := int64(len(m.files) + 1)
	m.files[id], m.mimes[id] = bytes.Clone(data), mime
	return id, nil
}

// TestKeepMedia: a customer's image, voice and file are downloaded from media/get and stored, their
// stored id recorded on the attachment; a file over the cap, an expired media id or a failing store
// keep the platform's reference (marked) and the message is delivered all the same.
func TestKeepMedia(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n王小明的发票")
	tests := []struct {
		name      string
		msgtype   string
		media     *wecomtest.Media // nil: an id media/get does not know (expired)
		max       int64
		storeFail bool
		wantType  string
		wantBlob  bool
		tooLarge  bool
		failed    bool
	}{
		{"image", "image", &wecomtest.Media{ContentType: "image/png", Name: "fridge.png", Body: png}, 0, false, "photo", true, false, false},
		{"voice", "voice", &wecomtest.Media{ContentType: "voice/amr", Body: []byte("#!AMR\n voice")}, 0, false, "voice", true, false, false},
		{"file", "file", &wecomtest.Media{ContentType: "application/pdf", Name: "合同.pdf", Body: []byte("%PDF-1.4 合同")}, 0, false, "document", true, false, false},
		{"video", "video", &wecomtest.Media{ContentType: "video/mp4", Name: "故障.mp4", Body: []byte("\x00\x00\x00\x18ftypmp42 洗衣机漏水视频")}, 0, false, "video", true, false, false},
		{"video over the cap", "video", &wecomtest.Media{ContentType: "video/mp4", Name: "big.mp4", Body: bytes.Repeat([]byte{2}, 2048)}, 1024, false, "video", false, true, false},
		{"over the cap", "file", &wecomtest.Media{ContentType: "application/zip", Name: "big.zip", Body: bytes.Repeat([]byte{1}, 2048)}, 1024, false, "document", false, true, false},
		{"expired media id", "image", nil, 0, false, "photo", false, false, true},
		{"store fails", "image", &wecomtest.Media{ContentType: "image/png", Body: png}, 0, true, "photo", false, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			blobs := &memBlobs{files: map[int64][]byte{}, mimes: map[int64]string{}, fail: tc.storeFail}
			a, err := New(Options{CorpID: wecomtest.CorpID, Secret: wecomtest.Secret, Token: wecomtest.Token,
				EncodingAESKey: wecomtest.EncodingAESKey, APIURL: r.f.URL, State: r.state, Now: r.clk.Now,
				PollInterval: 2 * time.Second, Blobs: blobs, MaxAttachment: tc.max})
			if err != nil {
				t.Fatal(err)
			}
			r.cur.Store(a)
			st := adaptertest.NewStore()
			start(t, a, st)
			id := "MEDIA-expired"
			if tc.media != nil {
				id = r.f.AddMedia(*tc.media)
			}
			r.f.PushMedia(customer, tc.msgtype, id)
			ev := st.WaitFor(t, 1, 5*time.Second)[0]
			if ev.Kind != bot.KindMedia || len(ev.Attachments) != 1 {
				t.Fatalf("event = %+v", ev)
			}
			at := ev.Attachments[0]
			if at.Type != tc.wantType || at.FileID != id || at.TooLarge != tc.tooLarge || at.Failed != tc.failed || (at.BlobID != 0) != tc.wantBlob {
				t.Fatalf("attachment = %+v", at)
			}
			if !tc.wantBlob {
				if len(blobs.files) != 0 {
					t.Fatalf("stored %d files, want none", len(blobs.files))
				}
				return
			}
			if got := blobs.files[at.BlobID]; !bytes.Equal(got, tc.media.Body) || blobs.mimes[at.BlobID] != tc.media.ContentType {
				t.Fatalf("stored %q (%s), want %q", got, blobs.mimes[at.BlobID], tc.media.Body)
			}
			if at.Name != tc.media.Name || at.MIME != tc.media.ContentType || at.Size != int64(len(tc.media.Body)) {
				t.Errorf("attachment = %+v", at)
			}
		})
	}
}

// TestMediaGetRefusesWrongToken: the strict fake serves a file only with a valid access token, and
// the adapter refreshes a revoked one once before storing.
func TestMediaGetRefusesWrongToken(t *testing.T) {
	r := newRig(t)
	id := r.f.AddMedia(wecomtest.Media{ContentType: "image/png", Name: "a.png", Body: []byte("png")})
	resp, err := http.Get(r.f.URL + "/cgi-bin/media/get?" + url.Values{"access_token": {"forged"}, "media_id": {id}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var e struct {
		ErrCode int `json:"errcode"`
	}
	if json.Unmarshal(body, &e) != nil || e.ErrCode != 40014 || bytes.Contains(body, []byte("png")) {
		t.Fatalf("forged token: %s", body)
	}
	blobs := &memBlobs{files: map[int64][]byte{}, mimes: map[int64]string{}}
	a, err := New(Options{CorpID: wecomtest.CorpID, Secret: wecomtest.Secret, Token: wecomtest.Token,
		EncodingAESKey: wecomtest.EncodingAESKey, APIURL: r.f.URL, State: r.state, Now: r.clk.Now, Blobs: blobs})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.token(t.Context(), ""); err != nil {
		t.Fatal(err)
	}
	r.f.RevokeTokens()
	ev := bot.Event{MsgID: "m1", Attachments: []bot.Attachment{{Type: "photo", FileID: id}}}
	a.keep(t.Context(), &ev)
	if at := ev.Attachments[0]; at.BlobID == 0 || at.Failed || string(blobs.files[at.BlobID]) != "png" {
		t.Fatalf("after a revoked token: %+v", at)
	}
}
