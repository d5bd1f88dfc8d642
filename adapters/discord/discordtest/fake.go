// Package discordtest is a fake Discord (REST API v9 and gateway) for tests: an httptest server
// enough like Discord for the real discordgo session to run against it. Point the adapter's APIURL
// at Server.URL and GatewayURL at Server.GatewayURL().
//
// The gateway speaks hello, identify/ready, heartbeat/ack, dispatch and resume (replaying what the
// connection missed); REST answers messages (with nonce idempotency), interaction callbacks and
// webhook edits, DMs, threads and application commands. Every call is recorded; messages the bot
// created are listed by Sent, interaction callbacks by Callbacks. Tests push customer input with
// PushDM, PressButton and SlashCommand, and wait with WaitUntil, never with sleeps.
package discordtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

const (
	BotID = "900"        // the bot user's id
	AppID = "901"        // the application's id
	Token = "test-token" // the only bot token the fake accepts (REST: "Authorization: Bot test-token")
)

// Server is an httptest server speaking enough of Discord's REST API (v9) and gateway for the
// real discordgo session to run against it. It records every call and gateway frame; tests wait
// for its state with WaitUntil, never with sleeps.
type Server struct {
	*httptest.Server
	t     testing.TB
	botID string
	appID string

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every change

	calls []Call

	// gateway
	conn        *websocket.Conn
	connWrite   sync.Mutex
	connections int
	identifies  int
	resumes     []int64 // seq each resume asked for
	heartbeats  int
	sessionN    int
	sessionID   string
	seq         int64
	events      []dispatch // every dispatch of the current session, for replay on resume
	invalidNext bool       // answer the next resume with op 9 (invalid session)
	closeCode   int        // close the connection with this code instead of answering identify

	// REST behaviour
	nextID      int
	rateLimit   int            // answer this many next POST .../messages with 429
	retryAfter  float64        // seconds
	status      map[string]int // channel id -> status for POST messages (403, 404)
	nonces      map[string]string
	threads     map[string]Thread
	archivedFor map[string]bool // thread ids listed as archived

	lastIdentify int
	lastToken    string
	unauthorized int // REST calls refused for their Authorization header

	sent      []Message // messages the bot created, in order
	callbacks []Callback
	nextIn    int               // ids of pushed customer input
	tokens    map[string]string // interaction token -> channel, for answers to deferred commands
}

// Message is one message the bot created: posted to a channel (Via "channel") or as the answer to
// a deferred slash command (Via "interaction"). Components is the raw components JSON.
type Message struct {
	ID         string
	ChannelID  string
	Content    string
	Components json.RawMessage
	Via        string
}

// Callback is one interaction callback (POST /interactions/{id}/{token}/callback).
type Callback struct {
	InteractionID string
	Type          int
	Content       string
	Components    json.RawMessage
}

// Button is a button of a sent message's components.
type Button struct {
	Label    string `json:"label"`
	CustomID string `json:"custom_id"`
	Disabled bool   `json:"disabled"`
}

// Buttons lists the message's buttons, row by row.

// HeartbeatInterval is the heartbeat_interval (ms) the fake's HELLO gives, Discord's own value. A
// short one (200 ms, as before) made discordgo's heartbeat goroutine write often enough to hit a
// socket the fake had just dropped; that goroutine then closes the session and starts a second
// reconnect loop beside the reader's (discordgo issue #406), which on a loaded machine never settled
// (TestResumeAfterDropDeliversEachMessageOnce failed once in a CI run; not reproduced in 20 runs beside 4 busy loops with either interval). The first heartbeat is sent at once
// on every connection, so nothing waits for the interval.
const HeartbeatInterval = 41250

func (m Message) Buttons() []Button {
	var rows []struct {
		Components []Button `json:"components"`
	}
	_ = json.Unmarshal(m.Components, &rows)
	var out []Button
	for _, r := range rows {
		out = append(out, r.Components...)
	}
	return out
}

// Call is one REST request the fake received.
type Call struct {
	Method, Path string
	Body         []byte
	At           time.Time
}

type dispatch struct {
	Seq  int64
	Type string
	Data json.RawMessage
}

// Thread is a thread the fake knows: created by the bot (POST .../threads) or added with AddThread.
type Thread struct {
	ID, Name, ParentID, GuildID string
	Members                     []string
}

// NewServer starts a fake Discord; it stops when the test ends.
func NewServer(t testing.TB) *Server {
	t.Helper()
	f := &Server{
		t:           t,
		botID:       BotID,
		appID:       AppID,
		changed:     make(chan struct{}),
		status:      map[string]int{},
		nonces:      map[string]string{},
		threads:     map[string]Thread{},
		archivedFor: map[string]bool{},
		tokens:      map[string]string{},
		retryAfter:  0.05,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /gw/", f.gateway)
	mux.HandleFunc("GET /api/v9/gateway", f.getGateway)
	mux.HandleFunc("GET /api/v9/gateway/bot", f.getGateway)
	mux.HandleFunc("POST /api/v9/channels/{id}/messages", f.postMessage)
	mux.HandleFunc("PATCH /api/v9/channels/{id}/messages/{mid}", f.patchMessage)
	mux.HandleFunc("POST /api/v9/interactions/{id}/{token}/callback", f.callback)
	mux.HandleFunc("PATCH /api/v9/webhooks/{app}/{token}/messages/{mid}", f.patchWebhookMessage)
	mux.HandleFunc("PUT /api/v9/applications/{app}/commands", f.putCommands)
	mux.HandleFunc("POST /api/v9/users/@me/channels", f.createDM)
	mux.HandleFunc("POST /api/v9/channels/{id}/threads", f.createThread)
	mux.HandleFunc("PUT /api/v9/channels/{id}/thread-members/{user}", f.addThreadMember)
	mux.HandleFunc("GET /api/v9/guilds/{id}/threads/active", f.activeThreads)
	mux.HandleFunc("GET /api/v9/channels/{id}/users/@me/threads/archived/private", f.archivedThreads)
	mux.HandleFunc("GET /api/v9/channels/{id}", f.getChannel)
	mux.HandleFunc("PATCH /api/v9/channels/{id}", f.patchChannel)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		f.log(r, nil)
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "404: Not Found", "code": 0})
	})
	f.Server = httptest.NewServer(f.authorize(mux))
	t.Cleanup(func() {
		f.DropConnection()
		f.Server.Close()
	})
	return f
}

// GatewayURL is the fake gateway's websocket URL (also answered by GET /gateway).
func (f *Server) GatewayURL() string { return "ws" + strings.TrimPrefix(f.URL, "http") + "/gw" }

// notify wakes waiters; call with f.mu held.
func (f *Server) notify() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// WaitUntil blocks until cond is true, failing the test after 10 s. cond runs without the fake's
// lock, so it may call the Server's methods (Gateway, CallsTo, Sent …); it is evaluated again after
// every change.
func (f *Server) WaitUntil(what string, cond func() bool) {
	f.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		f.mu.Lock()
		ch := f.changed // taken before cond runs, so a change while it runs is not missed
		f.mu.Unlock()
		if cond() {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			f.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// authorize answers 401 (Discord's {"message": "401: Unauthorized", "code": 0}) to a REST call
// without "Authorization: Bot <Token>", as Discord does. Interaction callbacks and webhook calls
// are authorized by the interaction token in their path instead, so they need no header; the
// gateway checks the token of identify itself (close code 4004).
func (f *Server) authorize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		open := !strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/api/v9/interactions/") ||
			strings.HasPrefix(p, "/api/v9/webhooks/")
		if !open && r.Header.Get("Authorization") != "Bot "+Token {
			f.log(r, readBody(r))
			f.mu.Lock()
			f.unauthorized++
			f.mu.Unlock()
			writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "401: Unauthorized", "code": 0})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Unauthorized counts the REST calls refused for a missing or wrong bot token.
func (f *Server) Unauthorized() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.unauthorized
}

// checkMessage answers a message body Discord refuses: no content, embeds, components, files or
// sticker ("Cannot send an empty message", code 50006), or content over 2000 characters ("Invalid
// Form Body", code 50035, BASE_TYPE_MAX_LENGTH). It reports whether it answered.
func checkMessage(w http.ResponseWriter, m map[string]any, edit bool) bool {
	content, _ := m["content"].(string)
	if n := utf8.RuneCountInString(content); n > 2000 {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Invalid Form Body", "code": 50035,
			"errors": map[string]any{"content": map[string]any{"_errors": []any{map[string]any{
				"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}}}}})
		return true
	}
	if edit {
		return false // an edit may change only some fields
	}
	has := func(k string) bool {
		v, ok := m[k]
		if !ok || v == nil {
			return false
		}
		if l, isList := v.([]any); isList {
			return len(l) > 0
		}
		return true
	}
	if strings.TrimSpace(content) == "" && !has("embeds") && !has("components") && !has("attachments") && !has("sticker_ids") {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Cannot send an empty message", "code": 50006})
		return true
	}
	return false
}

func (f *Server) log(r *http.Request, body []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, Call{Method: r.Method, Path: r.URL.Path, Body: body, At: time.Now()})
	f.notify()
}

// CallsTo returns the recorded calls whose method and path match (path may end in '*').
func (f *Server) CallsTo(method, path string) []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.callsLocked(method, path)
}

func (f *Server) callsLocked(method, path string) []Call {
	var out []Call
	for _, c := range f.calls {
		if c.Method != method {
			continue
		}
		if p, ok := strings.CutSuffix(path, "*"); ok && strings.HasPrefix(c.Path, p) || c.Path == path {
			out = append(out, c)
		}
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func readBody(r *http.Request) []byte {
	b, _ := io.ReadAll(r.Body)
	return b
}

func (f *Server) record(status int, resp any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.log(r, readBody(r))
		if resp == nil {
			w.WriteHeader(status)
			return
		}
		writeJSON(w, status, resp)
	}
}

func (f *Server) getGateway(w http.ResponseWriter, r *http.Request) {
	f.log(r, nil)
	writeJSON(w, http.StatusOK, map[string]any{"url": f.GatewayURL(), "shards": 1})
}

func (f *Server) id() string {
	f.nextID++
	return strconv.Itoa(1000 + f.nextID)
}

func (f *Server) message(id, channel string, body map[string]any) map[string]any {
	return map[string]any{
		"id": id, "channel_id": channel, "type": 0,
		"content":    body["content"],
		"components": body["components"],
		"author":     map[string]any{"id": f.botID, "username": "kefu", "bot": true},
		"timestamp":  time.Now().UTC().Format(time.RFC3339),
	}
}

func (f *Server) postMessage(w http.ResponseWriter, r *http.Request) {
	body := readBody(r)
	f.log(r, body)
	ch := r.PathValue("id")
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rateLimit > 0 {
		f.rateLimit--
		w.Header().Set("Retry-After", "1")
		w.Header().Set("X-RateLimit-Scope", "user")
		writeJSON(w, http.StatusTooManyRequests, map[string]any{
			"message": "You are being rate limited.", "retry_after": f.retryAfter, "global": false,
		})
		return
	}
	if st := f.status[ch]; st != 0 {
		code := map[int]int{403: 50007, 404: 10003}[st]
		writeJSON(w, st, map[string]any{"message": http.StatusText(st), "code": code})
		return
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Invalid Form Body", "code": 50035})
		return
	}
	if checkMessage(w, m, false) {
		return
	}
	if n, _ := m["nonce"].(string); n != "" && m["enforce_nonce"] == true {
		if id, ok := f.nonces[ch+"/"+n]; ok {
			writeJSON(w, http.StatusOK, f.message(id, ch, m))
			return
		}
	}
	id := f.id()
	if n, _ := m["nonce"].(string); n != "" {
		f.nonces[ch+"/"+n] = id
	}
	f.recordSent(id, ch, "channel", m)
	writeJSON(w, http.StatusOK, f.message(id, ch, m))
}

// recordSent lists a message the bot created; call with f.mu held.
func (f *Server) recordSent(id, channel, via string, m map[string]any) {
	content, _ := m["content"].(string)
	comps, _ := json.Marshal(m["components"])
	f.sent = append(f.sent, Message{ID: id, ChannelID: channel, Content: content, Components: comps, Via: via})
	f.notify()
}

func (f *Server) callback(w http.ResponseWriter, r *http.Request) {
	body := readBody(r)
	f.log(r, body)
	var cb struct {
		Type int `json:"type"`
		Data struct {
			Content    string          `json:"content"`
			Components json.RawMessage `json:"components"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &cb); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Invalid Form Body", "code": 50035})
		return
	}
	if cb.Type == 4 || cb.Type == 7 { // a message in the answer: the message rules apply
		var m struct {
			Data map[string]any `json:"data"`
		}
		_ = json.Unmarshal(body, &m)
		if m.Data == nil {
			m.Data = map[string]any{}
		}
		if checkMessage(w, m.Data, cb.Type == 7) {
			return
		}
	}
	f.mu.Lock()
	f.callbacks = append(f.callbacks, Callback{InteractionID: r.PathValue("id"), Type: cb.Type,
		Content: cb.Data.Content, Components: cb.Data.Components})
	f.notify()
	f.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (f *Server) patchMessage(w http.ResponseWriter, r *http.Request) {
	body := readBody(r)
	f.log(r, body)
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Invalid Form Body", "code": 50035})
		return
	}
	if checkMessage(w, m, true) {
		return
	}
	writeJSON(w, http.StatusOK, f.message(r.PathValue("mid"), r.PathValue("id"), m))
}

func (f *Server) patchWebhookMessage(w http.ResponseWriter, r *http.Request) {
	body := readBody(r)
	f.log(r, body)
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Invalid Form Body", "code": 50035})
		return
	}
	if checkMessage(w, m, true) {
		return
	}
	f.mu.Lock()
	id := f.id()
	if r.PathValue("mid") == "@original" {
		f.recordSent(id, f.tokens[r.PathValue("token")], "interaction", m)
	}
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, f.message(id, "", m))
}

func (f *Server) putCommands(w http.ResponseWriter, r *http.Request) {
	body := readBody(r)
	f.log(r, body)
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}

func (f *Server) createDM(w http.ResponseWriter, r *http.Request) {
	body := readBody(r)
	f.log(r, body)
	var m struct {
		RecipientID string `json:"recipient_id"`
	}
	json.Unmarshal(body, &m)
	writeJSON(w, http.StatusOK, map[string]any{"id": "dm-" + m.RecipientID, "type": 1})
}

func (f *Server) threadJSON(t Thread, archived bool) map[string]any {
	return map[string]any{
		"id": t.ID, "type": 12, "name": t.Name, "parent_id": t.ParentID, "guild_id": t.GuildID,
		"thread_metadata": map[string]any{"archived": archived, "auto_archive_duration": 10080},
	}
}

func (f *Server) createThread(w http.ResponseWriter, r *http.Request) {
	body := readBody(r)
	f.log(r, body)
	var m struct {
		Name      string `json:"name"`
		Type      int    `json:"type"`
		Invitable bool   `json:"invitable"`
	}
	json.Unmarshal(body, &m)
	f.mu.Lock()
	defer f.mu.Unlock()
	th := Thread{ID: "t" + f.id(), Name: m.Name, ParentID: r.PathValue("id"), GuildID: "g1"}
	f.threads[th.ID] = th
	writeJSON(w, http.StatusCreated, f.threadJSON(th, false))
}

func (f *Server) addThreadMember(w http.ResponseWriter, r *http.Request) {
	f.log(r, nil)
	f.mu.Lock()
	defer f.mu.Unlock()
	th, ok := f.threads[r.PathValue("id")]
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Unknown Channel", "code": 10003})
		return
	}
	th.Members = append(th.Members, r.PathValue("user"))
	f.threads[th.ID] = th
	w.WriteHeader(http.StatusNoContent)
}

func (f *Server) activeThreads(w http.ResponseWriter, r *http.Request) {
	f.log(r, nil)
	f.mu.Lock()
	defer f.mu.Unlock()
	list := []any{}
	for _, th := range f.threads {
		if !f.archivedFor[th.ID] {
			list = append(list, f.threadJSON(th, false))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"threads": list, "members": []any{}})
}

func (f *Server) archivedThreads(w http.ResponseWriter, r *http.Request) {
	f.log(r, nil)
	f.mu.Lock()
	defer f.mu.Unlock()
	list := []any{}
	for _, th := range f.threads {
		if f.archivedFor[th.ID] && th.ParentID == r.PathValue("id") {
			list = append(list, f.threadJSON(th, true))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"threads": list, "members": []any{}, "has_more": false})
}

func (f *Server) getChannel(w http.ResponseWriter, r *http.Request) {
	f.log(r, nil)
	f.mu.Lock()
	defer f.mu.Unlock()
	if th, ok := f.threads[r.PathValue("id")]; ok {
		writeJSON(w, http.StatusOK, f.threadJSON(th, f.archivedFor[th.ID]))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": r.PathValue("id"), "type": 0, "name": "general", "guild_id": "g1"})
}

func (f *Server) patchChannel(w http.ResponseWriter, r *http.Request) {
	f.log(r, readBody(r))
	f.mu.Lock()
	defer f.mu.Unlock()
	th, ok := f.threads[r.PathValue("id")]
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Unknown Channel", "code": 10003})
		return
	}
	delete(f.archivedFor, th.ID)
	writeJSON(w, http.StatusOK, f.threadJSON(th, false))
}

// --- gateway ---

type frame struct {
	Op   int             `json:"op"`
	D    json.RawMessage `json:"d"`
	S    *int64          `json:"s,omitempty"`
	T    string          `json:"t,omitempty"`
	Time time.Time       `json:"-"`
}

func (f *Server) write(c *websocket.Conn, v any) error {
	f.connWrite.Lock()
	defer f.connWrite.Unlock()
	return c.WriteJSON(v)
}

func (f *Server) gateway(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{}
	c, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	f.mu.Lock()
	f.connections++
	f.notify()
	f.mu.Unlock()
	if err := f.write(c, map[string]any{"op": 10, "d": map[string]any{"heartbeat_interval": HeartbeatInterval}}); err != nil {
		return
	}
	for {
		var fr frame
		if err := c.ReadJSON(&fr); err != nil {
			f.mu.Lock()
			if f.conn == c {
				f.conn = nil
				f.notify()
			}
			f.mu.Unlock()
			return
		}
		switch fr.Op {
		case 1:
			f.mu.Lock()
			f.heartbeats++
			f.mu.Unlock()
			f.write(c, map[string]any{"op": 11})
		case 2:
			var id struct {
				Token   string `json:"token"`
				Intents int    `json:"intents"`
			}
			json.Unmarshal(fr.D, &id)
			f.mu.Lock()
			code := f.closeCode
			if code == 0 && id.Token != "Bot "+Token {
				code = 4004 // Authentication failed
			}
			if code != 0 {
				f.mu.Unlock()
				f.connWrite.Lock()
				c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(code, "Disallowed intent(s)."))
				f.connWrite.Unlock()
				return
			}
			f.identifies++
			f.sessionN++
			f.sessionID = fmt.Sprintf("session-%d", f.sessionN)
			f.seq = 0
			f.events = nil
			f.conn = c
			f.lastIdentify = id.Intents
			f.lastToken = id.Token
			ready := map[string]any{
				"v": 9, "session_id": f.sessionID, "resume_gateway_url": f.GatewayURL(),
				"user":        map[string]any{"id": f.botID, "username": "kefu", "bot": true},
				"application": map[string]any{"id": f.appID},
				"guilds":      []any{}, "private_channels": []any{},
			}
			f.dispatchLocked("READY", ready)
			f.notify()
			f.mu.Unlock()
		case 6:
			var res struct {
				Token     string `json:"token"`
				SessionID string `json:"session_id"`
				Seq       int64  `json:"seq"`
			}
			json.Unmarshal(fr.D, &res)
			f.mu.Lock()
			f.resumes = append(f.resumes, res.Seq)
			if f.invalidNext || res.SessionID != f.sessionID {
				f.invalidNext = false
				f.notify()
				f.mu.Unlock()
				f.write(c, map[string]any{"op": 9, "d": false})
				continue
			}
			f.conn = c
			for _, e := range f.events {
				if e.Seq > res.Seq {
					s := e.Seq
					f.write(c, frame{Op: 0, T: e.Type, S: &s, D: e.Data})
				}
			}
			f.dispatchLocked("RESUMED", map[string]any{})
			f.notify()
			f.mu.Unlock()
		}
	}
}

// Dispatch sends an op 0 event; with no live connection it is kept for the next resume.
func (f *Server) Dispatch(typ string, data any) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dispatchLocked(typ, data)
}

func (f *Server) dispatchLocked(typ string, data any) int64 {
	raw, err := json.Marshal(data)
	if err != nil {
		f.t.Errorf("fake: marshal %s: %v", typ, err)
	}
	f.seq++
	s := f.seq
	f.events = append(f.events, dispatch{Seq: s, Type: typ, Data: raw})
	if f.conn != nil {
		f.write(f.conn, frame{Op: 0, T: typ, S: &s, D: raw})
	}
	return s
}

// DropConnection cuts the gateway connection without a close frame, like a network failure.
func (f *Server) DropConnection() {
	f.mu.Lock()
	c := f.conn
	f.conn = nil
	f.notify()
	f.mu.Unlock()
	if c != nil {
		c.UnderlyingConn().Close()
	}
}

// MessageCreate builds a MESSAGE_CREATE payload.
func MessageCreate(id, channel, guild, userID, content string, extra map[string]any) map[string]any {
	m := map[string]any{
		"id": id, "channel_id": channel, "type": 0, "content": content,
		"timestamp": "2026-11-23T10:00:00Z",
		"author":    map[string]any{"id": userID, "username": "user" + userID, "global_name": "User " + userID},
	}
	if guild != "" {
		m["guild_id"] = guild
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// Sent returns the messages the bot created, in order.
func (f *Server) Sent() []Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Message(nil), f.sent...)
}

// SentTo returns the messages the bot posted to channel, in order.
func (f *Server) SentTo(channel string) []Message {
	var out []Message
	for _, m := range f.Sent() {
		if m.ChannelID == channel {
			out = append(out, m)
		}
	}
	return out
}

// Callbacks returns the interaction callbacks received, in order.
func (f *Server) Callbacks() []Callback {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Callback(nil), f.callbacks...)
}

// Connected reports whether a gateway session is identified or resumed and live.
func (f *Server) Connected() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.conn != nil
}

// Identifies counts gateway identifies.
func (f *Server) Identifies() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.identifies
}

// SetRateLimit makes the next n POST .../messages answer 429 with retry_after seconds.
func (f *Server) SetRateLimit(n int, retryAfter float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rateLimit, f.retryAfter = n, retryAfter
}

// SetChannelStatus makes POST .../messages to channel answer status (403, 404); 0 clears it.
func (f *Server) SetChannelStatus(channel string, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status[channel] = status
}

func (f *Server) nextInput(prefix string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextIn++
	return prefix + strconv.Itoa(500000+f.nextIn)
}

// PushDM dispatches a MESSAGE_CREATE from user in DM channel and returns the message id. extra
// fields (attachments …) are merged into the message.
func (f *Server) PushDM(channel, userID, content string, extra map[string]any) string {
	id := f.nextInput("")
	f.Dispatch("MESSAGE_CREATE", MessageCreate(id, channel, "", userID, content, extra))
	return id
}

// PressButton dispatches the INTERACTION_CREATE of user pressing the button customID under the
// bot's message msg in a DM, with the user's client locale, and returns the interaction id.
func (f *Server) PressButton(msg Message, userID, locale, customID string) string {
	id := f.nextInput("i")
	var comps any
	_ = json.Unmarshal(msg.Components, &comps)
	f.Dispatch("INTERACTION_CREATE", map[string]any{
		"id": id, "application_id": f.appID, "type": 3, "token": "tok-" + id, "version": 1,
		"channel_id": msg.ChannelID, "locale": locale,
		"user": map[string]any{"id": userID, "username": "user" + userID},
		"data": map[string]any{"custom_id": customID, "component_type": 2},
		"message": map[string]any{
			"id": msg.ID, "channel_id": msg.ChannelID, "content": msg.Content, "type": 0,
			"author":     map[string]any{"id": f.botID, "username": "kefu", "bot": true},
			"components": comps,
		},
	})
	return id
}

// SlashCommand dispatches the INTERACTION_CREATE of user running /name in channel (a DM when guild
// is empty) with string options, and returns the interaction id.
func (f *Server) SlashCommand(channel, guild, userID, locale, name string, opts ...map[string]any) string {
	id := f.nextInput("i")
	i := map[string]any{
		"id": id, "application_id": f.appID, "type": 2, "token": "tok-" + id, "version": 1,
		"channel_id": channel, "locale": locale,
		"data": map[string]any{"id": "c-" + name, "name": name, "type": 1, "options": opts},
	}
	user := map[string]any{"id": userID, "username": "user" + userID}
	if guild != "" {
		i["guild_id"] = guild
		i["member"] = map[string]any{"user": user}
	} else {
		i["user"] = user
	}
	f.mu.Lock()
	f.tokens["tok-"+id] = channel
	f.mu.Unlock()
	f.Dispatch("INTERACTION_CREATE", i)
	return id
}

// Calls returns every recorded REST call, in order.
func (f *Server) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Call(nil), f.calls...)
}

// Gateway is a snapshot of the fake gateway's state.
type Gateway struct {
	Connections int     // websocket connections accepted
	Identifies  int     // identify (op 2) frames answered with READY
	Heartbeats  int     // heartbeats (op 1) received
	Resumes     []int64 // the seq each resume (op 6) asked for, in order
	Connected   bool    // a session is identified or resumed and its connection is live
	Intents     int     // of the last identify
	Token       string  // of the last identify
}

// Gateway returns a snapshot of the gateway's state, taken at one instant.
func (f *Server) Gateway() Gateway {
	f.mu.Lock()
	defer f.mu.Unlock()
	return Gateway{
		Connections: f.connections, Identifies: f.identifies, Heartbeats: f.heartbeats,
		Resumes: append([]int64(nil), f.resumes...), Connected: f.conn != nil,
		Intents: f.lastIdentify, Token: f.lastToken,
	}
}

// RefuseNextResume answers the next resume with op 9 (invalid session), so the client identifies anew.
func (f *Server) RefuseNextResume() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.invalidNext = true
}

// CloseOnIdentify makes the gateway close the connection with code (4014: disallowed intents …)
// instead of answering identify; 0 restores the normal answer.
func (f *Server) CloseOnIdentify(code int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closeCode = code
}

// AddThread makes the fake know a thread, listed as archived (under its parent's archived private
// threads) or active.
func (f *Server) AddThread(th Thread, archived bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.threads[th.ID] = th
	if archived {
		f.archivedFor[th.ID] = true
	} else {
		delete(f.archivedFor, th.ID)
	}
	f.notify()
}

// Thread returns the thread with id and whether the fake knows it.
func (f *Server) Thread(id string) (Thread, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	th, ok := f.threads[id]
	th.Members = append([]string(nil), th.Members...)
	return th, ok
}
