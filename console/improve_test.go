package console_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/console"
	"github.com/kefu-dev/kefu/improve"
	"github.com/kefu-dev/kefu/locales"
	"github.com/kefu-dev/kefu/reports/demo"
	"github.com/kefu-dev/kefu/storage"
	"github.com/kefu-dev/kefu/storage/storetest"
)

// newImproveEnv is newEnv with the improvement pages and the catalog's texts.
func newImproveEnv(t *testing.T) *env {
	t.Helper()
	db := storetest.OpenSQLite(t)
	if _, err := demo.Generate(t.Context(), db, demo.Options{Days: 30, TicketsPerDay: 20, End: testNow, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct{ name, role, agent string }{{"sup", "supervisor", ""}, {"alice", "agent", "cli:alice"}, {"bob", "agent", "cli:bob"}} {
		hash, err := console.HashPassword("password-"+u.name, bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.CreateUser(t.Context(), storage.User{Name: u.name, Role: u.role, AgentID: u.agent, PasswordHash: hash}); err != nil {
			t.Fatal(err)
		}
	}
	now := func() time.Time { return testNow }
	svc := improve.New(improve.Options{DB: db, Now: now, Agents: []bot.AgentConfig{{ID: "cli:alice", Name: "Alice"}, {ID: "cli:bob", Name: "Bob"}}})
	c, err := console.New(console.Options{DB: db, Now: now, BcryptCost: bcrypt.MinCost, T: locales.Default().T, Improve: svc})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/console/", c)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &env{srv: srv, db: db}
}

var top5Link = regexp.MustCompile(`href="(/console/improve/new\?category=[^"#]+)#new-record"`)

// TestImprovePages: a supervisor starts a record from a top-5 row of the dashboard, adds an action
// for an agent; the agent sees and moves only the actions she owns; the supervisor marks it done and
// the effect check appears; bad input and a missing CSRF token store nothing; targets are
// supervisors' only; both languages.
func TestImprovePages(t *testing.T) {
	e := newImproveEnv(t)
	u := e.srv.URL
	sup, _ := e.signIn(t, "sup", "password-sup")
	_, dash := get(t, sup, u+"/console/")
	m := top5Link.FindStringSubmatch(dash)
	if m == nil {
		t.Fatalf("dashboard has no top-5 link to a new record")
	}
	resp, form := get(t, sup, u+strings.ReplaceAll(m[1], "&amp;", "&"))
	cat, _ := url.QueryUnescape(strings.TrimPrefix(m[1], "/console/improve/new?category="))
	if resp.StatusCode != 200 || !strings.Contains(form, `name="category" required maxlength="100" value="`+cat+`"`) {
		t.Fatalf("new record form (%d) not prefilled with %q:\n%.2000s", resp.StatusCode, cat, form)
	}
	csrf := csrfOf(t, form)
	// Bad input: no phenomenon → the form again with the message, nothing stored.
	resp, body := post(t, sup, u+"/console/improve", url.Values{"csrf": {csrf}, "category": {cat}, "why1": {"w"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "请填写问题现象") {
		t.Fatalf("no phenomenon: %d\n%.1500s", resp.StatusCode, body)
	}
	// Without the CSRF token: refused.
	if resp, _ := post(t, sup, u+"/console/improve", url.Values{"category": {cat}, "phenomenon": {"p"}, "why1": {"w"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("no csrf: %d", resp.StatusCode)
	}
	var n int64
	e.db.Gorm().Table("improve_records").Count(&n)
	if n != 0 {
		t.Fatalf("%d records after refused posts", n)
	}
	resp, _ = post(t, sup, u+"/console/improve", url.Values{"csrf": {csrf}, "category": {cat}, "phenomenon": {"客户投诉发票未收到"},
		"why1": {"财务部未及时开具"}, "why2": {"订单状态未同步至财务系统"}, "root_cause": {"测试用例设计不完善"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/improve/IMP-202611-001" {
		t.Fatalf("create: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	rec := u + "/console/improve/IMP-202611-001"
	_, body = get(t, sup, rec)
	if !strings.Contains(body, "订单状态未同步至财务系统") || !strings.Contains(body, `id="no-effect"`) {
		t.Fatalf("record page:\n%.2000s", body)
	}
	// An action without an owner is refused; with alice as owner it is added.
	resp, body = post(t, sup, rec+"/actions", url.Values{"csrf": {csrf}, "term": {"short"}, "description": {"优化接口程序"}, "due": {"2026-11-30"}, "acceptance": {"同步率 100%"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "请指定责任人") {
		t.Fatalf("action without owner: %d", resp.StatusCode)
	}
	resp, _ = post(t, sup, rec+"/actions", url.Values{"csrf": {csrf}, "term": {"short"}, "description": {"优化接口程序"}, "owner": {"cli:alice"}, "due": {"2026-11-30"}, "acceptance": {"同步率 100%"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add action: %d", resp.StatusCode)
	}

	alice, _ := e.signIn(t, "alice", "password-alice")
	_, body = get(t, alice, u+"/console/improve")
	if !strings.Contains(body, "优化接口程序") || !strings.Contains(body, `data-state="in_progress"`) || strings.Contains(body, `id="f-record"`) {
		t.Fatalf("alice's action list:\n%.2000s", body)
	}
	acsrf := csrfOf(t, body)
	for _, p := range []string{"/console/targets", "/console/improve/new"} {
		if resp, _ := get(t, alice, u+p); resp.StatusCode != http.StatusForbidden {
			t.Errorf("agent GET %s: %d", p, resp.StatusCode)
		}
	}
	if resp, _ := post(t, alice, u+"/console/improve", url.Values{"csrf": {acsrf}, "category": {cat}, "phenomenon": {"p"}, "why1": {"w"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("agent creates a record: %d", resp.StatusCode)
	}
	bob, _ := e.signIn(t, "bob", "password-bob")
	_, bbody := get(t, bob, u+"/console/improve")
	if strings.Contains(bbody, "优化接口程序") {
		t.Errorf("bob sees alice's action")
	}
	if resp, _ := get(t, bob, rec); resp.StatusCode != http.StatusForbidden {
		t.Errorf("bob opens a record he owns nothing of: %d", resp.StatusCode)
	}
	if resp, _ := post(t, bob, u+"/console/improve/actions/1/state", url.Values{"csrf": {csrfOf(t, bbody)}, "state": {"in_progress"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("bob moves alice's action: %d", resp.StatusCode)
	}
	for _, st := range []string{"in_progress", "verifying"} {
		if resp, _ := post(t, alice, u+"/console/improve/actions/1/state", url.Values{"csrf": {acsrf}, "state": {st}, "back": {"list"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("alice -> %s: %d", st, resp.StatusCode)
		}
	}
	if resp, _ := post(t, sup, u+"/console/improve/actions/1/state", url.Values{"csrf": {csrf}, "state": {"done"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sup -> done: %d", resp.StatusCode)
	}
	_, body = get(t, sup, rec)
	if !strings.Contains(body, `id="t-effect"`) || !strings.Contains(body, "改进前") || !strings.Contains(body, "已完成") {
		t.Fatalf("record page after done:\n%.3000s", body)
	}
	_, body = get(t, sup, rec+"?lang=en")
	if !strings.Contains(body, "Effect check") || !strings.Contains(body, "Before") {
		t.Errorf("English record page lacks the effect check")
	}

	// Targets: unknown metric refused with the message; a valid one shows actual vs target.
	_, body = get(t, sup, u+"/console/targets?lang=zh-CN")
	resp, body = post(t, sup, u+"/console/targets", url.Values{"csrf": {csrfOf(t, body)}, "metric": {"happiness"}, "period": {"2026-11"}, "op": {">="}, "value": {"4.5"}, "owner": {"cli:alice"}, "review": {"2026-12-05"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "未知指标") {
		t.Fatalf("unknown metric: %d", resp.StatusCode)
	}
	resp, _ = post(t, sup, u+"/console/targets", url.Values{"csrf": {csrf}, "metric": {"tickets"}, "period": {"2026-11"}, "op": {"<="}, "value": {"100000"}, "owner": {"cli:alice"}, "review": {"2026-12-05"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("set target: %d", resp.StatusCode)
	}
	_, body = get(t, sup, u+"/console/targets")
	if !strings.Contains(body, `<tr class="met"><td>2026-11</td><td>tickets</td><td>&lt;= 100000</td>`) || !strings.Contains(body, "<td>100%</td>") {
		t.Errorf("targets page:\n%.3000s", body)
	}
}
