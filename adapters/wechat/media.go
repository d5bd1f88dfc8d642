package wechat

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

	"github.com/kefu-dev/kefu/bot"
)

// MaxMedia bounds a downloaded file (the Official Account's temporary media: images 10 MB, voice 2 MB,
// videos 10 MB).
const MaxMedia = 10 << 20

// ErrTooLarge is Download's answer to a file over MaxMedia.
var ErrTooLarge = errors.New("file larger than the cap")

// Blobs keeps copies of customers' files (storage.DB implements it).
type Blobs interface {
	PutBlob(ctx context.Context, mime string, data []byte, max int64) (int64, error)
}

// File is a follower's image or voice as Download returns it.
type File struct {
	Name        string
	ContentType string
	Body        []byte
}

// Download fetches a temporary media file by the MediaId of its callback (/cgi-bin/media/get);
// WeChat deletes it after 3 days. A refused access token is refreshed once; an errcode answer (40007
// invalid media_id) is an *Error. Written like adapters/wecom's: the two APIs differ in host and
// token only, and a shared helper would have to take both token sources.
func (a *Adapter) Download(ctx context.Context, mediaID string) (File, error) {
	if mediaID == "" {
		return File{}, errors.New("wechat: download: empty media id")
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
			return File{}, fmt.Errorf("wechat: download: %w", err)
		}
		resp, err := a.opt.HTTPClient.Do(req)
		if err != nil {
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err // the URL carries the token
			}
			return File{}, fmt.Errorf("wechat: download: %w", err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, MaxMedia+1))
		resp.Body.Close()
		if err != nil {
			return File{}, fmt.Errorf("wechat: download: %w", err)
		}
		if resp.StatusCode != http.StatusOK {
			return File{}, fmt.Errorf("wechat: download: HTTP %d", resp.StatusCode)
		}
		ct := resp.Header.Get("Content-Type")
		if strings.HasPrefix(ct, "application/json") || strings.HasPrefix(ct, "text/plain") {
			var e struct {
				ErrCode int    `json:"errcode"`
				ErrMsg  string `json:"errmsg"`
			}
			if err := json.Unmarshal(body, &e); err != nil || e.ErrCode == 0 {
				return File{}, fmt.Errorf("wechat: download: unexpected %s answer", ct)
			}
			if (e.ErrCode == 40001 || e.ErrCode == 40014 || e.ErrCode == 42001) && attempt == 0 {
				bad = tok
				continue
			}
			return File{}, &Error{Op: "media/get", Code: e.ErrCode, Msg: e.ErrMsg}
		}
		if len(body) > MaxMedia {
			return File{}, fmt.Errorf("wechat: download: %w (%d bytes)", ErrTooLarge, MaxMedia)
		}
		f := File{ContentType: ct, Body: body}
		if _, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition")); err == nil {
			f.Name = params["filename"]
		}
		return f, nil
	}
}

// keep downloads ev's files and stores them (see adapters/wecom): the callback must be answered
// within WeChat's 5 s, so the download has MediaTimeout; a slow, failed or unstored download keeps
// the reference marked Failed (not retried) and a file over MaxAttachment is marked TooLarge; the
// message is delivered all the same.
func (a *Adapter) keep(ctx context.Context, ev *bot.Event) {
	if a.opt.Blobs == nil {
		return
	}
	for i := range ev.Attachments {
		at := &ev.Attachments[i]
		if at.FileID == "" || at.BlobID != 0 {
			continue
		}
		dctx, cancel := context.WithTimeout(ctx, a.opt.MediaTimeout)
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
			a.log.WarnContext(ctx, "media not downloaded; the reference is kept", "msg_id", ev.MsgID, "err", err)
			continue
		}
		if at.Name == "" {
			at.Name = f.Name
		}
		if f.ContentType != "" {
			at.MIME = f.ContentType
		}
		at.Size = int64(len(f.Body))
		id, err := a.opt.Blobs.PutBlob(ctx, at.MIME, f.Body, a.opt.MaxAttachment)
		if err != nil {
			at.Failed = true
			a.log.WarnContext(ctx, "media not stored; the reference is kept", "msg_id", ev.MsgID, "err", err)
			continue
		}
		at.BlobID = id
	}
}
