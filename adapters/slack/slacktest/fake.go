// Package slacktest is a fake Slack Web API for tests, plus helpers that sign requests to kefu's
// Slack endpoints the way Slack does (v0 HMAC-SHA256 signatures). Point slack-go at Server.APIURL();
// every call is recorded (Called) with its form or JSON body.
//
// Methods: auth.test, chat.postMessage, chat.update, chat.postEphemeral, views.open, users.info,
// usergroups.users.list (SetGroup), apps.connections.open, conversations.replies, and response_url
// posts under /response/. FailNext queues HTTP errors (429 …) for a method.
//
// The fake is as strict as Slack's documented contract: every Web API call must carry BotToken (as
// Slack accepts it: "Authorization: Bearer" or the form's token field; apps.connections.open takes
// AppToken) or it answers not_authed / invalid_auth; chat.* calls need a channel that exists (a
// Slack id such as CTECH; "CGONE" and names answer channel_not_found), a message needs text or
// blocks (no_text), text is at most 40,000 characters (msg_too_long), blocks keep Block Kit's limits
// (invalid_blocks: unique block and action ids, button text and value lengths …), chat.update needs
// the ts of a message (message_not_found), and a response_url post needs a JSON body with text or
// blocks.
// Refused calls are not in Called; Refused lists them with the error.
package slacktest

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
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Call is one request the fake Slack Web API received.
type Call struct {
	Method string
	Form   url.Values     // form-encoded calls (chat.*, users.info …)
	JSON   map[string]any // JSON calls (views.open) and response_url posts
	TS     string         // chat.postMessage: the ts the fake answered (the message's id)
	Error  string         // Refused calls: the error the fake answered (not_authed, no_text …)
}

const (
	BotToken = "xoxb-test" // the only bot token the fake accepts
	AppToken = "xapp-test" // the only app-level token apps.connections.open accepts (Socket Mode)
)

// Server is an httptest server speaking the parts of Slack's Web API kefu uses. It records calls.
type Server struct {
	*httptest.Server
	mu      sync.Mutex
	calls   []Call
	refused []Call
	ts      int
	groups  map[string][]string // usergroup id -> members
	fail    map[string][]int    // method -> queued HTTP statuses to answer before succeeding (429 …)
	wsURL   string              // answered by apps.connections.open (Socket Mode)
	notify  chan Call           // when set, every recorded call is also sent here
}

// NewServer starts a fake Slack; it stops when the test ends.
func NewServer(t testing.TB) *Server {
	f := &Server{groups: map[string][]string{}, fail: map[string][]int{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Server.Close)
	t.Cleanup(func() {
		for _, c := range f.Refused() {
			t.Logf("fake Slack refused %s (channel %q): %s", c.Method, c.Form.Get("channel"), c.Error)
		}
	})
	return f
}

// APIURL is the Web API base URL to configure (KEFU_SLACK_API_URL).
func (f *Server) APIURL() string { return f.URL + "/api/" }

// ResponseURL is a response_url the fake accepts (recorded as method "response_url").
func (f *Server) ResponseURL(name string) string { return f.URL + "/response/" + name }

func (f *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	c := Call{}
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
	if msg := check(r, c); msg != "" {
		c.Error = msg
		f.mu.Lock()
		f.refused = append(f.refused, c)
		f.mu.Unlock()
		if c.Method == "response_url" {
			http.Error(w, msg, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": msg})
		return
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
	f.ts++
	ts := fmt.Sprintf("1763888400.%06d", f.ts)
	if c.Method == "chat.postMessage" {
		c.TS = ts
	}
	f.calls = append(f.calls, c)
	if f.notify != nil {
		select {
		case f.notify <- c:
		default:
		}
	}
	members := f.groups[c.Form.Get("usergroup")]
	wsURL, seq := f.wsURL, f.ts
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
	case "chat.update":
		resp = map[string]any{"ok": true, "channel": c.Form.Get("channel"), "ts": c.Form.Get("ts")}
	case "chat.postEphemeral":
		resp = map[string]any{"ok": true, "message_ts": ts}
	case "views.open":
		resp = map[string]any{"ok": true, "view": map[string]any{"id": "V" + strconv.Itoa(seq)}}
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
		resp = map[string]any{"ok": true, "url": wsURL}
	case "conversations.replies":
		resp = map[string]any{"ok": true, "messages": []any{}, "has_more": false}
	default:
		resp = map[string]any{"ok": false, "error": "unknown_method"}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

// channelID is what a Slack conversation id looks like (public C…, private G…, DM D…); a user id
// (U…, W…) is accepted by chat.postMessage, which posts to the app's DM with that user.
var (
	channelID = regexp.MustCompile(`^[CGD][A-Z0-9]{2,}$`)
	userID    = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)
)

// check returns the error Slack would answer to call c (with its request r), or "".
func check(r *http.Request, c Call) string {
	if c.Method == "response_url" {
		if c.JSON == nil {
			return "invalid_payload"
		}
		if del, _ := c.JSON["delete_original"].(bool); del {
			return ""
		}
		if !hasMessage(c.JSON["text"], c.JSON["blocks"]) {
			return "no_text"
		}
		return invalidBlocks(c.JSON["blocks"])
	}
	token := c.Form.Get("token")
	if b, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		token = b
	}
	if token == "" {
		token = r.URL.Query().Get("token")
	}
	want := BotToken
	if c.Method == "apps.connections.open" {
		want = AppToken
	}
	switch {
	case token == "":
		return "not_authed"
	case token != want:
		return "invalid_auth"
	}
	get := func(k string) any {
		if c.JSON != nil {
			return c.JSON[k]
		}
		if v, ok := c.Form[k]; ok {
			return v[0]
		}
		return nil
	}
	str := func(k string) string { v, _ := get(k).(string); return v }
	switch c.Method {
	case "chat.postMessage", "chat.update", "chat.postEphemeral", "conversations.replies":
		ch := str("channel")
		if !channelID.MatchString(ch) && !(c.Method == "chat.postMessage" && userID.MatchString(ch)) || ch == "CGONE" {
			return "channel_not_found"
		}
	}
	switch c.Method {
	case "chat.postMessage", "chat.update", "chat.postEphemeral":
		if !hasMessage(get("text"), get("blocks")) && !hasMessage(nil, get("attachments")) {
			return "no_text"
		}
		if len([]rune(str("text"))) > 40000 {
			return "msg_too_long"
		}
		if e := invalidBlocks(get("blocks")); e != "" {
			return e
		}
	}
	switch c.Method {
	case "chat.update":
		if str("ts") == "" {
			return "message_not_found"
		}
	case "chat.postEphemeral":
		if str("user") == "" {
			return "user_not_in_channel"
		}
	case "conversations.replies":
		if str("ts") == "" {
			return "thread_not_found"
		}
	case "users.info":
		if str("user") == "" {
			return "user_not_found"
		}
	case "views.open":
		if str("trigger_id") == "" {
			return "invalid_trigger_id"
		}
		if get("view") == nil {
			return "invalid_arguments"
		}
	}
	return ""
}

// invalidBlocks checks a message's Block Kit the way Slack does (its documented limits), answering
// "invalid_blocks" when broken: at most 50 blocks; block_id unique in the message and at most 255
// characters; action_id unique within its block and at most 255; a button's text plain_text of at
// most 75 characters and its value at most 2000; section text at most 3000; a header's text at most
// 150; at most 10 context elements and 25 actions elements.
func invalidBlocks(blocks any) string {
	var list []any
	switch b := blocks.(type) {
	case nil:
		return ""
	case []any:
		list = b
	case string:
		if b == "" {
			return ""
		}
		if json.Unmarshal([]byte(b), &list) != nil {
			return "invalid_blocks_format"
		}
	default:
		return "invalid_blocks_format"
	}
	if len(list) > 50 {
		return "invalid_blocks"
	}
	textLen := func(o any) int {
		m, _ := o.(map[string]any)
		s, _ := m["text"].(string)
		return len([]rune(s))
	}
	element := func(el map[string]any, actions map[string]bool) bool {
		id, _ := el["action_id"].(string)
		if id != "" {
			if actions[id] || len(id) > 255 {
				return false
			}
			actions[id] = true
		}
		if el["type"] == "button" {
			txt, _ := el["text"].(map[string]any)
			v, _ := el["value"].(string)
			if txt["type"] != "plain_text" || textLen(txt) == 0 || textLen(txt) > 75 || len(v) > 2000 {
				return false
			}
		}
		return true
	}
	seen := map[string]bool{}
	for _, x := range list {
		b, ok := x.(map[string]any)
		if !ok {
			return "invalid_blocks"
		}
		if id, _ := b["block_id"].(string); id != "" {
			if seen[id] || len(id) > 255 {
				return "invalid_blocks"
			}
			seen[id] = true
		}
		actions := map[string]bool{}
		els, _ := b["elements"].([]any)
		switch b["type"] {
		case "section":
			if textLen(b["text"]) > 3000 {
				return "invalid_blocks"
			}
			if acc, ok := b["accessory"].(map[string]any); ok && !element(acc, actions) {
				return "invalid_blocks"
			}
		case "header":
			if textLen(b["text"]) > 150 {
				return "invalid_blocks"
			}
		case "context":
			if len(els) == 0 || len(els) > 10 {
				return "invalid_blocks"
			}
		case "actions":
			if len(els) == 0 || len(els) > 25 {
				return "invalid_blocks"
			}
			for _, e := range els {
				el, _ := e.(map[string]any)
				if el == nil || !element(el, actions) {
					return "invalid_blocks"
				}
			}
		}
	}
	return ""
}

// hasMessage reports whether text (a string) or blocks (a JSON list, or its encoding in a form
// field) carry something to show.
func hasMessage(text, blocks any) bool {
	if s, _ := text.(string); strings.TrimSpace(s) != "" {
		return true
	}
	switch b := blocks.(type) {
	case []any:
		return len(b) > 0
	case string:
		var l []any
		return json.Unmarshal([]byte(b), &l) == nil && len(l) > 0
	}
	return false
}

// Refused returns the calls of the given methods (all when none given) that the fake refused, with
// the error it answered.
func (f *Server) Refused(methods ...string) []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Call
	for _, c := range f.refused {
		if len(methods) == 0 || slices.Contains(methods, c.Method) {
			out = append(out, c)
		}
	}
	return out
}

// Called returns the recorded calls of the given methods (all when none given).
func (f *Server) Called(methods ...string) []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Call
	for _, c := range f.calls {
		if len(methods) == 0 || slices.Contains(methods, c.Method) {
			out = append(out, c)
		}
	}
	return out
}

// Reset forgets the recorded calls.
func (f *Server) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls, f.refused = nil, nil
}

// SetSocketURL sets the websocket URL apps.connections.open answers (Socket Mode).
func (f *Server) SetSocketURL(u string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.wsURL = u
}

// Notify returns a channel (buffered for n calls) that receives every call recorded from now on; a
// call that finds it full is not sent there (it is still recorded).
func (f *Server) Notify(n int) <-chan Call {
	ch := make(chan Call, n)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.notify = ch
	return ch
}

// SetGroup sets the members of a user group (usergroups.users.list).
func (f *Server) SetGroup(id string, members ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.groups[id] = members
}

// FailNext makes the next calls to method answer the given HTTP statuses (with Retry-After: 1)
// before succeeding.
func (f *Server) FailNext(method string, statuses ...int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail[method] = append(f.fail[method], statuses...)
}

// Sign sets the X-Slack-Request-Timestamp and X-Slack-Signature headers of r for body, as Slack
// signs a request sent at at with the app's signing secret.
func Sign(r *http.Request, body string, at time.Time, secret string) {
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%s:%s", ts, body)
	r.Header.Set("X-Slack-Request-Timestamp", ts)
	r.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
}

// NewSignedRequest builds a POST to url with body, signed at at with secret.
func NewSignedRequest(url, contentType, body string, at time.Time, secret string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if strings.HasPrefix(url, "http") {
		r, _ = http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	}
	r.Header.Set("Content-Type", contentType)
	Sign(r, body, at, secret)
	return r
}

// CommandBody is the form body of a /kefu slash command typed by user in channel.
func CommandBody(user, channel, text, responseURL string) string {
	return url.Values{"command": {"/kefu"}, "text": {text}, "user_id": {user}, "user_name": {strings.ToLower(user)},
		"channel_id": {channel}, "team_id": {"T1"}, "response_url": {responseURL}, "trigger_id": {"trig"}}.Encode()
}

// InteractionBody is the form body of an interaction with the given payload.
func InteractionBody(payload any) string {
	b, _ := json.Marshal(payload)
	return url.Values{"payload": {string(b)}}.Encode()
}

// ButtonPayload is a block_actions payload: user pressed the button actionID with value in channel.
func ButtonPayload(user, channel, actionID, value string) map[string]any {
	act := map[string]any{"action_id": actionID, "block_id": "kefu_actions", "type": "button", "value": value}
	return map[string]any{
		"type": "block_actions", "trigger_id": "trig-1", "user": map[string]any{"id": user, "name": strings.ToLower(user)},
		"channel": map[string]any{"id": channel}, "container": map[string]any{"channel_id": channel},
		"actions": []any{act},
	}
}

// SelectPayload is a block_actions payload: user picked value in the static select actionID in channel.
func SelectPayload(user, channel, actionID, value string) map[string]any {
	p := ButtonPayload(user, channel, actionID, value)
	p["actions"] = []any{map[string]any{"action_id": actionID, "block_id": "kefu_actions", "type": "static_select",
		"selected_option": map[string]any{"value": value}}}
	return p
}

// MessageEventBody is an Events API event_callback carrying a message by user in channel (a thread
// reply when threadTS is set; from the bot itself when bot is true).
func MessageEventBody(eventID, user, channel, ts, threadTS, text string, bot bool) string {
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
		"event_id": eventID, "event_time": time.Now().Unix(), "event": ev})
	return string(b)
}
