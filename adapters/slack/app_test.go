package slack

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/adapters/slack/slacktest"

	"github.com/google/go-cmp/cmp"

	"github.com/kefu-dev/kefu/bot"
)

const (
	agent1     = "UAGENT1"
	agent2     = "UAGENT2"
	supervisor = "USUP1"
	grpAgent   = "UGRP1" // an agent through the user group SAGENTS
	stranger   = "USTRANGER"
)

const testSecret = "8f742231b10e8888abcd99yyyzzz85a5"

type env struct {
	app   *App
	desk  *fakeDesk
	slack *slacktest.Server
	store *memStore
}

func newEnv(t testing.TB, mod ...func(*Options)) *env {
	t.Helper()
	fs := slacktest.NewServer(t)
	fs.SetGroup("SAGENTS", grpAgent)
	d := newFakeDesk("slack:"+agent1, "slack:"+agent2, "slack:"+supervisor, "slack:"+grpAgent)
	st := newMemStore()
	o := Options{
		BotToken: slacktest.BotToken, SigningSecret: testSecret, APIURL: fs.APIURL(), Desk: d, Store: st,
		Routing: Routing{
			Categories:    map[string]string{"tech": "tech", "complaint": "complaints", "custom": "product"},
			Channels:      map[string]string{"tech": "CTECH", "complaints": "CSENIOR", "product": "CPRODUCT", "general": "CGENERAL"},
			ComplaintTeam: "complaints", DefaultTeam: "general", Supervisors: "CSUP",
		},
		Agents:      Members{Users: []string{agent1, agent2}, Groups: []string{"SAGENTS"}},
		Supervisors: Members{Users: []string{supervisor}},
		Now:         func() time.Time { return d.now },
	}
	for _, m := range mod {
		m(&o)
	}
	app, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = app.Wait(context.Background()) })
	return &env{app: app, desk: d, slack: fs, store: st}
}

// do sends a signed request and waits for the background work it started.
func (e *env) do(t testing.TB, r *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	e.app.ServeHTTP(w, r)
	if err := e.app.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	return w
}

func (e *env) command(t testing.TB, user, text string) string {
	t.Helper()
	w := e.do(t, slacktest.NewSignedRequest("/slack/commands", "application/x-www-form-urlencoded",
		slacktest.CommandBody(user, "CTECH", text, e.slack.ResponseURL("1")), time.Now(), testSecret))
	if w.Code != http.StatusOK {
		t.Fatalf("command %q: status %d: %s", text, w.Code, w.Body)
	}
	var m struct {
		ResponseType string `json:"response_type"`
		Text         string `json:"text"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatalf("command %q: body %q: %v", text, w.Body, err)
	}
	if m.ResponseType != "ephemeral" {
		t.Errorf("command %q: response_type %q, want ephemeral", text, m.ResponseType)
	}
	return m.Text
}

func (e *env) sync(t testing.TB) {
	t.Helper()
	if _, err := e.app.Sync(t.Context()); err != nil {
		t.Fatalf("Sync: %v", err)
	}
}

func TestNewValidates(t *testing.T) {
	_, err := New(Options{})
	if err == nil {
		t.Fatal("New(Options{}) succeeded")
	}
	for _, want := range []string{"BotToken", "SigningSecret", "Desk", "Store", "agents"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func TestSignatures(t *testing.T) {
	e := newEnv(t)
	now := time.Now()
	form := "application/x-www-form-urlencoded"
	cmd := slacktest.CommandBody(agent1, "CTECH", "help", "")
	challenge := `{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`
	tests := []struct {
		name string
		req  *http.Request
		want int
	}{
		{"valid command", slacktest.NewSignedRequest("/slack/commands", form, cmd, now, testSecret), 200},
		{"wrong secret", slacktest.NewSignedRequest("/slack/commands", form, cmd, now, "other-secret"), 401},
		{"replay older than 5 minutes", slacktest.NewSignedRequest("/slack/commands", form, cmd, now.Add(-5*time.Minute-10*time.Second), testSecret), 401},
		{"timestamp in the future", slacktest.NewSignedRequest("/slack/commands", form, cmd, now.Add(6*time.Minute), testSecret), 401},
		{"no signature", httptest.NewRequest("POST", "/slack/commands", strings.NewReader(cmd)), 401},
		{"tampered body", func() *http.Request {
			r := slacktest.NewSignedRequest("/slack/commands", form, cmd, now, testSecret)
			r.Body = http.NoBody
			return r
		}(), 401},
		{"interaction wrong secret", slacktest.NewSignedRequest("/slack/interactions", form, slacktest.InteractionBody(slacktest.ButtonPayload(agent1, "CTECH", actClaim, "GD1001")), now, "nope"), 401},
		{"event wrong secret", slacktest.NewSignedRequest("/slack/events", "application/json", challenge, now, "nope"), 401},
		{"event replay", slacktest.NewSignedRequest("/slack/events", "application/json", challenge, now.Add(-10*time.Minute), testSecret), 401},
		{"url_verification", slacktest.NewSignedRequest("/slack/events", "application/json", challenge, now, testSecret), 200},
		{"GET refused", httptest.NewRequest("GET", "/slack/commands", nil), 405},
		{"unknown path", slacktest.NewSignedRequest("/slack/other", form, cmd, now, testSecret), 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.do(t, tt.req)
			if w.Code != tt.want {
				t.Fatalf("status %d, want %d (%s)", w.Code, tt.want, w.Body)
			}
		})
	}
	w := e.do(t, slacktest.NewSignedRequest("/slack/events", "application/json", challenge, now, testSecret))
	if got := w.Body.String(); got != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Errorf("challenge answer %q", got)
	}
	if calls, _ := e.desk.snapshot(); len(calls) != 0 {
		t.Errorf("refused requests reached the desk: %v", calls)
	}
}

func ticketGD1() bot.Ticket {
	return bot.Ticket{No: "GD20261123001", Channel: bot.ChannelWeb, CustomerName: "张三", CustomerPhone: "13812345678",
		Lang: "zh-CN", Category: "tech", Priority: bot.P1, Summary: "您是想反馈:App 登录后闪退 <!channel>"}
}

// TestAgentJourney: ticket created -> card in the team channel -> Claim -> card updated -> thread reply
// reaches the customer -> Resolve -> low rating -> supervisors get a 24h follow-up.
func TestAgentJourney(t *testing.T) {
	e := newEnv(t)
	e.desk.create(ticketGD1())
	no := "GD20261123001"
	e.sync(t)

	posts := e.slack.Called("chat.postMessage")
	if len(posts) != 1 {
		t.Fatalf("want 1 card, got %d posts", len(posts))
	}
	card := posts[0].Form
	if card.Get("channel") != "CTECH" {
		t.Errorf("card went to %q, want tech channel CTECH", card.Get("channel"))
	}
	blocks := raw(card.Get("blocks"))
	for _, want := range []string{no, "张*", "138****5678", "kefu_claim", "kefu_reply", "kefu_resolve", "kefu_escalate",
		"kefu_priority", "&lt;!channel&gt;", "<!date^"} {
		if !strings.Contains(blocks, want) {
			t.Errorf("card blocks lack %q", want)
		}
	}
	for _, leak := range []string{"张三", "13812345678", "<!channel>"} {
		if strings.Contains(blocks, leak) || strings.Contains(card.Get("text"), leak) {
			t.Errorf("card leaks %q", leak)
		}
	}
	cardTS := "1763888400.000001"
	if got, _, _ := e.store.GetKV(t.Context(), threadKey("CTECH", cardTS)); got != no {
		t.Fatalf("thread ref = %q", got)
	}

	// Claim button.
	e.slack.Reset()
	w := e.do(t, slacktest.NewSignedRequest("/slack/interactions", "application/x-www-form-urlencoded",
		slacktest.InteractionBody(slacktest.ButtonPayload(agent1, "CTECH", actClaim, no)), time.Now(), testSecret))
	if w.Code != 200 || w.Body.Len() != 0 {
		t.Fatalf("claim ack: %d %q", w.Code, w.Body)
	}
	if got := e.desk.ticket(no).Assignee; got != "slack:"+agent1 {
		t.Fatalf("assignee %q", got)
	}
	eph := e.slack.Called("chat.postEphemeral")
	if len(eph) != 1 || !strings.Contains(eph[0].Form.Get("text"), "slack.done.claimed") || eph[0].Form.Get("user") != agent1 {
		t.Fatalf("claim feedback: %+v", eph)
	}
	e.sync(t)
	upd := e.slack.Called("chat.update")
	if len(upd) != 1 || upd[0].Form.Get("ts") != cardTS || upd[0].Form.Get("channel") != "CTECH" {
		t.Fatalf("card not updated in place: %+v", upd)
	}
	if b := raw(upd[0].Form.Get("blocks")); !strings.Contains(b, "<@"+agent1+">") || strings.Contains(b, "kefu_claim") {
		t.Errorf("updated card should show the assignee and no Claim button: %s", b)
	}

	// The customer writes again: it appears in the card's thread.
	e.slack.Reset()
	e.desk.customerSays(no, "还是闪退", bot.Attachment{Type: "photo", FileID: "f1", Name: "crash.png"})
	e.sync(t)
	thread := e.slack.Called("chat.postMessage")
	if len(thread) != 1 || thread[0].Form.Get("thread_ts") != cardTS || !strings.Contains(thread[0].Form.Get("text"), "还是闪退") ||
		!strings.Contains(thread[0].Form.Get("text"), "crash.png") {
		t.Fatalf("customer message not in thread: %+v", thread)
	}

	// The agent answers in the thread; "//" stays internal.
	e.slack.Reset()
	e.do(t, slacktest.NewSignedRequest("/slack/events", "application/json",
		slacktest.MessageEventBody("Ev1", agent1, "CTECH", "1763888500.000100", cardTS, "请更新到 5.2 版本 &lt;谢谢&gt;", false), time.Now(), testSecret))
	e.do(t, slacktest.NewSignedRequest("/slack/events", "application/json",
		slacktest.MessageEventBody("Ev2", agent1, "CTECH", "1763888500.000200", cardTS, "// 客户是 VIP", false), time.Now(), testSecret))
	// Slack retries Ev1: handled once.
	e.do(t, slacktest.NewSignedRequest("/slack/events", "application/json",
		slacktest.MessageEventBody("Ev1", agent1, "CTECH", "1763888500.000100", cardTS, "请更新到 5.2 版本 &lt;谢谢&gt;", false), time.Now(), testSecret))
	// Our own bot's post in the thread is ignored.
	e.do(t, slacktest.NewSignedRequest("/slack/events", "application/json",
		slacktest.MessageEventBody("Ev3", "UBOT", "CTECH", "1763888500.000300", cardTS, "bot echo", true), time.Now(), testSecret))
	_, toCust := e.desk.snapshot()
	if diff := cmp.Diff([]string{no + ": 请更新到 5.2 版本 <谢谢>"}, toCust); diff != "" {
		t.Fatalf("customer got (-want +got):\n%s", diff)
	}
	if tk := e.desk.ticket(no); tk.FirstResponseAt == nil {
		t.Error("first response not stamped")
	}
	e.sync(t)
	for _, c := range e.slack.Called("chat.postMessage") {
		if strings.Contains(c.Form.Get("text"), "5.2") || strings.Contains(c.Form.Get("text"), "VIP") {
			t.Errorf("thread message echoed back into the thread: %q", c.Form.Get("text"))
		}
	}

	// Resolve button, then the customer rates 2/5.
	e.slack.Reset()
	e.do(t, slacktest.NewSignedRequest("/slack/interactions", "application/x-www-form-urlencoded",
		slacktest.InteractionBody(slacktest.ButtonPayload(agent1, "CTECH", actResolve, no)), time.Now(), testSecret))
	if st := e.desk.ticket(no).Status; st != bot.StatusResolved {
		t.Fatalf("status %q after Resolve", st)
	}
	e.desk.rate(no, 2, "太慢了")
	e.sync(t)
	var sup []string
	for _, c := range e.slack.Called("chat.postMessage") {
		if c.Form.Get("channel") == "CSUP" {
			sup = append(sup, c.Form.Get("text"))
		}
	}
	if len(sup) != 1 || !strings.Contains(sup[0], "slack.sup.low_rating") || !strings.Contains(sup[0], "score=2") ||
		!strings.Contains(sup[0], "太慢了") || !strings.Contains(sup[0], "<!date^1795510800^") { // At + 24h
		t.Fatalf("supervisors got %q", sup)
	}
	if upd := e.slack.Called("chat.update"); len(upd) == 0 || strings.Contains(upd[len(upd)-1].Form.Get("blocks"), "kefu_resolve") {
		t.Errorf("resolved card should have no action buttons")
	}
}

func TestHighRatingNotEscalated(t *testing.T) {
	e := newEnv(t)
	e.desk.create(ticketGD1())
	e.desk.rate("GD20261123001", 4, "")
	e.sync(t)
	for _, c := range e.slack.Called("chat.postMessage") {
		if c.Form.Get("channel") == "CSUP" {
			t.Errorf("4/5 reached supervisors: %q", c.Form.Get("text"))
		}
	}
}

func TestRoutingAndSupervisors(t *testing.T) {
	tests := []struct {
		name   string
		t      bot.Ticket
		want   []string // channels that get a card
		supMsg string
	}{
		{"tech P1", bot.Ticket{No: "GD1001", Category: "tech", Priority: bot.P1}, []string{"CTECH"}, ""},
		{"custom to product", bot.Ticket{No: "GD1002", Category: "custom", Priority: bot.P2}, []string{"CPRODUCT"}, ""},
		{"unknown category to default team", bot.Ticket{No: "GD1003", Category: "other", Priority: bot.P2}, []string{"CGENERAL"}, ""},
		{"P0 also to supervisors", bot.Ticket{No: "GD1004", Category: "tech", Priority: bot.P0}, []string{"CTECH", "CSUP"}, ""},
		{"complaint to senior agents and supervisors", bot.Ticket{No: "GD1005", Category: "tech", Priority: bot.P1, Complaint: true}, []string{"CSENIOR", "CSUP"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.desk.create(tt.t)
			e.sync(t)
			var got []string
			for _, c := range e.slack.Called("chat.postMessage") {
				got = append(got, c.Form.Get("channel"))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("cards (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEscalateAndReopenReachSupervisors(t *testing.T) {
	e := newEnv(t)
	e.desk.create(ticketGD1())
	no := "GD20261123001"
	e.sync(t)
	e.slack.Reset()
	if got := e.command(t, agent1, "escalate "+no+" 客户要求赔偿"); !strings.Contains(got, "slack.done.escalated") {
		t.Fatalf("escalate: %q", got)
	}
	e.desk.mu.Lock()
	e.desk.event(no, "customer", bot.EvReopened, "问题没解决")
	e.desk.mu.Unlock()
	e.sync(t)
	var sup []string
	for _, c := range e.slack.Called("chat.postMessage") {
		if c.Form.Get("channel") == "CSUP" {
			sup = append(sup, c.Form.Get("text")+c.Form.Get("blocks"))
		}
	}
	joined := strings.Join(sup, "\n")
	for _, want := range []string{"slack.sup.escalated", "客户要求赔偿", "slack.sup.reopened", "问题没解决", no} {
		if !strings.Contains(joined, want) {
			t.Errorf("supervisors' channel lacks %q:\n%s", want, joined)
		}
	}
}

func TestNonAgentRefused(t *testing.T) {
	e := newEnv(t)
	e.desk.create(ticketGD1())
	no := "GD20261123001"
	e.sync(t)
	e.slack.Reset()
	for _, text := range []string{"claim " + no, "reply " + no + " hi", "list", "help", "status " + no + " closed"} {
		if got := e.command(t, stranger, text); got != "slack.refused" {
			t.Errorf("%q by a stranger: %q", text, got)
		}
	}
	e.do(t, slacktest.NewSignedRequest("/slack/interactions", "application/x-www-form-urlencoded",
		slacktest.InteractionBody(slacktest.ButtonPayload(stranger, "CTECH", actClaim, no)), time.Now(), testSecret))
	e.do(t, slacktest.NewSignedRequest("/slack/interactions", "application/x-www-form-urlencoded",
		slacktest.InteractionBody(slacktest.ButtonPayload(stranger, "CTECH", actReply, no)), time.Now(), testSecret))
	e.do(t, slacktest.NewSignedRequest("/slack/events", "application/json",
		slacktest.MessageEventBody("Ev9", stranger, "CTECH", "1763888600.000100", "1763888400.000001", "I am not an agent", false), time.Now(), testSecret))
	if calls, toCust := e.desk.snapshot(); len(calls) != 0 || len(toCust) != 0 {
		t.Errorf("a stranger reached the desk: %v %v", calls, toCust)
	}
	if got := len(e.slack.Called("views.open")); got != 0 {
		t.Errorf("stranger got a modal")
	}
	eph := e.slack.Called("chat.postEphemeral")
	if len(eph) != 3 {
		t.Fatalf("want 3 polite refusals, got %d", len(eph))
	}
	for _, c := range eph {
		if c.Form.Get("user") != stranger || !strings.Contains(c.Form.Get("text"), "refused") {
			t.Errorf("refusal %v", c.Form)
		}
	}
	if tk := e.desk.ticket(no); tk.Assignee != "" {
		t.Errorf("ticket changed: %+v", tk)
	}
}

func TestGroupMembersAreAgents(t *testing.T) {
	e := newEnv(t)
	e.desk.create(ticketGD1())
	if got := e.command(t, grpAgent, "claim GD20261123001"); !strings.Contains(got, "slack.done.claimed") {
		t.Fatalf("group agent: %q", got)
	}
	n := len(e.slack.Called("usergroups.users.list"))
	e.command(t, grpAgent, "list")
	if got := len(e.slack.Called("usergroups.users.list")); got != n {
		t.Errorf("group membership not cached: %d lookups after %d", got, n)
	}
}

func TestDoubleClaimRace(t *testing.T) {
	e := newEnv(t)
	e.desk.create(ticketGD1())
	no := "GD20261123001"
	var wg sync.WaitGroup
	answers := make([]string, 2)
	for i, u := range []string{agent1, agent2} {
		wg.Go(func() {
			r := slacktest.NewSignedRequest("/slack/commands", "application/x-www-form-urlencoded", slacktest.CommandBody(u, "CTECH", "claim "+no, ""), time.Now(), testSecret)
			w := httptest.NewRecorder()
			e.app.ServeHTTP(w, r)
			var m struct{ Text string }
			_ = json.Unmarshal(w.Body.Bytes(), &m)
			answers[i] = m.Text
		})
	}
	wg.Wait()
	won, lost := 0, 0
	for _, a := range answers {
		switch {
		case strings.Contains(a, "slack.done.claimed"):
			won++
		case strings.Contains(a, "slack.error.claimed_by"):
			lost++
		}
	}
	if won != 1 || lost != 1 {
		t.Fatalf("want exactly one winner: %q", answers)
	}
	winner := e.desk.ticket(no).Assignee
	if winner != "slack:"+agent1 && winner != "slack:"+agent2 {
		t.Fatalf("assignee %q", winner)
	}
	// The loser is told who holds it.
	for _, a := range answers {
		if strings.Contains(a, "claimed_by") && !strings.Contains(a, "<@"+slackUser(winner)+">") {
			t.Errorf("loser not told the winner: %q", a)
		}
	}
	// Same race through the buttons.
	e2 := newEnv(t)
	e2.desk.create(ticketGD1())
	for _, u := range []string{agent1, agent2} {
		wg.Go(func() {
			w := httptest.NewRecorder()
			e2.app.ServeHTTP(w, slacktest.NewSignedRequest("/slack/interactions", "application/x-www-form-urlencoded",
				slacktest.InteractionBody(slacktest.ButtonPayload(u, "CTECH", actClaim, no)), time.Now(), testSecret))
		})
	}
	wg.Wait()
	if err := e2.app.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, c := range e2.slack.Called("chat.postEphemeral") {
		texts = append(texts, c.Form.Get("text"))
	}
	joined := strings.Join(texts, "\n")
	if strings.Count(joined, "slack.done.claimed") != 1 || strings.Count(joined, "slack.error.claimed_by") != 1 {
		t.Errorf("button race answers: %q", texts)
	}
}

// raw re-encodes a JSON form field without HTML escaping, so tests can look for "<@U1>".
func raw(js string) string {
	var v any
	if err := json.Unmarshal([]byte(js), &v); err != nil {
		return js
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return b.String()
}

func TestResolveAgents(t *testing.T) {
	fs := slacktest.NewServer(t)
	fs.SetGroup("SAGENTS", "UG1", agent1)
	fs.SetGroup("SSUP", "UBOSS")
	got, err := ResolveAgents(t.Context(), Options{BotToken: slacktest.BotToken, APIURL: strings.TrimSuffix(fs.APIURL(), "/"),
		Agents:      Members{Users: []string{agent1}, Groups: []string{"SAGENTS"}},
		Supervisors: Members{Users: []string{supervisor}, Groups: []string{"SSUP"}}})
	if err != nil {
		t.Fatal(err)
	}
	want := []bot.AgentConfig{
		{ID: "slack:" + supervisor, Name: supervisor, Supervisor: true},
		{ID: "slack:UBOSS", Name: "UBOSS", Supervisor: true},
		{ID: "slack:" + agent1, Name: agent1},
		{ID: "slack:UG1", Name: "UG1"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := ResolveAgents(t.Context(), Options{BotToken: slacktest.BotToken, APIURL: fs.APIURL(), Agents: Members{Groups: []string{"SNONE"}}}); err == nil {
		t.Error("unknown group: no error")
	}
}

func TestRelayedKeyIgnoresNormalizing(t *testing.T) {
	if relayedKey("GD1", "slack:U1", "Ｈｅｌｌｏ，\u3000世界\t!\u200b") != relayedKey("GD1", "slack:U1", "Hello, 世界 !") {
		t.Error("NFKC/whitespace variants give different keys")
	}
	if relayedKey("GD1", "slack:U1", "hello") == relayedKey("GD1", "slack:U2", "hello") {
		t.Error("actor ignored")
	}
}
