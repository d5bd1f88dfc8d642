package web

import (
	"encoding/json"
	"html"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/kefu-dev/kefu/locales"
)

// attrValue returns the value of attribute k in a tag's attribute text.
func attrValue(attrs, k string) string {
	m := regexp.MustCompile(`\s` + k + `="([^"]*)"`).FindStringSubmatch(attrs)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

func TestPage(t *testing.T) {
	f := newFixture(t, Options{T: fakeT, Args: map[string]any{"company": "艾克米"},
		LangArgs: map[string]map[string]any{"en": {"company": "ACME"}}})
	tests := []struct {
		name     string
		target   string
		hdr      map[string]string
		wantLang string
	}{
		{"default zh-CN", "/", nil, "zh-CN"},
		{"Accept-Language en", "/", map[string]string{"Accept-Language": "en-US,en;q=0.9"}, "en"},
		{"query wins", "/?lang=en", map[string]string{"Accept-Language": "zh-CN"}, "en"},
		{"unknown query lang ignored", "/?lang=xx", map[string]string{"Accept-Language": "en"}, "en"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := do(t, f.a, "GET", tc.target, "", tc.hdr, nil)
			if w.Code != http.StatusOK {
				t.Fatalf("status %d", w.Code)
			}
			if ct := w.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			body := w.Body.String()
			if !strings.Contains(body, `<html lang="`+tc.wantLang+`">`) {
				t.Errorf("page is not in %s", tc.wantLang)
			}
			company := map[string]string{"zh-CN": "艾克米", "en": "ACME"}[tc.wantLang]
			if want := "<title>" + tc.wantLang + "|web.title|" + company + "</title>"; !strings.Contains(body, want) {
				t.Errorf("page lacks %s (strings come from T with Options.Args)", want)
			}
		})
	}
}

func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t, Options{})
	for _, target := range []string{"/", "/api/webchat/messages", "/static/app.js"} {
		w := do(t, f.a, "GET", target, "", nil, nil)
		h := w.Header()
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", target, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "http") {
			t.Errorf("%s: CSP %q allows inline code or other origins", target, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" || h.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: headers %v", target, h)
		}
	}

	g, err := New(Options{Store: newFakeStore(), FrameAncestors: []string{"'self'", "https://shop.example"}})
	if err != nil {
		t.Fatal(err)
	}
	w := do(t, g, "GET", "/", "", nil, nil)
	if csp := w.Header().Get("Content-Security-Policy"); !strings.HasSuffix(csp, "frame-ancestors 'self' https://shop.example") || w.Header().Get("X-Frame-Options") != "" {
		t.Errorf("embeddable page: CSP %q, X-Frame-Options %q", csp, w.Header().Get("X-Frame-Options"))
	}
}

// TestPageAssets walks the rendered page: no inline script, every script, stylesheet and icon is
// served from the embedded files with the right type, and nothing comes from another origin.
func TestPageAssets(t *testing.T) {
	f := newFixture(t, Options{})
	w := do(t, f.a, "GET", "/", "", nil, nil)
	page := w.Body.String()
	// The page is our own template's output, so a few patterns read it reliably (no HTML parser dependency).
	if m := regexp.MustCompile(`(?i)\son[a-z]+\s*=`).FindString(page); m != "" {
		t.Errorf("inline event handler %q", m)
	}
	if regexp.MustCompile(`(?i)<style|\sstyle\s*=`).MatchString(page) {
		t.Error("inline style (CSP style-src 'self')")
	}
	var refs []string
	var configJSON string
	for _, m := range regexp.MustCompile(`(?is)<script([^>]*)>(.*?)</script>`).FindAllStringSubmatch(page, -1) {
		attrs, body := m[1], m[2]
		switch {
		case strings.Contains(attrs, `src="`):
			refs = append(refs, attrValue(attrs, "src"))
			if strings.TrimSpace(body) != "" {
				t.Errorf("script with src has a body %q", body)
			}
		case strings.Contains(attrs, `type="application/json"`):
			configJSON = body
		default:
			t.Errorf("inline executable script: %q", body)
		}
	}
	for _, m := range regexp.MustCompile(`(?i)<link([^>]*)>`).FindAllStringSubmatch(page, -1) {
		refs = append(refs, attrValue(m[1], "href"))
	}
	if strings.Contains(page, "http://") || strings.Contains(page, "https://") {
		t.Error("page refers to another origin")
	}
	wantTypes := map[string]string{
		"app.js":   "text/javascript; charset=utf-8",
		"app.css":  "text/css; charset=utf-8",
		"icon.svg": "image/svg+xml",
	}
	served := map[string]bool{}
	for _, ref := range refs {
		if !strings.HasPrefix(ref, "static/") {
			t.Errorf("asset %q is not served from the embedded static/ files", ref)
			continue
		}
		name := strings.TrimPrefix(strings.SplitN(ref, "?", 2)[0], "static/")
		r := do(t, f.a, "GET", "/"+ref, "", nil, nil)
		if r.Code != 200 {
			t.Errorf("%s: status %d", ref, r.Code)
			continue
		}
		if got := r.Header().Get("Content-Type"); got != wantTypes[name] {
			t.Errorf("%s: Content-Type %q, want %q", ref, got, wantTypes[name])
		}
		if !strings.Contains(r.Header().Get("Cache-Control"), "immutable") {
			t.Errorf("%s: versioned asset not cached: %q", ref, r.Header().Get("Cache-Control"))
		}
		want, _ := staticFS.ReadFile("static/" + name)
		if r.Body.String() != string(want) {
			t.Errorf("%s: body differs from the embedded file", ref)
		}
		// a revalidation with the ETag costs nothing
		nm := do(t, f.a, "GET", "/"+ref, "", map[string]string{"If-None-Match": r.Header().Get("ETag")}, nil)
		if nm.Code != http.StatusNotModified {
			t.Errorf("%s with If-None-Match: %d, want 304", ref, nm.Code)
		}
		served[name] = true
	}
	for name := range wantTypes {
		if !served[name] {
			t.Errorf("page does not load %s", name)
		}
	}
	for _, name := range []string{"app.js", "app.css"} {
		b, _ := staticFS.ReadFile("static/" + name)
		if regexp.MustCompile(`(?i)(@import|url\(\s*['"]?(https?:)?//|fetch\(\s*['"]https?:|src\s*=\s*['"]https?:)`).Match(b) {
			t.Errorf("%s loads something from another origin", name)
		}
	}

	var cfg pageConfig
	if err := json.Unmarshal([]byte(configJSON), &cfg); err != nil {
		t.Fatalf("page config %q: %v", configJSON, err)
	}
	if cfg.Lang != "zh-CN" || len(cfg.Langs) != 2 || cfg.PollMS != defaultPollInterval.Milliseconds() || cfg.MaxText != defaultMaxText {
		t.Errorf("config %+v", cfg)
	}
	for _, l := range cfg.Langs {
		for _, k := range pageKeys {
			if s := cfg.I18N[l][k]; s == "" || s == k {
				t.Errorf("page string %s/%s = %q", l, k, s)
			}
		}
	}
	if cfg.I18N["zh-CN"]["web.send"] == cfg.I18N["en"]["web.send"] {
		t.Error("both languages have the same strings")
	}
}

func TestPageRoutes(t *testing.T) {
	f := newFixture(t, Options{})
	tests := []struct {
		method, target string
		want           int
	}{
		{"GET", "/", 200},
		{"HEAD", "/", 200},
		{"POST", "/", 405},
		{"GET", "/static/nope.js", 404},
		{"GET", "/static/index.html.tmpl", 404},
		{"GET", "/static/..%2fweb.go", 404},
		{"GET", "/other", 404},
	}
	for _, tc := range tests {
		r := httptest.NewRequestWithContext(t.Context(), tc.method, tc.target, nil)
		w := httptest.NewRecorder()
		f.a.ServeHTTP(w, r)
		if w.Code != tc.want {
			t.Errorf("%s %s = %d, want %d", tc.method, tc.target, w.Code, tc.want)
		}
	}
}

// TestKeysInCatalog: every key the page and the API use exists in both real catalogs, and the page
// rendered with the real catalog shows no raw key.
func TestKeysInCatalog(t *testing.T) {
	cat := locales.Default()
	keys := append([]string(nil), pageKeys...)
	for _, e := range []*apiError{errBadJSON, errTooLarge, errMediaType, errMissingSession, errUnknownSession, errEmpty,
		errTextAndAction, errBadAction, errBadClientID, errBadAfter, errMethod, errNotFound, errUnavailable, errInternal,
		errRateLimited} {
		keys = append(keys, e.key)
	}
	keys = append(keys, "lang.zh", "lang.en")
	for _, lang := range []string{"zh-CN", "en"} {
		for _, k := range keys {
			if !cat.Has(lang, k) {
				t.Errorf("locales %s lacks %s", lang, k)
			}
			if _, ok := fallback[lang][k]; !ok {
				t.Errorf("built-in fallback %s lacks %s", lang, k)
			}
		}
	}

	f := newFixture(t, Options{T: cat.T, Args: map[string]any{"company": "星辰科技"}})
	for _, al := range []string{"zh-CN", "en"} {
		w := do(t, f.a, "GET", "/", "", map[string]string{"Accept-Language": al}, nil)
		page := w.Body.String()
		// what people see: text between tags and the title, aria-label and placeholder attributes
		visible := regexp.MustCompile(`(?s)<script.*?</script>`).ReplaceAllString(page, "")
		var seen []string
		for _, m := range regexp.MustCompile(`\s(?:title|aria-label|placeholder)="([^"]*)"`).FindAllStringSubmatch(visible, -1) {
			seen = append(seen, m[1])
		}
		seen = append(seen, regexp.MustCompile(`<[^>]*>`).ReplaceAllString(visible, " "))
		for _, v := range seen {
			if m := regexp.MustCompile(`\b(web|error|lang)\.[a-z_]+\b`).FindString(v); m != "" {
				t.Errorf("%s page shows raw key %q", al, m)
			}
		}
		cfg := regexp.MustCompile(`(?s)<script type="application/json" id="kefu-config">(.*?)</script>`).FindStringSubmatch(page)
		var c pageConfig
		if cfg == nil || json.Unmarshal([]byte(cfg[1]), &c) != nil {
			t.Fatalf("%s page has no config", al)
		}
		for l, m := range c.I18N {
			for k, v := range m {
				if v == "" || v == k || v != cat.T(l, k, map[string]any{"company": "星辰科技"}) {
					t.Errorf("config %s/%s = %q, want the catalog's text", l, k, v)
				}
			}
		}
		if want := cat.T(al, "web.title", map[string]any{"company": "星辰科技"}); !strings.Contains(page, "<title>"+want+"</title>") {
			t.Errorf("%s page title is not %q", al, want)
		}
	}
}
