package console_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/console"
	"github.com/kefu-dev/kefu/storage"
)

// TestMacroPlaceholders: CheckMacro accepts the four placeholders only; RenderMacro fills three and
// keeps {{customer_name}}; ExpandCustomerName fills it for the customer (masked for a note).
func TestMacroPlaceholders(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		ok         bool
	}{
		{"greet", "您好 {{customer_name}}，工单 {{ticket_no}}", true},
		{"spaces", "{{ due }} {{agent_name}}", true},
		{"unknown", "电话 {{phone}}", false},
		{"empty", "  ", false},
		{"", "no name", false},
		{strings.Repeat("名", 65), "too long a name", false},
		{"long", strings.Repeat("字", 4001), false},
	} {
		if err := console.CheckMacro(tc.name, tc.body); (err == nil) != tc.ok {
			t.Errorf("CheckMacro(%q, %.20q) = %v, want ok %v", tc.name, tc.body, err, tc.ok)
		}
	}
	got := console.RenderMacro("{{ customer_name }}：{{ticket_no}} · {{agent_name}} · {{due}}", console.MacroValues{TicketNo: "GD20261120001", AgentName: "Alice", Due: "2026-11-21 12:00"})
	if want := "{{customer_name}}：GD20261120001 · Alice · 2026-11-21 12:00"; got != want {
		t.Errorf("RenderMacro: %q, want %q", got, want)
	}
	if got := console.ExpandCustomerName(got, "王小明", false); !strings.HasPrefix(got, "王小明：") {
		t.Errorf("for the customer: %q", got)
	}
	if got := console.ExpandCustomerName("{{customer_name}} 说", "王小明", true); got != "王* 说" {
		t.Errorf("for a note: %q", got)
	}
}

// TestMacrosPage: supervisors add and delete canned replies per team; bad input is refused with a
// clear message and nothing stored; agents may not open the page; every POST needs the CSRF token.
func TestMacrosPage(t *testing.T) {
	e := newInboxEnv(t, false)
	sue, _ := e.signIn(t, "sue", "password-sue")
	alice, _ := e.signIn(t, "alice", "password-alice")
	_, body := get(t, sue, e.srv.URL+"/console/macros")
	csrf := csrfOf(t, body)
	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
		says   string
	}{
		{"add for tech", url.Values{"team": {"tech"}, "name": {"问候"}, "body": {"您好 {{customer_name}}，工单 {{ticket_no}} 由 {{agent_name}} 处理，预计 {{due}} 前解决。"}}, 200, "快捷回复已添加"},
		{"add for every team", url.Values{"name": {"结束"}, "body": {"还有其他问题吗？"}}, 200, "快捷回复已添加"},
		{"add for billing", url.Values{"team": {"billing"}, "name": {"账单"}, "body": {"账单已核对。"}}, 200, "快捷回复已添加"},
		{"same name same team", url.Values{"team": {"tech"}, "name": {"问候"}, "body": {"x"}}, 409, "同名"},
		{"unknown placeholder", url.Values{"team": {"tech"}, "name": {"电话"}, "body": {"请拨 {{phone}}"}}, 400, "未知的占位符"},
		{"unknown team", url.Values{"team": {"sales"}, "name": {"x"}, "body": {"y"}}, 400, "没有名为 sales 的团队"},
		{"no text", url.Values{"team": {"tech"}, "name": {"空"}, "body": {" "}}, 400, "请填写名称"},
	} {
		f := tc.form
		f.Set("csrf", csrf)
		resp, body := post(t, sue, e.srv.URL+"/console/macros", f)
		if resp.StatusCode != tc.status || !strings.Contains(body, tc.says) {
			t.Errorf("%s: %d, want %d with %q", tc.name, resp.StatusCode, tc.status, tc.says)
		}
	}
	ms, _ := e.db.Macros(t.Context())
	if len(ms) != 3 {
		t.Fatalf("%d macros stored, want 3: %+v", len(ms), ms)
	}
	if resp, _ := post(t, sue, e.srv.URL+"/console/macros", url.Values{"name": {"x"}, "body": {"y"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("without CSRF: %d", resp.StatusCode)
	}
	if resp, _ := get(t, alice, e.srv.URL+"/console/macros"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("agent on the macros page: %d", resp.StatusCode)
	}
	_, ap := get(t, alice, e.srv.URL+"/console/inbox")
	if resp, _ := post(t, alice, e.srv.URL+"/console/macros/delete", url.Values{"csrf": {csrfOf(t, ap)}, "id": {itoa(ms[0].ID)}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("agent deleting a macro: %d", resp.StatusCode)
	}
	resp, _ := post(t, sue, e.srv.URL+"/console/macros/delete", url.Values{"csrf": {csrf}, "id": {itoa(ms[0].ID)}})
	if resp.StatusCode != 200 {
		t.Errorf("delete: %d", resp.StatusCode)
	}
	if resp, _ := post(t, sue, e.srv.URL+"/console/macros/delete", url.Values{"csrf": {csrf}, "id": {itoa(ms[0].ID)}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("delete again: %d", resp.StatusCode)
	}
	if ms, _ := e.db.Macros(t.Context()); len(ms) != 2 {
		t.Errorf("%d macros after delete", len(ms))
	}
}

var textareaRe = regexp.MustCompile(`(?s)<textarea id="reply-text"[^>]*>(.*?)</textarea>`)

// TestMacroPickerFillsReply: on a tech ticket alice's picker offers the tech and every-team macros
// (not billing's), rendered for the ticket; picking one without JavaScript fills the reply box after
// what she typed; sending it reaches the customer with their name, while the console shows it masked.
func TestMacroPickerFillsReply(t *testing.T) {
	e := newInboxEnv(t, false)
	no := e.seed(t, "cli:alice", "tech", "订单没到")
	bobs := e.seed(t, "cli:bob", "billing", "账单")
	ctx := t.Context()
	tech, err := e.db.AddMacro(ctx, macro("tech", "问候", "您好 {{customer_name}}，工单 {{ticket_no}} 由 {{agent_name}} 处理，预计 {{due}} 前解决。"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.AddMacro(ctx, macro("", "结束", "还有其他问题吗？")); err != nil {
		t.Fatal(err)
	}
	billing, _ := e.db.AddMacro(ctx, macro("billing", "账单", "账单已核对。"))
	alice, _ := e.signIn(t, "alice", "password-alice")
	_, page := get(t, alice, e.srv.URL+"/console/tickets/"+no)
	tk, _, _ := e.eng.Ticket(ctx, no)
	due := tk.ResolutionDue.In(time.UTC).Format("2006-01-02 15:04")
	wantText := "您好 {{customer_name}}，工单 " + no + " 由 Alice 处理，预计 " + due + " 前解决。"
	if !strings.Contains(html.UnescapeString(page), `data-text="`+wantText+`"`) || !strings.Contains(page, "结束") || strings.Contains(page, "账单已核对") {
		t.Fatalf("picker:\n%s", page)
	}
	resp, page := post(t, alice, e.srv.URL+"/console/tickets/"+no+"/macro", url.Values{"csrf": {csrfOf(t, page)}, "macro": {itoa(tech.ID)}, "text": {"稍等"}})
	m := textareaRe.FindStringSubmatch(page)
	if resp.StatusCode != 200 || m == nil || html.UnescapeString(m[1]) != "稍等\n"+wantText {
		t.Fatalf("picked: %d %q", resp.StatusCode, m)
	}
	// another team's macro is not offered
	if resp, _ := post(t, alice, e.srv.URL+"/console/tickets/"+no+"/macro", url.Values{"csrf": {csrfOf(t, page)}, "macro": {itoa(billing.ID)}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("billing macro on a tech ticket: %d", resp.StatusCode)
	}
	if resp, _ := post(t, alice, e.srv.URL+"/console/tickets/"+bobs+"/macro", url.Values{"csrf": {csrfOf(t, page)}, "macro": {itoa(billing.ID)}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("macro on another team's ticket: %d", resp.StatusCode)
	}
	if resp, _ := post(t, alice, e.srv.URL+"/console/tickets/"+no+"/macro", url.Values{"macro": {itoa(tech.ID)}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("without CSRF: %d", resp.StatusCode)
	}
	resp, _ = post(t, alice, e.srv.URL+"/console/tickets/"+no+"/reply", url.Values{"csrf": {csrfOf(t, page)}, "text": {html.UnescapeString(m[1])}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reply: %d", resp.StatusCode)
	}
	msgs, err := e.db.CustomerMessages(ctx, tk.CustomerID, tk.CreatedAt.Add(-time.Hour), nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	sent := ""
	for _, x := range msgs {
		if x.Direction == "out" {
			sent = x.Text
		}
	}
	if !strings.Contains(sent, "您好 王小明，工单 "+no) {
		t.Errorf("the customer got %q", sent)
	}
	_, page = get(t, alice, e.srv.URL+"/console/tickets/"+no)
	if strings.Contains(page, "王小明") || !strings.Contains(page, "您好 王*，工单") {
		t.Errorf("the console shows the reply unmasked or not at all")
	}
}

func macro(team, name, body string) storage.Macro {
	return storage.Macro{Team: team, Name: name, Body: body, CreatedBy: "console:sue"}
}
