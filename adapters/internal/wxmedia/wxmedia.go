// Package wxmedia fetches a customer's temporary media from the media/get API that WeChat Official
// Accounts and WeCom share (they differ in host, access token and error type only: each adapter keeps
// its own token loop and error) and keeps copies as attachment blobs. Hand-written because no Go SDK
// used here covers both APIs' media/get with a caller-supplied token and HTTP client.
package wxmedia

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kefu-dev/kefu/bot"
)

// ErrTooLarge is the answer for a file over the cap.
var ErrTooLarge = errors.New("file larger than the cap")

// Blobs keeps copies of customers' files (storage.DB implements it).
type Blobs interface {
	PutBlob(ctx context.Context, mime string, data []byte, max int64) (int64, error)
}

// File is a customer's file as media/get returns it.
type File struct {
	Name        string // from Content-Disposition, may be empty
	ContentType string
	Body        []byte
}

// APIError is an errcode answer in place of the file.
type APIError struct {
	Code int
	Msg  string
}

func (e *APIError) Error() string { return fmt.Sprintf("errcode %d: %s", e.Code, e.Msg) }

// TokenRefused reports whether an errcode means the access token must be fetched again (invalid,
// wrong or expired token).
func TokenRefused(code int) bool { return code == 40001 || code == 40014 || code == 42001 }

// Get fetches rawURL once with c. An errcode answer is an *APIError, a body over max wraps
// ErrTooLarge. Errors never carry the URL: it holds the access token, and errors end up in logs. A
// {"video_url": …} answer (the Official Account's media/get for video media) is followed once.
func Get(ctx context.Context, c *http.Client, rawURL string, max int) (File, error) {
	return get(ctx, c, rawURL, max, true)
}

func get(ctx context.Context, c *http.Client, rawURL string, max int, follow bool) (File, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return File{}, errors.New("bad request URL")
	}
	resp, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return File{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, int64(max)+1))
	if err != nil {
		return File{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return File{}, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	ct := resp.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "application/json") || strings.HasPrefix(ct, "text/plain") {
		var e struct {
			ErrCode  int    `json:"errcode"`
			ErrMsg   string `json:"errmsg"`
			VideoURL string `json:"video_url"`
		}
		if err := json.Unmarshal(body, &e); err == nil && e.ErrCode == 0 && e.VideoURL != "" && follow {
			if u, err := url.Parse(e.VideoURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return File{}, errors.New("unusable video_url")
			}
			return get(ctx, c, e.VideoURL, max, false)
		}
		if err := json.Unmarshal(body, &e); err != nil || e.ErrCode == 0 {
			return File{}, fmt.Errorf("unexpected %s answer", ct)
		}
		return File{}, &APIError{Code: e.ErrCode, Msg: e.ErrMsg}
	}
	if len(body) > max {
		return File{}, fmt.Errorf("%w (%d bytes)", ErrTooLarge, max)
	}
	f := File{ContentType: ct, Body: body}
	if _, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition")); err == nil {
		f.Name = params["filename"]
	}
	return f, nil
}

// Download fetches mediaID from api's /cgi-bin/media/get with the access token token gives. A refused
// token is refreshed once (token is called again with the refused one); an errcode answer is an
// *APIError; a file over max wraps ErrTooLarge.
func Download(ctx context.Context, c *http.Client, api string, token func(ctx context.Context, bad string) (string, error),
	mediaID string, max int) (File, error) {
	if mediaID == "" {
		return File{}, errors.New("empty media id")
	}
	bad := ""
	for attempt := 0; ; attempt++ {
		tok, err := token(ctx, bad)
		if err != nil {
			return File{}, err
		}
		q := url.Values{"access_token": {tok}, "media_id": {mediaID}}
		f, err := Get(ctx, c, api+"/cgi-bin/media/get?"+q.Encode(), max)
		var ae *APIError
		if errors.As(err, &ae) && TokenRefused(ae.Code) && attempt == 0 {
			bad = tok
			continue
		}
		return f, err
	}
}

// Keep downloads ev's files with download (each within timeout) and stores them in blobs, recording
// the stored id on the attachment. It never fails the message: a file over max keeps its reference
// marked TooLarge; a failed download or store keeps it marked Failed (not retried: the platforms keep
// temporary media 3 days, so an agent may still ask the customer again).
func Keep(ctx context.Context, log *slog.Logger, ev *bot.Event, blobs Blobs, max int64, timeout time.Duration,
	download func(context.Context, string) (File, error)) {
	if blobs == nil {
		return
	}
	for i := range ev.Attachments {
		at := &ev.Attachments[i]
		if at.FileID == "" || at.BlobID != 0 {
			continue
		}
		dctx, cancel := context.WithTimeout(ctx, timeout)
		f, err := download(dctx, at.FileID)
		cancel()
		if err == nil && int64(len(f.Body)) > max {
			err = ErrTooLarge
		}
		switch {
		case errors.Is(err, ErrTooLarge):
			at.TooLarge = true
			continue
		case err != nil:
			at.Failed = true
			log.WarnContext(ctx, "media not downloaded; the reference is kept", "msg_id", ev.MsgID, "err", err)
			continue
		}
		if at.Name == "" {
			at.Name = f.Name
		}
		if f.ContentType != "" {
			at.MIME = f.ContentType
		}
		at.Size = int64(len(f.Body))
		id, err := blobs.PutBlob(ctx, at.MIME, f.Body, max)
		if err != nil {
			at.Failed = true
			log.WarnContext(ctx, "media not stored; the reference is kept", "msg_id", ev.MsgID, "err", err)
			continue
		}
		at.BlobID = id
	}
}

// RetryStore queues the downloads that failed and keeps the files (storage.DB implements it).
type RetryStore interface {
	Blobs
	ClaimMediaRetries(ctx context.Context, ch bot.Channel, now time.Time, lease time.Duration, limit int) ([]bot.MediaRetry, error)
	MediaRetryFailed(ctx context.Context, id int64, next time.Time) error
	MediaRetryDone(ctx context.Context, id int64, file bot.Attachment) error
}

// RetryStats counts one retry round.
type RetryStats struct{ Done, Failed int }

// Retry runs one round of background download retries for ch at now: it claims the due jobs (each
// by one process only), downloads each within timeout and stores it (the stored file then replaces
// the marked reference on the ticket), or backs the job off. Logs name the job, never the media id or
// a token (download's errors carry no URL).
func Retry(ctx context.Context, log *slog.Logger, st RetryStore, ch bot.Channel, now time.Time, max int64, timeout time.Duration,
	download func(context.Context, string) (File, error)) (RetryStats, error) {
	var rs RetryStats
	jobs, err := st.ClaimMediaRetries(ctx, ch, now, timeout+time.Minute, 20)
	if err != nil {
		return rs, err
	}
	for _, j := range jobs {
		dctx, cancel := context.WithTimeout(ctx, timeout)
		f, err := download(dctx, j.FileID)
		cancel()
		if err == nil && int64(len(f.Body)) > max {
			err = ErrTooLarge
		}
		var id int64
		if err == nil {
			id, err = st.PutBlob(ctx, f.ContentType, f.Body, max)
		}
		if err != nil {
			next := j.Next(now)
			if errors.Is(err, ErrTooLarge) {
				next = j.ExpiresAt // no later attempt can fit: wait for the expiry
			}
			rs.Failed++
			log.WarnContext(ctx, "media download retry failed", "channel", string(ch), "retry", j.ID, "attempt", j.Attempt,
				"next", next, "err", err)
			if err := st.MediaRetryFailed(ctx, j.ID, next); err != nil {
				return rs, err
			}
			continue
		}
		if err := st.MediaRetryDone(ctx, j.ID, bot.Attachment{BlobID: id, MIME: f.ContentType, Size: int64(len(f.Body)), Name: f.Name}); err != nil {
			return rs, err
		}
		rs.Done++
		log.InfoContext(ctx, "media downloaded on retry", "channel", string(ch), "retry", j.ID, "attempt", j.Attempt)
	}
	return rs, nil
}

// RetryLoop runs Retry every interval until ctx is done.
func RetryLoop(ctx context.Context, log *slog.Logger, st RetryStore, ch bot.Channel, every time.Duration, now func() time.Time,
	max int64, timeout time.Duration, download func(context.Context, string) (File, error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := Retry(ctx, log, st, ch, now(), max, timeout, download); err != nil && ctx.Err() == nil {
				log.WarnContext(ctx, "media download retries", "channel", string(ch), "err", err)
			}
		}
	}
}
