package console_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/kefu-dev/kefu/console"
	"github.com/kefu-dev/kefu/locales"
	"github.com/kefu-dev/kefu/storage/storetest"
	"github.com/kefu-dev/kefu/webhook"
)

// TestWebhookTestPing: the admins' Webhooks page lists the endpoints (never their secrets) and its
// test button posts a signed ping through the webhook sender, showing the receiver's status; a
// receiver that refuses is shown as such. Supervisors and agents are refused, and so is a POST
// without the CSRF token (nothing is sent).
func TestWebhookTestPing(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		base := newInboxEnvOn(t, false, open)
		var mu sync.Mutex
		var pings []string
		status := http.StatusNoContent
		var secret string
		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			defer mu.Unlock()
			if webhook.Verify(secret, r.Header.Get(webhook.HeaderSignature), b, time.Now(), time.Minute) == nil {
				pings = append(pings, r.Header.Get(webhook.HeaderEventType))
			}
			w.WriteHeader(status)
		}))
		t.Cleanup(recv.Close)
		ep, err := base.db.AddWebhook(t.Context(), "crm", recv.URL+"/hooks", nil)
		if err != nil {
			t.Fatal(err)
		}
		secret = ep.Secret
		c, err := console.New(console.Options{DB: base.db, BcryptCost: bcrypt.MinCost, T: locales.Default().T, Desk: base.eng,
			Webhooks: &webhook.Sender{Endpoints: base.db}})
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		mux.Handle("/console/", c)
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)
		e := &env{srv: srv, db: base.db}
		root, _ := e.signIn(t, "root", "password-root")
		sue, _ := e.signIn(t, "sue", "password-sue")

		_, page := get(t, root, srv.URL+"/console/webhooks?lang=en")
		if !strings.Contains(page, recv.URL+"/hooks") || !strings.Contains(page, `id="test-crm"`) || strings.Contains(page, "whsec_") {
			t.Fatalf("webhooks page: no endpoint, no test button, or a secret:\n%.3000s", page)
		}
		if !strings.Contains(page, `href="/console/webhooks"`) {
			t.Error("no link to the webhooks page for an admin")
		}
		csrf := csrfOf(t, page)
		resp, body := post(t, root, srv.URL+"/console/webhooks/test?lang=en", url.Values{"csrf": {csrf}, "name": {"crm"}})
		mu.Lock()
		got := append([]string(nil), pings...)
		mu.Unlock()
		if resp.StatusCode != http.StatusOK || len(got) != 1 || got[0] != webhook.Ping || !strings.Contains(body, `id="ping-result"`) || !strings.Contains(body, "204") {
			t.Fatalf("test ping: %d, receiver got %v\n%.3000s", resp.StatusCode, got, body)
		}
		mu.Lock()
		status = http.StatusInternalServerError
		mu.Unlock()
		_, body = post(t, root, srv.URL+"/console/webhooks/test?lang=en", url.Values{"csrf": {csrf}, "name": {"crm"}})
		if !strings.Contains(body, "500") || !strings.Contains(body, `class="error"`) {
			t.Errorf("a refusing receiver is not shown as a failure:\n%.3000s", body)
		}
		// A receiver that cannot be reached: no status, the error shown.
		dead := httptest.NewServer(http.NotFoundHandler())
		dead.Close()
		if _, err := base.db.AddWebhook(t.Context(), "down", dead.URL, nil); err != nil {
			t.Fatal(err)
		}
		if _, body := post(t, root, srv.URL+"/console/webhooks/test?lang=en", url.Values{"csrf": {csrf}, "name": {"down"}}); !strings.Contains(body, "could not reach down") || !strings.Contains(body, "connection refused") {
			t.Errorf("an unreachable receiver is not shown as such:\n%.3000s", body)
		}
		if resp, _ := post(t, root, srv.URL+"/console/webhooks/test", url.Values{"csrf": {csrf}, "name": {"nope"}}); resp.StatusCode != http.StatusNotFound {
			t.Errorf("unknown endpoint: %d", resp.StatusCode)
		}
		_, sp := get(t, sue, srv.URL+"/console/password")
		for name, tc := range map[string]struct {
			c    *http.Client
			form url.Values
		}{
			"supervisor":   {sue, url.Values{"csrf": {csrfOf(t, sp)}, "name": {"crm"}}},
			"without CSRF": {root, url.Values{"name": {"crm"}}},
		} {
			if resp, _ := post(t, tc.c, srv.URL+"/console/webhooks/test", tc.form); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s: %d, want 403", name, resp.StatusCode)
			}
		}
		if resp, _ := get(t, sue, srv.URL+"/console/webhooks"); resp.StatusCode != http.StatusForbidden {
			t.Errorf("supervisor opens the webhooks page: %d", resp.StatusCode)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(pings) != 2 {
			t.Errorf("the receiver got %d pings, want 2 (the refused requests send nothing)", len(pings))
		}
	})
}
