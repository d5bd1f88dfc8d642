package wecom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kefu-dev/kefu/bot"
)

// MaxMedia bounds a downloaded file (WeCom's temporary media are at most 20 MB; videos 10 MB).
const MaxMedia = 20 << 20

// ErrTooLarge is Download's answer to a file over MaxMedia.
var ErrTooLarge = errors.New("file larger than the cap")

// Blobs keeps copies of customers' files (storage.DB implements it).
type Blobs interface {
	PutBlob(ctx context.Context, mime string, data []byte, max int64) (int64, error)
}

// keep downloads the files of ev's attachments and stores them, recording the stored id on the
// attachment. It never fails the message: a file over MaxAttachment keeps its reference marked
// TooLarge, a failed download or store keeps it marked Failed (not retried; WeCom keeps the media 3
// days, so an agent may still ask the customer again).
func (a *Adapter) keep(ctx context.Context, ev *bot.Event) {
	if a.opt.Blobs == nil {
		return
	}
	for i := range ev.Attachments {
		at := &ev.Attachments[i]
		if at.FileID == "" || at.BlobID != 0 {
			continue
		}
		dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		f, err := a.Download(dctx, at.FileID)
		cancel()
		if err == nil && int64(len(f.Body)) > a.opt.MaxAttachment {
			err = ErrTooLarge
		}
		switch {
		case errors.Is(err, ErrTooLarge):
			at.TooLarge = true
			continue
		case err != nil:
			at.Failed = true
			a.log.WarnContext(ctx, "media not downloaded; the reference is kept", "msgid", ev.MsgID, "err", err)
			continue
		}
		if at.Name == "" {
			at.Name = f.Name
		}
		at.MIME, at.Size = f.ContentType, int64(len(f.Body))
		id, err := a.opt.Blobs.PutBlob(ctx, f.ContentType, f.Body, a.opt.MaxAttachment)
		if err != nil {
			at.Failed = true
			a.log.WarnContext(ctx, "media not stored; the reference is kept", "msgid", ev.MsgID, "err", err)
			continue
		}
		at.BlobID = id
	}
}

// File is a customer's attachment as Download returns it.
type File struct {
	Name        string // from Content-Disposition, may be empty
	ContentType string
	Body        []byte
}

// Download fetches a customer's image, voice, video or file by the media_id kefu stored as the
// attachment's FileID (/cgi-bin/media/get), for a team view that shows it or to keep a copy: WeCom's
// temporary media expire after 3 days. A refused access token is refreshed once; an errcode answer
// (40007 unknown or expired media_id) is an *Error.
func (a *Adapter) Download(ctx context.Context, mediaID string) (File, error) {
	if mediaID == "" {
		return File{}, fmt.Errorf("wecom: download: empty media id")
	}
	bad := ""
	for attempt := 0; ; attempt++ {
		tok, err := a.token(ctx, bad)
		if err != nil {
			return File{}, err
		}
		q := url.Values{"access_token": {tok}, "media_id": {mediaID}}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.api+"/cgi-bin/media/get?"+q.Encode(), nil)
		if err != nil {
			return File{}, fmt.Errorf("wecom: download: %w", err)
		}
		resp, err := a.opt.HTTPClient.Do(req)
		if err != nil {
			return File{}, fmt.Errorf("wecom: download: %w", err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, MaxMedia+1))
		resp.Body.Close()
		if err != nil {
			return File{}, fmt.Errorf("wecom: download: %w", err)
		}
		if resp.StatusCode != http.StatusOK {
			return File{}, fmt.Errorf("wecom: download: status %d", resp.StatusCode)
		}
		ct := resp.Header.Get("Content-Type")
		if strings.HasPrefix(ct, "application/json") || strings.HasPrefix(ct, "text/plain") {
			// An errcode answer instead of the file.
			var e struct {
				ErrCode int    `json:"errcode"`
				ErrMsg  string `json:"errmsg"`
			}
			if err := json.Unmarshal(body, &e); err != nil || e.ErrCode == 0 {
				return File{}, fmt.Errorf("wecom: download: unexpected %s answer", ct)
			}
			if (e.ErrCode == 40014 || e.ErrCode == 42001 || e.ErrCode == 40001) && attempt == 0 {
				bad = tok
				continue
			}
			return File{}, &Error{e.ErrCode, e.ErrMsg, "/cgi-bin/media/get"}
		}
		if len(body) > MaxMedia {
			return File{}, fmt.Errorf("wecom: download: %w (%d bytes)", ErrTooLarge, MaxMedia)
		}
		f := File{ContentType: ct, Body: body}
		if _, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition")); err == nil {
			f.Name = params["filename"]
		}
		return f, nil
	}
}
