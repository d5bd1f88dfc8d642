package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
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

	// waitText waits until the transcript contains re.
	waitText := func(what string, re *regexp.Regexp) string {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#log').innerText`))
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if m := re.FindString(text); m != "" {
				return m
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("timed out waiting for %s (%s)", what, re)
		return ""
	}
	// press clicks the enabled button whose label contains label.
	press := func(label string) {
		t.Helper()
		js := `(() => { const b = [...document.querySelectorAll('.keys:not(.used) button:not([disabled])')]
			.find(b => b.textContent.includes(` + strconv.Quote(label) + `)); if (!b) return false; b.click(); return true; })()`
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
			if err != nil {
				t.Fatalf("press %q: %v", label, err)
			}
			if ok {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("no button %q on the page", label)
	}
	say := func(text string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.SendKeys("#input", text), chromedp.Click("#send")); err != nil {
			t.Fatalf("say %q: %v", text, err)
		}
	}
	shot := func(name string) {
		buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(85))
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		os.WriteFile(filepath.Join(out, name), buf, 0o644)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(s.url+"/?lang=zh-CN"), chromedp.WaitVisible("#input")); err != nil {
		t.Fatalf("open the page: %v", err)
	}
	waitText("greeting", regexp.MustCompile(`欢迎来到云朵家电`))
	say("保修期多久")
	waitText("FAQ answer", regexp.MustCompile(`保修期为1年`))
	press("没解决")
	press("售后退换")
	waitText("description question", regexp.MustCompile(`请描述一下您遇到的问题`))
	say("洗衣机滚筒不转了，衣服洗不了，希望尽快上门维修")
	waitText("order question", regexp.MustCompile(`请提供相关的订单号`))
	say("202611200012345")
	press("一般")
	waitText("confirmation", regexp.MustCompile(`对吗`))
	press("提交")
	no := waitText("ticket number", regexp.MustCompile(`GD\d{11,}`))
	shot("webchat-ticket.jpg")

	s.cli("claim", no)
	s.cli("reply", no, "您好，师傅明天上午上门")
	waitText("agent reply", regexp.MustCompile(`师傅明天上午上门`))
	s.cli("resolve", no, "已上门维修")
	press("已解决")
	press("5")
	waitText("comment question", regexp.MustCompile(`意见或建议`))
	shot("webchat-survey.jpg")
	if show := s.cli("show", no); !regexp.MustCompile(`rating:\s+5/5`).MatchString(show) {
		t.Fatalf("the rating did not reach the ticket:\n%s", show)
	}
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
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox,
		chromedp.WindowSize(420, 860), chromedp.Flag("disable-gpu", true), chromedp.Flag("lang", "zh-CN"))
	actx, cancel := chromedp.NewExecAllocator(t.Context(), opts...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancel = context.WithTimeout(ctx, timeout)
	t.Cleanup(cancel)
	return ctx
}

// findChromium finds a Chromium binary: $KEFU_CHROMIUM, then the usual names on PATH.
func findChromium() string {
	if p := os.Getenv("KEFU_CHROMIUM"); p != "" {
		return p
	}
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}
