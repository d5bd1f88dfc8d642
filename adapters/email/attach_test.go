package email

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/adapters/adaptertest"
	"github.com/kefu-dev/kefu/adapters/email/emailtest"
	"github.com/kefu-dev/kefu/bot"
)

// blobStore is a Blobs that keeps what it is given and can refuse the first calls.
type blobStore struct {
	mu    sync.Mutex
	files map[int64][]byte
	mimes map[int64]string
	fail  int
}

func (b *blobStore) PutBlob(_ context.Context, mime string, data []byte, max int64) (int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fail > 0 {
		b.fail--
		return 0, errors.New("database is down")
	}
	if int64(len(data)) > max {
		return 0, errors.New("over the cap")
	}
	id := int64(len(b.files) + 1)
	b.files[id], b.mimes[id] = append([]byte(nil), data...), mime
	return id, nil
}

// TestAttachmentsKept: a customer's mail with a photo and a bigger PDF: the photo is stored (its bytes,
// decoded, in Blobs; the event's attachment names the stored copy), the PDF over MaxAttachment stays
// a reference marked too large. While the store refuses, the mail is not delivered without its file
// and stays unread; it is delivered once, with the file, when storing works again.
func TestAttachmentsKept(t *testing.T) {
	s := emailtest.New(t)
	blobs := &blobStore{files: map[int64][]byte{}, mimes: map[int64]string{}, fail: 2}
	a := newAdapter(t, s, NewMemState(), func(o *Options) { o.Blobs, o.MaxAttachment = blobs, 64 })
	st := adaptertest.NewStore()
	go func() { _ = a.Run(t.Context(), st) }()

	photo := []byte("\xff\xd8\xff\xe0 a small jpeg")
	pdf := []byte("%PDF-1.4 " + strings.Repeat("x", 200))
	body := "--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n洗衣机面板坏了，见照片和发票\r\n" +
		"--XX\r\nContent-Type: image/jpeg\r\nContent-Disposition: attachment; filename=\"panel.jpg\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		base64.StdEncoding.EncodeToString(photo) + "\r\n" +
		"--XX\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"invoice.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		base64.StdEncoding.EncodeToString(pdf) + "\r\n--XX--\r\n"
	if err := s.Deliver(emailtest.Message(customer, "面板坏了", "att1@example.cn", body, "Content-Type: multipart/mixed; boundary=XX")); err != nil {
		t.Fatal(err)
	}
	ev := st.WaitFor(t, 1, 20*time.Second)[0]
	if ev.Kind != bot.KindMedia || len(ev.Attachments) != 2 {
		t.Fatalf("event %+v", ev)
	}
	jpg, inv := ev.Attachments[0], ev.Attachments[1]
	if jpg.BlobID == 0 || string(blobs.files[jpg.BlobID]) != string(photo) || blobs.mimes[jpg.BlobID] != "image/jpeg" ||
		jpg.Name != "panel.jpg" || jpg.Type != "photo" {
		t.Errorf("photo %+v: want its bytes stored", jpg)
	}
	if inv.BlobID != 0 || !inv.TooLarge || inv.Name != "invoice.pdf" {
		t.Errorf("pdf over the cap %+v: want a reference marked too large", inv)
	}
	if blobs.fail != 0 {
		t.Errorf("store refusals left %d: the mail was delivered without trying to keep its file", blobs.fail)
	}
	if n, d := len(st.Texts()), st.DupCount(); n != 1 || d != 0 {
		t.Errorf("%d events (%d duplicates) for one mail", n, d)
	}
}
