// Package browsertest finds and starts the headless Chromium that the browser tests drive.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Find returns a Chromium binary: $KEFU_CHROMIUM, then the usual names on PATH; "" when none.
func Find() string {
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

// attempts is how often Start tries to launch Chromium. A CI run once saw Chromium exit within two
// seconds of its launch, printing only D-Bus warnings, while the other test packages loaded the
// machine; the same test passed on every other run. A launch that dies before the browser answers
// is retried; a browser that starts and then misbehaves still fails the test.
const attempts = 3

// Start launches headless Chromium (no sandbox, no GPU, no /dev/shm) with extra options and returns
// a context for its first tab, valid until the test ends.
func Start(t testing.TB, bin string, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-dev-shm-usage", true))
	opts = append(opts, extra...)
	for attempt := 1; ; attempt++ {
		actx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
		ctx, cancelTab := chromedp.NewContext(actx)
		err := chromedp.Do(ctx) // starts the browser and opens the tab
		if err == nil {
			t.Cleanup(cancelAlloc)
			t.Cleanup(cancelTab) // runs first: close the tab, then the browser
			return ctx
		}
		cancelTab()
		cancelAlloc()
		if attempt == attempts || t.Context().Err() != nil {
			t.Fatalf("start chromium (%d attempts): %v", attempt, err)
		}
		t.Logf("chromium did not start (attempt %d): %v; trying again", attempt, err)
		time.Sleep(time.Duration(attempt) * time.Second)
	}
}
