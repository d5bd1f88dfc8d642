package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/kefu-dev/kefu/storage/storetest"
)

var collisionDiv = regexp.MustCompile(`<div id="collision"([^>]*)>([^<]*)</div>`)

// TestCollisionNoticeWithoutJavaScript: the ticket page carries the collision notice in its HTML on
// load (from the presence the heartbeats record, and opening the page counts as viewing), so an
// agent without JavaScript sees who else has the ticket open; in the page's language; never oneself.
func TestCollisionNoticeWithoutJavaScript(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		e := newInboxEnvOn(t, true, open)
		no := e.seed(t, "", "", "洗衣机不转了")
		alice, _ := e.signIn(t, "alice", "password-alice")
		sue, _ := e.signIn(t, "sue", "password-sue")
		bob, _ := e.signIn(t, "bob", "password-bob")
		page := func(c *http.Client, lang string) (attrs, notice string) {
			t.Helper()
			u := e.srv.URL + "/console/tickets/" + no
			if lang != "" {
				u += "?lang=" + lang
			}
			_, body := get(t, c, u)
			m := collisionDiv.FindStringSubmatch(body)
			if m == nil {
				t.Fatalf("no collision notice element on the ticket page:\n%.2000s", body)
			}
			return m[1], strings.TrimSpace(m[2])
		}
		if attrs, notice := page(alice, ""); notice != "" || !strings.Contains(attrs, "hidden") {
			t.Errorf("alone on the ticket: notice %q (%s), want none, hidden", notice, attrs)
		}
		if attrs, notice := page(sue, ""); notice != "alice 正在查看此工单" || strings.Contains(attrs, "hidden") {
			t.Errorf("sue opens the ticket alice has open: notice %q (%s)", notice, attrs)
		}
		// bob is replying (his page's heartbeat says so); alice reloads, in English.
		_, pg := get(t, bob, e.srv.URL+"/console/password")
		post(t, bob, e.srv.URL+"/console/tickets/"+no+"/presence", url.Values{"csrf": {csrfOf(t, pg)}, "state": {"replying"}})
		if _, notice := page(alice, "en"); notice != "bob is replying to this ticket sue is viewing this ticket" {
			t.Errorf("alice reloads: notice %q, want bob replying and sue viewing, in English", notice)
		}
	})
}
