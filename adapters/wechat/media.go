package wechat

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kefu-dev/kefu/adapters/internal/wxmedia"
	"github.com/kefu-dev/kefu/bot"
)

// MaxMedia bounds a downloaded file (the Official Account's temporary media: images 10 MB, voice 2 MB,
// videos 10 MB).
const MaxMedia = 10 << 20

// ErrTooLarge is Download's answer to a file over MaxMedia.
var ErrTooLarge = wxmedia.ErrTooLarge

// Blobs keeps copies of customers' files (storage.DB implements it).
type Blobs = wxmedia.Blobs

// File is a follower's image or voice as Download returns it.
type File = wxmedia.File

// Download fetches a temporary media file by the MediaId of its callback (/cgi-bin/media/get);
// WeChat deletes it after 3 days. A refused access token is refreshed once; an errcode answer (40007
// invalid media_id) is an *Error.
func (a *Adapter) Download(ctx context.Context, mediaID string) (File, error) {
	f, err := wxmedia.Download(ctx, a.opt.HTTPClient, a.api, a.token, mediaID, MaxMedia)
	if ae := (*wxmedia.APIError)(nil); errors.As(err, &ae) {
		return File{}, &Error{Op: "media/get", Code: ae.Code, Msg: ae.Msg}
	}
	if err != nil {
		return File{}, fmt.Errorf("wechat: download: %w", err)
	}
	return f, nil
}

// keep downloads ev's files and stores them (wxmedia.Keep): the callback must be answered within
// WeChat's 5 s, so each download has MediaTimeout; the message is delivered all the same.
func (a *Adapter) keep(ctx context.Context, ev *bot.Event) {
	wxmedia.Keep(ctx, a.log, ev, a.opt.Blobs, a.opt.MaxAttachment, a.opt.MediaTimeout, a.Download)
}

// RetryMedia runs one round of the background retries of failed downloads (Run does every
// MediaRetryEvery when Blobs queues them); ok is false when Blobs does not.
func (a *Adapter) RetryMedia(ctx context.Context) (st wxmedia.RetryStats, ok bool, err error) {
	rs, ok := a.opt.Blobs.(wxmedia.RetryStore)
	if !ok {
		return st, false, nil
	}
	st, err = wxmedia.Retry(ctx, a.log, rs, Channel, a.opt.Now(), a.opt.MaxAttachment, 30*time.Second, a.Download)
	return st, true, err
}
