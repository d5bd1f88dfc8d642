// Package wechattest is a strict fake of the WeChat Official Account platform for tests: an httptest
// server speaking the API kefu calls (GET /cgi-bin/token, POST /cgi-bin/message/custom/send) and a
// client that posts signed — in safe mode encrypted — callbacks to the adapter as WeChat does,
// retrying a delivery that was not answered "success" (WeChat retries three times).
//
// The API side is strict: the appid and secret must match (40013/40125), every call needs a token it
// issued and that has not expired (41001/40001/42001), bodies must be JSON with the fields WeChat
// requires (40003 unknown follower, 40008 bad msgtype, 44004 empty content), and a follower whose last
// message is older than 48 hours by the fake's clock cannot be answered (45015), and one who got
// ReplyLimit (5) messages since their last message or event gets no more until they write again
// (45047 "out of response count limit": the rule since June 2023, which does not add up).
package wechattest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/adapters/internal/wxcrypt"
)

// Credentials the fake accepts.
const (
	AppID          = "wx0123456789abcdef"
	AppSecret      = "fake-app-secret-0123456789abcdef"
	Token          = "kefutoken"
	EncodingAESKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	OriginalID     = "gh_0123456789ab" // the account's 原始ID, ToUserName of callbacks
	TokenLifetime  = 7200 * time.Second
)

// TextLimit is the most UTF-8 bytes of a text message's content (and, here, a menu's head_content)
// the platform accepts; longer content is refused with 45002 "content size out of limit".
const TextLimit = 2048

// Sent is one accepted custom/send call.
type Sent struct {
	ToUser  string
	MsgType string
	Text    string   // text.content, or msgmenu.head_content
	Menu    []string // msgmenu items as "id=content"
}

// Server is the fake platform.
type Server struct {
	*httptest.Server
	t testing.TB

	// Callback is the adapter's callback URL; SafeMode makes callbacks encrypted (EncodingAESKey).
	Callback string
	SafeMode bool
	// ReplyLimit is how many messages a follower may get after each of their messages (default 5).
	ReplyLimit int
	// Retries after a delivery not answered "success" (default 3) and the pause before each (default 100ms).
	Retries    int
	RetryDelay time.Duration

	crypt  *wxcrypt.Cipher
	client *http.Client

	mu        sync.Mutex
	now       func() time.Time
	tokens    map[string]time.Time
	fetches   int
	sent      []Sent
	sends     int            // custom/send calls, refused ones included
	replies   map[string]int // messages accepted per follower since their last message
	seen      map[string]time.Time
	nextMsgID int64
	hook      func(Sent) (code int, msg string)
	requests  int // callback POSTs made, retries included
	media     map[string]Media
	busy      int // media/get calls still to answer errcode -1 (FailMedia)
}

// Media is a file the fake serves at /cgi-bin/media/get.
type Media struct {
	ContentType string
	Name        string
	Body        []byte
	// Video: media/get answers {"video_url": …} (WeChat's documented answer for video media) and the
	// file is served at that address instead.
	Video bool
}

// AddMedia serves a file under a new media_id (valid, like WeChat's temporary media, for 3 days).
func (s *Server) AddMedia(m Media) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.media == nil {
		s.media = map[string]Media{}
	}
	id := "MEDIA_" + randomHex(8)
	s.media[id] = m
	return id
}

// FailMedia makes the next n media/get calls answer errcode -1 (system busy).
func (s *Server) FailMedia(n int) {
	s.mu.Lock()
	s.busy = n
	s.mu.Unlock()
}

// mediaGet serves a temporary media file with its content type and name, or an errcode JSON like
// WeChat (40001 bad token, 42001 expired, 40007 invalid media_id).
func (s *Server) mediaGet(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("access_token")
	s.mu.Lock()
	exp, known := s.tokens[tok]
	m, found := s.media[r.URL.Query().Get("media_id")]
	now := s.now()
	busy := known && now.Before(exp) && s.busy > 0
	if busy {
		s.busy--
	}
	s.mu.Unlock()
	switch {
	case tok == "":
		writeJSON(w, map[string]any{"errcode": 41001, "errmsg": "access_token missing"})
	case !known:
		writeJSON(w, map[string]any{"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"})
	case !now.Before(exp):
		writeJSON(w, map[string]any{"errcode": 42001, "errmsg": "access_token expired"})
	case busy:
		writeJSON(w, map[string]any{"errcode": -1, "errmsg": "system error"})
	case !found:
		writeJSON(w, map[string]any{"errcode": 40007, "errmsg": "invalid media_id"})
	case m.Video:
		writeJSON(w, map[string]any{"video_url": s.URL + "/video/" + r.URL.Query().Get("media_id") + "/v.mp4"})
	default:
		w.Header().Set("Content-Type", m.ContentType)
		w.Header().Set("Content-Disposition", `attachment; filename="`+m.Name+`"`)
		_, _ = w.Write(m.Body)
	}
}

// videoGet serves a video media file at the video_url media/get gave (no access token: the address is
// the capability); an unknown one is a 404.
func (s *Server) videoGet(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	m, found := s.media[r.PathValue("id")]
	s.mu.Unlock()
	if !found || !m.Video || r.URL.RawQuery != "" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", m.ContentType)
	_, _ = w.Write(m.Body)
}

// New starts the fake; it is closed when the test ends.
func New(t testing.TB) *Server {
	c, err := wxcrypt.New(EncodingAESKey, AppID)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{t: t, Retries: 3, ReplyLimit: 5, replies: map[string]int{}, RetryDelay: 100 * time.Millisecond, crypt: c, now: time.Now,
		client: &http.Client{Timeout: 5 * time.Second}, // WeChat gives up on a callback after 5 s
		tokens: map[string]time.Time{}, seen: map[string]time.Time{}, nextMsgID: 24000000000000000}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /cgi-bin/token", s.token)
	mux.HandleFunc("POST /cgi-bin/message/custom/send", s.send)
	mux.HandleFunc("GET /cgi-bin/media/get", s.mediaGet)
	mux.HandleFunc("GET /video/{id}/v.mp4", s.videoGet)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("wechattest: unexpected call %s %s", r.Method, r.URL.Path)
		writeJSON(w, map[string]any{"errcode": 48001, "errmsg": "api unauthorized"})
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// SetNow replaces the fake's clock (share it with the adapter's Options.Now).
func (s *Server) SetNow(now func() time.Time) {
	s.mu.Lock()
	s.now = now
	s.mu.Unlock()
}

// SetSendHook lets a test answer a custom/send with an errcode (0 = go on with the normal checks).
func (s *Server) SetSendHook(h func(Sent) (code int, msg string)) {
	s.mu.Lock()
	s.hook = h
	s.mu.Unlock()
}

// RevokeTokens invalidates every issued token (as a secret reset or another client's refresh does):
// the next call answers 40001.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	s.tokens = map[string]time.Time{}
	s.mu.Unlock()
}

// TokenFetches counts successful /cgi-bin/token calls.
func (s *Server) TokenFetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches
}

// Sent returns the accepted custom/send calls in order.
func (s *Server) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sent(nil), s.sent...)
}

// SendCalls counts custom/send calls, refused ones included.
func (s *Server) SendCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sends
}

// CallbackRequests counts callback POSTs, retries included.
func (s *Server) CallbackRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; encoding=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch {
	case q.Get("grant_type") != "client_credential":
		writeJSON(w, map[string]any{"errcode": 40002, "errmsg": "invalid grant_type"})
	case q.Get("appid") != AppID:
		writeJSON(w, map[string]any{"errcode": 40013, "errmsg": "invalid appid"})
	case q.Get("secret") != AppSecret:
		writeJSON(w, map[string]any{"errcode": 40125, "errmsg": "invalid appsecret"})
	default:
		s.mu.Lock()
		tok := "ACCESS_" + randomHex(16)
		s.tokens[tok] = s.now().Add(TokenLifetime)
		s.fetches++
		s.mu.Unlock()
		writeJSON(w, map[string]any{"access_token": tok, "expires_in": int(TokenLifetime / time.Second)})
	}
}

func (s *Server) send(w http.ResponseWriter, r *http.Request) {
	fail := func(code int, msg string) { writeJSON(w, map[string]any{"errcode": code, "errmsg": msg}) }
	tok := r.URL.Query().Get("access_token")
	s.mu.Lock()
	s.sends++
	exp, known := s.tokens[tok]
	now := s.now()
	hook := s.hook
	s.mu.Unlock()
	switch {
	case tok == "":
		fail(41001, "access_token missing")
		return
	case !known:
		fail(40001, "invalid credential, access_token is invalid or not latest")
		return
	case !now.Before(exp):
		fail(42001, "access_token expired")
		return
	}
	var body struct {
		ToUser  string `json:"touser"`
		MsgType string `json:"msgtype"`
		Text    *struct {
			Content string `json:"content"`
		} `json:"text"`
		MsgMenu *struct {
			HeadContent string `json:"head_content"`
			List        []struct {
				ID      string `json:"id"`
				Content string `json:"content"`
			} `json:"list"`
			TailContent string `json:"tail_content"`
		} `json:"msgmenu"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		fail(47001, "data format error")
		return
	}
	m := Sent{ToUser: body.ToUser, MsgType: body.MsgType}
	switch body.MsgType {
	case "text":
		if body.Text == nil || strings.TrimSpace(body.Text.Content) == "" {
			fail(44004, "empty content")
			return
		}
		if len(body.Text.Content) > TextLimit {
			fail(45002, "content size out of limit")
			return
		}
		m.Text = body.Text.Content
	case "msgmenu":
		if body.MsgMenu == nil || len(body.MsgMenu.List) == 0 {
			fail(40035, "invalid args")
			return
		}
		if len(body.MsgMenu.HeadContent) > TextLimit {
			fail(45002, "content size out of limit")
			return
		}
		m.Text = body.MsgMenu.HeadContent
		for _, it := range body.MsgMenu.List {
			if it.ID == "" || it.Content == "" {
				fail(40035, "invalid args")
				return
			}
			m.Menu = append(m.Menu, it.ID+"="+it.Content)
		}
	default:
		fail(40008, "invalid message type")
		return
	}
	if hook != nil {
		if code, msg := hook(m); code != 0 {
			fail(code, msg)
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	last, ok := s.seen[body.ToUser]
	switch {
	case body.ToUser == "" || !ok:
		fail(40003, "invalid openid")
		return
	case now.Sub(last) > 48*time.Hour:
		fail(45015, "response out of time limit or subscription is canceled")
		return
	case s.replies[body.ToUser] >= s.ReplyLimit:
		fail(45047, "out of response count limit")
		return
	}
	s.replies[body.ToUser]++
	s.sent = append(s.sent, m)
	fail(0, "ok")
}

// Follow records that openID interacted with the account now (followed, wrote) without a callback,
// opening their 48-hour window.
func (s *Server) Follow(openID string) {
	s.mu.Lock()
	s.seen[openID] = s.now()
	s.replies[openID] = 0
	s.mu.Unlock()
}

// Field is one element of a pushed callback.
type Field struct{ Name, Value string }

// PushText delivers a text message from openID and returns its MsgId.
func (s *Server) PushText(openID, text string) (string, error) {
	id := s.msgID()
	return id, s.Push(openID, Field{"MsgType", "text"}, Field{"Content", text}, Field{"MsgId", id})
}

// PushEvent delivers an event (subscribe, CLICK with key …) from openID.
func (s *Server) PushEvent(openID, event, key string) error {
	f := []Field{{"MsgType", "event"}, {"Event", event}}
	if key != "" {
		f = append(f, Field{"EventKey", key})
	}
	return s.Push(openID, f...)
}

func (s *Server) msgID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextMsgID++
	return strconv.FormatInt(s.nextMsgID, 10)
}

// Push delivers a callback from openID with the given fields (ToUserName, FromUserName and
// CreateTime are added) until it is answered "success" or the retries are spent. It records the
// follower's interaction (the start of their 48-hour window).
func (s *Server) Push(openID string, fields ...Field) error {
	s.mu.Lock()
	now := s.now()
	s.seen[openID] = now
	s.replies[openID] = 0
	s.mu.Unlock()
	var b strings.Builder
	b.WriteString("<xml>")
	writeField(&b, "ToUserName", OriginalID)
	writeField(&b, "FromUserName", openID)
	b.WriteString("<CreateTime>" + strconv.FormatInt(now.Unix(), 10) + "</CreateTime>")
	for _, f := range fields {
		if f.Name == "MsgId" || f.Name == "CreateTime" {
			b.WriteString("<" + f.Name + ">" + f.Value + "</" + f.Name + ">")
			continue
		}
		writeField(&b, f.Name, f.Value)
	}
	b.WriteString("</xml>")
	return s.Deliver([]byte(b.String()), openID)
}

func writeField(b *strings.Builder, name, value string) {
	b.WriteString("<" + name + "><![CDATA[")
	b.WriteString(strings.ReplaceAll(value, "]]>", "]]]]><![CDATA[>"))
	b.WriteString("]]></" + name + ">")
}

// Deliver posts a raw callback body as WeChat would (signed, encrypted in SafeMode), retrying.
func (s *Server) Deliver(plain []byte, openID string) error {
	var err error
	for attempt := 0; attempt <= s.Retries; attempt++ {
		if attempt > 0 {
			time.Sleep(s.RetryDelay)
		}
		var code int
		var body string
		code, body, err = s.post(plain, openID, "")
		if err == nil && code == http.StatusOK && (body == "success" || body == "") {
			return nil
		}
		if err == nil {
			err = fmt.Errorf("wechattest: callback answered %d %q", code, body)
		}
	}
	return err
}

// Post sends one signed callback without retrying and returns the answer; tamper, when not empty,
// replaces the signature (or in safe mode the msg_signature) to test refusals.
func (s *Server) Post(plain []byte, openID, tamper string) (int, string, error) {
	return s.post(plain, openID, tamper)
}

func (s *Server) post(plain []byte, openID, tamper string) (int, string, error) {
	s.mu.Lock()
	ts := strconv.FormatInt(s.now().Unix(), 10)
	s.requests++
	s.mu.Unlock()
	return s.PostAt(plain, openID, ts, tamper)
}

// PostAt is Post with a given timestamp (to test stale and replayed requests).
func (s *Server) PostAt(plain []byte, openID, ts, tamper string) (int, string, error) {
	nonce := strconv.FormatInt(time.Now().UnixNano()%1e9, 10)
	q := url.Values{"timestamp": {ts}, "nonce": {nonce}, "openid": {openID}, "signature": {wxcrypt.Signature(Token, ts, nonce)}}
	body := plain
	if s.SafeMode {
		enc, err := s.crypt.Encrypt(plain, nil)
		if err != nil {
			return 0, "", err
		}
		q.Set("encrypt_type", "aes")
		q.Set("msg_signature", wxcrypt.Signature(Token, ts, nonce, enc))
		body = []byte("<xml><ToUserName><![CDATA[" + OriginalID + "]]></ToUserName><Encrypt><![CDATA[" + enc + "]]></Encrypt></xml>")
		if tamper != "" {
			q.Set("msg_signature", tamper)
		}
	} else if tamper != "" {
		q.Set("signature", tamper)
	}
	resp, err := s.client.Post(s.Callback+"?"+q.Encode(), "text/xml", bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(out)), nil
}

// VerifyURL performs WeChat's URL verification (GET with echostr) and returns the answer.
func (s *Server) VerifyURL(echostr, signature string) (int, string, error) {
	s.mu.Lock()
	ts := strconv.FormatInt(s.now().Unix(), 10)
	s.mu.Unlock()
	nonce := "1320562132"
	if signature == "" {
		signature = wxcrypt.Signature(Token, ts, nonce)
	}
	q := url.Values{"timestamp": {ts}, "nonce": {nonce}, "signature": {signature}, "echostr": {echostr}}
	resp, err := s.client.Get(s.Callback + "?" + q.Encode())
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
