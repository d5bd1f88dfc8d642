package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/console"
	"github.com/kefu-dev/kefu/storage"
)

// TestAgentWithoutAgentIDSeesNothing: an agent account created without an agent id sees no
// tickets at all (not everyone's), whatever agent filter it asks for, on the JSON report and on
// the dashboard page. Guard: consoleFilter's "\x00none" for an agent without an agent id.
func TestAgentWithoutAgentIDSeesNothing(t *testing.T) {
	e := newEnv(t, 20)
	hash, err := console.HashPassword("password-noid", bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.CreateUser(t.Context(), storage.User{Name: "noid", Role: "agent", PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	sup, _ := e.signIn(t, "sup", "password-sup")
	all := reportOf(t, sup, e.srv.URL+"/console/report.json")
	if all.TicketsCreated == 0 {
		t.Fatal("the demo data has no tickets; the check below would prove nothing")
	}
	noid, _ := e.signIn(t, "noid", "password-noid")
	for _, q := range []string{"", "?agent=", "?agent=cli:alice", "?agent=%00none"} {
		r := reportOf(t, noid, e.srv.URL+"/console/report.json"+q)
		if r.TicketsCreated != 0 || len(r.Agents) != 0 || len(r.Channels) != 0 {
			t.Errorf("report.json%s for an agent without agent id: %d tickets, %d agent rows, %d channel rows; want nothing",
				q, r.TicketsCreated, len(r.Agents), len(r.Channels))
		}
	}
	resp, body := get(t, noid, e.srv.URL+"/console/")
	if resp.StatusCode != 200 {
		t.Fatalf("dashboard: %d", resp.StatusCode)
	}
	for _, a := range all.Agents {
		if a.Key != "" && strings.Contains(body, a.Key) {
			t.Errorf("the dashboard of an agent without agent id names agent %q", a.Key)
		}
	}
}

// TestInboxRoutesGuarded: every inbox route needs a session (GET → sign-in page, POST → 401), and
// every ticket action needs the session's CSRF token: without it or with a wrong one the answer is
// 403 and the ticket, its trail and the customer's outbox stay as they were.
func TestInboxRoutesGuarded(t *testing.T) {
	e := newInboxEnv(t, false)
	no := e.seed(t, "", "", "我的快递三天没动了")
	anon := e.client()
	for _, p := range []string{"/console/inbox", "/console/inbox?view=all", "/console/tickets/" + no} {
		resp, _ := get(t, anon, e.srv.URL+p)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/login" {
			t.Errorf("GET %s without a session: %d %q", p, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	alice, _ := e.signIn(t, "alice", "password-alice")
	_, page := get(t, alice, e.srv.URL+"/console/tickets/"+no)
	good := csrfOf(t, page)
	_, evs0, _ := e.eng.Ticket(t.Context(), no)
	for _, action := range []string{"claim", "assign", "team", "reply", "faq", "note", "priority", "status", "resolve", "close",
		"escalate", "ack", "complaint", "level", "propose", "approve", "reject", "visit"} {
		form := url.Values{"text": {"hello"}, "assignee": {"cli:alice"}, "team": {"tech"}, "priority": {"P0"}, "status": {"pending"},
			"level": {"1"}, "solution": {"reship"}, "outcome": {"satisfied"}, "faq": {"order-track"}, "proposal": {"1"}}
		if resp, _ := post(t, anon, e.srv.URL+"/console/tickets/"+no+"/"+action, form); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("POST %s without a session: %d, want 401", action, resp.StatusCode)
		}
		for _, tok := range []string{"", "x" + good} {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			if tok != "" {
				f.Set("csrf", tok)
			}
			if resp, _ := post(t, alice, e.srv.URL+"/console/tickets/"+no+"/"+action, f); resp.StatusCode != http.StatusForbidden {
				t.Errorf("POST %s with csrf %q: %d, want 403", action, tok, resp.StatusCode)
			}
		}
	}
	tk, evs, _ := e.eng.Ticket(t.Context(), no)
	if len(evs) != len(evs0) || tk.Assignee != "" || tk.Priority != bot.P2 || tk.Status != bot.StatusOpen || len(e.acked) != 0 {
		t.Errorf("refused requests changed the ticket: %d→%d events, assignee %q, %s, %s, acks %v", len(evs0), len(evs), tk.Assignee, tk.Priority, tk.Status, e.acked)
	}
	if out := e.outbound(t, no); len(out) != 0 {
		t.Errorf("refused requests queued %q for the customer", out)
	}
	if resp, _ := post(t, alice, e.srv.URL+"/console/tickets/"+no+"/delete", url.Values{"csrf": {good}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown action: %d, want 404", resp.StatusCode)
	}
}
