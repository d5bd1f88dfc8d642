// Package wecomtest is a strict fake of WeCom's customer-service (kf) API for tests: gettoken,
// kf/sync_msg with a cursor, kf/send_msg, kf/send_msg_on_event, and encrypted kf_msg_or_event notices
// posted to the adapter's callback like WeCom does.
//
// Strict: the corp id and secret must match (40013/40001), every call needs an issued, unexpired token
// (41001/40014/42001), JSON bodies are decoded with unknown fields refused, send_msg needs touser,
// open_kfid and content (40003/95000/44004), a welcome code is good once within 20 s (95018 after),
// a customer whose last message is older than 48 hours by the fake's clock cannot be answered
// (95018), nor one who got ReplyLimit (5) send_msg messages since their last message (95018 too: WeCom
// allows 5 per customer message, and a new message resets the count; send_msg_on_event is not
// counted), nor one whose session a servicer holds or that waits in the servicers' queue
// (service_state 3 or 2, also 95018; kf/service_state/get tells which), and media/get serves only
// the media ids it issued (40007).
package wecomtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/adapters/internal/wxcrypt"
)

// Credentials the fake accepts.
const (
	CorpID         = "ww0123456789abcdef"
	Secret         = "fake-kf-secret-0123456789"
	Token          = "kfcallbacktoken"
	EncodingAESKey = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
	OpenKfID       = "wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw"
)

// Sent is one accepted send_msg or send_msg_on_event.
type Sent struct {
	ToUser  string // "" for send_msg_on_event
	Code    string // the welcome code used
	MsgType string
	Text    string
	Menu    []string // "id=content"
}

// Server is the fake.
type Server struct {
	*httptest.Server
	Callback string
	// ReplyLimit is how many send_msg messages a customer may get after each of their messages
	// (default 5).
	ReplyLimit int

	crypt   *wxcrypt.Cipher
	mu      sync.Mutex
	now     func() time.Time
	tokens  map[string]time.Time
	fetches int
	msgs    []json.RawMessage // every message ever, the cursor is an index
	seen    map[string]time.Time
	codes   map[string]time.Time // welcome code -> expiry
	used    map[string]bool
	sent    []Sent
	sends   int            // send_msg calls, refused ones included
	replies map[string]int // send_msg messages accepted per customer since their last message
	syncs   int
	nextID  int
	states  map[string]state     // external_userid -> session state (service_state); absent: 4
	media   map[string]Media     // media_id -> file
	added   map[string]time.Time // media_id -> when it was sent (WeCom keeps temporary media 3 days)
	busy    int                  // media/get calls still to answer "system busy" (FailMedia)
	onDuty  map[string]bool      // servicers 正在接待 (SetServicers): the only ones a session may go to
	trans   []string             // service_state/trans calls as "user:from->to"
}

// Service states of a kf session (service_state).
const (
	StateNew      = 0 // 未处理: a customer wrote; the API may answer (and then holds it, state 1)
	StateBot      = 1 // 由智能助手接待: the API answers
	StatePool     = 2 // 待接入池排队中: waiting for a human servicer; the API cannot answer
	StateServicer = 3 // 由人工接待: a human servicer in WeCom answers; the API cannot
	StateEnded    = 4 // 已结束/未开始: nobody can answer until the customer writes again
)

type state struct {
	code     int
	servicer string
}

// Media is a file the fake serves at /cgi-bin/media/get.
type Media struct {
	ContentType string
	Name        string
	Body        []byte
}

// New starts the fake.
func New(t testing.TB) *Server {
	c, err := wxcrypt.New(EncodingAESKey, CorpID)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{ReplyLimit: 5, replies: map[string]int{}, crypt: c, now: time.Now, tokens: map[string]time.Time{}, seen: map[string]time.Time{},
		codes: map[string]time.Time{}, used: map[string]bool{}, states: map[string]state{}, media: map[string]Media{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /cgi-bin/gettoken", s.gettoken)
	mux.HandleFunc("POST /cgi-bin/kf/sync_msg", s.authed(s.syncMsg))
	mux.HandleFunc("POST /cgi-bin/kf/send_msg", s.authed(s.sendMsg))
	mux.HandleFunc("POST /cgi-bin/kf/send_msg_on_event", s.authed(s.sendOnEvent))
	mux.HandleFunc("POST /cgi-bin/kf/service_state/get", s.authed(s.stateGet))
	mux.HandleFunc("POST /cgi-bin/kf/service_state/trans", s.authed(s.stateTrans))
	mux.HandleFunc("GET /cgi-bin/media/get", s.mediaGet)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("wecomtest: unexpected %s %s", r.Method, r.URL.Path)
		reply(w, 48002, "api forbidden", nil)
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// SetNow replaces the clock.
func (s *Server) SetNow(f func() time.Time) { s.mu.Lock(); s.now = f; s.mu.Unlock() }

// RevokeTokens invalidates every token.
func (s *Server) RevokeTokens() { s.mu.Lock(); s.tokens = map[string]time.Time{}; s.mu.Unlock() }

// TokenFetches counts gettoken calls that issued a token.
func (s *Server) TokenFetches() int { s.mu.Lock(); defer s.mu.Unlock(); return s.fetches }

// Syncs counts sync_msg calls.
func (s *Server) Syncs() int { s.mu.Lock(); defer s.mu.Unlock(); return s.syncs }

// SendCalls counts send_msg calls, refused ones included.
func (s *Server) SendCalls() int { s.mu.Lock(); defer s.mu.Unlock(); return s.sends }

// Sent returns the accepted messages.
func (s *Server) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sent(nil), s.sent...)
}

func reply(w http.ResponseWriter, code int, msg string, extra map[string]any) {
	m := map[string]any{"errcode": code, "errmsg": msg}
	for k, v := range extra {
		m[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(m)
}

func (s *Server) gettoken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch {
	case q.Get("corpid") != CorpID:
		reply(w, 40013, "invalid corpid", nil)
	case q.Get("corpsecret") != Secret:
		reply(w, 40001, "invalid secret", nil)
	default:
		s.mu.Lock()
		s.nextID++
		tok := fmt.Sprintf("TOKEN_%d_%d", s.nextID, time.Now().UnixNano())
		s.tokens[tok] = s.now().Add(2 * time.Hour)
		s.fetches++
		s.mu.Unlock()
		reply(w, 0, "ok", map[string]any{"access_token": tok, "expires_in": 7200})
	}
}

func (s *Server) authed(h func(http.ResponseWriter, *json.Decoder)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok := r.URL.Query().Get("access_token")
		s.mu.Lock()
		exp, ok := s.tokens[tok]
		now := s.now()
		s.mu.Unlock()
		switch {
		case tok == "":
			reply(w, 41001, "access_token missing", nil)
		case !ok:
			reply(w, 40014, "invalid access_token", nil)
		case !now.Before(exp):
			reply(w, 42001, "access_token expired", nil)
		default:
			dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
			dec.DisallowUnknownFields()
			h(w, dec)
		}
	}
}

func (s *Server) syncMsg(w http.ResponseWriter, dec *json.Decoder) {
	var in struct {
		Cursor      string `json:"cursor"`
		Token       string `json:"token"`
		Limit       int    `json:"limit"`
		VoiceFormat int    `json:"voice_format"`
		OpenKfID    string `json:"open_kfid"`
	}
	if err := dec.Decode(&in); err != nil || in.Limit < 0 || in.Limit > 1000 {
		reply(w, 40058, "invalid parameter", nil)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.syncs++
	from := 0
	if in.Cursor != "" {
		n, err := strconv.Atoi(in.Cursor)
		if err != nil || n < 0 || n > len(s.msgs) {
			reply(w, 95007, "invalid cursor", nil)
			return
		}
		from = n
	}
	limit := in.Limit
	if limit == 0 {
		limit = 1000
	}
	to := min(from+limit, len(s.msgs))
	more := 0
	if to < len(s.msgs) {
		more = 1
	}
	reply(w, 0, "ok", map[string]any{"next_cursor": strconv.Itoa(to), "has_more": more, "msg_list": s.msgs[from:to]})
}

type sendBody struct {
	ToUser   string `json:"touser"`
	OpenKfID string `json:"open_kfid"`
	Code     string `json:"code"`
	MsgID    string `json:"msgid"`
	MsgType  string `json:"msgtype"`
	Text     *struct {
		Content string `json:"content"`
	} `json:"text"`
	MsgMenu *struct {
		HeadContent string `json:"head_content"`
		List        []struct {
			Type  string `json:"type"`
			Click *struct {
				ID      string `json:"id"`
				Content string `json:"content"`
			} `json:"click"`
		} `json:"list"`
		TailContent string `json:"tail_content"`
	} `json:"msgmenu"`
}

func (b sendBody) sent() (Sent, int) {
	m := Sent{ToUser: b.ToUser, Code: b.Code, MsgType: b.MsgType}
	switch b.MsgType {
	case "text":
		if b.Text == nil || b.Text.Content == "" {
			return m, 44004
		}
		m.Text = b.Text.Content
	case "msgmenu":
		if b.MsgMenu == nil || len(b.MsgMenu.List) == 0 {
			return m, 40058
		}
		m.Text = b.MsgMenu.HeadContent
		for _, it := range b.MsgMenu.List {
			if it.Type != "click" || it.Click == nil || it.Click.ID == "" || it.Click.Content == "" {
				return m, 40058
			}
			m.Menu = append(m.Menu, it.Click.ID+"="+it.Click.Content)
		}
	default:
		return m, 40008
	}
	return m, 0
}

func (s *Server) sendMsg(w http.ResponseWriter, dec *json.Decoder) {
	s.mu.Lock()
	s.sends++
	s.mu.Unlock()
	var b sendBody
	if err := dec.Decode(&b); err != nil {
		reply(w, 47001, "data format error", nil)
		return
	}
	if b.OpenKfID != OpenKfID {
		reply(w, 95000, "invalid open_kfid", nil)
		return
	}
	m, code := b.sent()
	if code != 0 {
		reply(w, code, "invalid message", nil)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	last, ok := s.seen[b.ToUser]
	switch {
	case !ok:
		reply(w, 40003, "invalid external_userid", nil)
	case s.now().Sub(last) > 48*time.Hour:
		reply(w, 95018, "send msg failed: session status not allowed", nil)
	case s.state(b.ToUser).code != StateNew && s.state(b.ToUser).code != StateBot:
		reply(w, 95018, "send msg failed: session status not allowed", nil)
	case s.replies[b.ToUser] >= s.ReplyLimit:
		reply(w, 95018, "send msg failed: message count limit reached", nil)
	default:
		s.replies[b.ToUser]++
		s.states[b.ToUser] = state{code: StateBot}
		s.sent = append(s.sent, m)
		s.nextID++
		reply(w, 0, "ok", map[string]any{"msgid": "SENT" + strconv.Itoa(s.nextID)})
	}
}

func (s *Server) sendOnEvent(w http.ResponseWriter, dec *json.Decoder) {
	var b sendBody
	if err := dec.Decode(&b); err != nil || b.Code == "" || b.ToUser != "" {
		reply(w, 47001, "data format error", nil)
		return
	}
	m, code := b.sent()
	if code != 0 {
		reply(w, code, "invalid message", nil)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.codes[b.Code]
	if !ok || s.used[b.Code] || !s.now().Before(exp) {
		reply(w, 95018, "invalid or used welcome code", nil)
		return
	}
	s.used[b.Code] = true
	s.sent = append(s.sent, m)
	s.nextID++
	reply(w, 0, "ok", map[string]any{"msgid": "SENT" + strconv.Itoa(s.nextID)})
}

// Follow records that user wrote just now (opens the 48-hour window) without a message to sync.
func (s *Server) Follow(user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen[user] = s.now()
	s.replies[user] = 0
	if s.state(user).code == StateEnded {
		s.states[user] = state{code: StateNew}
	}
}

// PushText adds a customer's text message and notifies the callback; it returns the msgid.
func (s *Server) PushText(user, text string) string {
	return s.push(user, map[string]any{"msgtype": "text", "text": map[string]string{"content": text}})
}

// PushMenuClick adds the customer's tap on a menu item.
func (s *Server) PushMenuClick(user, id, content string) string {
	return s.push(user, map[string]any{"msgtype": "text", "text": map[string]string{"content": content, "menu_id": id}})
}

// PushServicer adds a message a human servicer wrote in WeCom (origin 5).
func (s *Server) PushServicer(user, text string) string {
	return s.push(user, map[string]any{"msgtype": "text", "origin": 5, "servicer_userid": "zhangsan", "text": map[string]string{"content": text}})
}

// EnterSession adds the enter_session event with a fresh welcome code and returns the code.
func (s *Server) EnterSession(user string) string {
	s.mu.Lock()
	s.nextID++
	code := fmt.Sprintf("WELCOME%d", s.nextID)
	s.codes[code] = s.now().Add(20 * time.Second)
	s.mu.Unlock()
	s.push(user, map[string]any{"msgtype": "event", "origin": 4, "event": map[string]any{"event_type": "enter_session",
		"open_kfid": OpenKfID, "external_userid": user, "scene": "qr", "welcome_code": code}})
	return code
}

func (s *Server) push(user string, fields map[string]any) string {
	s.mu.Lock()
	s.nextID++
	id := fmt.Sprintf("MSG%06d", s.nextID)
	m := map[string]any{"msgid": id, "open_kfid": OpenKfID, "external_userid": user, "send_time": s.now().Unix(), "origin": 3}
	for k, v := range fields {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	s.msgs = append(s.msgs, b)
	if o, _ := m["origin"].(int); o == 3 || fields["msgtype"] == "event" {
		s.seen[user] = s.now()
	}
	if o, _ := m["origin"].(int); o == 3 {
		s.replies[user] = 0 // only a customer's own message renews the count
	}
	// A customer's message, or their entering the chat (the welcome may follow), opens an ended session.
	if o, _ := m["origin"].(int); (o == 3 || fields["msgtype"] == "event") && s.state(user).code == StateEnded {
		s.states[user] = state{code: StateNew}
	}
	cb := s.Callback
	s.mu.Unlock()
	if cb != "" {
		_ = s.Notify()
	}
	return id
}

// Notify posts an encrypted kf_msg_or_event notice to Callback and returns the HTTP status.
func (s *Server) Notify() error {
	s.mu.Lock()
	ts := strconv.FormatInt(s.now().Unix(), 10)
	cb := s.Callback
	s.mu.Unlock()
	plain := "<xml><ToUserName><![CDATA[" + CorpID + "]]></ToUserName><CreateTime>" + ts + "</CreateTime><MsgType><![CDATA[event]]></MsgType>" +
		"<Event><![CDATA[kf_msg_or_event]]></Event><Token><![CDATA[ENCTOKEN]]></Token><OpenKfId><![CDATA[" + OpenKfID + "]]></OpenKfId></xml>"
	enc, err := s.crypt.Encrypt([]byte(plain), nil)
	if err != nil {
		return err
	}
	nonce := strconv.FormatInt(time.Now().UnixNano()%1e9, 10)
	q := url.Values{"msg_signature": {wxcrypt.Signature(Token, ts, nonce, enc)}, "timestamp": {ts}, "nonce": {nonce}}
	body := "<xml><ToUserName><![CDATA[" + CorpID + "]]></ToUserName><Encrypt><![CDATA[" + enc + "]]></Encrypt><AgentID><![CDATA[]]></AgentID></xml>"
	resp, err := http.Post(cb+"?"+q.Encode(), "text/xml", bytes.NewReader([]byte(body)))
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("wecomtest: notice answered %d", resp.StatusCode)
	}
	return nil
}

// VerifyURL performs the URL verification with an encrypted echostr and returns the answer.
func (s *Server) VerifyURL(echo string) (int, string, error) {
	enc, err := s.crypt.Encrypt([]byte(echo), nil)
	if err != nil {
		return 0, "", err
	}
	s.mu.Lock()
	ts := strconv.FormatInt(s.now().Unix(), 10)
	s.mu.Unlock()
	q := url.Values{"msg_signature": {wxcrypt.Signature(Token, ts, "5", enc)}, "timestamp": {ts}, "nonce": {"5"}, "echostr": {enc}}
	resp, err := http.Get(s.Callback + "?" + q.Encode())
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// state is user's session state (the caller holds mu).
func (s *Server) state(user string) state {
	st, ok := s.states[user]
	if !ok {
		return state{code: StateEnded}
	}
	return st
}

// SetServiceState puts user's session in a state, as a human servicer's action in WeCom would
// (servicer: their userid, for StateServicer).
func (s *Server) SetServiceState(user string, code int, servicer string) {
	s.mu.Lock()
	s.states[user] = state{code: code, servicer: servicer}
	s.mu.Unlock()
}

// SetServicers lists the account's servicers who are on duty (接待人员状态「接待中」): service_state/trans
// hands a session only to one of them.
func (s *Server) SetServicers(userids ...string) {
	s.mu.Lock()
	s.onDuty = map[string]bool{}
	for _, u := range userids {
		s.onDuty[u] = true
	}
	s.mu.Unlock()
}

// Trans lists the service_state/trans calls that changed a session, as "user:from->to[@servicer]".
func (s *Server) Trans() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.trans...)
}

// transAllowed are the changes WeCom's 分配客服会话 allows: 0 → 1, 2, 3; 1 → 2, 3; 2 → 3; 3 → 3 (another
// servicer), 4; none from 4 (the customer must write again).
var transAllowed = map[int][]int{0: {1, 2, 3}, 1: {2, 3}, 2: {3}, 3: {3, 4}}

// stateTrans changes a session's state like WeCom: only the allowed changes (95016 otherwise), and to
// state 3 only with a servicer on duty (95014 otherwise: the fake's choice of code).
func (s *Server) stateTrans(w http.ResponseWriter, dec *json.Decoder) {
	var in struct {
		OpenKfID       string `json:"open_kfid"`
		ExternalUserID string `json:"external_userid"`
		ServiceState   *int   `json:"service_state"`
		ServicerUserID string `json:"servicer_userid"`
	}
	if err := dec.Decode(&in); err != nil || in.ServiceState == nil {
		reply(w, 47001, "data format error", nil)
		return
	}
	if in.OpenKfID != OpenKfID {
		reply(w, 95000, "invalid open_kfid", nil)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.seen[in.ExternalUserID]; !ok {
		reply(w, 40003, "invalid external_userid", nil)
		return
	}
	cur, to := s.state(in.ExternalUserID), *in.ServiceState
	if !slices.Contains(transAllowed[cur.code], to) {
		reply(w, 95016, "invalid service_state transition", nil)
		return
	}
	if to == StateServicer && !s.onDuty[in.ServicerUserID] {
		reply(w, 95014, "servicer_userid is not a servicer on duty", nil)
		return
	}
	st := state{code: to}
	if to == StateServicer {
		st.servicer = in.ServicerUserID
	}
	s.states[in.ExternalUserID] = st
	s.trans = append(s.trans, fmt.Sprintf("%s:%d->%d@%s", in.ExternalUserID, cur.code, to, st.servicer))
	reply(w, 0, "ok", nil)
}

// ServiceState is user's session state.
func (s *Server) ServiceState(user string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state(user).code
}

// PushCard queues a customer's message of another type (link, miniprogram, channels_shop_order,
// merged_msg …) with body as its msgtype object.
func (s *Server) PushCard(user, msgtype string, body map[string]any) string {
	return s.push(user, map[string]any{"msgtype": msgtype, msgtype: body})
}

// PushMedia queues a customer's image, voice or file message (msgtype image | voice | file) naming
// mediaID (from AddMedia, or an unknown id for an expired file).
func (s *Server) PushMedia(user, msgtype, mediaID string) string {
	return s.push(user, map[string]any{"msgtype": msgtype, msgtype: map[string]any{"media_id": mediaID}})
}

// AddMedia serves a file under a new media_id (valid, like WeCom's temporary media, for 3 days).
func (s *Server) AddMedia(m Media) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	id := fmt.Sprintf("MEDIA%06d", s.nextID)
	s.media[id] = m
	if s.added == nil {
		s.added = map[string]time.Time{}
	}
	s.added[id] = s.now()
	return id
}

// MediaExpiry is how long the fake serves a media_id after AddMedia (WeCom: "media_id 仅三天内有效").
const MediaExpiry = 72 * time.Hour

// FailMedia makes the next n media/get calls answer errcode -1 (system busy), as WeCom does under load.
func (s *Server) FailMedia(n int) {
	s.mu.Lock()
	s.busy = n
	s.mu.Unlock()
}

func (s *Server) stateGet(w http.ResponseWriter, dec *json.Decoder) {
	var in struct {
		OpenKfID       string `json:"open_kfid"`
		ExternalUserID string `json:"external_userid"`
	}
	if err := dec.Decode(&in); err != nil {
		reply(w, 47001, "data format error", nil)
		return
	}
	if in.OpenKfID != OpenKfID {
		reply(w, 95000, "invalid open_kfid", nil)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.seen[in.ExternalUserID]; !ok {
		reply(w, 40003, "invalid external_userid", nil)
		return
	}
	st := s.state(in.ExternalUserID)
	out := map[string]any{"service_state": st.code}
	if st.code == StateServicer {
		out["servicer_userid"] = st.servicer
	}
	reply(w, 0, "ok", out)
}

// mediaGet serves a temporary media file: the bytes with its content type and file name, or an
// errcode JSON like WeCom (40007 invalid media_id).
func (s *Server) mediaGet(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("access_token")
	s.mu.Lock()
	exp, ok := s.tokens[tok]
	m, found := s.media[r.URL.Query().Get("media_id")]
	now := s.now()
	if found && !now.Before(s.added[r.URL.Query().Get("media_id")].Add(MediaExpiry)) {
		found = false // deleted by the platform
	}
	busy := ok && now.Before(exp) && s.busy > 0
	if busy {
		s.busy--
	}
	s.mu.Unlock()
	switch {
	case !ok:
		reply(w, 40014, "invalid access_token", nil)
	case !now.Before(exp):
		reply(w, 42001, "access_token expired", nil)
	case busy:
		reply(w, -1, "system busy", nil)
	case !found:
		reply(w, 40007, "invalid media_id", nil)
	default:
		w.Header().Set("Content-Type", m.ContentType)
		w.Header().Set("Content-Disposition", `attachment; filename="`+m.Name+`"`)
		w.Header().Set("Content-Length", strconv.Itoa(len(m.Body)))
		w.Write(m.Body)
	}
}
