package console_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/kefu-dev/kefu/internal/browsertest"
	"github.com/kefu-dev/kefu/internal/testenv"
	"github.com/xuri/excelize/v2"
)

// chromium finds a Chromium binary: $KEFU_CHROMIUM, then the usual names on PATH.
func chromium() string { return browsertest.Find() }

func artifacts(t *testing.T) string {
	if d := os.Getenv("KEFU_ARTIFACTS"); d != "" {
		os.MkdirAll(d, 0o755)
		return d
	}
	return t.TempDir()
}

// TestBrowserDashboard drives a real headless Chromium: sign in, every chart drawn with the demo's
// data, a filter changes the numbers, the Excel export downloads and opens.
func TestBrowserDashboard(t *testing.T) {
	bin := chromium()
	if bin == "" {
		testenv.Skip(t, testenv.Browser, "no Chromium found (install the chromium package or set KEFU_CHROMIUM)")
	}
	if testing.Short() {
		testenv.Skip(t, testenv.Browser, "browser test skipped in -short mode")
	}
	e := newEnv(t, 60)
	out := artifacts(t)
	dl := t.TempDir()

	ctx := browsertest.Start(t, bin, chromedp.WindowSize(1400, 1000))

	shot := func(name string) {
		t.Helper()
		buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(80))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		os.WriteFile(filepath.Join(out, name), buf, 0o644)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(e.srv.URL+"/console/?lang=en"), chromedp.WaitVisible("#login-form")); err != nil {
		t.Fatalf("open: %v", err)
	}
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil || !strings.HasSuffix(loc, "/console/login") {
		t.Errorf("without a session the console went to %s (%v)", loc, err)
	}
	shot("console-login.jpg")
	if err := chromedp.Do(ctx, chromedp.SendKeys("#name", "sup"), chromedp.SendKeys("#password", "password-sup"),
		chromedp.Click("#signin"), chromedp.WaitVisible("#kpis")); err != nil {
		t.Fatalf("sign in: %v", err)
	}
	eval := func(expr string) int {
		t.Helper()
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](expr))
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		return n
	}
	// waitFor polls a JavaScript condition until it holds. Errors while the page is being replaced
	// (a form submit navigates: "Cannot find context with specified id") are retried, not fatal.
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
	waitCharts := func() {
		t.Helper()
		waitFor("charts drawn", `document.readyState === 'complete' && document.querySelectorAll('[data-chart]').length > 0 &&
			document.querySelectorAll('[data-chart]').length === document.querySelectorAll('[data-chart][data-rendered="1"]').length`)
	}
	text := func(sel string) int {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(sel))
		if err != nil {
			t.Fatalf("%s: %v", sel, err)
		}
		n, _ := strconv.Atoi(strings.TrimSpace(s))
		return n
	}
	waitCharts()
	charts := eval(`document.querySelectorAll('[data-chart]').length`)
	drawn := eval(`document.querySelectorAll('[data-chart][data-rendered="1"]').length`)
	canvases := eval(`Array.from(document.querySelectorAll('[data-chart]')).filter(e => e.querySelector('canvas')).length`)
	if charts != 10 || drawn != charts || canvases != charts {
		t.Fatalf("%d charts, %d drawn, %d with a canvas; want 10 drawn", charts, drawn, canvases)
	}
	chromedp.Do(ctx, chromedp.Sleep(700*time.Millisecond)) // let the charts' animations finish for the screenshot
	shot("console-dashboard.jpg")
	before := text("#kpi-created")

	if err := chromedp.Do(ctx, chromedp.SetValue("#f-channel", "web"), chromedp.Click("#apply")); err != nil {
		t.Fatalf("filter: %v", err)
	}
	waitFor("filter applied", `location.search.includes('channel=web') && document.readyState === 'complete' && !!document.querySelector('#kpis')`)
	waitCharts()
	after := text("#kpi-created")
	shot("console-filter-web.jpg")
	if after == 0 || after >= before {
		t.Fatalf("tickets created: %d for all channels, %d for web; want fewer but some", before, after)
	}

	yes := true
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dl, EventsEnabled: &yes}); err != nil {
		t.Fatalf("download behaviour: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Click("#export-xlsx")); err != nil {
		t.Fatalf("export: %v", err)
	}
	var file string
	for deadline := time.Now().Add(30 * time.Second); file == "" && time.Now().Before(deadline); {
		ents, _ := os.ReadDir(dl)
		for _, en := range ents {
			if !strings.HasSuffix(en.Name(), ".crdownload") {
				file = filepath.Join(dl, en.Name())
			}
		}
		chromedp.Do(ctx, chromedp.Sleep(100*time.Millisecond))
	}
	if file == "" {
		t.Fatal("export: the download did not finish")
	}
	x, err := excelize.OpenFile(file)
	if err != nil {
		t.Fatalf("downloaded export is no valid .xlsx: %v", err)
	}
	defer x.Close()
	rows, err := x.GetRows("Tickets")
	if err != nil || len(rows)-1 != after {
		t.Fatalf("export has %d ticket rows (%v); the filtered dashboard shows %d", len(rows)-1, err, after)
	}
	t.Logf("screenshots in %s", out)
}
