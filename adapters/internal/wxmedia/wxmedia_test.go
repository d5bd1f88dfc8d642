package wxmedia

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestGet(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("media_id") {
		case "img":
			w.Header().Set("Content-Type", "image/jpeg")
			w.Header().Set("Content-Disposition", `attachment; filename="a.jpg"`)
			w.Write([]byte("JPEGDATA"))
		case "big":
			w.Header().Set("Content-Type", "image/jpeg")
			w.Write([]byte(strings.Repeat("x", 65)))
		case "expired":
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"errcode":40007,"errmsg":"invalid media_id"}`))
		case "video": // the Official Account's answer for video media: the file is at video_url
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"video_url":"http://` + r.Host + `/v?media_id=img"}`))
		case "loop": // a video_url answering another video_url is not followed again
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"video_url":"http://` + r.Host + `/v?media_id=loop"}`))
		case "ftp":
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"video_url":"ftp://` + r.Host + `/v"}`))
		case "junk":
			w.Header().Set("Content-Type", "text/plain")
			w.Write([]byte(`not json`))
		default:
			http.Error(w, "no", http.StatusBadGateway)
		}
	}))
	defer srv.Close()
	tests := []struct {
		id       string
		wantBody string
		wantName string
		check    func(error) bool
	}{
		{"img", "JPEGDATA", "a.jpg", func(err error) bool { return err == nil }},
		{"big", "", "", func(err error) bool { return errors.Is(err, ErrTooLarge) }},
		{"video", "JPEGDATA", "a.jpg", func(err error) bool { return err == nil }},
		{"loop", "", "", func(err error) bool { return err != nil && strings.Contains(err.Error(), "unexpected") }},
		{"ftp", "", "", func(err error) bool { return err != nil && strings.Contains(err.Error(), "unusable video_url") }},
		{"expired", "", "", func(err error) bool {
			var ae *APIError
			return errors.As(err, &ae) && ae.Code == 40007 && !TokenRefused(ae.Code)
		}},
		{"junk", "", "", func(err error) bool { return err != nil && strings.Contains(err.Error(), "unexpected") }},
		{"gone", "", "", func(err error) bool { return err != nil && strings.Contains(err.Error(), "HTTP 502") }},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			f, err := Get(context.Background(), srv.Client(), srv.URL+"/cgi-bin/media/get?access_token=SECRET&media_id="+tc.id, 64)
			if !tc.check(err) {
				t.Fatalf("err = %v", err)
			}
			if string(f.Body) != tc.wantBody || f.Name != tc.wantName {
				t.Errorf("file %q %q, want %q %q", f.Body, f.Name, tc.wantBody, tc.wantName)
			}
		})
	}
	// A transport failure's error leaves the URL (and its access token) out: errors reach the logs.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	_, err := Get(context.Background(), http.DefaultClient, dead.URL+"/cgi-bin/media/get?access_token=SECRET&media_id=x", 32)
	if err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("transport error %v: want an error without the token", err)
	}
	for code, want := range map[int]bool{40001: true, 40014: true, 42001: true, 40007: false, 45009: false} {
		if TokenRefused(code) != want {
			t.Errorf("TokenRefused(%d) = %v", code, !want)
		}
	}
}
