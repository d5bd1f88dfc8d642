package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/kefu-dev/kefu/internal/browsertest"
	"github.com/kefu-dev/kefu/internal/testenv"
)

// TestBrowserWebChat walks the customer journey in a real headless Chromium against the real server:
// the page greets, an FAQ answer, "not solved", clarification by buttons and text, the ticket, an
// agent's CLI reply arriving by polling, the resolution, 已解决 and the rating. Screenshots go to
// $KEFU_ARTIFACTS (kept by CI). It skips, saying why, when no Chromium is installed.
func TestBrowserWebChat(t *testing.T) {
	bin := needChromium(t)
	s := startServer(t, filepath.Join(t.TempDir(), "kefu.db"))
	out := artifactsDir(t)

	ctx := phoneBrowser(t, bin, 90*time.Second)

	chat := webChat{t, ctx}
	shot := func(name string) {
		buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(85))
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		os.WriteFile(filepath.Join(out, name), buf, 0o644)
	}

	no := chat.openTicket(s.url)
	shot("webchat-ticket.jpg")

	s.cli("claim", no)
	s.cli("reply", no, "您好，师傅明天上午上门")
	chat.waitText("agent reply", regexp.MustCompile(`师傅明天上午上门`))
	s.cli("resolve", no, "已上门维修")
	chat.press("已解决")
	chat.press("5")
	chat.waitText("comment question", regexp.MustCompile(`意见或建议`))
	shot("webchat-survey.jpg")
	if show := s.cli("show", no); !regexp.MustCompile(`rating:\s+5/5`).MatchString(show) {
		t.Fatalf("the rating did not reach the ticket:\n%s", show)
	}
}

// webChat drives the web chat page in a browser tab.
type webChat struct {
	t   *testing.T
	ctx context.Context
}

// log is the chat's transcript as the page shows it.
func (c webChat) log() string {
	c.t.Helper()
	text, err := chromedp.Run(c.ctx, chromedp.Evaluate[string](`document.querySelector('#log').innerText`))
	if err != nil {
		c.t.Fatalf("read the chat: %v", err)
	}
	return text
}

// waitText waits until the transcript contains re and is what matched.
func (c webChat) waitText(what string, re *regexp.Regexp) string {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindString(c.log()); m != "" {
			return m
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("timed out waiting for %s (%s) in the chat:\n%s", what, re, c.log())
	return ""
}

// press clicks the enabled button whose label contains label.
func (c webChat) press(label string) {
	c.t.Helper()
	js := `(() => { const b = [...document.querySelectorAll('.keys:not(.used) button:not([disabled])')]
		.find(b => b.textContent.includes(` + strconv.Quote(label) + `)); if (!b) return false; b.click(); return true; })()`
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		ok, err := chromedp.Run(c.ctx, chromedp.Evaluate[bool](js))
		if err != nil {
			c.t.Fatalf("press %q: %v", label, err)
		}
		if ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("no button %q in the chat", label)
}

// say sends text as the customer.
func (c webChat) say(text string) {
	c.t.Helper()
	if err := chromedp.Do(c.ctx, chromedp.SendKeys("#input", text), chromedp.Click("#send")); err != nil {
		c.t.Fatalf("say %q: %v", text, err)
	}
}

// openTicket opens the chat of the server at url and walks the demo FAQ to a repair ticket (greeting,
// an FAQ answer, "not solved", the clarification by buttons and text, the confirmation); its number.
func (c webChat) openTicket(url string) string {
	c.t.Helper()
	if err := chromedp.Do(c.ctx, chromedp.Navigate(url+"/?lang=zh-CN"), chromedp.WaitVisible("#input")); err != nil {
		c.t.Fatalf("open the chat: %v", err)
	}
	c.waitText("greeting", regexp.MustCompile(`欢迎来到云朵家电`))
	c.say("保修期多久")
	c.waitText("FAQ answer", regexp.MustCompile(`保修期为1年`))
	c.press("没解决")
	c.press("售后退换")
	c.waitText("description question", regexp.MustCompile(`请描述一下您遇到的问题`))
	c.say("洗衣机滚筒不转了，衣服洗不了，希望尽快上门维修")
	c.waitText("order question", regexp.MustCompile(`请提供相关的订单号`))
	c.say("202611200012345")
	c.press("一般")
	c.waitText("confirmation", regexp.MustCompile(`对吗`))
	c.press("提交")
	return c.waitText("ticket number", regexp.MustCompile(`GD\d{11,}`))
}

// needChromium is the Chromium binary for a browser test; it skips the test, saying why, when there is
// none or in -short mode.
func needChromium(t *testing.T) string {
	t.Helper()
	bin := findChromium()
	if bin == "" {
		testenv.Skip(t, testenv.Browser, "no Chromium found (install the chromium package or set KEFU_CHROMIUM)")
	}
	if testing.Short() {
		testenv.Skip(t, testenv.Browser, "browser test skipped in -short mode")
	}
	return bin
}

// artifactsDir is where a browser test keeps its screenshots: $KEFU_ARTIFACTS (kept by CI), else a
// temporary directory.
func artifactsDir(t *testing.T) string {
	out := os.Getenv("KEFU_ARTIFACTS")
	if out == "" {
		out = t.TempDir()
	}
	os.MkdirAll(out, 0o755)
	return out
}

// phoneBrowser is a phone-sized headless Chromium (zh-CN) for the rest of the test, given at most timeout.
func phoneBrowser(t *testing.T, bin string, timeout time.Duration) context.Context {
	ctx := browsertest.Start(t, bin, chromedp.WindowSize(420, 860), chromedp.Flag("lang", "zh-CN"))
	ctx, cancel := context.WithTimeout(ctx, timeout)
	t.Cleanup(cancel)
	return ctx
}

// findChromium finds a Chromium binary: $KEFU_CHROMIUM, then the usual names on PATH.
func findChromium() string { return browsertest.Find() }
