package wechat

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-dev/kefu/adapters/internal/wxcrypt"
	"github.com/kefu-dev/kefu/bot"
)

// maxCallbackBody bounds a callback body; real ones are well under 4 KB.
const maxCallbackBody = 64 << 10

// Commands a menu click (CLICK event key) or "/word" text turns into a bot.KindCommand.
var Commands = []string{"start", "status", "lang", "help", "link"}

// Message is a callback message or event as WeChat posts it (after decryption in safe mode).
type Message struct {
	ToUserName   string `xml:"ToUserName"`
	FromUserName string `xml:"FromUserName"`
	CreateTime   int64  `xml:"CreateTime"`
	MsgType      string `xml:"MsgType"`
	MsgID        string `xml:"MsgId"`
	Content      string `xml:"Content"`
	BizMsgMenuID string `xml:"bizmsgmenuid"`
	PicURL       string `xml:"PicUrl"`
	MediaID      string `xml:"MediaId"`
	Format       string `xml:"Format"`
	Recognition  string `xml:"Recognition"`
	LocationX    string `xml:"Location_X"`
	LocationY    string `xml:"Location_Y"`
	Label        string `xml:"Label"`
	Title        string `xml:"Title"`
	URL          string `xml:"Url"`
	Event        string `xml:"Event"`
	EventKey     string `xml:"EventKey"`
	Encrypt      string `xml:"Encrypt"`
}

// ParseMessage decodes a callback body. Go's XML decoder resolves no external entities, and a DOCTYPE
// is refused outright.
func ParseMessage(body []byte) (Message, error) {
	var m Message
	if bytes.Contains(body, []byte("<!DOCTYPE")) || bytes.Contains(body, []byte("<!ENTITY")) {
		return m, errors.New("wechat: callback XML with a DOCTYPE")
	}
	if err := xml.Unmarshal(body, &m); err != nil {
		return m, fmt.Errorf("wechat: callback XML: %w", err)
	}
	return m, nil
}

// ServeHTTP is the callback endpoint. GET is WeChat's URL verification (answers echostr); POST
// carries a message or event. A bad signature gets 401, a timestamp outside MaxSkew 403, a body that
// is not a callback 400, a message that could not be stored 500 (WeChat delivers it again); anything
// stored or deliberately ignored gets "success".
func (a *Adapter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ts, nonce := q.Get("timestamp"), q.Get("nonce")
	if !wxcrypt.Verify(q.Get("signature"), a.opt.Token, ts, nonce) {
		a.log.WarnContext(r.Context(), "callback with a bad signature", "remote", r.RemoteAddr)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if err := a.checkTimestamp(ts); err != nil {
		a.log.WarnContext(r.Context(), "callback refused", "remote", r.RemoteAddr, "err", err)
		http.Error(w, "stale request", http.StatusForbidden)
		return
	}
	switch r.Method {
	case http.MethodGet:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, q.Get("echostr"))
		return
	case http.MethodPost:
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCallbackBody))
	if err != nil {
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	}
	m, err := a.open(body, q.Get("encrypt_type"), q.Get("msg_signature"), ts, nonce)
	if err != nil {
		var status = http.StatusBadRequest
		if errors.Is(err, wxcrypt.ErrBadSignature) {
			status = http.StatusUnauthorized
		}
		a.log.WarnContext(r.Context(), "callback body refused", "err", err)
		http.Error(w, "bad callback", status)
		return
	}
	if m.FromUserName == "" {
		http.Error(w, "bad callback", http.StatusBadRequest)
		return
	}
	ev, ok := a.normalize(m)
	// Any message, menu click or follow opens the follower's reply window, even one kefu ignores.
	a.markSeen(r.Context(), m.FromUserName, ev.At)
	if !ok {
		successful(w)
		return
	}
	a.sinkMu.RLock()
	sink := a.sink
	a.sinkMu.RUnlock()
	if sink == nil {
		http.Error(w, "not running", http.StatusServiceUnavailable)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), a.opt.DeliverTimeout)
	defer cancel()
	a.keep(ctx, &ev) // at most MediaTimeout of the same budget: storing keeps the rest
	if err := sink.Deliver(ctx, ev); err != nil {
		a.log.ErrorContext(r.Context(), "callback not stored; WeChat will retry", "msg_id", ev.MsgID, "err", err)
		http.Error(w, "try again", http.StatusInternalServerError)
		return
	}
	successful(w)
}

// successful is WeChat's acknowledgement: the replies go through the customer-service API.
func successful(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "success")
}

func (a *Adapter) checkTimestamp(ts string) error {
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("bad timestamp %q", ts)
	}
	d := a.opt.Now().Sub(time.Unix(sec, 0))
	if d > a.opt.MaxSkew || d < -a.opt.MaxSkew {
		return fmt.Errorf("timestamp %s off by %v (replayed or clock skew)", ts, d.Round(time.Second))
	}
	return nil
}

// open parses the body and, in safe mode, checks msg_signature and decrypts. With an EncodingAESKey
// configured a plaintext body is refused, so nobody can downgrade the channel.
func (a *Adapter) open(body []byte, encType, msgSig, ts, nonce string) (Message, error) {
	m, err := ParseMessage(body)
	if err != nil {
		return m, err
	}
	if a.crypt == nil {
		if encType == "aes" || m.Encrypt != "" && m.FromUserName == "" {
			return m, errors.New("wechat: encrypted callback but no EncodingAESKey configured")
		}
		return m, nil
	}
	if encType != "aes" || m.Encrypt == "" {
		return m, errors.New("wechat: safe mode expects an encrypted callback")
	}
	if !wxcrypt.Verify(msgSig, a.opt.Token, ts, nonce, m.Encrypt) {
		return m, wxcrypt.ErrBadSignature
	}
	plain, err := a.crypt.Decrypt(m.Encrypt)
	if err != nil {
		return m, err
	}
	return ParseMessage(plain)
}

// normalize turns a callback into an Event; ok is false for what kefu ignores (unsubscribe, scans,
// menu links, template receipts, unknown types).
func (a *Adapter) normalize(m Message) (ev bot.Event, ok bool) {
	at := a.opt.Now()
	if m.CreateTime > 0 {
		at = time.Unix(m.CreateTime, 0)
	}
	ev = bot.Event{Channel: Channel, ChatID: m.FromUserName, UserID: m.FromUserName, At: at, MsgID: "msg:" + m.MsgID}
	media := func(typ, mime, name string) {
		ev.Kind = bot.KindMedia
		ev.Attachments = []bot.Attachment{{Type: typ, FileID: m.MediaID, MIME: mime, Name: name}}
	}
	switch m.MsgType {
	case "text":
		ev.Kind, ev.Text = bot.KindText, strings.TrimSpace(m.Content)
		if m.BizMsgMenuID != "" {
			ev.Kind, ev.Payload = bot.KindButton, m.BizMsgMenuID
		}
	case "image":
		media("photo", "image/jpeg", "")
	case "voice":
		media("voice", "audio/"+strings.ToLower(m.Format), "")
		ev.Text = strings.TrimSpace(m.Recognition)
	case "video", "shortvideo":
		media("video", "video/mp4", "")
	case "file":
		media("document", "", m.Title)
	case "location":
		ev.Kind = bot.KindText
		ev.Text = strings.TrimSpace(fmt.Sprintf("📍 %s (%s, %s)", m.Label, m.LocationX, m.LocationY))
	case "link":
		ev.Kind, ev.Text = bot.KindText, strings.TrimSpace(m.Title+" "+m.URL)
	case "event":
		ev.MsgID = "evt:" + m.FromUserName + ":" + strconv.FormatInt(m.CreateTime, 10) + ":" + strings.ToLower(m.Event)
		switch strings.ToLower(m.Event) {
		case "subscribe":
			ev.Kind, ev.Payload = bot.KindCommand, "start"
		case "click":
			key := strings.TrimSpace(m.EventKey)
			if slices.Contains(Commands, strings.TrimPrefix(key, "/")) {
				ev.Kind, ev.Payload = bot.KindCommand, strings.TrimPrefix(key, "/")
			} else if key != "" {
				ev.Kind, ev.Payload = bot.KindButton, key
			} else {
				return ev, false
			}
		default:
			return ev, false
		}
	default:
		return ev, false
	}
	if m.MsgType != "event" && m.MsgID == "" {
		// Every message type carries MsgId; without one, sender and time identify a retry.
		ev.MsgID = "msg:" + m.FromUserName + ":" + strconv.FormatInt(m.CreateTime, 10)
	}
	return ev, true
}
