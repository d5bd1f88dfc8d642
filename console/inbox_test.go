package console_test

import (
	"context"
	"fmt"
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
	"github.com/kefu-dev/kefu/kb"
	"github.com/kefu-dev/kefu/locales"
	"github.com/kefu-dev/kefu/storage"
	"github.com/kefu-dev/kefu/storage/storetest"
)

// inboxEnv is a console with the agents' inbox over a real engine and store.
type inboxEnv struct {
	*env
	eng       *bot.Engine
	acked     []string
	handedOff []string
}

// Agents: alice and carol in team tech, bob in billing, sue a supervisor; console accounts of the
// same names (plus "noid", an agent account without an agent id, and the admin "root").
var inboxAgents = []bot.AgentConfig{
	{ID: "cli:alice", Name: "Alice", Team: "tech"},
	{ID: "cli:bob", Name: "Bob", Team: "billing"},
	{ID: "cli:carol", Name: "Carol", Team: "tech"},
	{ID: "cli:sue", Name: "Sue", Team: "tech", Supervisor: true},
}

func newInboxEnv(t testing.TB, seeAll bool) *inboxEnv {
	t.Helper()
	return newInboxEnvOn(t, seeAll, storetest.OpenSQLite)
}

// newInboxEnvOn is newInboxEnv on the database open gives.
func newInboxEnvOn(t testing.TB, seeAll bool, open storetest.Opener) *inboxEnv {
	t.Helper()
	db := open(t)
	for _, u := range []struct{ name, role, agent string }{{"root", "admin", ""}, {"sue", "supervisor", "cli:sue"},
		{"alice", "agent", "cli:alice"}, {"bob", "agent", "cli:bob"}, {"noid", "agent", ""}} {
		hash, err := console.HashPassword("password-"+u.name, bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.CreateUser(context.Background(), storage.User{Name: u.name, Role: u.role, AgentID: u.agent, PasswordHash: hash}); err != nil {
			t.Fatal(err)
		}
	}
	now := func() time.Time { return testNow }
	eng, err := bot.New(bot.Options{Store: db, Agents: inboxAgents, Now: now, KB: kb.NewMatcher(kb.Sample(), kb.MatchOptions{})})
	if err != nil {
		t.Fatal(err)
	}
	e := &inboxEnv{eng: eng}
	c, err := console.New(console.Options{DB: db, Now: now, BcryptCost: bcrypt.MinCost, T: locales.Default().T, Desk: eng,
		AgentsSeeAllTeams: seeAll,
		AckSLA: func(ctx context.Context, a bot.Actor, no string) error {
			if !eng.IsAgent(a.ID) {
				return bot.ErrForbidden
			}
			e.acked = append(e.acked, a.ID+" "+no)
			return nil
		},
		HandOff: func(ctx context.Context, a bot.Actor, no string) (string, bool, error) {
			if a.ID != "cli:alice" {
				return "坐席 " + a.ID + " 没有对应的企业微信接待人员", false, nil
			}
			e.handedOff = append(e.handedOff, a.ID+" "+no)
			_, err := eng.Note(ctx, a, no, "已转给企业微信接待人员 lisi")
			return "已转给企业微信接待人员 lisi", err == nil, err
		}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/console/", c)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	e.env = &env{srv: srv, db: db}
	return e
}

var seedSeq int

// seed opens a ticket for a new web chat customer (the message stored as the engine stores one),
// assigned and queued as given, and returns its number.
func (e *inboxEnv) seed(t testing.TB, assignee, team, text string) string {
	t.Helper()
	seedSeq++
	ctx := context.Background()
	chat := fmt.Sprintf("chat-%d", seedSeq)
	at := testNow.Add(-time.Duration(seedSeq) * time.Minute)
	var no string
	err := e.db.Tx(ctx, func(tx bot.Tx) error {
		conv, err := tx.SaveInbound(ctx, bot.Event{Channel: bot.ChannelWeb, MsgID: "m-" + chat, ChatID: chat, UserID: "u-" + chat,
			UserName: "王小明", Kind: bot.KindText, Text: text, At: at,
			Attachments: []bot.Attachment{{Type: "photo", FileID: "f-" + chat, Name: "发票.jpg", Size: 20480}}})
		if err != nil {
			return err
		}
		tk, err := tx.CreateTicket(ctx, bot.Ticket{ConversationID: conv.ID, CustomerID: conv.CustomerID, Channel: bot.ChannelWeb,
			CustomerName: "王小明", CustomerPhone: fmt.Sprintf("1380013%04d", seedSeq), Category: "order", Priority: bot.P2, Summary: text,
			Description: text, Lang: "zh-CN", Assignee: assignee, Team: team, CreatedAt: at,
			FirstResponseDue: at.Add(time.Hour), ResolutionDue: at.Add(24 * time.Hour)}, at.Format("20060102"))
		if err != nil {
			return err
		}
		no = tk.No
		_, err = tx.AddEvent(ctx, bot.TicketEvent{TicketID: tk.ID, TicketNo: tk.No, At: at, Actor: "customer", Kind: bot.EvCreated, Text: text})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return no
}

var countRe = regexp.MustCompile(`<span class="view-count" data-view="([a-z_]+)">(\d+)</span>`)

func counts(body string) map[string]string {
	out := map[string]string{}
	for _, m := range countRe.FindAllStringSubmatch(body, -1) {
		out[m[1]] = m[2]
	}
	return out
}

var rowRe = regexp.MustCompile(`<tr class="ticket-row[^"]*" data-ticket="(GD\d+)">`)

func rows(body string) []string {
	var out []string
	for _, m := range rowRe.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// TestInboxViewsAndTeams: each account sees the views and tickets its role and team allow, with the
// counts per view; an agent cannot open or act on another team's ticket (404, nothing changes)
// unless console.agents_see_all_teams is on.
func TestInboxViewsAndTeams(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) { testInboxViewsAndTeams(t, open) })
}

func testInboxViewsAndTeams(t *testing.T, open storetest.Opener) {
	e := newInboxEnvOn(t, false, open)
	mineA := e.seed(t, "cli:alice", "", "A 的工单")
	free := e.seed(t, "", "", "没人管的工单")
	bobs := e.seed(t, "cli:bob", "", "B 的工单")
	billing := e.seed(t, "", "billing", "账务组队列")
	carols := e.seed(t, "cli:carol", "", "同组 C 的工单")
	techQ := e.seed(t, "", "tech", "技术组队列")
	all := []string{mineA, free, bobs, billing, carols, techQ}

	tests := []struct {
		user, view string
		want       []string
		counts     map[string]string
	}{
		{"alice", "mine", []string{mineA}, map[string]string{"mine": "1", "unassigned": "2", "team": "3"}},
		{"alice", "unassigned", []string{free, techQ}, nil},
		{"alice", "team", []string{mineA, carols, techQ}, nil},
		{"alice", "all", []string{mineA}, nil}, // not hers: back to "mine"
		{"bob", "unassigned", []string{free, billing}, map[string]string{"mine": "1", "unassigned": "2", "team": "2"}},
		{"noid", "", []string{free}, map[string]string{"mine": "0", "unassigned": "1", "team": "0"}},
		{"sue", "all", all, map[string]string{"all": "6", "unassigned": "3", "team": "3"}},
		{"root", "all", all, map[string]string{"all": "6"}},
	}
	for _, tc := range tests {
		t.Run(tc.user+"/"+tc.view, func(t *testing.T) {
			c, _ := e.signIn(t, tc.user, "password-"+tc.user)
			resp, body := get(t, c, e.srv.URL+"/console/inbox?lang=en&view="+tc.view)
			if resp.StatusCode != 200 {
				t.Fatalf("inbox: %d\n%.300s", resp.StatusCode, body)
			}
			if !strings.Contains(body, `<main data-page="inbox">`) || !strings.Contains(body, `<script src="/console/assets/live.js" defer></script>`) {
				t.Error("the inbox page lacks the markup live.js hooks onto")
			}
			got := rows(body)
			if strings.Join(sorted(got), " ") != strings.Join(sorted(tc.want), " ") {
				t.Errorf("rows %v, want %v", got, tc.want)
			}
			cs := counts(body)
			for v, n := range tc.counts {
				if cs[v] != n {
					t.Errorf("count of %s = %q, want %s (all counts %v)", v, cs[v], n, cs)
				}
			}
			if _, ok := cs["all"]; ok != (tc.user == "sue" || tc.user == "root") {
				t.Errorf("view all offered = %v to %s", ok, tc.user)
			}
		})
	}

	alice, _ := e.signIn(t, "alice", "password-alice")
	// Without a language asked for, zh-CN; with ?lang=en, English (the same keys in both catalogs).
	for _, l := range [][2]string{{"", "工单收件箱"}, {"?lang=en", "Unassigned"}, {"?lang=zh-CN", "未分配"}} {
		if _, body := get(t, alice, e.srv.URL+"/console/inbox"+l[0]); !strings.Contains(body, l[1]) {
			t.Errorf("inbox%s lacks %q", l[0], l[1])
		}
	}
	for _, no := range []string{bobs, billing} {
		if resp, _ := get(t, alice, e.srv.URL+"/console/tickets/"+no); resp.StatusCode != http.StatusNotFound {
			t.Errorf("alice opens another team's %s: %d, want 404", no, resp.StatusCode)
		}
		_, page := get(t, alice, e.srv.URL+"/console/tickets/"+mineA)
		resp, _ := post(t, alice, e.srv.URL+"/console/tickets/"+no+"/reply", url.Values{"csrf": {csrfOf(t, page)}, "text": {"hi"}})
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("alice replies on another team's %s: %d, want 404", no, resp.StatusCode)
		}
		if tk, _, _ := e.eng.Ticket(t.Context(), no); tk.FirstResponseAt != nil {
			t.Errorf("%s was answered by a refused request", no)
		}
	}
	for _, no := range []string{mineA, free, carols, techQ} {
		if resp, _ := get(t, alice, e.srv.URL+"/console/tickets/"+no); resp.StatusCode != 200 {
			t.Errorf("alice opens %s: %d", no, resp.StatusCode)
		}
	}

	// The switch: agents see every team's tickets.
	all2 := newInboxEnvOn(t, true, open)
	other := all2.seed(t, "cli:bob", "", "B 的工单")
	a2, _ := all2.signIn(t, "alice", "password-alice")
	if resp, _ := get(t, a2, all2.srv.URL+"/console/tickets/"+other); resp.StatusCode != 200 {
		t.Errorf("with agents_see_all_teams alice opens bob's ticket: %d", resp.StatusCode)
	}
}

func sorted(xs []string) []string {
	out := append([]string(nil), xs...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// outbound returns the texts queued for the customer of ticket no (their chat's outgoing messages).
func (e *inboxEnv) outbound(t testing.TB, no string) []string {
	t.Helper()
	tk, _, err := e.eng.Ticket(context.Background(), no)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := e.db.Transcript(context.Background(), tk.ConversationID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range ms {
		if m.Direction == "out" {
			out = append(out, m.Text)
		}
	}
	return out
}

// TestTicketActions: every form calls the engine's operation and its effect shows (the reply reaches
// the customer's outbox, a note never does); bad input, a missing CSRF token, a conflict and an
// account without agent id are refused with a localized message and change nothing.
func TestTicketActions(t *testing.T) {
	e := newInboxEnv(t, false)
	no := e.seed(t, "", "", "我的快递三天没动了，怎么查物流")
	taken := e.seed(t, "cli:carol", "", "已被 C 认领")
	free := e.seed(t, "", "", "无人认领")
	alice, _ := e.signIn(t, "alice", "password-alice")
	_, page := get(t, alice, e.srv.URL+"/console/tickets/"+no+"?lang=en")
	csrf := csrfOf(t, page)
	for _, id := range []string{`<main data-page="ticket" data-ticket="` + no + `">`, `<ol id="conversation"`, `<form method="post" action="/console/tickets/` + no + `/reply" id="form-reply"`,
		`<textarea id="reply-text" name="text"`, `id="form-note"`, `id="form-claim"`, `id="form-resolve"`, `<div id="collision" hidden></div>`} {
		if !strings.Contains(page, id) {
			t.Errorf("ticket page lacks %s", id)
		}
	}
	if strings.Contains(page, "王小明") || strings.Contains(page, "13800130001") {
		t.Error("the ticket page shows the customer's name or phone unmasked")
	}
	if !strings.Contains(page, "photo") || !strings.Contains(page, "20 KB") {
		t.Error("the customer's attachment is not shown with type and size")
	}

	state := func() bot.Ticket {
		tk, _, err := e.eng.Ticket(context.Background(), no)
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	trail := func(kind bot.EventKind) int {
		_, evs, _ := e.eng.Ticket(context.Background(), no)
		n := 0
		for _, ev := range evs {
			if ev.Kind == kind {
				n++
			}
		}
		return n
	}
	faq := e.eng.Suggestions(state(), 3)
	if len(faq) == 0 {
		t.Fatal("no FAQ suggestion for a delivery question: the FAQ case proves nothing")
	}
	tests := []struct {
		name, action string
		form         url.Values
		noCSRF       bool
		target       string
		user         *string
		want         int
		msg          string // in the re-rendered page (en)
		check        func(t *testing.T)
	}{
		{name: "note without csrf", action: "note", form: url.Values{"text": {"内部：不要发"}}, noCSRF: true, want: 403, msg: "The form expired",
			check: func(t *testing.T) {
				if trail(bot.EvNote) != 0 {
					t.Error("a note without CSRF token was stored")
				}
			}},
		{name: "empty reply", action: "reply", form: url.Values{"text": {"  "}}, want: 400, msg: "Please write a text first",
			check: func(t *testing.T) {
				if n := len(e.outbound(t, no)); n != 0 {
					t.Errorf("%d messages queued", n)
				}
			}},
		{name: "bad priority", action: "priority", form: url.Values{"priority": {"P9"}}, want: 400, msg: "That value is not valid",
			check: func(t *testing.T) {
				if state().Priority != bot.P2 {
					t.Error("priority changed")
				}
			}},
		{name: "resolve before any reply", action: "resolve", form: url.Values{"text": {"好了"}}, want: 409, msg: "Nobody has answered the customer yet",
			check: func(t *testing.T) {
				if state().Status == bot.StatusResolved {
					t.Error("resolved without a reply")
				}
			}},
		{name: "claim someone else's", action: "claim", target: taken, want: 409, msg: "Someone else holds this ticket"},
		{name: "claim", action: "claim", want: 303, check: func(t *testing.T) {
			if tk := state(); tk.Assignee != "cli:alice" || tk.Status != bot.StatusInProgress {
				t.Errorf("after claim: %s %s", tk.Assignee, tk.Status)
			}
		}},
		{name: "note", action: "note", form: url.Values{"text": {"内部备注：客户很着急"}}, want: 303, check: func(t *testing.T) {
			if trail(bot.EvNote) != 1 {
				t.Error("note not in the trail")
			}
			for _, m := range e.outbound(t, no) {
				if strings.Contains(m, "内部备注") {
					t.Error("the note reached the customer's outbox")
				}
			}
		}},
		{name: "reply", action: "reply", form: url.Values{"text": {"您好，快递已加急处理"}}, want: 303, check: func(t *testing.T) {
			out := e.outbound(t, no)
			if len(out) != 1 || !strings.Contains(out[0], "您好，快递已加急处理") {
				t.Errorf("outbox for the customer: %q", out)
			}
			if state().FirstResponseAt == nil {
				t.Error("first response not stamped")
			}
		}},
		{name: "faq reply", action: "faq", form: url.Values{"faq": {faq[0].Entry.ID}}, want: 303, check: func(t *testing.T) {
			if out := e.outbound(t, no); len(out) != 2 || !strings.Contains(out[1], faq[0].Entry.Answer) {
				t.Errorf("FAQ answer not queued: %q", out)
			}
			if trail(bot.EvFAQReply) != 1 {
				t.Error("citation not recorded")
			}
		}},
		{name: "unknown faq", action: "faq", form: url.Values{"faq": {"no-such-entry"}}, want: 400, msg: "That FAQ entry"},
		{name: "priority", action: "priority", form: url.Values{"priority": {"P0"}}, want: 303, check: func(t *testing.T) {
			if state().Priority != bot.P0 {
				t.Error("priority not set")
			}
		}},
		{name: "status pending", action: "status", form: url.Values{"status": {"pending"}}, want: 303, check: func(t *testing.T) {
			if state().Status != bot.StatusPending {
				t.Error("status not set")
			}
		}},
		{name: "team", action: "team", form: url.Values{"team": {"billing"}}, want: 303, check: func(t *testing.T) {
			if state().Team != "billing" {
				t.Error("team not set")
			}
		}},
		{name: "unknown team", action: "team", form: url.Values{"team": {"moon"}}, want: 400, msg: "That value is not valid"},
		{name: "escalate without reason", action: "escalate", want: 400, msg: "Please write a text first"},
		{name: "escalate", action: "escalate", form: url.Values{"text": {"客户要求主管"}}, want: 303, check: func(t *testing.T) {
			if !state().Escalated {
				t.Error("not escalated")
			}
		}},
		{name: "ack", action: "ack", want: 303, check: func(t *testing.T) {
			if len(e.acked) != 1 || e.acked[0] != "cli:alice "+no {
				t.Errorf("acks %v", e.acked)
			}
		}},
		{name: "complaint details on a non-complaint", action: "complaint", form: url.Values{"point": {"logistics"}}, want: 400, msg: "not a complaint"},
		{name: "complaint level", action: "level", form: url.Values{"level": {"2"}}, want: 303, check: func(t *testing.T) {
			if tk := state(); !tk.Complaint || tk.ComplaintLevel != 2 {
				t.Errorf("complaint %v level %d", tk.Complaint, tk.ComplaintLevel)
			}
		}},
		{name: "complaint details", action: "complaint", form: url.Values{"point": {"logistics"}, "responsible": {"logistics"}, "verification": {"查了物流单"}}, want: 303,
			check: func(t *testing.T) {
				if trail(bot.EvComplaint) != 1 {
					t.Error("complaint details not recorded")
				}
			}},
		{name: "propose above the limit", action: "propose", form: url.Values{"solution": {"refund"}, "amount": {"500"}}, want: 303, check: func(t *testing.T) {
			cv, _ := e.eng.Complaint(context.Background(), state())
			if len(cv.Proposals) != 1 || cv.Proposals[0].Status != bot.ProposalApproval {
				t.Errorf("proposals %+v", cv.Proposals)
			}
		}},
		{name: "agent may not approve", action: "approve", form: url.Values{"proposal": {"1"}}, want: 403, msg: "You may not do that"},
		{name: "supervisor approves", action: "approve", user: ptr("sue"), form: url.Values{"proposal": {"1"}}, want: 303, check: func(t *testing.T) {
			cv, _ := e.eng.Complaint(context.Background(), state())
			if len(cv.Proposals) != 1 || cv.Proposals[0].Status != bot.ProposalOffered || cv.Proposals[0].ApprovedBy != "cli:sue" {
				t.Errorf("proposals %+v", cv.Proposals)
			}
		}},
		{name: "bad amount", action: "propose", form: url.Values{"solution": {"refund"}, "amount": {"lots"}}, want: 400, msg: "That value is not valid"},
		{name: "resolve", action: "resolve", form: url.Values{"text": {"已补发"}}, want: 303, check: func(t *testing.T) {
			if state().Status != bot.StatusResolved {
				t.Error("not resolved")
			}
		}},
		{name: "return visit", action: "visit", form: url.Values{"outcome": {"satisfied"}, "text": {"客户满意"}}, want: 303, check: func(t *testing.T) {
			cv, _ := e.eng.Complaint(context.Background(), state())
			if len(cv.Visits) != 1 || !cv.Visits[0].Done() {
				t.Errorf("visits %+v", cv.Visits)
			}
		}},
		{name: "no agent id", action: "note", user: ptr("noid"), target: free, form: url.Values{"text": {"x"}}, want: 403, msg: "no agent id",
			check: func(t *testing.T) {
				if _, evs, _ := e.eng.Ticket(context.Background(), free); len(evs) != 1 {
					t.Errorf("an account without agent id changed %s: %d events", free, len(evs))
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, token := alice, csrf
			if tc.user != nil {
				var p string
				c, _ = e.signIn(t, *tc.user, "password-"+*tc.user)
				_, p = get(t, c, e.srv.URL+"/console/inbox")
				token = csrfOf(t, p)
			}
			f := url.Values{}
			for k, v := range tc.form {
				f[k] = v
			}
			if !tc.noCSRF {
				f.Set("csrf", token)
			}
			target := no
			if tc.target != "" {
				target = tc.target
			}
			resp, body := post(t, c, e.srv.URL+"/console/tickets/"+target+"/"+tc.action+"?lang=en", f)
			if resp.StatusCode != tc.want {
				t.Fatalf("%s: %d, want %d\n%.400s", tc.action, resp.StatusCode, tc.want, body)
			}
			if tc.want == 303 {
				if loc := resp.Header.Get("Location"); loc != "/console/tickets/"+no+"?done="+tc.action {
					t.Errorf("redirect to %q", loc)
				}
			}
			if tc.msg != "" && !strings.Contains(body, tc.msg) {
				t.Errorf("page lacks %q:\n%.600s", tc.msg, body)
			}
			if tc.check != nil {
				tc.check(t)
			}
		})
	}
	// The page after all that: conversation with the agent's reply, the bot's, the note marked internal.
	_, page = get(t, alice, e.srv.URL+"/console/tickets/"+no+"?lang=en")
	for _, want := range []string{`class="msg msg-customer"`, `class="msg msg-agent"`, `class="msg msg-note"`, "internal, never sent to the customer", "您好，快递已加急处理"} {
		if !strings.Contains(page, want) {
			t.Errorf("ticket page lacks %q", want)
		}
	}
}

func ptr(s string) *string { return &s }

var olderRe = regexp.MustCompile(`<a href="([^"]+)" id="page-older"`)
var newerRe = regexp.MustCompile(`<a href="([^"]+)" id="page-newer"`)

// TestInboxSearchAndPages: search finds tickets by number (or its prefix), by the customer's phone and
// platform user id (keyed hashes: the values are encrypted), never by words of encrypted texts; 120
// tickets come in pages of 50 newest first, with next and previous links that neither skip nor repeat.
func TestInboxSearchAndPages(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) { testInboxSearchAndPages(t, open) })
}

func testInboxSearchAndPages(t *testing.T, open storetest.Opener) {
	e := newInboxEnvOn(t, false, open)
	var nos []string
	for i := 0; i < 120; i++ {
		nos = append(nos, e.seed(t, "", "", fmt.Sprintf("快递问题 %d", i)))
	}
	sue, _ := e.signIn(t, "sue", "password-sue")
	tk, _, _ := e.eng.Ticket(t.Context(), nos[7])
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{nos[7], []string{nos[7]}},
		{strings.ToLower(nos[7]), []string{nos[7]}},
		{tk.CustomerPhone, []string{nos[7]}},
		{"+86 " + tk.CustomerPhone[:3] + "-" + tk.CustomerPhone[3:], []string{nos[7]}},
		{"快递问题", nil}, // words of a sealed summary: not searchable
	} {
		_, body := get(t, sue, e.srv.URL+"/console/inbox?view=all&q="+url.QueryEscape(tc.q))
		got := rows(body)
		if tc.want != nil && strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("search %q: %v, want %v", tc.q, got, tc.want)
		}
		if tc.q == "快递问题" && len(got) != 0 {
			t.Errorf("search for sealed words found %v", got)
		}
	}
	// The platform user id of the seventh seed's customer (seed gives chat C the user "u-C").
	_, body := get(t, sue, e.srv.URL+"/console/inbox?view=all&q="+url.QueryEscape("u-"+chatOf(t, e, nos[7])))
	if got := rows(body); len(got) != 1 || got[0] != nos[7] {
		t.Errorf("search by platform user id: %v", got)
	}
	_, body = get(t, sue, e.srv.URL+"/console/inbox?view=all&q=GD2026112")
	if got := rows(body); len(got) != 50 {
		t.Errorf("prefix search: %d rows on the first page, want 50", len(got))
	}

	// Pages: newest first, 50 + 50 + 20, and back.
	var seen []string
	next := "/console/inbox?view=all"
	var pages [][]string
	for i := 0; next != "" && i < 5; i++ {
		_, body := get(t, sue, e.srv.URL+strings.ReplaceAll(next, "&amp;", "&"))
		r := rows(body)
		pages = append(pages, r)
		seen = append(seen, r...)
		next = ""
		if m := olderRe.FindStringSubmatch(body); m != nil {
			next = m[1]
		}
		if i == 2 {
			m := newerRe.FindStringSubmatch(body)
			if m == nil {
				t.Fatal("the last page has no link to newer tickets")
			}
			_, back := get(t, sue, e.srv.URL+strings.ReplaceAll(m[1], "&amp;", "&"))
			if got := rows(back); strings.Join(got, " ") != strings.Join(pages[1], " ") {
				t.Errorf("back from page 3 shows %d rows starting %v, want page 2", len(got), got[:min(1, len(got))])
			}
		}
	}
	if len(pages) != 3 || len(pages[0]) != 50 || len(pages[1]) != 50 || len(pages[2]) != 20 {
		t.Fatalf("pages of %v rows", lens(pages))
	}
	want := sorted(nos)
	for i, j := 0, len(want)-1; i < j; i, j = i+1, j-1 {
		want[i], want[j] = want[j], want[i]
	}
	if strings.Join(seen, " ") != strings.Join(want, " ") {
		t.Error("the pages do not list every ticket once, newest first")
	}
}

func lens(pp [][]string) []int {
	var out []int
	for _, p := range pp {
		out = append(out, len(p))
	}
	return out
}

// chatOf is the chat id seed gave ticket no's customer.
func chatOf(t *testing.T, e *inboxEnv, no string) string {
	tk, _, err := e.eng.Ticket(t.Context(), no)
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.db.Conversation(t.Context(), tk.ConversationID)
	if err != nil {
		t.Fatal(err)
	}
	return c.ChatID
}

// TestCategoryLabels: the inbox and the ticket page name a ticket's category in the page's language
// and an uncategorized ticket 「未分类 / Uncategorized」, never a bare key or a blank cell.
func TestCategoryLabels(t *testing.T) {
	e := newInboxEnv(t, false)
	order := e.seed(t, "", "", "快递没到")
	none := e.seed(t, "", "", "转人工")
	if err := e.db.Gorm().Exec("UPDATE tickets SET category = '' WHERE no = ?", none).Error; err != nil {
		t.Fatal(err)
	}
	alice, _ := e.signIn(t, "alice", "password-alice")
	for _, tc := range []struct{ lang, order, none string }{{"zh-CN", "订单物流", "未分类"}, {"en", "Order &amp; delivery", "Uncategorized"}} {
		_, inbox := get(t, alice, e.srv.URL+"/console/inbox?view=unassigned&lang="+tc.lang)
		for _, want := range []string{"<td>" + tc.order + "</td>", "<td>" + tc.none + "</td>"} {
			if !strings.Contains(inbox, want) {
				t.Errorf("%s inbox lacks %q", tc.lang, want)
			}
		}
		if strings.Contains(inbox, "<td></td><td>") || strings.Contains(inbox, "<td>order</td>") {
			t.Errorf("%s inbox shows a blank or raw category", tc.lang)
		}
		_, p1 := get(t, alice, e.srv.URL+"/console/tickets/"+order+"?lang="+tc.lang)
		_, p2 := get(t, alice, e.srv.URL+"/console/tickets/"+none+"?lang="+tc.lang)
		if !strings.Contains(p1, " · "+tc.order) || !strings.Contains(p2, " · "+tc.none) {
			t.Errorf("%s ticket pages do not name the category (%q, %q)", tc.lang, tc.order, tc.none)
		}
	}
}
