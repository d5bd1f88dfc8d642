package console_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/kefu-dev/kefu/console"
	"github.com/kefu-dev/kefu/reports"
	"github.com/kefu-dev/kefu/reports/demo"
	"github.com/kefu-dev/kefu/storage"
	"github.com/kefu-dev/kefu/storage/storetest"
)

var testNow = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

type env struct {
	srv *httptest.Server
	db  *storage.DB
}

func newEnv(t *testing.T, days int) *env {
	t.Helper()
	db := storetest.OpenSQLite(t)
	if days > 0 {
		if _, err := demo.Generate(t.Context(), db, demo.Options{Days: days, TicketsPerDay: 25, End: testNow, Seed: 7}); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []struct{ name, role, agent string }{{"admin", "admin", ""}, {"sup", "supervisor", ""}, {"alice", "agent", "cli:alice"}} {
		hash, err := console.HashPassword("password-"+u.name, bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.CreateUser(t.Context(), storage.User{Name: u.name, Role: u.role, AgentID: u.agent, PasswordHash: hash}); err != nil {
			t.Fatal(err)
		}
	}
	c, err := console.New(console.Options{DB: db, Now: func() time.Time { return testNow }, BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/console/", c)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &env{srv: srv, db: db}
}

func (e *env) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func get(t testing.TB, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func post(t testing.TB, c *http.Client, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func csrfOf(t testing.TB, body string) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf token in page:\n%.500s", body)
	}
	return m[1]
}

func (e *env) signIn(t testing.TB, name, pw string) (*http.Client, *http.Response) {
	t.Helper()
	c := e.client()
	_, body := get(t, c, e.srv.URL+"/console/login")
	resp, _ := post(t, c, e.srv.URL+"/console/login", url.Values{"csrf": {csrfOf(t, body)}, "name": {name}, "password": {pw}})
	return c, resp
}

func TestNoSessionRedirectsToSignIn(t *testing.T) {
	e := newEnv(t, 0)
	c := e.client()
	for _, p := range []string{"/console/", "/console/report.json", "/console/export/tickets", "/console/export/monthly?month=2026-10", "/console/users"} {
		resp, _ := get(t, c, e.srv.URL+p)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/login" {
			t.Errorf("GET %s: %d → %q; want 303 → /console/login", p, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	// A forged cookie is no session either.
	u, _ := url.Parse(e.srv.URL)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: "kefu_console", Value: "forged", Path: "/console/"}})
	if resp, _ := get(t, c, e.srv.URL+"/console/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("forged cookie: %d", resp.StatusCode)
	}
}

func TestSignInSessionCookieAndSignOut(t *testing.T) {
	e := newEnv(t, 5)
	c, resp := e.signIn(t, "sup", "password-sup")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/" {
		t.Fatalf("sign-in: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var ck *http.Cookie
	for _, x := range resp.Cookies() {
		if x.Name == "kefu_console" && x.Value != "" {
			ck = x
		}
	}
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax", ck)
	}
	resp, body := get(t, c, e.srv.URL+"/console/")
	if resp.StatusCode != 200 || !strings.Contains(body, `id="kpi-created"`) || !strings.Contains(body, "export-xlsx") {
		t.Fatalf("dashboard: %d\n%.300s", resp.StatusCode, body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
	resp, _ = post(t, c, e.srv.URL+"/console/logout", url.Values{"csrf": {csrfOf(t, body)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	c.Jar.SetCookies(mustURL(e.srv.URL), []*http.Cookie{ck}) // the old token no longer works
	if resp, _ := get(t, c, e.srv.URL+"/console/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after logout: %d", resp.StatusCode)
	}
}

func mustURL(s string) *url.URL { u, _ := url.Parse(s); return u }

func TestWrongRoleForbidden(t *testing.T) {
	e := newEnv(t, 0)
	agent, _ := e.signIn(t, "alice", "password-alice")
	sup, _ := e.signIn(t, "sup", "password-sup")
	for _, tc := range []struct {
		c    *http.Client
		path string
	}{{agent, "/console/users"}, {agent, "/console/export/tickets"}, {agent, "/console/export/monthly?month=2026-10"}, {sup, "/console/users"}} {
		if resp, _ := get(t, tc.c, e.srv.URL+tc.path); resp.StatusCode != http.StatusForbidden {
			t.Errorf("GET %s: %d, want 403", tc.path, resp.StatusCode)
		}
	}
	if resp, _ := get(t, sup, e.srv.URL+"/console/export/tickets?format=xlsx"); resp.StatusCode != 200 {
		t.Errorf("supervisor export: %d", resp.StatusCode)
	}
}

func TestCSRFRequired(t *testing.T) {
	e := newEnv(t, 0)
	admin, _ := e.signIn(t, "admin", "password-admin")
	form := url.Values{"name": {"mallory"}, "role": {"admin"}, "password": {"12345678x"}}
	for _, tok := range []string{"", "wrong-token"} {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		if tok != "" {
			f.Set("csrf", tok)
		}
		if resp, _ := post(t, admin, e.srv.URL+"/console/users", f); resp.StatusCode != http.StatusForbidden {
			t.Errorf("csrf %q: %d, want 403", tok, resp.StatusCode)
		}
	}
	if _, err := e.db.UserByName(t.Context(), "mallory"); err == nil {
		t.Fatal("account created without a CSRF token")
	}
	_, body := get(t, admin, e.srv.URL+"/console/users")
	form.Set("csrf", csrfOf(t, body))
	if resp, _ := post(t, admin, e.srv.URL+"/console/users", form); resp.StatusCode != 200 {
		t.Fatalf("with csrf: %d", resp.StatusCode)
	}
	if _, err := e.db.UserByName(t.Context(), "mallory"); err != nil {
		t.Fatal(err)
	}
	// The sign-in form needs its token too.
	c := e.client()
	if resp, _ := post(t, c, e.srv.URL+"/console/login", url.Values{"name": {"admin"}, "password": {"password-admin"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign-in without token: %d", resp.StatusCode)
	}
}

func TestFailedSignInsAreSlowedDown(t *testing.T) {
	e := newEnv(t, 0)
	for i := 0; i < 3; i++ {
		if _, resp := e.signIn(t, "sup", "nope"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, resp.StatusCode)
		}
	}
	// The clock stands still: the fourth attempt, even with the right password, must wait.
	_, resp := e.signIn(t, "sup", "password-sup")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("after 3 failures: %d, Retry-After %q; want 429", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

func reportOf(t *testing.T, c *http.Client, u string) reports.Report {
	t.Helper()
	resp, body := get(t, c, u)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d", u, resp.StatusCode)
	}
	var r reports.Report
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestAgentSeesOnlyOwnNumbers(t *testing.T) {
	e := newEnv(t, 40)
	agent, _ := e.signIn(t, "alice", "password-alice")
	sup, _ := e.signIn(t, "sup", "password-sup")
	all := reportOf(t, sup, e.srv.URL+"/console/report.json")
	own := reportOf(t, agent, e.srv.URL+"/console/report.json?agent=cli:bob") // the agent parameter is ignored
	want, err := reports.Compute(t.Context(), e.db, reports.Filter{From: all.From, To: all.To, Agent: "cli:alice", Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if own.TicketsCreated != want.TicketsCreated || own.TicketsCreated == 0 || own.TicketsCreated >= all.TicketsCreated {
		t.Fatalf("agent sees %d tickets; alice holds %d of %d", own.TicketsCreated, want.TicketsCreated, all.TicketsCreated)
	}
	for _, a := range own.Agents {
		if a.Key != "cli:alice" {
			t.Errorf("agent table shows %q", a.Key)
		}
	}
}

func TestFilterInjectionChangesNothing(t *testing.T) {
	e := newEnv(t, 20)
	sup, _ := e.signIn(t, "sup", "password-sup")
	base := reportOf(t, sup, e.srv.URL+"/console/report.json")
	for _, p := range []string{"channel", "category", "priority", "agent", "from", "to", "granularity"} {
		for _, a := range []string{"' OR '1'='1", "web'; DROP TABLE tickets; --", `") UNION SELECT 1 --`} {
			r := reportOf(t, sup, e.srv.URL+"/console/report.json?"+p+"="+url.QueryEscape(a))
			switch p {
			case "from", "to", "granularity": // unparseable values fall back to the defaults
				if r.TicketsCreated != base.TicketsCreated {
					t.Errorf("%s=%q: %d tickets, want %d", p, a, r.TicketsCreated, base.TicketsCreated)
				}
			default:
				if r.TicketsCreated != 0 {
					t.Errorf("%s=%q selected %d tickets", p, a, r.TicketsCreated)
				}
			}
		}
	}
	if after := reportOf(t, sup, e.srv.URL+"/console/report.json"); after.TicketsCreated != base.TicketsCreated {
		t.Fatalf("after the attempts: %d tickets, want %d", after.TicketsCreated, base.TicketsCreated)
	}
}

func TestEnsureAdmin(t *testing.T) {
	db := storetest.OpenSQLite(t)
	pw, created, err := console.EnsureAdmin(t.Context(), db)
	if err != nil || !created || len(pw) < 16 {
		t.Fatalf("first: %q %v %v", pw, created, err)
	}
	u, err := db.UserByName(t.Context(), "admin")
	if err != nil || u.Role != console.RoleAdmin || bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(pw)) != nil {
		t.Fatalf("admin %+v, %v", u, err)
	}
	if pw, created, err := console.EnsureAdmin(t.Context(), db); err != nil || created || pw != "" {
		t.Fatalf("second: %q %v %v", pw, created, err)
	}
}
