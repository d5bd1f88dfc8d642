package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/kefu-dev/kefu/bot"
)

// do sends one request through the adapter and decodes a JSON answer into out (when not nil).
func do(t *testing.T, h http.Handler, method, target, body string, hdr map[string]string, out any) *httptest.ResponseRecorder {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequestWithContext(t.Context(), method, target, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if out != nil {
		if err := json.Unmarshal(w.Body.Bytes(), out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, target, w.Body.String(), err)
		}
	}
	return w
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type repliesBody struct {
	Replies []message `json:"replies"`
}

type messagesBody struct {
	Messages []message `json:"messages"`
	More     bool      `json:"more"`
}

func TestCreateSession(t *testing.T) {
	f := newFixture(t, Options{})
	tests := []struct {
		name     string
		body     string
		hdr      map[string]string
		wantLang string
	}{
		{"no body", "", nil, ""},
		{"lang in body", `{"lang":"en"}`, nil, "en"},
		{"Accept-Language", "", map[string]string{"Accept-Language": "fr;q=0.3, en-US,en;q=0.9"}, "en-US"},
		{"body wins over header", `{"lang":"zh-CN"}`, map[string]string{"Accept-Language": "en"}, "zh-CN"},
		{"junk lang dropped", `{"lang":"<script>"}`, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got struct{ Session string }
			w := do(t, f.a, http.MethodPost, "/api/webchat/sessions", tc.body, tc.hdr, &got)
			if w.Code != http.StatusCreated {
				t.Fatalf("status = %d, want 201; body %s", w.Code, w.Body)
			}
			raw, err := base64.RawURLEncoding.DecodeString(got.Session)
			if err != nil || len(raw)*8 < 128 {
				t.Fatalf("session %q: want base64url of >= 128 bits (err %v, %d bytes)", got.Session, err, len(raw))
			}
			f.store.mu.Lock()
			lang, ok := f.store.sessions[got.Session]
			f.store.mu.Unlock()
			if !ok || lang != tc.wantLang {
				t.Errorf("stored session %q: ok=%v lang=%q, want lang %q", got.Session, ok, lang, tc.wantLang)
			}
		})
	}
}

func TestSessionIDsUnique(t *testing.T) {
	f := newFixture(t, Options{SessionsPerSecond: -1})
	seen := map[string]bool{}
	for range 500 {
		var got struct{ Session string }
		if w := do(t, f.a, http.MethodPost, "/api/webchat/sessions", "", nil, &got); w.Code != http.StatusCreated {
			t.Fatalf("status %d", w.Code)
		}
		if seen[got.Session] {
			t.Fatalf("session id %q issued twice", got.Session)
		}
		seen[got.Session] = true
	}
	// Unguessable: ids share no long common prefix and use the whole base64url alphabet.
	chars := map[rune]bool{}
	for id := range seen {
		for _, c := range id {
			chars[c] = true
		}
	}
	if len(chars) < 60 {
		t.Errorf("500 ids use only %d distinct characters; want nearly all 64 of base64url", len(chars))
	}
}

func TestBadRequests(t *testing.T) {
	f := newFixture(t, Options{T: fakeT})
	sess := f.session(t)
	big := `{"session":"` + sess + `","text":"` + strings.Repeat("x", defaultMaxBody+10) + `"}`
	tests := []struct {
		name       string
		method     string
		target     string
		body       string
		hdr        map[string]string
		wantStatus int
		wantCode   string
	}{
		{"malformed JSON", "POST", "/api/webchat/messages", `{"session":`, nil, 400, "bad_json"},
		{"not an object", "POST", "/api/webchat/messages", `["hi"]`, nil, 400, "bad_json"},
		{"wrong field type", "POST", "/api/webchat/messages", `{"session":"` + sess + `","text":42}`, nil, 400, "bad_json"},
		{"trailing data", "POST", "/api/webchat/messages", `{"session":"` + sess + `","text":"hi"} {"x":1}`, nil, 400, "bad_json"},
		{"empty body", "POST", "/api/webchat/messages", "", nil, 400, "bad_json"},
		{"null body", "POST", "/api/webchat/messages", "null", nil, 400, "missing_session"},
		{"missing session", "POST", "/api/webchat/messages", `{"text":"hi"}`, nil, 400, "missing_session"},
		{"unknown session", "POST", "/api/webchat/messages", `{"session":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","text":"hi"}`, nil, 404, "unknown_session"},
		{"malformed session", "POST", "/api/webchat/messages", `{"session":"../../etc/passwd","text":"hi"}`, nil, 404, "unknown_session"},
		{"overlong session", "POST", "/api/webchat/messages", `{"session":"` + strings.Repeat("a", 500) + `","text":"hi"}`, nil, 404, "unknown_session"},
		{"missing text and action", "POST", "/api/webchat/messages", `{"session":"` + sess + `"}`, nil, 400, "empty_message"},
		{"empty text", "POST", "/api/webchat/messages", `{"session":"` + sess + `","text":""}`, nil, 400, "empty_message"},
		{"blank text", "POST", "/api/webchat/messages", `{"session":"` + sess + `","text":" \n\t\u0000 "}`, nil, 400, "empty_message"},
		{"text and action", "POST", "/api/webchat/messages", `{"session":"` + sess + `","text":"hi","action":"yes:1"}`, nil, 400, "text_and_action"},
		{"control chars in action", "POST", "/api/webchat/messages", `{"session":"` + sess + `","action":"a\u0007b"}`, nil, 400, "bad_action"},
		{"overlong action", "POST", "/api/webchat/messages", `{"session":"` + sess + `","action":"` + strings.Repeat("a", 2000) + `"}`, nil, 400, "bad_action"},
		{"bad client_id", "POST", "/api/webchat/messages", `{"session":"` + sess + `","text":"hi","client_id":"a b"}`, nil, 400, "bad_client_id"},
		{"huge body", "POST", "/api/webchat/messages", big, nil, 413, "too_large"},
		{"form content type", "POST", "/api/webchat/messages", `{"session":"` + sess + `","text":"hi"}`, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"},
		{"PUT messages", "PUT", "/api/webchat/messages", `{}`, nil, 405, "method_not_allowed"},
		{"DELETE messages", "DELETE", "/api/webchat/messages", "", nil, 405, "method_not_allowed"},
		{"GET sessions", "GET", "/api/webchat/sessions", "", nil, 405, "method_not_allowed"},
		{"malformed session body", "POST", "/api/webchat/sessions", `{"lang":`, nil, 400, "bad_json"},
		{"huge session body", "POST", "/api/webchat/sessions", `{"lang":"` + strings.Repeat("x", defaultMaxBody) + `"}`, nil, 413, "too_large"},
		{"GET missing session", "GET", "/api/webchat/messages", "", nil, 400, "missing_session"},
		{"GET unknown session", "GET", "/api/webchat/messages?session=nope", "", nil, 404, "unknown_session"},
		{"GET bad after", "GET", "/api/webchat/messages?session=" + sess + "&after=x", "", nil, 400, "bad_after"},
		{"GET negative after", "GET", "/api/webchat/messages?session=" + sess + "&after=-1", "", nil, 400, "bad_after"},
		{"unknown API path", "GET", "/api/webchat/nope", "", nil, 404, "not_found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(f.sink.got())
			var got errorBody
			w := do(t, f.a, tc.method, tc.target, tc.body, tc.hdr, &got)
			if w.Code != tc.wantStatus || got.Error != tc.wantCode {
				t.Errorf("got %d %q, want %d %q (body %s)", w.Code, got.Error, tc.wantStatus, tc.wantCode, w.Body)
			}
			if got.Message == "" {
				t.Errorf("error %q has no message for people", got.Error)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			if w.Code == http.StatusMethodNotAllowed && w.Header().Get("Allow") == "" {
				t.Error("405 without Allow header")
			}
			if n := len(f.sink.got()); n != before {
				t.Errorf("bad input reached the engine: %d events", n-before)
			}
		})
	}
}

func TestErrorMessagesLocalized(t *testing.T) {
	f := newFixture(t, Options{T: fakeT})
	body := `{"session":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","text":"hi"}`
	tests := []struct {
		name    string
		target  string
		body    string
		method  string
		hdr     map[string]string
		wantMsg string
	}{
		{"default language", "/api/webchat/messages", body, "POST", nil, "zh-CN|error.unknown_session"},
		{"Accept-Language en", "/api/webchat/messages", body, "POST", map[string]string{"Accept-Language": "en-GB,en;q=0.8"}, "en|error.unknown_session"},
		{"body lang wins", "/api/webchat/messages", `{"session":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","text":"hi","lang":"en"}`, "POST", map[string]string{"Accept-Language": "zh-CN"}, "en|error.unknown_session"},
		{"query lang", "/api/webchat/messages?session=zzz&lang=en", "", "GET", nil, "en|error.unknown_session"},
		// fakeT lacks error.bad_request: the built-in table fills in rather than a raw key.
		{"key missing in catalog", "/api/webchat/messages?session=zzz&after=x", "", "GET", map[string]string{"Accept-Language": "en"}, "The request is malformed."},
		// a wrong path or method is named as such, not as a malformed request
		{"unknown path", "/api/webchat/nope", "", "GET", nil, "zh-CN|error.not_found"},
		{"wrong method", "/api/webchat/messages", "", "PATCH", map[string]string{"Accept-Language": "en"}, "en|error.method_not_allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got errorBody
			do(t, f.a, tc.method, tc.target, tc.body, tc.hdr, &got)
			if got.Message != tc.wantMsg {
				t.Errorf("message = %q, want %q", got.Message, tc.wantMsg)
			}
		})
	}

	t.Run("no catalog uses the built-in table", func(t *testing.T) {
		g := newFixture(t, Options{})
		var zh, en errorBody
		do(t, g.a, "POST", "/api/webchat/messages", body, nil, &zh)
		do(t, g.a, "POST", "/api/webchat/messages", body, map[string]string{"Accept-Language": "en"}, &en)
		if zh.Message != fallback["zh-CN"]["error.unknown_session"] || en.Message != fallback["en"]["error.unknown_session"] {
			t.Errorf("messages %q / %q", zh.Message, en.Message)
		}
	})
}

func TestPostText(t *testing.T) {
	f := newFixture(t, Options{})
	sess := f.session(t)
	before := time.Now()
	tests := []struct {
		name     string
		req      map[string]string
		hdr      map[string]string
		wantText string
		wantLang string
		want     []message
	}{
		{"plain", map[string]string{"text": "  你好 "}, nil, "你好", "", []message{{Text: "echo 你好", Buttons: []bot.Button{}}}},
		{"command stays text", map[string]string{"text": "/lang en"}, nil, "/lang en", "", []message{{Text: "echo /lang en", Buttons: []bot.Button{}}}},
		{"lang from body", map[string]string{"text": "hi", "lang": "en"}, nil, "hi", "en", []message{{Text: "echo hi", Buttons: []bot.Button{}}}},
		{"lang from Accept-Language", map[string]string{"text": "hi"}, map[string]string{"Accept-Language": "en-US,en;q=0.9,zh;q=0.5"}, "hi", "en-US", []message{{Text: "echo hi", Buttons: []bot.Button{}}}},
		{"control characters dropped", map[string]string{"text": "a\u0000b\u001bc\nd"}, nil, "abc\nd", "", []message{{Text: "echo abc\nd", Buttons: []bot.Button{}}}},
		{"buttons", map[string]string{"text": "menu"}, nil, "menu", "", []message{{Text: "pick one", Buttons: []bot.Button{{Label: "Yes", Payload: "yes:1"}, {Label: "No", Payload: "no:1"}}}}},
		{"several replies", map[string]string{"text": "two"}, nil, "two", "", []message{{Text: "first", Buttons: []bot.Button{}}, {Text: "second", Buttons: []bot.Button{}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := map[string]string{"session": sess}
			for k, v := range tc.req {
				req[k] = v
			}
			n := len(f.sink.got())
			var got repliesBody
			w := do(t, f.a, "POST", "/api/webchat/messages", mustJSON(t, req), tc.hdr, &got)
			if w.Code != http.StatusOK {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			if diff := cmp.Diff(tc.want, got.Replies, cmpopts.IgnoreFields(message{}, "ID")); diff != "" {
				t.Errorf("replies (-want +got):\n%s", diff)
			}
			evs := f.sink.got()[n:]
			if len(evs) != 1 {
				t.Fatalf("%d events, want 1", len(evs))
			}
			ev := evs[0]
			want := bot.Event{Channel: bot.ChannelWeb, ChatID: sess, UserID: sess, Kind: bot.KindText, Text: tc.wantText, LangHint: tc.wantLang}
			if diff := cmp.Diff(want, ev, cmpopts.IgnoreFields(bot.Event{}, "MsgID", "At")); diff != "" {
				t.Errorf("event (-want +got):\n%s", diff)
			}
			if ev.MsgID == "" || ev.At.Before(before) || ev.At.After(time.Now()) {
				t.Errorf("event MsgID %q At %v", ev.MsgID, ev.At)
			}
		})
	}
}

// The language a session was created with wins over the browser's Accept-Language and over the text
// (a plain ASCII message in a zh-CN session is still a zh-CN hint); an explicit lang in the body wins.
func TestStoredSessionLangWins(t *testing.T) {
	f := newFixture(t, Options{})
	tests := []struct {
		stored, body, accept, want string
	}{
		{"zh-CN", "", "en-US,en;q=0.9", "zh-CN"},
		{"en", "", "zh-CN", "en"},
		{"zh-CN", "en", "", "en"},
		{"", "", "en-US", "en-US"},
	}
	for _, tc := range tests {
		sess := f.sessionLang(t, tc.stored)
		n := len(f.sink.got())
		req := map[string]string{"session": sess, "text": "ok then, where is my order"}
		if tc.body != "" {
			req["lang"] = tc.body
		}
		w := do(t, f.a, "POST", "/api/webchat/messages", mustJSON(t, req), map[string]string{"Accept-Language": tc.accept}, nil)
		if w.Code != http.StatusOK {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		evs := f.sink.got()[n:]
		if len(evs) != 1 || evs[0].LangHint != tc.want {
			t.Errorf("stored %q body %q accept %q: events %+v, want hint %q", tc.stored, tc.body, tc.accept, evs, tc.want)
		}
	}
}

func TestPostRepliesOnlyNewOnes(t *testing.T) {
	f := newFixture(t, Options{})
	sess, other := f.session(t), f.session(t)
	f.store.enqueue(sess, "earlier agent reply")
	f.store.enqueue(other, "someone else's")
	var got repliesBody
	do(t, f.a, "POST", "/api/webchat/messages", mustJSON(t, map[string]string{"session": sess, "text": "hi"}), nil, &got)
	if len(got.Replies) != 1 || got.Replies[0].Text != "echo hi" {
		t.Errorf("replies = %+v, want only the reply to this message", got.Replies)
	}
}

func TestInvalidUTF8ReachesEngineAsValidText(t *testing.T) {
	f := newFixture(t, Options{})
	sess := f.session(t)
	body := []byte(`{"session":"` + sess + `","text":"a` + "\xff\xfe" + `b` + "\xc3" + `"}`)
	req := httptest.NewRequestWithContext(t.Context(), "POST", "/api/webchat/messages", bytes.NewReader(body))
	w := httptest.NewRecorder()
	f.a.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	evs := f.sink.got()
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	if got := evs[0].Text; !utf8.ValidString(got) || got != "a\uFFFD\uFFFDb\uFFFD" {
		t.Errorf("text = %q, want invalid bytes replaced by U+FFFD", got)
	}
}

func TestLongTextRefusedBeforeStore(t *testing.T) {
	// Text over the limit (the engine's own, 4096 bytes) is refused with 413 before it reaches the
	// engine, which would store it whole only to answer "too long" (issue 15, disk fill).
	f := newFixture(t, Options{})
	sess := f.session(t)
	ok := strings.Repeat("长", 1365) // 4095 bytes
	var got repliesBody
	if w := do(t, f.a, "POST", "/api/webchat/messages", mustJSON(t, map[string]string{"session": sess, "text": ok}), nil, &got); w.Code != http.StatusOK {
		t.Fatalf("4095 bytes: status %d: %s", w.Code, w.Body)
	}
	long := strings.Repeat("长", 5000) // 15 000 bytes
	var eb errorBody
	w := do(t, f.a, "POST", "/api/webchat/messages", mustJSON(t, map[string]string{"session": sess, "text": long}), nil, &eb)
	if w.Code != http.StatusRequestEntityTooLarge || eb.Error != "too_large" || eb.Message == "" {
		t.Fatalf("15 000 bytes: status %d %+v, want 413 too_large with a message", w.Code, eb)
	}
	if evs := f.sink.got(); len(evs) != 1 || evs[0].Text != ok {
		t.Errorf("engine got %d events; want only the short one", len(evs))
	}
}

func TestButtonAction(t *testing.T) {
	f := newFixture(t, Options{})
	sess := f.session(t)
	var got repliesBody
	w := do(t, f.a, "POST", "/api/webchat/messages", mustJSON(t, map[string]string{"session": sess, "action": "rate:5:seq7"}), nil, &got)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	evs := f.sink.got()
	want := []bot.Event{{Channel: bot.ChannelWeb, ChatID: sess, UserID: sess, Kind: bot.KindButton, Payload: "rate:5:seq7"}}
	if diff := cmp.Diff(want, evs, cmpopts.IgnoreFields(bot.Event{}, "MsgID", "At")); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if len(got.Replies) != 1 || got.Replies[0].Text != "pressed rate:5:seq7" {
		t.Errorf("replies = %+v", got.Replies)
	}
}

func TestClientIDMakesRetriesIdempotent(t *testing.T) {
	f := newFixture(t, Options{})
	sess, other := f.session(t), f.session(t)
	body := mustJSON(t, map[string]string{"session": sess, "text": "hi", "client_id": "c-1"})
	var first, retry repliesBody
	do(t, f.a, "POST", "/api/webchat/messages", body, nil, &first)
	do(t, f.a, "POST", "/api/webchat/messages", body, nil, &retry)
	do(t, f.a, "POST", "/api/webchat/messages", mustJSON(t, map[string]string{"session": other, "text": "hi", "client_id": "c-1"}), nil, nil)
	evs := f.sink.got()
	if len(evs) != 3 {
		t.Fatalf("%d events, want 3", len(evs))
	}
	if evs[0].MsgID != evs[1].MsgID {
		t.Errorf("retry has MsgID %q, first %q: want the same", evs[1].MsgID, evs[0].MsgID)
	}
	if evs[2].MsgID == evs[0].MsgID {
		t.Errorf("the same client_id in another session gave the same MsgID %q", evs[2].MsgID)
	}
	if len(first.Replies) != 1 || len(retry.Replies) != 0 {
		t.Errorf("replies: first %d, retry %d; want 1, 0", len(first.Replies), len(retry.Replies))
	}
	var all messagesBody
	do(t, f.a, "GET", "/api/webchat/messages?session="+sess, "", nil, &all)
	if len(all.Messages) != 1 {
		t.Errorf("GET lists %d messages, want the one reply once", len(all.Messages))
	}

	// without client_id every post is a new message
	plain := mustJSON(t, map[string]string{"session": sess, "text": "again"})
	do(t, f.a, "POST", "/api/webchat/messages", plain, nil, nil)
	do(t, f.a, "POST", "/api/webchat/messages", plain, nil, nil)
	evs = f.sink.got()
	if evs[3].MsgID == evs[4].MsgID {
		t.Errorf("two posts without client_id share MsgID %q", evs[3].MsgID)
	}
}

func TestGetPaging(t *testing.T) {
	f := newFixture(t, Options{})
	sess, other := f.session(t), f.session(t)
	var want []int64
	for i := range 250 {
		want = append(want, f.store.enqueue(sess, "m"+strconv.Itoa(i)))
		f.store.enqueue(other, "not yours")
	}
	var got []int64
	var after int64
	for page := 0; ; page++ {
		if page > 10 {
			t.Fatal("paging does not end")
		}
		var b messagesBody
		w := do(t, f.a, "GET", "/api/webchat/messages?session="+sess+"&after="+strconv.FormatInt(after, 10), "", nil, &b)
		if w.Code != http.StatusOK {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		if len(b.Messages) > pageLimit {
			t.Fatalf("page of %d messages, limit %d", len(b.Messages), pageLimit)
		}
		for _, m := range b.Messages {
			if m.Text == "not yours" {
				t.Fatalf("message %d of another session leaked", m.ID)
			}
			got = append(got, m.ID)
			after = m.ID
		}
		if !b.More {
			break
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	var tail messagesBody
	do(t, f.a, "GET", "/api/webchat/messages?session="+sess+"&after="+strconv.FormatInt(after, 10), "", nil, &tail)
	if len(tail.Messages) != 0 || tail.More || tail.Messages == nil {
		t.Errorf("after the last id: %+v, want an empty list", tail)
	}
}

func TestUnavailableUntilRun(t *testing.T) {
	old := sinkWait
	sinkWait = 20 * time.Millisecond
	t.Cleanup(func() { sinkWait = old })
	st := newFakeStore()
	a, err := New(Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	check := func(when string, wantCode int) {
		t.Helper()
		for _, r := range []struct{ method, target, body string }{
			{"POST", "/api/webchat/sessions", ""},
			{"POST", "/api/webchat/messages", `{"session":"x","text":"hi"}`},
			{"GET", "/api/webchat/messages?session=x", ""},
		} {
			var got errorBody
			w := do(t, a, r.method, r.target, r.body, nil, &got)
			if wantCode == http.StatusServiceUnavailable && (w.Code != wantCode || got.Error != "unavailable" || w.Header().Get("Retry-After") == "") {
				t.Errorf("%s: %s %s = %d %q, want 503 unavailable with Retry-After", when, r.method, r.target, w.Code, got.Error)
			}
			if wantCode != http.StatusServiceUnavailable && w.Code == http.StatusServiceUnavailable {
				t.Errorf("%s: %s %s = 503", when, r.method, r.target)
			}
		}
	}
	check("before Run", http.StatusServiceUnavailable)

	ctx, cancel := context.WithCancel(t.Context())
	sink := newFakeSink(st)
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, sink) }()
	waitRunning(a)
	check("while running", 0)
	if err := a.Run(ctx, sink); err == nil {
		t.Error("a second Run succeeded; want an error")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run after cancel = %v, want nil", err)
	}
	check("after Run", http.StatusServiceUnavailable)
	if err := a.Run(t.Context(), nil); err == nil {
		t.Error("Run(nil sink) succeeded")
	}
}

func TestEngineAndStoreFailures(t *testing.T) {
	t.Run("sink fails", func(t *testing.T) {
		f := newFixture(t, Options{})
		sess := f.session(t)
		f.sink.setErr(errFake)
		var got errorBody
		w := do(t, f.a, "POST", "/api/webchat/messages", mustJSON(t, map[string]string{"session": sess, "text": "hi"}), nil, &got)
		if w.Code != 500 || got.Error != "internal" || got.Message == "" {
			t.Errorf("got %d %+v", w.Code, got)
		}
	})
	for _, tc := range []struct{ method, target, body string }{
		{"POST", "/api/webchat/sessions", ""},
		{"POST", "/api/webchat/messages", `{"session":"abc","text":"hi"}`},
		{"GET", "/api/webchat/messages?session=abc", ""},
	} {
		t.Run("store fails "+tc.method+" "+tc.target, func(t *testing.T) {
			f := newFixture(t, Options{})
			f.store.setErr(errFake)
			var got errorBody
			w := do(t, f.a, tc.method, tc.target, tc.body, nil, &got)
			if w.Code != 500 || got.Error != "internal" {
				t.Errorf("got %d %+v", w.Code, got)
			}
			if strings.Contains(w.Body.String(), errFake.Error()) {
				t.Error("internal error text leaked to the client")
			}
		})
	}
}

func TestSend(t *testing.T) {
	a, err := New(Options{Store: newFakeStore()})
	if err != nil {
		t.Fatal(err)
	}
	if a.Channel() != bot.ChannelWeb {
		t.Errorf("Channel = %q", a.Channel())
	}
	id, err := a.Send(t.Context(), bot.Reply{OutboxID: 9876543210, Channel: bot.ChannelWeb, ChatID: "s", Text: "hi"})
	if err != nil || id != "9876543210" {
		t.Errorf("Send = %q, %v; want the outbox id", id, err)
	}
	_, err = a.Send(t.Context(), bot.Reply{OutboxID: 1})
	if pe := (*bot.PermanentError)(nil); !errors.As(err, &pe) {
		t.Errorf("Send without a session = %v, want *bot.PermanentError", err)
	}
}

func TestNewValidates(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Error("New without Store succeeded")
	}
	if _, err := New(Options{Store: newFakeStore(), FrameAncestors: []string{"https://a.example; script-src *"}}); err == nil {
		t.Error("New accepted a frame ancestor that injects a CSP directive")
	}
}

func TestOverHTTP(t *testing.T) {
	// The whole exchange through a real server and client: session, greeting, button, poll.
	f := newFixture(t, Options{})
	srv := httptest.NewServer(f.a)
	defer srv.Close()
	post := func(path string, body any, out any) int {
		t.Helper()
		b, _ := json.Marshal(body)
		res, err := srv.Client().Post(srv.URL+path, "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
		return res.StatusCode
	}
	var s struct{ Session string }
	if code := post("/api/webchat/sessions", map[string]string{"lang": "en"}, &s); code != 201 {
		t.Fatalf("create session: %d", code)
	}
	var r1, r2 repliesBody
	post("/api/webchat/messages", map[string]string{"session": s.Session, "text": "menu"}, &r1)
	if len(r1.Replies) != 1 || len(r1.Replies[0].Buttons) != 2 {
		t.Fatalf("menu replies %+v", r1.Replies)
	}
	post("/api/webchat/messages", map[string]string{"session": s.Session, "action": r1.Replies[0].Buttons[0].Payload}, &r2)
	if len(r2.Replies) != 1 || r2.Replies[0].Text != "pressed yes:1" {
		t.Fatalf("button replies %+v", r2.Replies)
	}
	agent := f.store.enqueue(s.Session, "Hello from an agent")
	res, err := srv.Client().Get(srv.URL + "/api/webchat/messages?session=" + s.Session + "&after=" + strconv.FormatInt(r2.Replies[0].ID, 10))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m messagesBody
	if err := json.NewDecoder(res.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	want := []message{{ID: agent, Text: "Hello from an agent", Buttons: []bot.Button{}}}
	if diff := cmp.Diff(want, m.Messages); diff != "" {
		t.Errorf("poll (-want +got):\n%s", diff)
	}
}

func TestAcceptLanguage(t *testing.T) {
	tests := []struct {
		header   string
		best     string
		pageLang string
	}{
		{"", "", "zh-CN"},
		{"en", "en", "en"},
		{"en-US,en;q=0.9", "en-US", "en"},
		{"fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5", "fr-CH", "en"},
		{"de;q=0.5, zh-TW;q=0.9", "zh-TW", "zh-CN"},
		{"zh-cn", "zh-cn", "zh-CN"},
		{"en;q=0, zh;q=0.1", "zh", "zh-CN"},
		{"*", "", "zh-CN"},
		{"en;q=abc, ja", "ja", "zh-CN"},
		{"en;q=2", "", "zh-CN"},
		{";;;,,,=", "", "zh-CN"},
	}
	a, err := New(Options{Store: newFakeStore()})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		if got := bestAcceptLanguage(tc.header); got != tc.best {
			t.Errorf("bestAcceptLanguage(%q) = %q, want %q", tc.header, got, tc.best)
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept-Language", tc.header)
		if got := a.uiLang(r, ""); got != tc.pageLang {
			t.Errorf("uiLang(%q) = %q, want %q", tc.header, got, tc.pageLang)
		}
	}
}

func TestRateLimits(t *testing.T) {
	f := newFixture(t, Options{MessagesPerSecond: 1, MessageBurst: 3, SessionsPerSecond: 0.5, SessionBurst: 2})
	clock := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	f.a.now = func() time.Time { return clock }
	sess, other := f.session(t), f.session(t)
	post := func(s string) (int, errorBody, string) {
		var e errorBody
		w := do(t, f.a, "POST", "/api/webchat/messages", mustJSON(t, map[string]string{"session": s, "text": "hi"}), map[string]string{"Accept-Language": "en"}, nil)
		_ = json.Unmarshal(w.Body.Bytes(), &e)
		return w.Code, e, w.Header().Get("Retry-After")
	}
	for i := range 3 {
		if code, _, _ := post(sess); code != 200 {
			t.Fatalf("message %d within the burst: %d", i+1, code)
		}
	}
	n := len(f.sink.got())
	code, e, ra := post(sess)
	if code != http.StatusTooManyRequests || e.Error != "rate_limited" || e.Message != fallback["en"]["error.rate_limited"] || ra != "1" {
		t.Errorf("over the limit: %d %+v Retry-After %q", code, e, ra)
	}
	if len(f.sink.got()) != n {
		t.Error("a limited message reached the engine")
	}
	if code, _, _ := post(other); code != 200 {
		t.Errorf("another session is limited too: %d", code)
	}
	clock = clock.Add(time.Second)
	if code, _, _ := post(sess); code != 200 {
		t.Errorf("after a second: %d", code)
	}

	for i := range 2 {
		if w := do(t, f.a, "POST", "/api/webchat/sessions", "", nil, nil); w.Code != 201 {
			t.Fatalf("session %d: %d", i+1, w.Code)
		}
	}
	w := do(t, f.a, "POST", "/api/webchat/sessions", "", nil, nil)
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "2" {
		t.Errorf("third session: %d, Retry-After %q; want 429 after 2s", w.Code, w.Header().Get("Retry-After"))
	}
	// The limit is per client: another address still gets its session.
	req := httptest.NewRequestWithContext(t.Context(), "POST", "/api/webchat/sessions", nil)
	req.RemoteAddr = "198.51.100.7:4242"
	rec := httptest.NewRecorder()
	f.a.ServeHTTP(rec, req)
	if rec.Code != http.StatusCreated {
		t.Errorf("session from another client: %d, want 201", rec.Code)
	}
}

func TestLimiterForgetsIdleSessions(t *testing.T) {
	l := newLimiter(1, 1)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 1000 {
		l.allow("s"+strconv.Itoa(i), t0)
	}
	l.allow("late", t0.Add(idleBucket+time.Second))
	if n := len(l.buckets); n != 1 {
		t.Errorf("%d buckets after the idle sweep, want 1", n)
	}
	if ok, _ := newLimiter(-1, 0).allow("x", t0); !ok {
		t.Error("a negative rate limits")
	}
}

func TestNoMessageLimitByDefault(t *testing.T) {
	f := newFixture(t, Options{})
	sess := f.session(t)
	for i := range 200 {
		if w := do(t, f.a, "POST", "/api/webchat/messages", mustJSON(t, map[string]string{"session": sess, "text": "hi"}), nil, nil); w.Code != 200 {
			t.Fatalf("message %d: %d", i+1, w.Code)
		}
	}
}

// inlineSink plays the engine's InlineSink: it returns the replies itself (not through the store).
type inlineSink struct{ *fakeSink }

func (k inlineSink) DeliverInline(ctx context.Context, ev bot.Event) ([]bot.Reply, error) {
	if err := k.Deliver(ctx, ev); err != nil {
		return nil, err
	}
	return []bot.Reply{{OutboxID: 1000 + int64(len(k.got())), Channel: bot.ChannelWeb, ChatID: ev.ChatID, Text: "inline " + ev.Text}}, nil
}

// TestPostInlineReplies: with an InlineSink the response carries the replies the sink returned, and a
// known session's message needs no store read at all (the store fails here after the first message).
func TestPostInlineReplies(t *testing.T) {
	st := newFakeStore()
	a, err := New(Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	sink := inlineSink{newFakeSink(st)}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go a.Run(ctx, sink)
	waitRunning(a)
	var s struct{ Session string }
	if w := do(t, a, "POST", "/api/webchat/sessions", "", nil, &s); w.Code != http.StatusCreated {
		t.Fatalf("session: %d", w.Code)
	}
	for i, text := range []string{"one", "two"} {
		if i == 1 {
			st.setErr(errFake)
		}
		var got repliesBody
		w := do(t, a, "POST", "/api/webchat/messages", mustJSON(t, map[string]string{"session": s.Session, "text": text}), nil, &got)
		if w.Code != http.StatusOK || len(got.Replies) != 1 || got.Replies[0].Text != "inline "+text || got.Replies[0].ID != int64(1001+i) {
			t.Errorf("message %q: %d %+v", text, w.Code, got.Replies)
		}
	}
}

// A customer arriving between the listener opening and Run starting is answered once Run starts,
// not with a 503.
func TestRequestWaitsForRunAtStartup(t *testing.T) {
	st := newFakeStore()
	a, err := New(Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		time.Sleep(100 * time.Millisecond)
		a.Run(ctx, newFakeSink(st))
	}()
	w := do(t, a, "POST", "/api/webchat/sessions", "", nil, nil)
	if w.Code != http.StatusOK && w.Code != http.StatusCreated {
		t.Fatalf("session created during startup: %d %s", w.Code, w.Body.String())
	}
}
