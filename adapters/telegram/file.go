package telegram

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// File is a customer's attachment as Download returns it.
type File struct {
	Path string // Telegram's file_path, e.g. "photos/file_3.jpg"
	Size int64
	Body io.ReadCloser
}

// Download fetches an attachment by the FileID kefu stored (getFile, then
// {APIURL}/file/bot{token}/{file_path}), for a team view that shows it. The URL contains the bot token,
// so it is never handed out: callers stream Body themselves and must close it. The Bot API serves files
// up to 20 MB.
func (a *Adapter) Download(ctx context.Context, fileID string) (File, error) {
	if fileID == "" {
		return File{}, fmt.Errorf("telegram: download: empty file id")
	}
	f, err := a.call(ctx).GetFile(tgbotapi.FileConfig{FileID: fileID})
	if err != nil {
		return File{}, fmt.Errorf("telegram: download %s: %w", fileID, classify(redact(err, a.opt.Token)))
	}
	if f.FilePath == "" || strings.Contains(f.FilePath, "..") {
		return File{}, fmt.Errorf("telegram: download %s: no usable file_path", fileID)
	}
	u := a.apiBase + "/file/bot" + a.opt.Token + "/" + (&url.URL{Path: f.FilePath}).EscapedPath()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return File{}, fmt.Errorf("telegram: download %s: %w", fileID, redact(err, a.opt.Token))
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return File{}, fmt.Errorf("telegram: download %s: %w", fileID, redact(err, a.opt.Token))
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return File{}, fmt.Errorf("telegram: download %s: status %d", fileID, resp.StatusCode)
	}
	size := resp.ContentLength
	if size < 0 {
		size = int64(f.FileSize)
	}
	return File{Path: f.FilePath, Size: size, Body: resp.Body}, nil
}
