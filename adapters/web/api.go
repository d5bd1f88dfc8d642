package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kefu-dev/kefu/bot"
)

// Limits on request fields. Text has no limit of its own below the body limit: the engine answers
// over-long text with a localized message, so it must reach the engine.
const (
	sessionBytes   = 24 // 192 random bits, 32 base64url characters
	maxSessionLen  = 128
	maxClientIDLen = 64
	maxActionLen   = 1024
	maxLangLen     = 35
)

// apiError is an API failure: an HTTP status, a stable code for programs and a locale key for people.
type apiError struct {
	status int
	code   string
	key    string
}

func (e *apiError) Error() string { return "web: " + e.code }

var (
	errBadJSON        = &apiError{http.StatusBadRequest, "bad_json", "error.bad_request"}
	errTooLarge       = &apiError{http.StatusRequestEntityTooLarge, "too_large", "web.too_long"}
	errMediaType      = &apiError{http.StatusUnsupportedMediaType, "unsupported_media_type", "error.bad_request"}
	errMissingSession = &apiError{http.StatusBadRequest, "missing_session", "error.bad_request"}
	errUnknownSession = &apiError{http.StatusNotFound, "unknown_session", "error.unknown_session"}
	errEmpty          = &apiError{http.StatusBadRequest, "empty_message", "error.empty"}
	errTextAndAction  = &apiError{http.StatusBadRequest, "text_and_action", "error.bad_request"}
	errBadAction      = &apiError{http.StatusBadRequest, "bad_action", "error.bad_request"}
	errBadClientID    = &apiError{http.StatusBadRequest, "bad_client_id", "error.bad_request"}
	errBadAfter       = &apiError{http.StatusBadRequest, "bad_after", "error.bad_request"}
	errMethod         = &apiError{http.StatusMethodNotAllowed, "method_not_allowed", "error.method_not_allowed"}
	errNotFound       = &apiError{http.StatusNotFound, "not_found", "error.not_found"}
	errUnavailable    = &apiError{http.StatusServiceUnavailable, "unavailable", "error.internal"}
	errRateLimited    = &apiError{http.StatusTooManyRequests, "rate_limited", "error.rate_limited"}
	errInternal       = &apiError{http.StatusInternalServerError, "internal", "error.internal"}
)

// messageRequest is the body of POST /api/webchat/messages.
type messageRequest struct {
	Session  string `json:"session"`
	Text     string `json:"text,omitempty"`
	Action   string `json:"action,omitempty"`
	Lang     string `json:"lang,omitempty"`
	ClientID string `json:"client_id,omitempty"`
}

// sessionRequest is the optional body of POST /api/webchat/sessions.
type sessionRequest struct {
	Lang string `json:"lang,omitempty"`
}

// message is one bot message as the page sees it.
type message struct {
	ID      int64        `json:"id"`
	Text    string       `json:"text"`
	Buttons []bot.Button `json:"buttons"`
}

type errorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// decodeJSON reads exactly one JSON value from r into v. An empty body is io.EOF.
func decodeJSON(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return io.EOF
		}
		return classifyDecodeErr(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return classifyDecodeErr(err)
		}
		return errBadJSON // trailing data after the object
	}
	return nil
}

func classifyDecodeErr(err error) error {
	if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
		return errTooLarge
	}
	return errBadJSON
}

// decodeMessage decodes and checks a POST /api/webchat/messages body. Text is cleaned (valid UTF-8,
// no control characters but newline and tab, trimmed); the engine normalizes further.
func decodeMessage(r io.Reader) (messageRequest, error) {
	var m messageRequest
	if err := decodeJSON(r, &m); err != nil {
		if errors.Is(err, io.EOF) {
			return m, errBadJSON
		}
		return m, err
	}
	m.Text = cleanText(m.Text)
	m.Lang = cleanLang(m.Lang)
	switch {
	case m.Session == "":
		return m, errMissingSession
	case !validToken(m.Session, maxSessionLen):
		return m, errUnknownSession
	case m.Text != "" && m.Action != "":
		return m, errTextAndAction
	case m.Text == "" && m.Action == "":
		return m, errEmpty
	case len(m.Action) > maxActionLen || !utf8.ValidString(m.Action) || strings.ContainsFunc(m.Action, unicode.IsControl):
		return m, errBadAction
	case m.ClientID != "" && !validToken(m.ClientID, maxClientIDLen):
		return m, errBadClientID
	}
	return m, nil
}

// event builds the engine's event for a checked request.
func (m messageRequest) event(msgID, langHint string, at time.Time) bot.Event {
	ev := bot.Event{
		Channel:  bot.ChannelWeb,
		MsgID:    msgID,
		ChatID:   m.Session,
		UserID:   m.Session,
		Kind:     bot.KindText,
		Text:     m.Text,
		LangHint: langHint,
		At:       at,
	}
	if m.Action != "" {
		ev.Kind = bot.KindButton
		ev.Text = ""
		ev.Payload = m.Action
	}
	return ev
}

// cleanText makes text valid UTF-8, drops control characters other than newline and tab and trims
// it. Commands ("/lang en") stay text: the engine parses them.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if strings.ContainsFunc(s, isDroppedControl) {
		s = strings.Map(func(r rune) rune {
			if isDroppedControl(r) {
				return -1
			}
			return r
		}, s)
	}
	return strings.TrimSpace(s)
}

func isDroppedControl(r rune) bool {
	return r != '\n' && r != '\t' && (unicode.IsControl(r) || r == '\u2028' || r == '\u2029')
}

// validToken reports whether s is a non-empty base64url-like token of at most max bytes.
func validToken(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// cleanLang keeps a plausible BCP 47 tag ("en", "zh-CN") and drops anything else.
func cleanLang(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > maxLangLen {
		return ""
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return ""
		}
	}
	return strings.ReplaceAll(s, "_", "-")
}

// newID returns n random bytes from crypto/rand, base64url-encoded without padding.
func newID(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never returns an error (crypto/rand, Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// handleSessions serves POST /api/webchat/sessions.
func (a *Adapter) handleSessions(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		a.fail(w, r, "", errMethod)
		return
	}
	if a.waitSink(r.Context()) == nil {
		a.fail(w, r, "", errUnavailable)
		return
	}
	var req sessionRequest
	if err := a.readBody(w, r, &req); err != nil && !errors.Is(err, io.EOF) {
		a.fail(w, r, "", err)
		return
	}
	lang := cleanLang(req.Lang)
	if lang == "" {
		lang = bestAcceptLanguage(r.Header.Get("Accept-Language"))
	}
	if ok, wait := a.sessLim.allow(a.ipOf(r), a.now()); !ok {
		a.log.WarnContext(r.Context(), "web session creation rate limited")
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter(wait)))
		a.fail(w, r, lang, errRateLimited)
		return
	}
	id := newID(sessionBytes)
	if err := a.store.CreateWebSession(r.Context(), id, lang); err != nil {
		a.fail(w, r, lang, a.storeErr(r.Context(), "create web session", err))
		return
	}
	a.known.add(id, cleanLang(lang), a.now())
	a.log.DebugContext(r.Context(), "web session created", "lang", lang)
	a.writeJSON(w, r, http.StatusCreated, map[string]string{"session": id})
}

// peerIP is the address the request came from (without port), the default client address. Behind a
// reverse proxy every request has the proxy's address: the limit is then server-wide again, which
// errs on the safe side (configure the trusted proxies: Options.ClientIP).
func peerIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// handleMessages serves GET and POST /api/webchat/messages.
func (a *Adapter) handleMessages(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
		a.postMessage(w, r)
	case http.MethodGet, http.MethodHead:
		a.listMessages(w, r)
	default:
		w.Header().Set("Allow", "GET, POST")
		a.fail(w, r, "", errMethod)
	}
}

func (a *Adapter) handleAPINotFound(w http.ResponseWriter, r *http.Request) {
	a.fail(w, r, "", errNotFound)
}

func (a *Adapter) postMessage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sinkp := a.waitSink(ctx)
	if sinkp == nil {
		a.fail(w, r, "", errUnavailable)
		return
	}
	if err := checkJSONContentType(r); err != nil {
		a.fail(w, r, "", err)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, a.maxBody)
	req, err := decodeMessage(r.Body)
	if err != nil {
		a.fail(w, r, req.Lang, err)
		return
	}
	stored, err := a.sessionLang(ctx, req.Session)
	if err != nil {
		a.fail(w, r, req.Lang, err)
		return
	}
	// Refused before anything is stored: an over-long text would be kept whole only to be answered
	// "too long" (issue 15: 300 × 60 KB in 2 s filled the disk).
	if len(req.Text) > a.maxText {
		a.fail(w, r, req.Lang, errTooLarge)
		return
	}
	now := a.now()
	if ok, wait := a.msgLim.allow(req.Session, now); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter(wait)))
		a.fail(w, r, req.Lang, errRateLimited)
		return
	}
	if ok, wait := a.cliLim.allow(a.ipOf(r), now); !ok {
		a.log.WarnContext(ctx, "web messages rate limited for a client")
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter(wait)))
		a.fail(w, r, req.Lang, errRateLimited)
		return
	}
	msgID := "web:" + newID(16)
	if req.ClientID != "" {
		// scoped to the session, so one session cannot block another's message ids
		msgID = "web:" + req.Session + ":" + req.ClientID
	}
	// The language the session was created with wins over the browser's: a session opened with
	// "lang":"zh-CN" is answered in Chinese even when a message is plain ASCII.
	langHint := firstLang(req.Lang, stored, bestAcceptLanguage(r.Header.Get("Accept-Language")))
	ev := req.event(msgID, langHint, time.Now())
	replies, err := a.deliver(ctx, *sinkp, ev)
	if err != nil {
		if ctx.Err() != nil {
			a.log.DebugContext(ctx, "client gone during deliver", "msg_id", msgID, "err", err)
			a.fail(w, r, req.Lang, errInternal)
		} else {
			a.fail(w, r, req.Lang, a.storeErr(ctx, "deliver", err, "msg_id", msgID))
		}
		return
	}
	a.writeJSON(w, r, http.StatusOK, map[string]any{"replies": toMessages(replies)})
}

// deliver hands ev to sink and returns the replies for the response. An InlineSink (the engine)
// returns them from the message's own transaction, already recorded as delivered: one commit per
// message and no dispatcher round trip. Any other sink gets the replies read back after it returns.
// Replies that come later (agents, the survey) are found by the page's GET polls either way.
func (a *Adapter) deliver(ctx context.Context, sink bot.Sink, ev bot.Event) ([]bot.Reply, error) {
	if in, ok := sink.(bot.InlineSink); ok {
		rs, err := in.DeliverInline(ctx, ev)
		if len(rs) > repliesLimit {
			rs = rs[:repliesLimit]
		}
		return rs, err
	}
	last, err := a.store.LastWebMessageID(ctx, ev.ChatID)
	if err != nil {
		return nil, err
	}
	if err := sink.Deliver(ctx, ev); err != nil {
		return nil, err
	}
	replies, err := a.store.WebMessagesAfter(ctx, ev.ChatID, last, repliesLimit)
	if err != nil {
		// delivered: the page finds the replies with its next GET
		a.log.ErrorContext(ctx, "web messages after deliver", "msg_id", ev.MsgID, "err", err)
		replies = nil
	}
	return replies, nil
}

func (a *Adapter) listMessages(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if a.waitSink(ctx) == nil {
		a.fail(w, r, "", errUnavailable)
		return
	}
	q := r.URL.Query()
	lang := cleanLang(q.Get("lang"))
	session := q.Get("session")
	if session == "" {
		a.fail(w, r, lang, errMissingSession)
		return
	}
	var after int64
	if s := q.Get("after"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			a.fail(w, r, lang, errBadAfter)
			return
		}
		after = n
	}
	if err := a.checkSession(ctx, session); err != nil {
		a.fail(w, r, lang, err)
		return
	}
	msgs, err := a.store.WebMessagesAfter(ctx, session, after, pageLimit+1)
	if err != nil {
		a.fail(w, r, lang, a.storeErr(ctx, "web messages after", err))
		return
	}
	more := len(msgs) > pageLimit
	if more {
		msgs = msgs[:pageLimit]
	}
	a.writeJSON(w, r, http.StatusOK, map[string]any{"messages": toMessages(msgs), "more": more})
}

// sessionLang is checkSession that also returns the session's stored language.
func (a *Adapter) sessionLang(ctx context.Context, id string) (string, error) {
	if !validToken(id, maxSessionLen) {
		return "", errUnknownSession
	}
	if lang, ok := a.known.get(id, a.now()); ok {
		return lang, nil
	}
	lang, ok, err := a.store.WebSessionLang(ctx, id)
	if err != nil {
		return "", a.storeErr(ctx, "web session lang", err)
	}
	if !ok {
		return "", errUnknownSession
	}
	lang = cleanLang(lang)
	a.known.add(id, lang, a.now())
	return lang, nil
}

func firstLang(ls ...string) string {
	for _, l := range ls {
		if l != "" {
			return l
		}
	}
	return ""
}

// sinkWait bounds how long a request waits for Run: the listener opens before the adapter's Run
// goroutine has started, and a customer arriving in that moment should get an answer, not a 503.
var sinkWait = 3 * time.Second // a variable for the tests

// waitSink returns the sink, waiting up to sinkWait (or the request's end) for Run to set it; nil
// when the adapter is not running.
func (a *Adapter) waitSink(ctx context.Context) *bot.Sink {
	if p := a.sink.Load(); p != nil {
		return p
	}
	deadline := time.NewTimer(sinkWait)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-deadline.C:
			return a.sink.Load()
		case <-tick.C:
			if p := a.sink.Load(); p != nil {
				return p
			}
		}
	}
}

// storeErr is the answer to a failed store or engine call: 503 with Retry-After while the database
// is down (the store logs the outage once, and its end), otherwise 500 with an ERROR line.
func (a *Adapter) storeErr(ctx context.Context, what string, err error, attrs ...any) error {
	if d, ok := a.store.(interface{ Down(context.Context) bool }); ok && d.Down(ctx) {
		a.log.DebugContext(ctx, what+" during a database outage", "err", err)
		return errUnavailable
	}
	a.log.ErrorContext(ctx, what, append(attrs, "err", err)...)
	return errInternal
}

// checkSession returns errUnknownSession for a malformed or unknown session id.
func (a *Adapter) checkSession(ctx context.Context, id string) error {
	if !validToken(id, maxSessionLen) {
		return errUnknownSession
	}
	if _, ok := a.known.get(id, a.now()); ok {
		return nil
	}
	ok, err := a.store.WebSessionExists(ctx, id)
	if err != nil {
		return a.storeErr(ctx, "web session exists", err)
	}
	if !ok {
		return errUnknownSession
	}
	return nil
}

// knownSessions remembers for a short while which session ids exist and their language, so that a
// chatting customer's messages skip the lookup. Sessions are only removed after days of idleness
// (retention), far longer than knownTTL. Hand-written: a map with a size cap is all it takes.
type knownSessions struct {
	mu sync.Mutex
	m  map[string]knownSession
}

type knownSession struct {
	at   time.Time // when confirmed
	lang string
}

const (
	knownTTL = time.Minute
	knownMax = 4096
)

func (k *knownSessions) get(id string, now time.Time) (string, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	s, ok := k.m[id]
	if !ok || now.Sub(s.at) >= knownTTL || now.Before(s.at) {
		return "", false
	}
	return s.lang, true
}

func (k *knownSessions) add(id, lang string, now time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil || len(k.m) >= knownMax {
		k.m = make(map[string]knownSession, 64) // forget all: the next lookups refill it
	}
	k.m[id] = knownSession{at: now, lang: lang}
}

// readBody decodes an optional JSON body (io.EOF when empty) within the body limit.
func (a *Adapter) readBody(w http.ResponseWriter, r *http.Request, v any) error {
	if err := checkJSONContentType(r); err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, a.maxBody)
	return decodeJSON(r.Body, v)
}

// checkJSONContentType accepts application/json or no Content-Type at all.
func checkJSONContentType(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return errMediaType
	}
	return nil
}

func toMessages(rs []bot.Reply) []message {
	out := make([]message, 0, len(rs))
	for _, r := range rs {
		b := r.Buttons
		if b == nil {
			b = []bot.Button{}
		}
		out = append(out, message{ID: r.OutboxID, Text: r.Text, Buttons: b})
	}
	return out
}

// fail writes err as a JSON error in the request's language.
func (a *Adapter) fail(w http.ResponseWriter, r *http.Request, lang string, err error) {
	ae := (*apiError)(nil)
	if !errors.As(err, &ae) {
		a.log.ErrorContext(r.Context(), "unexpected api error", "err", err)
		ae = errInternal
	}
	if ae.status >= 500 {
		w.Header().Set("Retry-After", "2")
	}
	ui := a.uiLang(r, lang)
	msg := a.text(ui, ae.key)
	a.writeJSON(w, r, ae.status, errorBody{Error: ae.code, Message: msg})
}

func (a *Adapter) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		a.log.ErrorContext(r.Context(), "encode json", "err", err)
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"error":"internal","message":""}` + "\n")
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		if _, err := w.Write(buf.Bytes()); err != nil {
			a.log.DebugContext(r.Context(), "write response", "err", err)
		}
	}
}

// bestAcceptLanguage returns the preferred tag of an Accept-Language header, or "".
func bestAcceptLanguage(h string) string {
	if tags := acceptLanguages(h); len(tags) > 0 {
		return tags[0]
	}
	return ""
}

// uiLang picks one of the page's languages for r: explicit lang, then ?lang=, then Accept-Language.
func (a *Adapter) uiLang(r *http.Request, lang string) string {
	for _, l := range []string{lang, r.URL.Query().Get("lang")} {
		if m := matchLang(l, a.langs); m != "" {
			return m
		}
	}
	for _, part := range acceptLanguages(r.Header.Get("Accept-Language")) {
		if m := matchLang(part, a.langs); m != "" {
			return m
		}
	}
	return a.langs[0]
}

// acceptLanguages lists the header's tags with q > 0 in order of preference ("*" dropped).
// Hand-written (a few lines) rather than pulling golang.org/x/text/language in for one header.
func acceptLanguages(h string) []string {
	type tq struct {
		tag string
		q   float64
	}
	var tags []tq
	for _, part := range strings.Split(h, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		tag = cleanLang(tag)
		if tag == "" {
			continue
		}
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				continue
			}
			q = f
		}
		if q > 0 && q <= 1 {
			tags = append(tags, tq{tag, q})
		}
	}
	// stable insertion sort by q, descending; headers are short
	for i := 1; i < len(tags); i++ {
		for j := i; j > 0 && tags[j].q > tags[j-1].q; j-- {
			tags[j], tags[j-1] = tags[j-1], tags[j]
		}
	}
	out := make([]string, len(tags))
	for i, t := range tags {
		out[i] = t.tag
	}
	return out
}

// matchLang maps a tag to one of langs: exact (case-insensitive), then by primary subtag.
func matchLang(tag string, langs []string) string {
	tag = cleanLang(tag)
	if tag == "" {
		return ""
	}
	for _, l := range langs {
		if strings.EqualFold(tag, l) {
			return l
		}
	}
	prim, _, _ := strings.Cut(tag, "-")
	for _, l := range langs {
		lp, _, _ := strings.Cut(l, "-")
		if strings.EqualFold(prim, lp) {
			return l
		}
	}
	return ""
}
