package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
)

// apiCall makes one API request and checks the answer against openapi.yaml.
func apiCall(t *testing.T, doc openAPIDoc, base, method, path, tok string, body any, hdr ...string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, base+apiPrefix+path, rd)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	doc.checkAnswer(t, method, path, resp.StatusCode, out)
	return resp.StatusCode, out
}

// TestRESTAPICreateAndCustomers: a write token opens a ticket for its customer (found again by the
// customer id; the Idempotency-Key refuses a retried call), the ticket.created webhook goes out, an
// agent's reply to it is recorded as delivered to the integration (no adapter, nothing stuck in the
// outbox); a read token may not create but lists and shows customers, masked; errors carry a stable
// code and a message in the Accept-Language, zh-CN by default.
func TestRESTAPICreateAndCustomers(t *testing.T) {
	ctx := context.Background()
	dsn := filepath.Join(t.TempDir(), "kefu.db")
	env := dbEnv(dsn)
	read := apiToken(t, env, "create", "bi", "--scope", "read")
	write := apiToken(t, env, "create", "crm", "--scope", "write", "--as", "cli:crm-bot")
	hook := newHookReceiver(t)
	addWebhook(t, dsn, hook, "crm", hook.srv.URL, "--events", "ticket.created")
	s := startJourneyServer(t, dsn, nil, nil)
	doc := loadOpenAPI(t)
	call := func(method, path, tok string, body any, hdr ...string) (int, map[string]any) {
		t.Helper()
		return apiCall(t, doc, s.url, method, path, tok, body, hdr...)
	}

	newTicket := map[string]any{"customer": map[string]any{"id": "C-1001", "name": "王小明", "phone": "13812345678"},
		"description": "订单 202611200012345 的洗衣机漏水，客户电话 13812345678", "priority": "p1"}
	// Scope enforced: a read token may not create.
	if code, out := call("POST", "/tickets", read, newTicket); code != 403 || out["error"] != "insufficient_scope" {
		t.Fatalf("read token creating: %d %v", code, out)
	}
	code, out := call("POST", "/tickets", write, newTicket, "Idempotency-Key", "req-1")
	if code != 201 {
		t.Fatalf("create: %d %v", code, out)
	}
	tk := out["ticket"].(map[string]any)
	no := tk["no"].(string)
	if tk["customer"] != "王*" || tk["priority"] != "P1" || tk["channel"] != "api" || strings.Contains(fmt.Sprint(tk), "13812345678") {
		t.Errorf("created ticket %v: want masked customer, P1, channel api", tk)
	}
	// A retry with the same key opens nothing and answers with the first call's ticket.
	if code, out := call("POST", "/tickets", write, newTicket, "Idempotency-Key", "req-1"); code != 200 || out["ticket"].(map[string]any)["no"] != no {
		t.Errorf("retried create: %d %v, want 200 with %s", code, out, no)
	}
	// The same customer id is the same customer; another ticket without a key is a new ticket.
	newTicket["description"] = "烘干机也不转了"
	code, out = call("POST", "/tickets", write, newTicket)
	if code != 201 {
		t.Fatalf("second create: %d %v", code, out)
	}
	no2 := out["ticket"].(map[string]any)["no"].(string)
	for _, bad := range []map[string]any{
		{"customer": map[string]any{"id": "C-1"}},                  // no description
		{"customer": map[string]any{"id": ""}, "description": "x"}, // no customer id
		{"customer": map[string]any{"id": "C-1"}, "description": "x", "priority": "P9"},
		{"customer": map[string]any{"id": "C-1"}, "description": "x", "category": "no-such-category"},
	} {
		if code, out := call("POST", "/tickets", write, bad); code != 400 || out["error"] != "invalid_ticket" {
			t.Errorf("create %v: %d %v", bad, code, out)
		}
	}
	if code, out := call("POST", "/tickets", write, map[string]any{"customer": map[string]any{"id": "C-1", "email": "x@y"}, "description": "x"}); code != 400 || out["error"] != "invalid_json" {
		t.Errorf("unknown field: %d %v", code, out)
	}

	// The webhook went out once per created ticket.
	waitWithin(t, 10*time.Second, "ticket.created webhooks", func() bool { _, _, n, _, _ := hook.stats(); return n == 2 })

	// An agent replies from the CLI: recorded, delivered to the integration (no row left pending).
	s.cli("reply", no, "您好，师傅明天上午上门")
	rows, err := s.db.OutboxRows(ctx, bot.ChannelAPI, "")
	if err != nil || len(rows) != 1 || rows[0].Status != "sent" {
		t.Errorf("API channel outbox rows: %v %+v", err, rows)
	}
	if code, out := call("GET", "/tickets/"+no, read, nil); code != 200 || !strings.Contains(fmt.Sprint(out["events"]), "agent_reply") {
		t.Errorf("show %s: %d %v", no, code, out)
	}

	// Customers: listed and shown, masked, with their tickets.
	code, out = call("GET", "/customers?limit=500", read, nil)
	list, _ := out["customers"].([]any)
	var id float64
	for _, c := range list {
		m := c.(map[string]any)
		if m["name"] == "王*" {
			id = m["id"].(float64)
			if m["phone"] != "138****5678" || m["tickets"] != 2.0 || m["open_tickets"] != 2.0 || fmt.Sprint(m["channels"]) != "[api]" {
				t.Errorf("customer %v", m)
			}
		}
	}
	if code != 200 || id == 0 {
		t.Fatalf("customers: %d %v", code, out)
	}
	code, out = call("GET", fmt.Sprintf("/customers/%d", int64(id)), read, nil)
	if code != 200 || !strings.Contains(fmt.Sprint(out["tickets"]), no) || !strings.Contains(fmt.Sprint(out["tickets"]), no2) {
		t.Errorf("customer %v: %d %v", id, code, out)
	}
	if code, out := call("GET", "/customers/999999", read, nil); code != 404 || out["error"] != "customer_not_found" {
		t.Errorf("unknown customer: %d %v", code, out)
	}
	if code, out := call("GET", "/customers/abc", read, nil); code != 400 || out["error"] != "invalid_id" {
		t.Errorf("bad customer id: %d %v", code, out)
	}
	if code, out := call("GET", "/customers?after=0&limit=1", read, nil); code != 200 || out["next_after"] == nil {
		t.Errorf("a full page has no cursor: %d %v", code, out)
	}

	// Errors: a stable code, the message in the Accept-Language; zh-CN by default.
	for _, c := range []struct {
		lang, want string
	}{
		{"", "令牌无效"},
		{"en-US,en;q=0.9", "unknown or revoked"},
		{"fr-FR, en;q=0.5", "unknown or revoked"},
		{"zh-TW", "令牌无效"},
		{"de", "令牌无效"},
	} {
		code, out := call("GET", "/tickets", "kefu_forged", nil, "Accept-Language", c.lang)
		if code != 401 || out["error"] != "invalid_token" || !strings.Contains(fmt.Sprint(out["message"]), c.want) {
			t.Errorf("Accept-Language %q: %d %v, want %q", c.lang, code, out, c.want)
		}
	}
	if code, out := call("GET", "/tickets/GD19990101001", read, nil, "Accept-Language", "en"); code != 404 || out["message"] != "Ticket GD19990101001 was not found." {
		t.Errorf("unknown ticket: %d %v", code, out)
	}
	if _, _, n, _, _ := hook.stats(); n != 2 {
		t.Errorf("webhooks: %d ticket.created, want 2", n)
	}
}
