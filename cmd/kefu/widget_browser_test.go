package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/kefu-dev/kefu/internal/browsertest"
)

// TestBrowserWidgetCrossOrigin: a company page served from ANOTHER origin (its own server, another
// port) embeds the README's <script> snippet; in headless Chromium the button opens the chat in a frame
// and the customer exchanges messages with the bot. The same page from an origin that is not in
// web.allowed_origins gets the button but the browser refuses to show the chat in its frame (the CSP
// frame-ancestors kefu sends, from the same setting).
func TestBrowserWidgetCrossOrigin(t *testing.T) {
	bin := needChromium(t)
	page := func(kefu string) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, `<!doctype html><html><head><title>云朵家电官网</title></head><body><h1>云朵家电</h1>
<script src="%s/widget.js" async></script></body></html>`, kefu)
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	// The company's site must be known before kefu starts: reserve its server first.
	shop := httptest.NewUnstartedServer(nil)
	t.Cleanup(shop.Close)
	shopOrigin := "http://" + shop.Listener.Addr().String()
	s := startJourneyServer(t, filepath.Join(t.TempDir(), "kefu.db"), map[string]string{"KEFU_WEB_ALLOWED_ORIGINS": "[" + shopOrigin + "]"}, nil)
	shop.Config.Handler = page(s.url).Config.Handler
	shop.Start()
	other := page(s.url) // another site, not allowed
	if shopOrigin == other.URL || strings.TrimPrefix(shopOrigin, "http://") == strings.TrimPrefix(s.url, "http://") {
		t.Fatal("the pages and kefu must be three origins")
	}

	bctx := browsertest.Start(t, bin, chromedp.WindowSize(1024, 800), chromedp.Flag("lang", "zh-CN"),
		chromedp.Flag("accept-lang", "zh-CN,zh"))
	bctx, cancel := context.WithTimeout(bctx, 60*time.Second)
	defer cancel()

	// frameNode returns the chat frame's node. A node read while the frame still holds its initial
	// empty document keeps pointing at that document: chatFrame reads it again until the chat is in.
	frameNode := func(url string) *chromedp.Node {
		t.Helper()
		frames, err := chromedp.Run(bctx, chromedp.Nodes(chromedp.CSS(`iframe[data-kefu=chat]`)))
		if err != nil || len(frames) != 1 {
			t.Fatalf("%s: the chat frame: %v (%d frames)", url, err, len(frames))
		}
		return frames[0]
	}
	// chatFrame waits up to d for the chat's input box in the frame and returns the frame's node.
	chatFrame := func(url string, d time.Duration) (*chromedp.Node, bool) {
		t.Helper()
		deadline := time.Now().Add(d)
		for {
			frame := frameNode(url)
			try, cancel := context.WithTimeout(bctx, time.Second)
			err := chromedp.Do(try, chromedp.WaitVisible(chromedp.CSS(`#input`), chromedp.FromNode(frame)))
			cancel()
			if err == nil {
				return frame, true
			}
			if time.Now().After(deadline) || bctx.Err() != nil {
				return nil, false
			}
		}
	}
	// open loads a page, presses the launcher and returns the chat frame's node.
	open := func(url string) *chromedp.Node {
		t.Helper()
		if err := chromedp.Do(bctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(`button[data-kefu=launcher]`)),
			chromedp.Click(chromedp.CSS(`button[data-kefu=launcher]`)), chromedp.WaitReady(chromedp.CSS(`iframe[data-kefu=chat]`))); err != nil {
			t.Fatalf("%s: open the widget: %v", url, err)
		}
		return frameNode(url)
	}
	in := func(frame *chromedp.Node) chromedp.QueryOption { return chromedp.FromNode(frame) }
	wait := func(frame *chromedp.Node, what string, re *regexp.Regexp) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			text, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(`#log`), in(frame)))
			if err != nil {
				t.Fatalf("read the chat: %v", err)
			}
			if re.MatchString(text) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s in the widget (%s):\n%s", what, re, text)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	open(shop.URL + "/")
	frame, ok := chatFrame(shop.URL, 30*time.Second)
	if !ok {
		t.Fatal("the chat did not open in the frame")
	}
	wait(frame, "greeting", regexp.MustCompile(`欢迎来到云朵家电`))
	if err := chromedp.Do(bctx, chromedp.SendKeys(chromedp.CSS(`#input`), "保修期多久", in(frame)),
		chromedp.Click(chromedp.CSS(`#send`), in(frame))); err != nil {
		t.Fatalf("send a message: %v", err)
	}
	wait(frame, "the FAQ answer", regexp.MustCompile(`保修期为1年`))
	if out := os.Getenv("KEFU_ARTIFACTS"); out != "" {
		if shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(85)); err == nil {
			os.WriteFile(filepath.Join(out, "widget-cross-origin.jpg"), shot, 0o644)
		}
	}

	// Not allowed: the frame stays without the chat (Chromium blocks it by the CSP frame-ancestors).
	open(other.URL + "/")
	if _, ok := chatFrame(other.URL, 4*time.Second); ok {
		t.Fatal("the chat opened in a page from an origin not in web.allowed_origins")
	}
	resp, err := http.Get(s.url + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors "+shopOrigin) || strings.Contains(csp, other.URL) {
		t.Errorf("CSP %q: want frame-ancestors %s only", csp, shopOrigin)
	}
}
