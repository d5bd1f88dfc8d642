package console_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
)

// TestHandOffConsole: a WeCom ticket's page offers the hand-off to the agent's WeCom servicer; it runs
// Options.HandOff as the signed-in agent (a note records it), a refusal re-renders the page (409) with
// its text, and a ticket on another channel shows no button.
func TestHandOffConsole(t *testing.T) {
	e := newInboxEnv(t, true)
	wecomNo := e.seedOn(t, bot.ChannelWeCom, testNow.Add(-time.Hour), "洗衣机漏水")
	webNo := e.seedOn(t, bot.ChannelWeb, testNow.Add(-time.Hour), "洗衣机漏水")
	alice, _ := e.signIn(t, "alice", "password-alice")
	bob, _ := e.signIn(t, "bob", "password-bob")

	_, page := get(t, alice, e.srv.URL+"/console/tickets/"+wecomNo)
	if !strings.Contains(page, `id="form-handoff"`) {
		t.Fatal("WeCom ticket page lacks the hand-off button")
	}
	if _, web := get(t, alice, e.srv.URL+"/console/tickets/"+webNo); strings.Contains(web, `id="form-handoff"`) {
		t.Error("web ticket page shows the WeCom hand-off button")
	}
	resp, body := post(t, alice, e.srv.URL+"/console/tickets/"+wecomNo+"/handoff", url.Values{"csrf": {csrfOf(t, page)}})
	if resp.StatusCode != 303 || len(e.handedOff) != 1 || e.handedOff[0] != "cli:alice "+wecomNo {
		t.Fatalf("hand-off: %d, calls %v\n%.400s", resp.StatusCode, e.handedOff, body)
	}
	_, evs, _ := e.eng.Ticket(context.Background(), wecomNo)
	if n := len(evs); n == 0 || evs[n-1].Kind != bot.EvNote || !strings.Contains(evs[n-1].Text, "lisi") {
		t.Errorf("no note recorded: %+v", evs)
	}
	_, bpage := get(t, bob, e.srv.URL+"/console/tickets/"+wecomNo)
	resp, body = post(t, bob, e.srv.URL+"/console/tickets/"+wecomNo+"/handoff", url.Values{"csrf": {csrfOf(t, bpage)}})
	if resp.StatusCode != 409 || !strings.Contains(body, "没有对应的企业微信接待人员") || len(e.handedOff) != 1 {
		t.Errorf("refused hand-off: %d, calls %v", resp.StatusCode, e.handedOff)
	}
}
