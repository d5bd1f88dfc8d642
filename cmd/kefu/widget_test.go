package main

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestWidgetEmbedding: widget.js is served to any site; the chat page may be framed by exactly the
// configured origins (CSP frame-ancestors) and by none without configuration (plus X-Frame-Options).
func TestWidgetEmbedding(t *testing.T) {
	get := func(url string) (*http.Response, string) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	plain := startServer(t, filepath.Join(t.TempDir(), "kefu.db"))
	resp, _ := get(plain.url + "/")
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("without allowed origins: CSP %q, X-Frame-Options %q", csp, resp.Header.Get("X-Frame-Options"))
	}

	env := map[string]string{"KEFU_WEB_ALLOWED_ORIGINS": "[https://shop.example.com, 'http://localhost:3000']"}
	s := startJourneyServer(t, filepath.Join(t.TempDir(), "kefu.db"), env, nil)
	resp, _ = get(s.url + "/")
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "frame-ancestors https://shop.example.com http://localhost:3000") || resp.Header.Get("X-Frame-Options") != "" {
		t.Errorf("with allowed origins: CSP %q, X-Frame-Options %q", csp, resp.Header.Get("X-Frame-Options"))
	}
	resp, js := get(s.url + "/widget.js")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") ||
		resp.Header.Get("Cross-Origin-Resource-Policy") != "cross-origin" {
		t.Fatalf("widget.js: %d %v", resp.StatusCode, resp.Header)
	}
	mustContain(t, "widget.js", js, "document.currentScript", "iframe", `new URL(".", script.src)`)

	for _, bad := range []string{"shop.example.com", "https://shop.example.com/page", "javascript:alert(1)", "https://u:p@shop.example.com"} {
		_, err := loadConfig("", func(k string) string {
			if k == "KEFU_WEB_ALLOWED_ORIGINS" {
				return "[" + "'" + bad + "'" + "]"
			}
			return ""
		})
		if err == nil || !strings.Contains(err.Error(), "web.allowed_origins") {
			t.Errorf("origin %q accepted: %v", bad, err)
		}
	}
}
