package console_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kefu-dev/kefu/internal/browsertest"
	"github.com/kefu-dev/kefu/internal/testenv"
)

// TestBrowserImprove drives headless Chromium through the improvement loop: from a top-5 row of the
// dashboard to a new record, an action for an agent, the action moved to done, and the effect check.
func TestBrowserImprove(t *testing.T) {
	bin := chromium()
	if bin == "" {
		testenv.Skip(t, testenv.Browser, "no Chromium found (install the chromium package or set KEFU_CHROMIUM)")
	}
	if testing.Short() {
		testenv.Skip(t, testenv.Browser, "browser test skipped in -short mode")
	}
	e := newImproveEnv(t)
	out := artifacts(t)
	ctx := browsertest.Start(t, bin, chromedp.WindowSize(1400, 1000))
	waitFor := func(what, expr string) {
		t.Helper()
		var err error
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
			var ok bool
			if ok, err = chromedp.Run(ctx, chromedp.Evaluate[bool](expr)); err == nil && ok {
				return
			}
			chromedp.Do(ctx, chromedp.Sleep(50*time.Millisecond))
		}
		t.Fatalf("%s: timed out (last error: %v)", what, err)
	}
	do := func(what string, acts ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, acts...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	do("open", chromedp.Navigate(e.srv.URL+"/console/?lang=zh-CN"), chromedp.WaitVisible("#login-form"))
	do("sign in", chromedp.SendKeys("#name", "sup"), chromedp.SendKeys("#password", "password-sup"), chromedp.Click("#signin"), chromedp.WaitVisible("#kpis"))
	do("top-5 row", chromedp.Click(chromedp.CSS("a.to-improve")))
	waitFor("new record form", `document.readyState === 'complete' && !!document.querySelector('#f-record') && document.querySelector('#f-record [name=category]').value !== ''`)
	do("fill record", chromedp.SendKeys(chromedp.CSS(`#f-record [name=phenomenon]`), "客户投诉发票未收到"),
		chromedp.SendKeys(chromedp.CSS(`#f-record [name=why1]`), "财务部未及时开具"),
		chromedp.SendKeys(chromedp.CSS(`#f-record [name=why2]`), "订单状态未同步至财务系统"),
		chromedp.Click(chromedp.CSS(`#f-record button`)))
	waitFor("record page", `document.readyState === 'complete' && !!document.querySelector('#t-whys') && !!document.querySelector('#no-effect')`)
	do("fill action", chromedp.SendKeys(chromedp.CSS(`#f-action [name=description]`), "优化接口程序"),
		chromedp.SetValue(chromedp.CSS(`#f-action [name=owner]`), "cli:alice"),
		chromedp.SetValue(chromedp.CSS(`#f-action [name=due]`), "2026-11-30"),
		chromedp.SendKeys(chromedp.CSS(`#f-action [name=acceptance]`), "同步成功率 100%"),
		chromedp.Click(chromedp.CSS(`#f-action button`)))
	waitFor("action added", `document.readyState === 'complete' && !!document.querySelector('#action-1')`)
	for _, st := range []string{"in_progress", "verifying", "done"} {
		do("-> "+st, chromedp.Click(chromedp.CSS(`#action-1 button[data-state="`+st+`"]`)))
		waitFor("state "+st, `document.readyState === 'complete' && !!document.querySelector('#action-1') && !document.querySelector('#action-1 button[data-state="`+st+`"]')`)
	}
	waitFor("effect check", `!!document.querySelector('#t-effect')`)
	state, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#action-1 .state`)))
	if err != nil || (strings.TrimSpace(state) != "已完成" && strings.TrimSpace(state) != "Done") {
		t.Errorf("action state %q (%v)", state, err)
	}
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(80))
	if err == nil {
		os.WriteFile(filepath.Join(out, "console-improve-record.jpg"), buf, 0o644)
	}
}
