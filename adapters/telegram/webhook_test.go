package telegram

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
)

const (
	hookURL    = "https://kefu.example.com/telegram/webhook"
	hookSecret = "s3cr3t_-TOKEN"
)

func TestWebhook(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, func(o *Options) { o.WebhookURL, o.WebhookSecret = hookURL, hookSecret })

	reg := f.Calls("setWebhook")
	if len(reg) != 1 || reg[0].Params.Get("url") != hookURL || reg[0].Params.Get("secret_token") != hookSecret {
		t.Fatalf("setWebhook calls = %+v", reg)
	}
	post := func(secret *string, body string) int {
		r := httptest.NewRequest(http.MethodPost, "/telegram/webhook", strings.NewReader(body))
		if secret != nil {
			r.Header.Set(SecretHeader, *secret)
		}
		w := httptest.NewRecorder()
		a.ServeHTTP(w, r)
		return w.Code
	}
	right, wrong, empty := hookSecret, hookSecret+"x", ""
	update := `{"update_id":5000,` + strings.TrimPrefix(textUpdate(1, "你好"), "{")

	if code := post(&right, update); code != http.StatusServiceUnavailable {
		t.Errorf("before Run: status %d, want 503 so Telegram retries", code)
	}

	s := newStore()
	runAdapter(t, a, s)
	waitFor(t, func() bool { a.sinkMu.RLock(); defer a.sinkMu.RUnlock(); return a.sink != nil })

	tests := []struct {
		name   string
		secret *string
		body   string
		want   int
	}{
		{"missing secret", nil, update, http.StatusUnauthorized},
		{"empty secret", &empty, update, http.StatusUnauthorized},
		{"wrong secret", &wrong, update, http.StatusUnauthorized},
		{"prefix of the secret", func() *string { s := hookSecret[:5]; return &s }(), update, http.StatusUnauthorized},
		{"garbage body", &right, `{"update_id":`, http.StatusBadRequest},
		{"right secret", &right, update, http.StatusOK},
		{"redelivery", &right, update, http.StatusOK},
		{"ignored update is still 200", &right, `{"update_id":5001,"edited_message":{"message_id":1,"date":1,"chat":{"id":1,"type":"private"},"text":"x"}}`, http.StatusOK},
	}
	for _, tt := range tests {
		if code := post(tt.secret, tt.body); code != tt.want {
			t.Errorf("%s: status %d, want %d", tt.name, code, tt.want)
		}
	}
	if ids := s.msgIDs(); len(ids) != 1 || ids[0] != "m:42:1" {
		t.Errorf("stored %v, want [m:42:1] once", ids)
	}
	if s.dups != 1 {
		t.Errorf("duplicates = %d, want 1", s.dups)
	}
	if len(f.Calls("getUpdates")) != 0 {
		t.Error("webhook mode polled getUpdates")
	}

	// A failed store is a 500: Telegram delivers the update again.
	s.mu.Lock()
	s.fail = func(bot.Event, int) error { return errors.New("db down") }
	s.mu.Unlock()
	if code := post(&right, `{"update_id":5002,`+strings.TrimPrefix(textUpdate(2, "x"), "{")); code != http.StatusInternalServerError {
		t.Errorf("failed deliver: status %d, want 500", code)
	}
	r := httptest.NewRequest(http.MethodGet, "/telegram/webhook", nil)
	r.Header.Set(SecretHeader, hookSecret)
	w := httptest.NewRecorder()
	a.ServeHTTP(w, r)
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: status %d, want 405", w.Code)
	}
}

func TestWebhookOptionsValidated(t *testing.T) {
	f := newFakeAPI(t)
	for _, o := range []Options{
		{WebhookURL: hookURL},                              // no secret
		{WebhookURL: hookURL, WebhookSecret: "has space"},  // bad characters
		{WebhookURL: "ftp://x", WebhookSecret: hookSecret}, // bad URL
		{WebhookURL: hookURL, WebhookSecret: strings.Repeat("a", 257)},
	} {
		o.Token, o.APIURL = testToken, f.URL
		if _, err := New(t.Context(), o); err == nil {
			t.Errorf("New(%+v) succeeded", o)
		}
	}
	if len(f.Calls("setWebhook")) != 0 {
		t.Error("setWebhook called with invalid options")
	}
}

func TestNewErrors(t *testing.T) {
	f := newFakeAPI(t)
	if _, err := New(t.Context(), Options{APIURL: f.URL}); err == nil {
		t.Error("New without a token succeeded")
	}
	_, err := New(t.Context(), Options{Token: "999:wrong", APIURL: f.URL})
	if err == nil || strings.Contains(err.Error(), "999:wrong") {
		t.Errorf("New with a bad token = %v; want an error without the token", err)
	}
	if _, err := New(t.Context(), Options{Token: testToken, APIURL: "not a url"}); err == nil {
		t.Error("New with a bad API URL succeeded")
	}
}

func TestPollingAdapterIsNotAWebhook(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, nil)
	r := httptest.NewRequest(http.MethodPost, "/telegram/webhook", strings.NewReader(`{}`))
	r.Header.Set(SecretHeader, "")
	w := httptest.NewRecorder()
	a.ServeHTTP(w, r)
	if w.Code != http.StatusNotFound {
		t.Errorf("status %d, want 404", w.Code)
	}
}

func TestWebhookRunReturnsOnCancel(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, func(o *Options) { o.WebhookURL, o.WebhookSecret = hookURL, hookSecret })
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, newStore()) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}
