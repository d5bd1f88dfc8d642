package console_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/console"
	"github.com/kefu-dev/kefu/locales"
	"github.com/kefu-dev/kefu/storage"
	"github.com/kefu-dev/kefu/storage/storetest"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestRevealPersonalData: a supervisor or an admin reveals one field of the customer's personal data
// on the ticket page, with a reason: the answer shows that field in full, is not cacheable, and the
// reveal is in the personal-data audit log and the ticket's audit trail (who, when, ticket, field,
// reason); the next load is masked again. Agents, a missing reason, an unknown field and a missing
// CSRF token are refused with nothing shown and nothing recorded; nothing is logged in full.
func TestRevealPersonalData(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		ctx := context.Background()
		base := newInboxEnvOn(t, false, open)
		logs := &syncBuf{}
		c, err := console.New(console.Options{DB: base.db, Now: func() time.Time { return testNow }, BcryptCost: bcrypt.MinCost,
			T: locales.Default().T, Desk: base.eng, Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		mux.Handle("/console/", c)
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)
		e := &inboxEnv{env: &env{srv: srv, db: base.db}, eng: base.eng}

		no := e.seed(t, "", "", "空调不制冷，请尽快回电")
		tk, _, err := e.eng.Ticket(ctx, no)
		if err != nil {
			t.Fatal(err)
		}
		phone, name := tk.CustomerPhone, tk.CustomerName
		reason := "回拨客户确认上门时间"
		sue, _ := e.signIn(t, "sue", "password-sue")
		root, _ := e.signIn(t, "root", "password-root")
		alice, _ := e.signIn(t, "alice", "password-alice")
		pageURL := srv.URL + "/console/tickets/" + no
		_, page := get(t, sue, pageURL)
		if !strings.Contains(page, `id="form-reveal"`) || strings.Contains(page, phone) {
			t.Fatalf("supervisor's ticket page: no reveal form, or the phone unmasked")
		}
		if _, ap := get(t, alice, pageURL); strings.Contains(ap, `id="form-reveal"`) {
			t.Error("an agent's ticket page offers the reveal")
		}
		reveal := func(c *http.Client, f url.Values) (*http.Response, string) {
			t.Helper()
			return post(t, c, pageURL+"/reveal", f)
		}
		audits := func() []storage.Access {
			a, err := e.db.AccessLog(ctx, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		trail := func() []bot.TicketEvent {
			_, evs, err := e.eng.Ticket(ctx, no)
			if err != nil {
				t.Fatal(err)
			}
			var out []bot.TicketEvent
			for _, ev := range evs {
				if ev.Kind == bot.EvRevealed {
					out = append(out, ev)
				}
			}
			return out
		}
		csrfSue, csrfAlice := csrfOf(t, page), csrfOf(t, func() string { _, b := get(t, alice, pageURL); return b }())

		for _, tc := range []struct {
			name   string
			c      *http.Client
			form   url.Values
			status int
		}{
			{"agent", alice, url.Values{"csrf": {csrfAlice}, "field": {"phone"}, "reason": {reason}}, http.StatusForbidden},
			{"no reason", sue, url.Values{"csrf": {csrfSue}, "field": {"phone"}, "reason": {"  "}}, http.StatusBadRequest},
			{"unknown field", sue, url.Values{"csrf": {csrfSue}, "field": {"address"}, "reason": {reason}}, http.StatusBadRequest},
			{"no CSRF token", sue, url.Values{"field": {"phone"}, "reason": {reason}}, http.StatusForbidden},
		} {
			resp, body := reveal(tc.c, tc.form)
			if resp.StatusCode != tc.status || strings.Contains(body, phone) {
				t.Errorf("%s: %d (want %d), phone shown %v", tc.name, resp.StatusCode, tc.status, strings.Contains(body, phone))
			}
		}
		if a, tr := audits(), trail(); len(a) != 0 || len(tr) != 0 {
			t.Fatalf("refused reveals were recorded: %+v %+v", a, tr)
		}

		resp, body := reveal(sue, url.Values{"csrf": {csrfSue}, "field": {"phone"}, "reason": {reason}})
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, phone) || strings.Contains(body, name) {
			t.Fatalf("supervisor reveals the phone: %d, phone shown %v, name shown %v", resp.StatusCode, strings.Contains(body, phone), strings.Contains(body, name))
		}
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
			t.Errorf("reveal answer Cache-Control %q, want no-store", cc)
		}
		if _, again := get(t, sue, pageURL); strings.Contains(again, phone) {
			t.Error("the next load of the page still shows the phone")
		}
		a := audits()
		if len(a) != 1 || a[0].Actor != "console:sue" || a[0].Action != storage.AccessReveal || a[0].Via != "console" || a[0].TicketNo != no ||
			a[0].CustomerID != tk.CustomerID || a[0].Detail != "field=phone" || a[0].At.IsZero() {
			t.Errorf("personal-data audit log: %+v", a)
		}
		tr := trail()
		if len(tr) != 1 || tr[0].Actor != "console:sue" || !tr[0].Internal || tr[0].Text != "phone: "+reason {
			t.Errorf("ticket audit trail: %+v", tr)
		}

		// An admin reveals the name (no agent id needed); the phone stays masked in that answer.
		_, rp := get(t, root, pageURL)
		resp, body = reveal(root, url.Values{"csrf": {csrfOf(t, rp)}, "field": {"name"}, "reason": {"核对客户身份"}})
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, name) || strings.Contains(body, phone) {
			t.Errorf("admin reveals the name: %d, name shown %v, phone shown %v", resp.StatusCode, strings.Contains(body, name), strings.Contains(body, phone))
		}
		if a := audits(); len(a) != 2 || a[0].Actor != "console:root" || a[0].Detail != "field=name" {
			t.Errorf("admin's reveal not audited: %+v", a)
		}
		for _, secret := range []string{phone, name, reason} {
			if strings.Contains(logs.String(), secret) {
				t.Errorf("the console's log holds %q:\n%s", secret, logs.String())
			}
		}
	})
}

// TestRevealEventHasThreadLine: the reveal's audit event reaches the Slack card's thread like every
// event (adapters/slack renders "slack.event.<kind>"): both languages have its line, with the text.
func TestRevealEventHasThreadLine(t *testing.T) {
	cat := locales.Default()
	key := "slack.event." + string(bot.EvRevealed)
	for _, lang := range cat.Langs() {
		if got := cat.T(lang, key, map[string]any{"text": "phone: 回拨"}); got == key || !strings.Contains(got, "phone: 回拨") {
			t.Errorf("%s: %s renders %q", lang, key, got)
		}
	}
}
