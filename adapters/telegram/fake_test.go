package telegram

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
)

const (
	testToken    = "123456:TEST-token"
	testBotID    = 999
	testBotName  = "kefu_test_bot"
	fakeFilePath = "documents/file_7.pdf"
)

// fakeAPI is an httptest server speaking the Telegram Bot API as the library calls it: form-encoded
// POSTs to /bot{token}/{method}, answers {"ok":…,"result":…}. It records every call.
type fakeAPI struct {
	*httptest.Server
	t testing.TB

	mu          sync.Mutex
	calls       []apiCall
	updates     []pendingUpdate // not yet confirmed, ascending update_id
	nextUpdate  int
	confirmed   int           // highest offset a getUpdates call has sent
	changed     chan struct{} // closed and replaced when updates are pushed
	nextMsgID   map[int64]int
	sent        []sentMessage // accepted sendMessage calls, in order
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

type apiCall struct {
	Method string
	Params url.Values
}

type pendingUpdate struct {
	ID   int
	JSON json.RawMessage
}

type sentMessage struct {
	ChatID int64
	Text   string
	Markup string
	ID     int
}

func newFakeAPI(t testing.TB) *fakeAPI {
	t.Helper()
	f := &fakeAPI{
		t:           t,
		nextUpdate:  1000,
		changed:     make(chan struct{}),
		nextMsgID:   make(map[int64]int),
		attempts:    make(map[string]int),
		lastPerChat: make(map[int64]time.Time),
	}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

// push queues updates (JSON objects without update_id; it is assigned) and returns their ids.
func (f *fakeAPI) push(updates ...string) []int {
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

func (f *fakeAPI) callsTo(method string) []apiCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []apiCall
	for _, c := range f.calls {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeAPI) sentMessages() []sentMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sentMessage(nil), f.sent...)
}

func (f *fakeAPI) confirmedOffset() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.confirmed
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/file/bot"+testToken+"/") {
		fmt.Fprint(w, "%PDF-fake")
		return
	}
	method, found := strings.CutPrefix(r.URL.Path, "/bot"+testToken+"/")
	if !found {
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
	f.mu.Lock()
	f.calls = append(f.calls, apiCall{Method: method, Params: r.PostForm})
	f.mu.Unlock()
	p := r.PostForm
	switch method {
	case "getMe":
		ok(w, map[string]any{"id": testBotID, "is_bot": true, "first_name": "Kefu", "username": testBotName})
	case "getUpdates":
		f.getUpdates(w, r, p)
	case "sendMessage":
		f.sendMessage(w, p)
	case "editMessageText":
		ok(w, map[string]any{"message_id": atoi(p.Get("message_id")), "date": 1, "chat": map[string]any{"id": atoi64(p.Get("chat_id")), "type": "private"}, "text": p.Get("text")})
	case "answerCallbackQuery", "editMessageReplyMarkup", "setMyCommands", "setWebhook", "deleteWebhook":
		ok(w, true)
	case "getFile":
		ok(w, map[string]any{"file_id": p.Get("file_id"), "file_unique_id": "u1", "file_size": 9, "file_path": fakeFilePath})
	default:
		reply(w, http.StatusNotFound, map[string]any{"ok": false, "error_code": 404, "description": "Not Found: method " + method})
	}
}

func (f *fakeAPI) getUpdates(w http.ResponseWriter, r *http.Request, p url.Values) {
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

func (f *fakeAPI) sendMessage(w http.ResponseWriter, p url.Values) {
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
	f.sent = append(f.sent, sentMessage{ChatID: chat, Text: text, Markup: p.Get("reply_markup"), ID: id})
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

// newTestAdapter builds an Adapter on the fake with fast test settings; mod may change them.
func newTestAdapter(t *testing.T, f *fakeAPI, mod func(*Options)) *Adapter {
	t.Helper()
	o := Options{
		Token:           testToken,
		APIURL:          f.URL,
		PollTimeout:     time.Second,
		PerChatInterval: time.Millisecond,
		GlobalRate:      100000,
		Logger:          testLogger(t),
	}
	if mod != nil {
		mod(&o)
	}
	a, err := New(t.Context(), o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	a.backoff = backoffPolicy{min: time.Millisecond, max: 10 * time.Millisecond}
	return a
}

// runAdapter runs a.Run in the background; the returned stop cancels it and waits for it to return.
func runAdapter(t *testing.T, a *Adapter, sink bot.Sink) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, sink) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not return within 10s of cancel")
			}
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
}
