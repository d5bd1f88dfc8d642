package wecom

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kefu-dev/kefu/adapters/internal/wxmedia"
	"github.com/kefu-dev/kefu/bot"
)

// MaxMedia bounds a downloaded file (WeCom's temporary media are at most 20 MB; videos 10 MB).
const MaxMedia = 20 << 20

// ErrTooLarge is Download's answer to a file over MaxMedia.
var ErrTooLarge = wxmedia.ErrTooLarge

// Blobs keeps copies of customers' files (storage.DB implements it).
type Blobs = wxmedia.Blobs

// File is a customer's attachment as Download returns it.
type File = wxmedia.File

// keep downloads the files of ev's attachments and stores them (wxmedia.Keep), recording the stored id
// on the attachment; it never fails the message.
func (a *Adapter) keep(ctx context.Context, ev *bot.Event) {
	wxmedia.Keep(ctx, a.log, ev, a.opt.Blobs, a.opt.MaxAttachment, 30*time.Second, a.Download)
}

// Download fetches a customer's image, voice, video or file by the media_id kefu stored as the
// attachment's FileID (/cgi-bin/media/get), for a team view that shows it or to keep a copy: WeCom's
// temporary media expire after 3 days. A refused access token is refreshed once; an errcode answer
// (40007 unknown or expired media_id) is an *Error.
func (a *Adapter) Download(ctx context.Context, mediaID string) (File, error) {
	f, err := wxmedia.Download(ctx, a.opt.HTTPClient, a.api, a.token, mediaID, MaxMedia)
	if ae := (*wxmedia.APIError)(nil); errors.As(err, &ae) {
		return File{}, &Error{ae.Code, ae.Msg, "/cgi-bin/media/get"}
	}
	if err != nil {
		return File{}, fmt.Errorf("wecom: download: %w", err)
	}
	return f, nil
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
