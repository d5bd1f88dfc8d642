package wecom

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// MaxMedia bounds a downloaded file (WeCom's temporary media are at most 20 MB; videos 10 MB).
const MaxMedia = 20 << 20

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
			return File{}, fmt.Errorf("wecom: download: larger than %d bytes", MaxMedia)
		}
		f := File{ContentType: ct, Body: body}
		if _, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition")); err == nil {
			f.Name = params["filename"]
		}
		return f, nil
	}
}
