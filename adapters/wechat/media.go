package wechat

import (
	"context"
	"errors"
	"fmt"
	"net/url"

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
		f, err := wxmedia.Get(ctx, a.opt.HTTPClient, a.api+"/cgi-bin/media/get?"+q.Encode(), MaxMedia)
		var ae *wxmedia.APIError
		if errors.As(err, &ae) {
			if wxmedia.TokenRefused(ae.Code) && attempt == 0 {
				bad = tok
				continue
			}
			return File{}, &Error{Op: "media/get", Code: ae.Code, Msg: ae.Msg}
		}
		if err != nil {
			return File{}, fmt.Errorf("wechat: download: %w", err)
		}
		return f, nil
	}
}

// keep downloads ev's files and stores them (wxmedia.Keep): the callback must be answered within
// WeChat's 5 s, so each download has MediaTimeout; the message is delivered all the same.
func (a *Adapter) keep(ctx context.Context, ev *bot.Event) {
	wxmedia.Keep(ctx, a.log, ev, a.opt.Blobs, a.opt.MaxAttachment, a.opt.MediaTimeout, a.Download)
}
