package console_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/kb"
)

// TestComplaintsPage: supervisors (and admins) see every complaint ticket with its level, core points,
// responsible party, proposals with amount, state and approver, follow-through tasks (a late one
// marked), return visits (an overdue one marked) and the period's repeat-complaint rate and visit
// counts; personal data stays masked; agents get 403 and no link; both languages.
func TestComplaintsPage(t *testing.T) {
	e := newInboxEnv(t, false)
	ctx := context.Background()
	sue, alice := bot.Actor{ID: "cli:sue"}, bot.Actor{ID: "cli:alice"}
	// An engine whose clock is days behind the console's: what it schedules is due (or late) by now.
	past := func(d time.Duration) *bot.Engine {
		eng, err := bot.New(bot.Options{Store: e.db, Agents: inboxAgents, Now: func() time.Time { return testNow.Add(-d) },
			KB: kb.NewMatcher(kb.Sample(), kb.MatchOptions{})})
		if err != nil {
			t.Fatal(err)
		}
		return eng
	}
	plain := e.seed(t, "cli:alice", "", "普通咨询")
	severe := e.seed(t, "cli:alice", "", "冰箱冒烟了")
	older := e.seed(t, "cli:alice", "", "快递员态度恶劣")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := e.eng.SetComplaintLevel(ctx, sue, severe, 1)
	must(err)
	_, err = e.eng.RecordComplaint(ctx, alice, severe, bot.ComplaintDetails{CorePoints: []string{"quality", "logistics"},
		Responsible: "logistics", Verification: "客户电话 13812345678 核实过"})
	must(err)
	p, err := e.eng.Propose(ctx, alice, severe, "refund", 30000) // above alice's limit
	must(err)
	_, err = e.eng.Approve(ctx, sue, severe, p.ID)
	must(err)
	_, err = past(48*time.Hour).AddTask(ctx, alice, severe, bot.NewTask{Kind: "refund", Owner: "finance:li", Due: testNow.Add(-24 * time.Hour)})
	must(err)
	_, err = e.eng.AddTask(ctx, alice, severe, bot.NewTask{Kind: "reship", Owner: "warehouse", Due: testNow.Add(24 * time.Hour)})
	must(err)
	// The older complaint was resolved ten days ago: its return visit is overdue; it repeats another.
	old := past(10 * 24 * time.Hour)
	_, err = old.SetComplaintLevel(ctx, sue, older, 2)
	must(err)
	_, err = old.Reply(ctx, alice, older, "抱歉")
	must(err)
	_, err = old.Resolve(ctx, alice, older, "")
	must(err)
	must(e.db.Gorm().Exec("UPDATE tickets SET repeat_of = ? WHERE no = ?", "GD20261001001", older).Error)

	u := e.srv.URL + "/console/complaints"
	sueC, _ := e.signIn(t, "sue", "password-sue")
	resp, body := get(t, sueC, u)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("supervisor: %d\n%.2000s", resp.StatusCode, body)
	}
	row := func(no string) string {
		m := regexp.MustCompile(`(?s)<tr id="c-` + no + `".*?</tr>`).FindString(body)
		if m == "" {
			t.Fatalf("no row for %s:\n%.3000s", no, body)
		}
		return m
	}
	if strings.Contains(body, `id="c-`+plain+`"`) {
		t.Error("a ticket that is not a complaint is listed")
	}
	r := row(severe)
	for _, want := range []string{"L1 · P0", "<span class=\"tag\">产品质量</span>", "<span class=\"tag\">物流</span>", `class="party">物流`,
		`data-proposal="1">#1`, "¥300", "审批人 cli:sue", `data-task="1" data-state="late"`, "finance:li", "已逾期",
		`data-task="2" data-state="open"`, "warehouse", `href="/console/tickets/` + severe + `"`} {
		if !strings.Contains(r, want) {
			t.Errorf("row %s lacks %q:\n%s", severe, want, r)
		}
	}
	if strings.Contains(body, "13812345678") {
		t.Error("the verification note shows the customer's phone unmasked")
	}
	r = row(older)
	for _, want := range []string{"L2", "二次投诉（前次 GD20261001001）", `data-visit="complaint" data-state="overdue"`} {
		if !strings.Contains(r, want) {
			t.Errorf("row %s lacks %q:\n%s", older, want, r)
		}
	}
	if strings.Index(body, `id="c-`+severe+`"`) > strings.Index(body, `id="c-`+older+`"`) {
		t.Error("the open level-1 complaint is not listed before the resolved one")
	}
	for _, want := range []string{`id="complaints-total">2<`, "L1: 1", "L2: 1", `id="repeat-pct">50`, `id="visits-due">1<`,
		`id="visits-done">0<`, `id="visits-overdue">1<`, `id="nav-complaints"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if _, en := get(t, sueC, u+"?lang=en"); !strings.Contains(en, "Repeat complaint rate") || !strings.Contains(en, "approved by cli:sue") {
		t.Error("no English page")
	}

	// Admins see it; agents do not (403, no link); without a session, the sign-in page.
	root, _ := e.signIn(t, "root", "password-root")
	if resp, _ := get(t, root, u); resp.StatusCode != http.StatusOK {
		t.Errorf("admin: %d", resp.StatusCode)
	}
	aliceC, _ := e.signIn(t, "alice", "password-alice")
	if resp, body := get(t, aliceC, u); resp.StatusCode != http.StatusForbidden || strings.Contains(body, severe) {
		t.Errorf("agent: %d", resp.StatusCode)
	}
	if _, dash := get(t, aliceC, e.srv.URL+"/console/"); strings.Contains(dash, "nav-complaints") {
		t.Error("agents get the complaints link")
	}
	if resp, _ := get(t, e.client(), u); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/login" {
		t.Errorf("no session: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// TestComplaintsPageTasks: a supervisor adds a follow-through task from the complaints page and marks
// it done; bad input, a missing CSRF token, an unknown task and an agent are refused with nothing
// stored; every change is in the ticket's trail.
func TestComplaintsPageTasks(t *testing.T) {
	e := newInboxEnv(t, false)
	ctx := context.Background()
	no := e.seed(t, "cli:alice", "", "冰箱冒烟了")
	if _, err := e.eng.SetComplaintLevel(ctx, bot.Actor{ID: "cli:sue"}, no, 1); err != nil {
		t.Fatal(err)
	}
	u := e.srv.URL + "/console/complaints"
	sueC, _ := e.signIn(t, "sue", "password-sue")
	_, page := get(t, sueC, u)
	if !strings.Contains(page, `data-add-task="`+no+`"`) {
		t.Fatalf("no task form:\n%.3000s", page)
	}
	csrf := csrfOf(t, page)
	tasks := func() []bot.Task {
		ts, err := e.eng.Tasks(ctx, no)
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}
	for _, bad := range []struct {
		name   string
		form   url.Values
		status int
		msg    string
	}{
		{"unknown kind", url.Values{"csrf": {csrf}, "kind": {"teleport"}, "owner": {"finance:li"}, "hours": {"24"}}, 400, "无法保存跟进任务"},
		{"no owner", url.Values{"csrf": {csrf}, "kind": {"refund"}, "hours": {"24"}}, 400, "无法保存跟进任务"},
		{"bad hours", url.Values{"csrf": {csrf}, "kind": {"refund"}, "owner": {"finance:li"}, "hours": {"-3"}}, 400, "无法保存跟进任务"},
		{"no csrf", url.Values{"kind": {"refund"}, "owner": {"finance:li"}, "hours": {"24"}}, 403, ""},
	} {
		resp, body := post(t, sueC, u+"/"+no+"/tasks", bad.form)
		if resp.StatusCode != bad.status || !strings.Contains(body, bad.msg) || len(tasks()) != 0 {
			t.Errorf("%s: %d, %d tasks\n%.500s", bad.name, resp.StatusCode, len(tasks()), body)
		}
	}
	resp, _ := post(t, sueC, u+"/"+no+"/tasks", url.Values{"csrf": {csrf}, "kind": {"refund"}, "owner": {"finance:li"}, "hours": {"24"}, "note": {"退款 200 元"}})
	_, body := get(t, sueC, u)
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(body, `data-task="1" data-state="open"`) {
		t.Fatalf("add: %d\n%.2000s", resp.StatusCode, body)
	}
	if ts := tasks(); len(ts) != 1 || ts[0].Kind != "refund" || ts[0].Owner != "finance:li" || !ts[0].DueAt.Equal(testNow.Add(24*time.Hour)) || ts[0].CreatedBy != "cli:sue" {
		t.Fatalf("stored %+v", ts)
	}
	if _, tp := get(t, sueC, e.srv.URL+"/console/tickets/"+no); !strings.Contains(tp, `<tr data-task="1"><td>#1</td><td>财务退款</td><td>finance:li</td>`) {
		t.Errorf("the ticket page does not list the task:\n%.3000s", tp)
	}
	if resp, _ := post(t, sueC, u+"/"+no+"/tasks/9", url.Values{"csrf": {csrf}, "state": {"done"}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown task: %d", resp.StatusCode)
	}
	if resp, _ := post(t, sueC, u+"/"+no+"/tasks/1", url.Values{"csrf": {csrf}, "state": {"cancelled"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("cancel without a reason: %d", resp.StatusCode)
	}
	resp, _ = post(t, sueC, u+"/"+no+"/tasks/1", url.Values{"csrf": {csrf}, "state": {"done"}})
	_, body = get(t, sueC, u)
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(body, `data-task="1" data-state="done"`) || tasks()[0].DoneBy != "cli:sue" {
		t.Fatalf("done: %d\n%.2000s", resp.StatusCode, body)
	}
	if resp, _ := post(t, sueC, u+"/"+no+"/tasks/1", url.Values{"csrf": {csrf}, "state": {"done"}}); resp.StatusCode != http.StatusConflict {
		t.Errorf("done twice: %d", resp.StatusCode)
	}
	_, evs, _ := e.eng.Ticket(ctx, no)
	n := 0
	for _, ev := range evs {
		if ev.Kind == bot.EvTask && ev.Actor == "cli:sue" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d task events by cli:sue, want 2 (added, done)", n)
	}
	// Agents may not post here.
	aliceC, _ := e.signIn(t, "alice", "password-alice")
	_, dash := get(t, aliceC, e.srv.URL+"/console/")
	if resp, _ := post(t, aliceC, u+"/"+no+"/tasks", url.Values{"csrf": {csrfOf(t, dash)}, "kind": {"refund"}, "owner": {"x"}, "hours": {"1"}}); resp.StatusCode != http.StatusForbidden || len(tasks()) != 1 {
		t.Errorf("agent adds a task: %d", resp.StatusCode)
	}
}
