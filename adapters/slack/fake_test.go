package slack

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// call is one request the fake Slack Web API received.
type call struct {
	Method string
	Form   url.Values     // form-encoded calls (chat.*, users.info …)
	JSON   map[string]any // JSON calls (views.open) and response_url posts
}

// fakeSlack is an httptest server speaking the parts of Slack's Web API kefu uses. It records calls.
type fakeSlack struct {
	srv    *httptest.Server
	mu     sync.Mutex
	calls  []call
	ts     int
	groups map[string][]string // usergroup id -> members
	fail   map[string][]int    // method -> queued HTTP statuses to answer before succeeding (429 …)
	wsURL  string              // answered by apps.connections.open (Socket Mode)
	notify chan call           // when set, every recorded call is also sent here
}

func newFakeSlack(t testing.TB) *fakeSlack {
	f := &fakeSlack{groups: map[string][]string{}, fail: map[string][]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeSlack) URL() string { return f.srv.URL + "/api/" }

func (f *fakeSlack) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	c := call{}
	if strings.HasPrefix(r.URL.Path, "/response/") {
		c.Method = "response_url"
		_ = json.Unmarshal(body, &c.JSON)
	} else {
		c.Method = strings.TrimPrefix(r.URL.Path, "/api/")
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			_ = json.Unmarshal(body, &c.JSON)
		} else {
			c.Form, _ = url.ParseQuery(string(body))
		}
	}
	f.mu.Lock()
	if q := f.fail[c.Method]; len(q) > 0 {
		status := q[0]
		f.fail[c.Method] = q[1:]
		f.mu.Unlock()
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(status)
		return
	}
	f.calls = append(f.calls, c)
	if f.notify != nil {
		select {
		case f.notify <- c:
		default:
		}
	}
	f.ts++
	ts := fmt.Sprintf("1763888400.%06d", f.ts)
	members := f.groups[c.Form.Get("usergroup")]
	f.mu.Unlock()

	var resp any
	switch c.Method {
	case "response_url":
		_, _ = w.Write([]byte("ok"))
		return
	case "auth.test":
		resp = map[string]any{"ok": true, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1"}
	case "chat.postMessage":
		resp = map[string]any{"ok": true, "channel": c.Form.Get("channel"), "ts": ts}
		if c.Form.Get("channel") == "CGONE" {
			resp = map[string]any{"ok": false, "error": "channel_not_found"}
		}
	case "chat.update":
		resp = map[string]any{"ok": true, "channel": c.Form.Get("channel"), "ts": c.Form.Get("ts")}
	case "chat.postEphemeral":
		resp = map[string]any{"ok": true, "message_ts": ts}
	case "views.open":
		resp = map[string]any{"ok": true, "view": map[string]any{"id": "V" + strconv.Itoa(f.ts)}}
	case "users.info":
		u := c.Form.Get("user")
		resp = map[string]any{"ok": true, "user": map[string]any{"id": u, "name": strings.ToLower(u),
			"real_name": "Agent " + u, "profile": map[string]any{"display_name": "agent-" + strings.ToLower(u)}}}
	case "usergroups.users.list":
		if members == nil {
			resp = map[string]any{"ok": false, "error": "no_such_subteam"}
		} else {
			resp = map[string]any{"ok": true, "users": members}
		}
	case "apps.connections.open":
		resp = map[string]any{"ok": true, "url": f.wsURL}
	case "conversations.replies":
		resp = map[string]any{"ok": true, "messages": []any{}, "has_more": false}
	default:
		resp = map[string]any{"ok": false, "error": "unknown_method"}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

// called returns the recorded calls of the given methods (all when none given).
func (f *fakeSlack) called(methods ...string) []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []call
	for _, c := range f.calls {
		if len(methods) == 0 || slices.Contains(methods, c.Method) {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeSlack) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = nil
}

const testSecret = "8f742231b10e8888abcd99yyyzzz85a5"

// signed builds a request to kefu's endpoint signed like Slack does (v0, HMAC-SHA256).
func signed(path, contentType, body string, at time.Time, secret string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	r.Header.Set("Content-Type", contentType)
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%s:%s", ts, body)
	r.Header.Set("X-Slack-Request-Timestamp", ts)
	r.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	return r
}

func commandBody(user, text, responseURL string) string {
	return url.Values{"command": {"/kefu"}, "text": {text}, "user_id": {user}, "user_name": {strings.ToLower(user)},
		"channel_id": {"CTECH"}, "team_id": {"T1"}, "response_url": {responseURL}, "trigger_id": {"trig"}}.Encode()
}

func interactionBody(payload any) string {
	b, _ := json.Marshal(payload)
	return url.Values{"payload": {string(b)}}.Encode()
}

// buttonPayload is a block_actions payload for a card button.
func buttonPayload(user, channel, actionID, value string) map[string]any {
	act := map[string]any{"action_id": actionID, "block_id": "kefu_actions", "type": "button", "value": value}
	if actionID == actPriority {
		act = map[string]any{"action_id": actionID, "block_id": "kefu_actions", "type": "static_select",
			"selected_option": map[string]any{"value": value}}
	}
	return map[string]any{
		"type": "block_actions", "trigger_id": "trig-1", "user": map[string]any{"id": user, "name": strings.ToLower(user)},
		"channel": map[string]any{"id": channel}, "container": map[string]any{"channel_id": channel},
		"actions": []any{act},
	}
}

func messageEventBody(eventID, user, channel, ts, threadTS, text string, bot bool) string {
	ev := map[string]any{"type": "message", "user": user, "text": text, "ts": ts, "channel": channel,
		"channel_type": "channel", "event_ts": ts}
	if threadTS != "" {
		ev["thread_ts"] = threadTS
	}
	if bot {
		ev["bot_id"] = "BBOT"
		ev["subtype"] = "bot_message"
	}
	b, _ := json.Marshal(map[string]any{"token": "x", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
		"event_id": eventID, "event_time": 1763888400, "event": ev})
	return string(b)
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }
