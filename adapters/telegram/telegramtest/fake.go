// Package telegramtest is a fake Telegram Bot API server for tests: an httptest server that speaks
// the Bot API as go-telegram-bot-api calls it (form-encoded POSTs to /bot{token}/{method}, answers
// {"ok":…,"result":…}) and records every call. Point the adapter's APIURL at Server.URL with Token.
//
// It implements getMe, getUpdates (offset confirmation, long-poll timeout), sendMessage (message ids per
// chat, optional flood limits answered with 429), editMessageText, editMessageReplyMarkup,
// answerCallbackQuery, setMyCommands, setWebhook, deleteWebhook, getFile and file downloads. Tests can
// fail sends (SetSendHook) and getUpdates calls (FailGetUpdates).
package telegramtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

const (
	Token    = "123456:TEST-token" // the only token the fake accepts
	BotID    = 999
	BotName  = "kefu_test_bot"
	FilePath = "documents/file_7.pdf" // getFile's file_path; downloading it gives FileBody
	FileBody = "%PDF-fake"
)

// Server is an httptest server speaking the Telegram Bot API as the library calls it: form-encoded
// POSTs to /bot{token}/{method}, answers {"ok":…,"result":…}. It records every call.
type Server struct {
	*httptest.Server
	t testing.TB

	mu          sync.Mutex
	calls       []Call
	refused     []Call
	updates     []pendingUpdate // not yet confirmed, ascending update_id
	nextUpdate  int
	nextInbound int           // message ids of PushText / PushCallback
	confirmed   int           // highest offset a getUpdates call has sent
	changed     chan struct{} // closed and replaced when updates are pushed
	nextMsgID   map[int64]int
	sent        []Message // accepted sendMessage calls, in order
	rejected429 int

	// sendHook, if set, may fail a sendMessage: it returns an error code, description and
	// retry_after (0 = succeed). attempt counts sendMessage calls with the same chat and text.
	sendHook func(chatID int64, text string, attempt int) (code int, desc string, retryAfter int)
	attempts map[string]int
	// getUpdatesFail makes the next n getUpdates calls answer 502.
	getUpdatesFail int
	// limits, when perChat > 0, make the fake enforce Telegram's flood limits with 429s.
	perChat     time.Duration
	globalPerS  int
	lastPerChat map[int64]time.Time
	recent      []time.Time
}

// Call is one recorded Bot API request: the method and its form parameters.
type Call struct {
	Method string
	Params url.Values
}

type pendingUpdate struct {
	ID   int
	JSON json.RawMessage
}

// Message is one accepted sendMessage: Markup is the reply_markup JSON ("" or "null" without one).
type Message struct {
	ChatID int64
	Text   string
	Markup string
	ID     int
}

// NewServer starts a fake Bot API, closed when the test ends.
func NewServer(t testing.TB) *Server {
	t.Helper()
	f := &Server{
		t:           t,
		nextUpdate:  1000,
		changed:     make(chan struct{}),
		nextMsgID:   make(map[int64]int),
		attempts:    make(map[string]int),
		lastPerChat: make(map[int64]time.Time),
	}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	t.Cleanup(func() {
		for _, c := range f.Refused() {
			t.Logf("fake Telegram refused %s %v", c.Method, c.Params)
		}
	})
	return f
}

// Push queues updates (JSON objects without update_id; it is assigned) and returns their ids.
func (f *Server) Push(updates ...string) []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []int
	for _, u := range updates {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(u), &m); err != nil {
			f.t.Fatalf("fake: bad update %s: %v", u, err)
		}
		f.nextUpdate++
		m["update_id"] = json.RawMessage(strconv.Itoa(f.nextUpdate))
		b, _ := json.Marshal(m)
		f.updates = append(f.updates, pendingUpdate{ID: f.nextUpdate, JSON: b})
		ids = append(ids, f.nextUpdate)
	}
	close(f.changed)
	f.changed = make(chan struct{})
	return ids
}

// PushText queues a private text message from customer chatID (user id = chat id) with the given
// language_code, and returns its message id.
func (f *Server) PushText(chatID int64, lang, text string) int {
	f.mu.Lock()
	f.nextInbound++
	id := f.nextInbound
	f.mu.Unlock()
	user := map[string]any{"id": chatID, "is_bot": false, "first_name": "Customer", "language_code": lang}
	b, _ := json.Marshal(map[string]any{"message": map[string]any{
		"message_id": id, "date": time.Now().Unix(), "text": text, "from": user,
		"chat": map[string]any{"id": chatID, "type": "private", "first_name": "Customer"},
	}})
	f.Push(string(b))
	return id
}

// PushCallback queues the press of a button with data under the bot's message messageID in chatID.
func (f *Server) PushCallback(chatID int64, messageID int, lang, data string) {
	f.mu.Lock()
	f.nextInbound++
	id := f.nextInbound
	f.mu.Unlock()
	b, _ := json.Marshal(map[string]any{"callback_query": map[string]any{
		"id": "cb" + strconv.Itoa(id), "chat_instance": "ci", "data": data,
		"from": map[string]any{"id": chatID, "is_bot": false, "first_name": "Customer", "language_code": lang},
		"message": map[string]any{"message_id": messageID, "date": time.Now().Unix(), "text": "…",
			"chat": map[string]any{"id": chatID, "type": "private"},
			"from": map[string]any{"id": BotID, "is_bot": true, "first_name": "Kefu"}},
	}})
	f.Push(string(b))
}

// Calls returns the recorded requests to method, in order.
func (f *Server) Calls(method string) []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Call
	for _, c := range f.calls {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// Sent returns the accepted sendMessage calls, in order.
func (f *Server) Sent() []Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Message(nil), f.sent...)
}

// ConfirmedOffset is the highest offset a getUpdates call has sent: updates below it are gone.
func (f *Server) ConfirmedOffset() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.confirmed
}

func (f *Server) serve(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/file/bot"+Token+"/") {
		fmt.Fprint(w, FileBody)
		return
	}
	method, found := strings.CutPrefix(r.URL.Path, "/bot"+Token+"/")
	if !found {
		f.mu.Lock()
		f.refused = append(f.refused, Call{Method: r.URL.Path})
		f.mu.Unlock()
		if strings.HasPrefix(r.URL.Path, "/bot") && strings.Contains(r.URL.Path[4:], "/") {
			// a well-formed path with another token: Telegram answers 401
			reply(w, http.StatusUnauthorized, map[string]any{"ok": false, "error_code": 401, "description": "Unauthorized"})
			return
		}
		reply(w, http.StatusNotFound, map[string]any{"ok": false, "error_code": 404, "description": "Not Found"})
		return
	}
	if r.Method != http.MethodPost {
		reply(w, http.StatusBadRequest, map[string]any{"ok": false, "error_code": 400, "description": "POST expected"})
		return
	}
	if err := r.ParseForm(); err != nil {
		reply(w, http.StatusBadRequest, map[string]any{"ok": false, "error_code": 400, "description": err.Error()})
		return
	}
	p := r.PostForm
	if desc := check(method, p); desc != "" {
		f.mu.Lock()
		f.refused = append(f.refused, Call{Method: method, Params: p})
		f.mu.Unlock()
		reply(w, http.StatusBadRequest, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: " + desc})
		return
	}
	f.mu.Lock()
	f.calls = append(f.calls, Call{Method: method, Params: r.PostForm})
	f.mu.Unlock()
	switch method {
	case "getMe":
		ok(w, map[string]any{"id": BotID, "is_bot": true, "first_name": "Kefu", "username": BotName})
	case "getUpdates":
		f.getUpdates(w, r, p)
	case "sendMessage":
		f.sendMessage(w, p)
	case "editMessageText":
		ok(w, map[string]any{"message_id": atoi(p.Get("message_id")), "date": 1, "chat": map[string]any{"id": atoi64(p.Get("chat_id")), "type": "private"}, "text": p.Get("text")})
	case "answerCallbackQuery", "editMessageReplyMarkup", "setMyCommands", "setWebhook", "deleteWebhook":
		ok(w, true)
	case "getFile":
		ok(w, map[string]any{"file_id": p.Get("file_id"), "file_unique_id": "u1", "file_size": 9, "file_path": FilePath})
	default:
		reply(w, http.StatusNotFound, map[string]any{"ok": false, "error_code": 404, "description": "Not Found: method " + method})
	}
}

// check returns the description of the 400 Telegram answers to method with parameters p, or "".
// (https://core.telegram.org/bots/api: required parameters, text 1-4096 characters after entity
// parsing, callback answers up to 200 characters, reply_markup and commands as JSON.)
func check(method string, p url.Values) string {
	need := func(keys ...string) string {
		for _, k := range keys {
			if strings.TrimSpace(p.Get(k)) == "" {
				return "parameter " + k + " is required"
			}
		}
		return ""
	}
	chat := func() string {
		if p.Get("chat_id") == "" {
			return "chat_id is empty"
		}
		if _, err := strconv.ParseInt(p.Get("chat_id"), 10, 64); err != nil && !strings.HasPrefix(p.Get("chat_id"), "@") {
			return "chat not found"
		}
		return ""
	}
	text := func() string {
		t := p.Get("text")
		switch {
		case strings.TrimSpace(t) == "":
			return "message text is empty"
		case utf8.RuneCountInString(t) > 4096:
			return "message is too long"
		}
		return ""
	}
	markup := func() string {
		if m := p.Get("reply_markup"); m != "" && m != "null" && !json.Valid([]byte(m)) {
			return "can't parse reply keyboard markup JSON object"
		}
		return ""
	}
	target := func() string { // edits address chat_id + message_id, or inline_message_id
		if p.Get("inline_message_id") != "" {
			return ""
		}
		if d := chat(); d != "" {
			return d
		}
		if atoi(p.Get("message_id")) <= 0 {
			return "message identifier is not specified"
		}
		return ""
	}
	var checks []func() string
	switch method {
	case "sendMessage":
		checks = []func() string{chat, text, markup}
	case "editMessageText":
		checks = []func() string{target, text, markup}
	case "editMessageReplyMarkup":
		checks = []func() string{target, markup}
	case "answerCallbackQuery":
		checks = []func() string{func() string { return need("callback_query_id") }, func() string {
			if utf8.RuneCountInString(p.Get("text")) > 200 {
				return "MESSAGE_TOO_LONG"
			}
			return ""
		}}
	case "setMyCommands":
		checks = []func() string{func() string {
			var cmds []map[string]any
			if json.Unmarshal([]byte(p.Get("commands")), &cmds) != nil {
				return "can't parse commands JSON object"
			}
			for _, c := range cmds {
				if s, _ := c["command"].(string); s == "" || len(s) > 32 {
					return "BOT_COMMAND_INVALID"
				}
				if s, _ := c["description"].(string); s == "" || utf8.RuneCountInString(s) > 256 {
					return "command description is empty or too long"
				}
			}
			return ""
		}}
	case "getFile":
		checks = []func() string{func() string { return need("file_id") }}
	case "setWebhook":
		checks = []func() string{func() string { return need("url") }}
	}
	for _, c := range checks {
		if d := c(); d != "" {
			return d
		}
	}
	return ""
}

// Refused returns the requests the fake refused (400 for bad parameters, 401/404 for a wrong
// token): Method is the method, or the request path when the token was wrong.
func (f *Server) Refused() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Call(nil), f.refused...)
}

func (f *Server) getUpdates(w http.ResponseWriter, r *http.Request, p url.Values) {
	offset := atoi(p.Get("offset"))
	limit := atoi(p.Get("limit"))
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	timeout := time.Duration(atoi(p.Get("timeout"))) * time.Second
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		f.mu.Lock()
		if f.getUpdatesFail > 0 {
			f.getUpdatesFail--
			f.mu.Unlock()
			reply(w, http.StatusBadGateway, map[string]any{"ok": false, "error_code": 502, "description": "Bad Gateway"})
			return
		}
		if offset > 0 { // Telegram: an offset confirms every update below it
			if offset > f.confirmed {
				f.confirmed = offset
			}
			i := 0
			for i < len(f.updates) && f.updates[i].ID < offset {
				i++
			}
			f.updates = f.updates[i:]
		}
		var out []json.RawMessage
		for _, u := range f.updates {
			if len(out) == limit {
				break
			}
			out = append(out, u.JSON)
		}
		changed := f.changed
		f.mu.Unlock()
		if len(out) > 0 || timeout == 0 {
			if out == nil {
				out = []json.RawMessage{}
			}
			ok(w, out)
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			ok(w, []json.RawMessage{})
			return
		case <-r.Context().Done():
			return
		}
	}
}

func (f *Server) sendMessage(w http.ResponseWriter, p url.Values) {
	chat := atoi64(p.Get("chat_id"))
	text := p.Get("text")
	if text == "" {
		reply(w, http.StatusBadRequest, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: message text is empty"})
		return
	}
	if n := len([]rune(text)); n > 4096 {
		reply(w, http.StatusBadRequest, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: message is too long"})
		return
	}
	f.mu.Lock()
	key := strconv.FormatInt(chat, 10) + "\x00" + text
	f.attempts[key]++
	attempt := f.attempts[key]
	hook := f.sendHook
	f.mu.Unlock()
	if hook != nil {
		if code, desc, retry := hook(chat, text, attempt); code != 0 {
			body := map[string]any{"ok": false, "error_code": code, "description": desc}
			if retry > 0 {
				body["parameters"] = map[string]any{"retry_after": retry}
				f.mu.Lock()
				f.rejected429++
				f.mu.Unlock()
			}
			reply(w, code, body)
			return
		}
	}
	f.mu.Lock()
	now := time.Now()
	if f.perChat > 0 {
		// Telegram's flood control, counted on arrival.
		last, seen := f.lastPerChat[chat]
		cut := 0
		for cut < len(f.recent) && now.Sub(f.recent[cut]) >= time.Second {
			cut++
		}
		f.recent = f.recent[cut:]
		if (seen && now.Sub(last) < f.perChat) || len(f.recent) >= f.globalPerS {
			if seen && now.Sub(last) < f.perChat {
				f.t.Logf("fake: per-chat flood in chat %d: %v since the last message", chat, now.Sub(last))
			} else {
				f.t.Logf("fake: global flood: %d messages in the last second", len(f.recent))
			}
			f.rejected429++
			f.mu.Unlock()
			reply(w, http.StatusTooManyRequests, map[string]any{"ok": false, "error_code": 429,
				"description": "Too Many Requests: retry after 1", "parameters": map[string]any{"retry_after": 1}})
			return
		}
		f.lastPerChat[chat] = now
		f.recent = append(f.recent, now)
	}
	f.nextMsgID[chat]++
	id := f.nextMsgID[chat]
	f.sent = append(f.sent, Message{ChatID: chat, Text: text, Markup: p.Get("reply_markup"), ID: id})
	f.mu.Unlock()
	ok(w, map[string]any{"message_id": id, "date": now.Unix(), "chat": map[string]any{"id": chat, "type": "private"}, "text": text})
}

func ok(w http.ResponseWriter, result any) {
	reply(w, http.StatusOK, map[string]any{"ok": true, "result": result})
}

func reply(w http.ResponseWriter, code int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}

func atoi(s string) int     { n, _ := strconv.Atoi(s); return n }
func atoi64(s string) int64 { n, _ := strconv.ParseInt(s, 10, 64); return n }

// SetSendHook installs fn, which may fail a sendMessage: it returns an error code, a description and
// retry_after (code 0 = succeed). attempt counts calls with the same chat and text.
func (f *Server) SetSendHook(fn func(chatID int64, text string, attempt int) (code int, desc string, retryAfter int)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sendHook = fn
}

// FailGetUpdates makes the next n getUpdates calls answer 502.
func (f *Server) FailGetUpdates(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.getUpdatesFail = n
}

// SetFloodLimits makes sendMessage answer 429 (retry_after 1) when a chat gets a message sooner than
// perChat after its last one, or when globalPerSecond messages arrived within the last second; as
// Telegram does, it counts arrivals.
func (f *Server) SetFloodLimits(perChat time.Duration, globalPerSecond int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.perChat, f.globalPerS = perChat, globalPerSecond
}

// Rejected429 counts the 429 answers so far.
func (f *Server) Rejected429() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rejected429
}

// Pending counts updates not yet confirmed by a getUpdates offset.
func (f *Server) Pending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.updates)
}
