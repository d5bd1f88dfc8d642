// Package wecom connects kefu to a WeCom customer-service account (企业微信 微信客服, "kf"): the
// account customers reach from WeChat through its link or QR code.
//
// WeCom does not post messages: its callback only says that there are new ones (an encrypted
// kf_msg_or_event notice carrying a token). The adapter then pulls them with /cgi-bin/kf/sync_msg
// from a cursor kept in State, hands each to the sink, and saves the next cursor only after every
// message of the page was stored — like the Telegram offset, a kill at any point loses and repeats
// nothing (a repeated message carries the same msgid, the event's MsgID). It also syncs on start and
// every PollInterval, so a notice that never arrived delays messages but loses none.
//
// Replies go out with /cgi-bin/kf/send_msg (buttons as a menu message). When a customer opens the
// chat, WeCom hands an enter_session event with a welcome code: the event becomes /start and the
// greeting is sent with send_msg_on_event and that code (valid 20 s). kf may answer a customer for 48
// hours after their last message; a reply after that is a *bot.PermanentError wrapping
// bot.ErrWindowClosed (the agents get a note) instead of a call. Within the window WeCom allows 5
// send_msg messages after each message of the customer (a new one resets the count; the welcome on
// send_msg_on_event is not counted): the adapter counts them (ReplyQuota, in State) and refuses the
// one past the count as a *bot.PermanentError wrapping bot.ErrQuotaUsed instead of a call. Messages
// written by the account's human servicers in WeCom itself (origin 5) and system messages (origin 4)
// are not customer input.
//
// The crypto is WeCom's variant of adapters/internal/wxcrypt (msg_signature on every request, an
// encrypted echostr, the CorpID as receive id). Hand-written REST for the same reasons as
// adapters/wechat: four endpoints, JSON, context on every call.
//
// Setup: 企业微信管理后台 → 应用管理 → 微信客服: create the account (open_kfid "wk…"), note the
// CorpID (我的企业) and the 微信客服 Secret; under API 接收消息 set URL https://<kefu>/wecom/callback,
// a Token and an EncodingAESKey, and give kefu the same values (KEFU_WECOM_CORP_ID, KEFU_WECOM_SECRET,
// KEFU_WECOM_TOKEN, KEFU_WECOM_ENCODING_AES_KEY); then hand the account to the API (通过API管理).
package wecom

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kefu-dev/kefu/adapters/internal/memstate"
	"github.com/kefu-dev/kefu/adapters/internal/quota"
	"github.com/kefu-dev/kefu/adapters/internal/wxcrypt"
	"github.com/kefu-dev/kefu/adapters/internal/wxmedia"
	"github.com/kefu-dev/kefu/bot"
)

// Channel is the bot.Channel of WeCom customer-service conversations.
const Channel = bot.ChannelWeCom

// DefaultAPIURL is WeCom's API server.
const DefaultAPIURL = "https://qyapi.weixin.qq.com"

// DefaultReplyQuota is how many messages WeCom allows after each message of the customer.
const DefaultReplyQuota = quota.DefaultLimit

// Window is how long after a customer's last message kf may answer them.
const Window = bot.WeComReplyWindow

// State is shared storage (storage.DB implements it).
type State interface {
	GetKV(ctx context.Context, key string) (string, bool, error)
	SetKV(ctx context.Context, key, value string) error
	Lease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
}

// Options configure an Adapter; CorpID, Secret, Token and EncodingAESKey are required.
type Options struct {
	CorpID         string
	Secret         string // the 微信客服 secret
	Token          string
	EncodingAESKey string
	APIURL         string
	State          State
	HTTPClient     *http.Client
	Logger         *slog.Logger
	Now            func() time.Time
	// PollInterval is how often the adapter syncs without a notice (default 1m).
	PollInterval time.Duration
	MaxSkew      time.Duration // callback timestamps; default 5m
	// Blobs, when set, keeps a copy of every image, voice and file (WeCom deletes them after 3
	// days); MaxAttachment caps one file (default 10 MiB; a bigger one stays a reference).
	Blobs         Blobs
	MaxAttachment int64
	// MediaRetryEvery is how often a failed download is looked at again when Blobs also queues
	// retries (wxmedia.RetryStore, as storage.DB does; default 1m; each job backs off on its own).
	MediaRetryEvery time.Duration
	// Health, when set, hears how pulling messages goes: nil after each sync_msg round that worked,
	// the error of one that failed (a refused secret, an unreachable API).
	Health func(err error)
	// ReplyQuota is how many send_msg messages may follow each message of the customer (WeCom: 5, the
	// default); a negative value counts nothing and leaves the limit to the platform (95018).
	ReplyQuota int
}

// Adapter is the WeCom kf channel: bot.Adapter and http.Handler (mount at /wecom/callback).
type Adapter struct {
	opt    Options
	log    *slog.Logger
	api    string
	crypt  *wxcrypt.Cipher
	holder string
	notice chan string // kf_msg_or_event tokens
	// done holds the msgids of the current page already stored, so that a page retried after a
	// failed Deliver hands on only the rest; it is cleared when the cursor moves.
	done  map[string]bool
	quota quota.Counter

	tokMu  sync.Mutex
	tok    string
	tokExp time.Time
}

var (
	_ bot.Adapter  = (*Adapter)(nil)
	_ http.Handler = (*Adapter)(nil)
)

// New checks the options; it makes no call.
func New(o Options) (*Adapter, error) {
	if o.CorpID == "" || o.Secret == "" || o.Token == "" || o.EncodingAESKey == "" {
		return nil, errors.New("wecom: new: corp id, secret, token and EncodingAESKey are required")
	}
	if o.APIURL == "" {
		o.APIURL = DefaultAPIURL
	}
	if u, err := url.Parse(o.APIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("wecom: new: bad API URL %q", o.APIURL)
	}
	c, err := wxcrypt.New(o.EncodingAESKey, o.CorpID)
	if err != nil {
		return nil, fmt.Errorf("wecom: new: %w", err)
	}
	if o.State == nil {
		o.State = memstate.New()
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Minute
	}
	if o.MaxSkew <= 0 {
		o.MaxSkew = 5 * time.Minute
	}
	if o.MediaRetryEvery <= 0 {
		o.MediaRetryEvery = time.Minute
	}
	if o.MaxAttachment <= 0 {
		o.MaxAttachment = 10 << 20
	}
	return &Adapter{opt: o, log: o.Logger.With("adapter", "wecom"), api: strings.TrimRight(o.APIURL, "/"), crypt: c,
		holder: strconv.FormatInt(time.Now().UnixNano(), 36), notice: make(chan string, 1), done: map[string]bool{},
		quota: quota.Counter{State: o.State, Limit: o.ReplyQuota}}, nil
}

// Channel reports Channel.
func (a *Adapter) Channel() bot.Channel { return Channel }

// ChatID joins the account and the customer: a reply needs both.
func ChatID(openKfID, externalUserID string) string { return openKfID + "|" + externalUserID }

// ServeHTTP is the callback: GET verifies the URL (decrypts echostr), POST is a notice that starts a sync.
func (a *Adapter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ts, nonce, sig := q.Get("timestamp"), q.Get("nonce"), q.Get("msg_signature")
	if sec, err := strconv.ParseInt(ts, 10, 64); err != nil || a.opt.Now().Sub(time.Unix(sec, 0)).Abs() > a.opt.MaxSkew {
		http.Error(w, "stale request", http.StatusForbidden)
		return
	}
	switch r.Method {
	case http.MethodGet:
		echo := q.Get("echostr")
		if !wxcrypt.Verify(sig, a.opt.Token, ts, nonce, echo) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		plain, err := a.crypt.Decrypt(echo)
		if err != nil {
			http.Error(w, "bad echostr", http.StatusBadRequest)
			return
		}
		_, _ = w.Write(plain)
	case http.MethodPost:
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		var env struct {
			Encrypt string `xml:"Encrypt"`
		}
		if bytes.Contains(body, []byte("<!DOCTYPE")) || xml.Unmarshal(body, &env) != nil || env.Encrypt == "" {
			http.Error(w, "bad callback", http.StatusBadRequest)
			return
		}
		if !wxcrypt.Verify(sig, a.opt.Token, ts, nonce, env.Encrypt) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		plain, err := a.crypt.Decrypt(env.Encrypt)
		if err != nil {
			http.Error(w, "bad callback", http.StatusBadRequest)
			return
		}
		var n struct {
			Event string `xml:"Event"`
			Token string `xml:"Token"`
		}
		if err := xml.Unmarshal(plain, &n); err != nil {
			http.Error(w, "bad callback", http.StatusBadRequest)
			return
		}
		if n.Event == "kf_msg_or_event" {
			select {
			case a.notice <- n.Token:
			default: // a sync is already due
			}
		}
		_, _ = io.WriteString(w, "success")
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// Run syncs on start, on every notice and every PollInterval until ctx is done.
func (a *Adapter) Run(ctx context.Context, sink bot.Sink) error {
	if sink == nil {
		return errors.New("wecom: run: nil sink")
	}
	if rs, ok := a.opt.Blobs.(wxmedia.RetryStore); ok {
		rctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			wxmedia.RetryLoop(rctx, a.log, rs, Channel, a.opt.MediaRetryEvery, a.opt.Now, a.opt.MaxAttachment, 30*time.Second, a.Download)
		}()
		defer func() { stop(); <-done }()
	}
	backoff := bot.Backoff{Min: 200 * time.Millisecond, Max: time.Minute, Jitter: 0.2}
	token, failures := "", 0
	for {
		wait := a.opt.PollInterval
		if err := a.sync(ctx, sink, token); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			failures++
			wait = backoff.Delay(failures)
			a.log.WarnContext(ctx, "sync failed; retrying", "err", err, "retry_in", wait)
			if a.opt.Health != nil {
				a.opt.Health(err)
			}
		} else {
			failures = 0
			if a.opt.Health != nil {
				a.opt.Health(nil)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case token = <-a.notice:
		case <-time.After(wait):
		}
	}
}

// UnmarshalJSON keeps the raw message for the types kfMsg has no fields for (describeCard).
func (m *kfMsg) UnmarshalJSON(b []byte) error {
	type plain kfMsg
	if err := json.Unmarshal(b, (*plain)(m)); err != nil {
		return err
	}
	m.raw = append(json.RawMessage(nil), b...)
	return nil
}

type kfMsg struct {
	raw            json.RawMessage
	MsgID          string `json:"msgid"`
	OpenKfID       string `json:"open_kfid"`
	ExternalUserID string `json:"external_userid"`
	SendTime       int64  `json:"send_time"`
	Origin         int    `json:"origin"` // 3 customer, 4 system, 5 servicer
	MsgType        string `json:"msgtype"`
	Text           *struct {
		Content string `json:"content"`
		MenuID  string `json:"menu_id"`
	} `json:"text"`
	Image *struct {
		MediaID string `json:"media_id"`
	} `json:"image"`
	Voice *struct {
		MediaID string `json:"media_id"`
	} `json:"voice"`
	File *struct {
		MediaID string `json:"media_id"`
	} `json:"file"`
	Video *struct {
		MediaID string `json:"media_id"`
	} `json:"video"`
	Location *struct {
		Name      string  `json:"name"`
		Address   string  `json:"address"`
		Latitude  float64 `json:"latitude"`
		Longitude float64 `json:"longitude"`
	} `json:"location"`
	Event *struct {
		EventType      string `json:"event_type"`
		OpenKfID       string `json:"open_kfid"`
		ExternalUserID string `json:"external_userid"`
		WelcomeCode    string `json:"welcome_code"`
	} `json:"event"`
}

func (a *Adapter) cursorKey() string { return "wecom:cursor:" + a.opt.CorpID }

// sync pulls every page after the stored cursor; the cursor is saved only after the page is stored.
func (a *Adapter) sync(ctx context.Context, sink bot.Sink, token string) error {
	cursor, _, err := a.opt.State.GetKV(ctx, a.cursorKey())
	if err != nil {
		return err
	}
	for {
		req := map[string]any{"cursor": cursor, "limit": 1000}
		if token != "" {
			req["token"] = token
		}
		var out struct {
			NextCursor string  `json:"next_cursor"`
			HasMore    int     `json:"has_more"`
			MsgList    []kfMsg `json:"msg_list"`
		}
		if err := a.call(ctx, "/cgi-bin/kf/sync_msg", req, &out); err != nil {
			return err
		}
		for _, m := range out.MsgList {
			ev, ok, err := a.normalize(ctx, m)
			if err != nil {
				return err
			}
			if !ok || a.done[ev.MsgID] {
				continue
			}
			a.keep(ctx, &ev)
			if m.MsgType != "event" {
				// Before Deliver: a reply it queues may go out at once, and counts against this message.
				a.markWrote(ctx, ev.ChatID, ev.At)
			}
			if err := sink.Deliver(ctx, ev); err != nil {
				return fmt.Errorf("wecom: deliver %s: %w", m.MsgID, err)
			}
			a.done[ev.MsgID] = true
			a.markSeen(ctx, ev.ChatID, ev.At)
		}
		if out.NextCursor != "" && out.NextCursor != cursor {
			clear(a.done)
			cursor = out.NextCursor
			if err := a.opt.State.SetKV(ctx, a.cursorKey(), cursor); err != nil {
				return fmt.Errorf("wecom: save cursor: %w", err)
			}
		}
		if out.HasMore == 0 {
			return nil
		}
	}
}

func (a *Adapter) normalize(ctx context.Context, m kfMsg) (bot.Event, bool, error) {
	at := a.opt.Now()
	if m.SendTime > 0 {
		at = time.Unix(m.SendTime, 0)
	}
	ev := bot.Event{Channel: Channel, MsgID: m.MsgID, ChatID: ChatID(m.OpenKfID, m.ExternalUserID), UserID: m.ExternalUserID, At: at}
	if m.MsgType == "event" && m.Event != nil {
		e := m.Event
		ev.ChatID, ev.UserID = ChatID(e.OpenKfID, e.ExternalUserID), e.ExternalUserID
		if e.EventType != "enter_session" || e.ExternalUserID == "" {
			return ev, false, nil
		}
		if e.WelcomeCode != "" {
			v, _ := json.Marshal(welcome{Code: e.WelcomeCode, Until: at.Add(20 * time.Second).UnixMilli()})
			if err := a.opt.State.SetKV(ctx, "wecom:welcome:"+ev.ChatID, string(v)); err != nil {
				return ev, false, err
			}
		}
		ev.Kind, ev.Payload = bot.KindCommand, "start"
		if ev.MsgID == "" {
			ev.MsgID = "enter:" + ev.ChatID + ":" + strconv.FormatInt(m.SendTime, 10)
		}
		return ev, true, nil
	}
	if m.Origin != 3 || m.ExternalUserID == "" {
		return ev, false, nil // the servicers' own messages and system notes
	}
	media := func(typ, id string) {
		ev.Kind = bot.KindMedia
		ev.Attachments = []bot.Attachment{{Type: typ, FileID: id}}
	}
	switch {
	case m.MsgType == "text" && m.Text != nil:
		ev.Kind, ev.Text = bot.KindText, strings.TrimSpace(m.Text.Content)
		if m.Text.MenuID != "" {
			ev.Kind, ev.Payload = bot.KindButton, m.Text.MenuID
		}
	case m.MsgType == "image" && m.Image != nil:
		media("photo", m.Image.MediaID)
	case m.MsgType == "voice" && m.Voice != nil:
		media("voice", m.Voice.MediaID)
	case m.MsgType == "video" && m.Video != nil:
		media("video", m.Video.MediaID)
	case m.MsgType == "file" && m.File != nil:
		media("document", m.File.MediaID)
	case m.MsgType == "location" && m.Location != nil:
		l := m.Location
		ev.Kind, ev.Text = bot.KindText, strings.TrimSpace(fmt.Sprintf("📍 %s %s (%g, %g)", l.Name, l.Address, l.Latitude, l.Longitude))
	case m.MsgType != "" && m.MsgType != "event":
		// Any other card a customer sends (a 视频号 shop order or product, a link, a mini program, a
		// forwarded chat record, a type WeCom adds later): its words as text, so that nothing a
		// customer sends vanishes and the agents see the order number.
		ev.Kind, ev.Text = bot.KindText, describeCard(m.MsgType, m.raw)
	default:
		return ev, false, nil
	}
	return ev, true, nil
}

// describeCard renders a message of type typ as "[typ] title · other words", from the string fields of
// its typ object in raw (title first, then by name), leaving out images, thumbnails and media ids.
func describeCard(typ string, raw json.RawMessage) string {
	var all map[string]json.RawMessage
	var body map[string]any
	if json.Unmarshal(raw, &all) == nil {
		_ = json.Unmarshal(all[typ], &body)
	}
	keys := slices.Sorted(maps.Keys(body))
	slices.SortStableFunc(keys, func(a, b string) int {
		switch {
		case a == "title" && b != "title":
			return -1
		case b == "title" && a != "title":
			return 1
		}
		return 0
	})
	parts := []string{"[" + typ + "]"}
	for _, k := range keys {
		v, ok := body[k].(string)
		if !ok || strings.TrimSpace(v) == "" || strings.Contains(k, "media_id") || strings.Contains(k, "image") ||
			strings.Contains(k, "thumb") || strings.HasPrefix(k, "pic") || k == "appid" || k == "msg_content" {
			continue
		}
		parts = append(parts, strings.TrimSpace(v))
	}
	return strings.Join(parts, " ")
}

type welcome struct {
	Code  string `json:"code"`
	Until int64  `json:"until"`
}

func (a *Adapter) markSeen(ctx context.Context, chat string, at time.Time) {
	if err := a.opt.State.SetKV(ctx, "wecom:seen:"+chat, strconv.FormatInt(at.UnixMilli(), 10)); err != nil {
		a.log.WarnContext(ctx, "reply window not recorded", "err", err)
	}
}

func quotaKey(chat string) string { return "wecom:quota:" + chat }
func wroteKey(chat string) string { return "wecom:wrote:" + chat }

// markWrote records a message of the customer (not their entering the chat): the count of messages
// that may follow starts again, unless a later message is already recorded.
func (a *Adapter) markWrote(ctx context.Context, chat string, at time.Time) {
	last, ok, err := a.lastWrote(ctx, chat)
	if err == nil && ok && at.Before(last) {
		return
	}
	if err := a.opt.State.SetKV(ctx, wroteKey(chat), strconv.FormatInt(at.UnixMilli(), 10)); err != nil {
		a.log.WarnContext(ctx, "customer message time not recorded", "err", err)
		return
	}
	if err := a.quota.Reset(ctx, quotaKey(chat), at); err != nil {
		a.log.WarnContext(ctx, "reply quota not reset", "err", err)
	}
}

// lastWrote is when the customer last wrote, as recorded by any process.
func (a *Adapter) lastWrote(ctx context.Context, chat string) (time.Time, bool, error) {
	v, ok, err := a.opt.State.GetKV(ctx, wroteKey(chat))
	if err != nil {
		return time.Time{}, false, fmt.Errorf("wecom: last message: %w", err)
	}
	ms, perr := strconv.ParseInt(v, 10, 64)
	if !ok || perr != nil {
		return time.Time{}, false, nil
	}
	return time.UnixMilli(ms), true, nil
}

// Send delivers r: the greeting of a fresh session with its welcome code, anything else with
// send_msg inside the customer's 48-hour window.
func (a *Adapter) Send(ctx context.Context, r bot.Reply) (string, error) {
	kf, user, ok := strings.Cut(r.ChatID, "|")
	if !ok || kf == "" || user == "" {
		return "", &bot.PermanentError{Err: fmt.Errorf("wecom: send: bad chat id %q", r.ChatID)}
	}
	body := map[string]any{"msgid": "kefu" + strconv.FormatInt(r.OutboxID, 10)}
	if len(r.Buttons) == 0 {
		body["msgtype"], body["text"] = "text", map[string]string{"content": r.Text}
	} else {
		var list []map[string]any
		for _, b := range r.Buttons {
			list = append(list, map[string]any{"type": "click", "click": map[string]string{"id": b.Payload, "content": b.Label}})
		}
		body["msgtype"], body["msgmenu"] = "msgmenu", map[string]any{"head_content": r.Text, "list": list}
	}
	var wc welcome
	if v, ok, err := a.opt.State.GetKV(ctx, "wecom:welcome:"+r.ChatID); err != nil {
		return "", err
	} else if ok {
		_ = json.Unmarshal([]byte(v), &wc)
	}
	if wc.Code != "" && a.opt.Now().UnixMilli() < wc.Until {
		body["code"] = wc.Code
		// The code is good for one message: spend it whatever the answer.
		if err := a.opt.State.SetKV(ctx, "wecom:welcome:"+r.ChatID, "{}"); err != nil {
			return "", err
		}
		var out struct {
			MsgID string `json:"msgid"`
		}
		if err := a.call(ctx, "/cgi-bin/kf/send_msg_on_event", body, &out); err == nil {
			return out.MsgID, nil
		} else {
			a.log.InfoContext(ctx, "welcome code refused; sending normally", "err", err)
			delete(body, "code")
		}
	}
	if v, ok, err := a.opt.State.GetKV(ctx, "wecom:seen:"+r.ChatID); err != nil {
		return "", err
	} else if ms, perr := strconv.ParseInt(v, 10, 64); ok && perr == nil && a.opt.Now().Sub(time.UnixMilli(ms)) > Window {
		return "", &bot.PermanentError{Err: fmt.Errorf("wecom: %w", bot.ErrWindowClosed)}
	}
	// The count runs while the customer's last message is known (no count without one).
	wrote, counted, err := a.lastWrote(ctx, r.ChatID)
	if err != nil {
		return "", err
	}
	if counted {
		if err := a.quota.Check(ctx, quotaKey(r.ChatID), wrote, 1); errors.Is(err, bot.ErrQuotaUsed) {
			return "", &bot.PermanentError{Err: fmt.Errorf("wecom: send: %w", err)}
		} else if err != nil {
			return "", fmt.Errorf("wecom: send: %w", err)
		}
	}
	body["touser"], body["open_kfid"] = user, kf
	var out struct {
		MsgID string `json:"msgid"`
	}
	err = a.call(ctx, "/cgi-bin/kf/send_msg", body, &out)
	if err == nil && counted {
		if qerr := a.quota.Add(ctx, quotaKey(r.ChatID), wrote, 1); qerr != nil {
			a.log.WarnContext(ctx, "reply not counted; the platform refuses what passes its quota", "err", qerr)
		}
	}
	if errors.Is(err, bot.ErrWindowClosed) {
		// 95018 also means the session's state lets no API message through: find out which.
		err = a.sessionRefused(ctx, kf, user, err)
	}
	if err != nil {
		return "", err
	}
	return out.MsgID, nil
}

// Service states of a kf session (分配客服会话).
// 0 未处理 and 1 由智能助手接待 let the API (kefu: the bot and the agents it relays) answer; 4 is
// 已结束/未开始.
const (
	statePool     = 2 // 待接入池排队中: waiting for a WeCom servicer
	stateServicer = 3 // 由人工接待: a servicer answers in the WeCom app
)

// ServiceState returns the session state of a chat and, in state 3, the servicer's userid.
func (a *Adapter) ServiceState(ctx context.Context, chatID string) (int, string, error) {
	kf, user, ok := strings.Cut(chatID, "|")
	if !ok {
		return 0, "", fmt.Errorf("wecom: service state: bad chat id %q", chatID)
	}
	var out struct {
		State    int    `json:"service_state"`
		Servicer string `json:"servicer_userid"`
	}
	if err := a.call(ctx, "/cgi-bin/kf/service_state/get", map[string]string{"open_kfid": kf, "external_userid": user}, &out); err != nil {
		return 0, "", err
	}
	return out.State, out.Servicer, nil
}

// ErrNotServicer: a hand-off named no servicer (no kefu agent mapped to one).
var ErrNotServicer = errors.New("wecom: no servicer userid")

// HandOff gives the WeCom session of chatID to the servicer with userid servicer (service_state/trans
// to 3, 由人工接待): they answer in the WeCom app from then on, and kefu's replies are refused as taken
// over. WeCom allows it from a new, bot-held or queued session, or from another servicer; an ended
// session (the customer has not written since) or a servicer not on duty is an *Error.
func (a *Adapter) HandOff(ctx context.Context, chatID, servicer string) error {
	kf, user, ok := strings.Cut(chatID, "|")
	if !ok {
		return fmt.Errorf("wecom: hand off: bad chat id %q", chatID)
	}
	if servicer == "" {
		return ErrNotServicer
	}
	return a.call(ctx, "/cgi-bin/kf/service_state/trans", map[string]any{"open_kfid": kf, "external_userid": user,
		"service_state": stateServicer, "servicer_userid": servicer}, &struct{}{})
}

// sessionRefused explains a send refused with 95018 by the session's state. In states 0 and 1 the API
// may answer (the fake, like WeCom, moves a new session to 1 when it does), so the refusal is the
// window's. A session a WeCom servicer holds (3) or that waits in their queue (2) is theirs: the reply
// is a *bot.PermanentError wrapping bot.ErrTakenOver, and the agents are told to continue in WeCom.
func (a *Adapter) sessionRefused(ctx context.Context, kf, user string, sendErr error) error {
	st, servicer, err := a.ServiceState(ctx, kf+"|"+user)
	if err != nil {
		a.log.WarnContext(ctx, "service state unknown after a refused send", "err", err)
		return sendErr
	}
	switch st {
	case statePool, stateServicer:
		who := "the queue"
		if st == stateServicer {
			who = "servicer " + servicer
		}
		return &bot.PermanentError{Err: fmt.Errorf("wecom: %w (service_state %d, %s)", bot.ErrTakenOver, st, who)}
	}
	return sendErr
}

// Error is an errcode answer.
type Error struct {
	Code int
	Msg  string
	Path string
}

func (e *Error) Error() string {
	return fmt.Sprintf("wecom: %s: errcode %d: %s", e.Path, e.Code, e.Msg)
}

// call POSTs JSON with the access token, refreshing a refused token once, and maps errcodes.
func (a *Adapter) call(ctx context.Context, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	bad := ""
	for attempt := 0; ; attempt++ {
		tok, err := a.token(ctx, bad)
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.api+path+"?access_token="+url.QueryEscape(tok), bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		raw, err := a.do(req)
		if err != nil {
			return fmt.Errorf("wecom: %s: %w", path, err)
		}
		var e struct {
			ErrCode int    `json:"errcode"`
			ErrMsg  string `json:"errmsg"`
		}
		if err := json.Unmarshal(raw, &e); err != nil {
			return fmt.Errorf("wecom: %s: bad JSON: %w", path, err)
		}
		switch e.ErrCode {
		case 0:
			return json.Unmarshal(raw, out)
		case 40014, 42001, 40001:
			if attempt == 0 {
				bad = tok
				continue
			}
		case 95018, 95016: // the session does not allow sending now (ended, or beyond the window's limit)
			return &bot.PermanentError{Err: fmt.Errorf("%w: %w", bot.ErrWindowClosed, &Error{e.ErrCode, e.ErrMsg, path})}
		case 40096, 95000, 95004, 95011:
			return &bot.PermanentError{Err: &Error{e.ErrCode, e.ErrMsg, path}}
		case 45009, 45033, 45035:
			return &bot.RateLimitedError{Wait: time.Minute}
		}
		return &Error{e.ErrCode, e.ErrMsg, path}
	}
}

func (a *Adapter) do(req *http.Request) ([]byte, error) {
	resp, err := a.opt.HTTPClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL holds the token or secret
		}
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return b, nil
}

// token is the access token, fetched once across processes under the State lease.
func (a *Adapter) token(ctx context.Context, bad string) (string, error) {
	a.tokMu.Lock()
	defer a.tokMu.Unlock()
	if a.tok != "" && a.tok != bad && a.opt.Now().Before(a.tokExp) {
		return a.tok, nil
	}
	key, lease := "wecom:token:"+a.opt.CorpID, "wecom-token:"+a.opt.CorpID
	stored := func() (bool, error) {
		v, ok, err := a.opt.State.GetKV(ctx, key)
		if err != nil || !ok {
			return false, err
		}
		tok, ms, _ := strings.Cut(v, " ")
		exp, _ := strconv.ParseInt(ms, 10, 64)
		if tok == "" || tok == bad || !a.opt.Now().Before(time.UnixMilli(exp)) {
			return false, nil
		}
		a.tok, a.tokExp = tok, time.UnixMilli(exp)
		return true, nil
	}
	deadline := time.Now().Add(35 * time.Second)
	for {
		if ok, err := stored(); err != nil || ok {
			return a.tok, err
		}
		got, err := a.opt.State.Lease(ctx, lease, a.holder, 30*time.Second)
		if err != nil {
			return "", fmt.Errorf("wecom: token lease: %w", err)
		}
		if got {
			if ok, err := stored(); err != nil || ok {
				return a.tok, err
			}
			q := url.Values{"corpid": {a.opt.CorpID}, "corpsecret": {a.opt.Secret}}
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.api+"/cgi-bin/gettoken?"+q.Encode(), nil)
			if err != nil {
				return "", err
			}
			raw, err := a.do(req)
			var out struct {
				ErrCode     int    `json:"errcode"`
				ErrMsg      string `json:"errmsg"`
				AccessToken string `json:"access_token"`
				ExpiresIn   int    `json:"expires_in"`
			}
			if err == nil {
				err = json.Unmarshal(raw, &out)
			}
			if err == nil && (out.ErrCode != 0 || out.AccessToken == "") {
				err = &Error{out.ErrCode, out.ErrMsg, "/cgi-bin/gettoken"}
			}
			exp := a.opt.Now().Add(max(time.Duration(out.ExpiresIn)*time.Second-5*time.Minute, time.Minute))
			if err == nil {
				err = a.opt.State.SetKV(ctx, key, out.AccessToken+" "+strconv.FormatInt(exp.UnixMilli(), 10))
			}
			_, _ = a.opt.State.Lease(context.WithoutCancel(ctx), lease, a.holder, time.Millisecond)
			if err != nil {
				return "", fmt.Errorf("wecom: token: %w", err)
			}
			a.tok, a.tokExp = out.AccessToken, exp
			return a.tok, nil
		}
		if time.Now().After(deadline) {
			return "", errors.New("wecom: token: another process holds the refresh lease")
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// NewMemState returns an in-memory State (one process, tests).
func NewMemState() State { return memstate.New() }
