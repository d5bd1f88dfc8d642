// Package wechat connects kefu to a WeChat Official Account (公众号).
//
// The adapter only translates. Inbound, the Adapter is the account's callback endpoint (an
// http.Handler; mount it at /wechat/callback): it answers WeChat's URL verification (echostr), checks
// the signature of every request (plain mode `signature`, safe mode `msg_signature` and AES-256-CBC
// with the EncodingAESKey, see adapters/internal/wxcrypt), refuses timestamps older than MaxSkew,
// hands each message to the sink and answers "success" as soon as it is stored — well inside
// WeChat's 5 s. A retried delivery carries the same MsgId (events: sender + CreateTime), which is the
// event's MsgID, so the engine stores it once. Outbound, replies leave the outbox through the
// customer-service message API (客服消息, /cgi-bin/message/custom/send), which may reach a follower for
// 48 hours after their last message; the adapter remembers that time per follower (in State, shared by
// every process) and reports a reply that can no longer be sent as a *bot.PermanentError wrapping
// ErrWindowClosed instead of sending it blind. Within the window WeChat allows 5 messages after each
// message of the follower (since June 2023; the count does not add up): the adapter counts them per
// follower (ReplyQuota, in State; each part of a split text is one) and refuses a reply that would
// pass the count — whole, never half of it — as a *bot.PermanentError wrapping bot.ErrQuotaUsed, as
// it does the platform's own 45047.
//
// The access token is fetched once for all processes: the one holding the State lease
// "wechat-token:<appid>" calls /cgi-bin/token and stores the token; the others read it. An answer
// 40001/40014/42001 (token invalid or expired) makes the adapter refresh it once and retry.
//
// Why no SDK: silenceper/wechat/v2 (v2.1.10) installs from the proxy but its officialaccount package
// pulls 111 non-standard packages (go-redis, gomemcache, logrus, a 2022 golang.org/x/crypto) into
// the binary, takes no context.Context on its REST calls and keeps tokens in a cache interface without
// a lease; PowerWeChat is larger still. kefu calls two endpoints (token and custom/send) with JSON, so
// a small client on net/http is less code to trust than the dependency.
//
// Setup (公众号后台 → 设置与开发 → 基本配置): note the AppID and AppSecret, add kefu's egress IP to the IP
// whitelist, enable 服务器配置 with URL https://<kefu>/wechat/callback, a Token of your choice and
// (recommended) 安全模式 with a generated EncodingAESKey; give kefu the same values
// (KEFU_WECHAT_APP_ID, KEFU_WECHAT_APP_SECRET, KEFU_WECHAT_TOKEN, KEFU_WECHAT_ENCODING_AES_KEY).
package wechat

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/kefu-dev/kefu/adapters/internal/memstate"
	"github.com/kefu-dev/kefu/adapters/internal/quota"
	"github.com/kefu-dev/kefu/adapters/internal/wxcrypt"
	"github.com/kefu-dev/kefu/adapters/internal/wxmedia"
	"github.com/kefu-dev/kefu/bot"
)

// Channel is the bot.Channel of WeChat Official Account conversations.
const Channel = bot.ChannelWeChat

// DefaultAPIURL is WeChat's API server.
const DefaultAPIURL = "https://api.weixin.qq.com"

// DefaultReplyQuota is how many messages WeChat allows after each message of the customer.
const DefaultReplyQuota = quota.DefaultLimit

// Window is how long after a follower's last message the customer-service API may answer them.
const Window = bot.WeChatReplyWindow

// ErrWindowClosed: the follower's 48-hour reply window is over (or the platform says so, 45015).
var ErrWindowClosed = bot.ErrWindowClosed

// ErrQuotaUsed: the messages WeChat allows after the follower's last message are sent (or the platform
// says so, 45047).
var ErrQuotaUsed = bot.ErrQuotaUsed

// State is shared storage of several kefu processes (storage.DB implements it): the access token and
// the followers' last-message times live there.
type State interface {
	GetKV(ctx context.Context, key string) (string, bool, error)
	SetKV(ctx context.Context, key, value string) error
	Lease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
}

// Options configure an Adapter. AppID, AppSecret and Token are required.
type Options struct {
	AppID     string
	AppSecret string
	// Token is the callback token set in 服务器配置 (signs every callback).
	Token string
	// EncodingAESKey (43 characters) enables safe mode: callbacks must carry msg_signature and an
	// encrypted body. Empty: plain mode only.
	EncodingAESKey string
	APIURL         string // default DefaultAPIURL; a test fake

	State State // default: in memory (one process)
	// Hash, if set, turns an openid (a personal identifier) into the keyed hash under which State
	// keeps the follower's window (storage's Keyring.Hash), so the key-value table holds no openid.
	Hash       func(string) string
	HTTPClient *http.Client
	Logger     *slog.Logger
	Now        func() time.Time
	// MaxSkew is the oldest (and most future) callback timestamp accepted; default 5 minutes.
	MaxSkew time.Duration
	// DeliverTimeout bounds storing one callback, so WeChat gets its answer within its 5 s; default 4s.
	DeliverTimeout time.Duration
	// Blobs, when set, keeps a copy of every image, voice and video (WeChat deletes them after 3
	// days); MaxAttachment caps one file (default 10 MiB; a bigger one stays a reference) and
	// MediaTimeout one download inside the callback (default 2s, within WeChat's 5 s).
	Blobs         Blobs
	MaxAttachment int64
	MediaTimeout  time.Duration
	// MediaRetryEvery is how often a failed download is looked at again when Blobs also queues
	// retries (wxmedia.RetryStore, as storage.DB does; default 1m; each job backs off on its own).
	MediaRetryEvery time.Duration
	// ReplyQuota is how many messages may follow each message of the follower (WeChat: 5, the
	// default); a negative value counts nothing and leaves the limit to the platform (45047).
	ReplyQuota int
}

// Adapter is the Official Account channel: bot.Adapter and http.Handler.
type Adapter struct {
	opt    Options
	log    *slog.Logger
	api    string
	crypt  *wxcrypt.Cipher // nil in plain mode
	holder string
	quota  quota.Counter

	tokMu  sync.Mutex
	tok    string
	tokExp time.Time

	sinkMu sync.RWMutex
	sink   bot.Sink
}

var (
	_ bot.Adapter  = (*Adapter)(nil)
	_ http.Handler = (*Adapter)(nil)
)

// New checks the options; it makes no network call (the token is fetched on the first send).
func New(o Options) (*Adapter, error) {
	if o.AppID == "" || o.AppSecret == "" || o.Token == "" {
		return nil, errors.New("wechat: new: app id, app secret and callback token are required")
	}
	if o.APIURL == "" {
		o.APIURL = DefaultAPIURL
	}
	u, err := url.Parse(o.APIURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("wechat: new: bad API URL %q", o.APIURL)
	}
	if o.State == nil {
		o.State = NewMemState()
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
	if o.MaxSkew <= 0 {
		o.MaxSkew = 5 * time.Minute
	}
	if o.MaxAttachment <= 0 {
		o.MaxAttachment = 10 << 20
	}
	if o.MediaRetryEvery <= 0 {
		o.MediaRetryEvery = time.Minute
	}
	if o.MediaTimeout <= 0 {
		o.MediaTimeout = 2 * time.Second
	}
	if o.DeliverTimeout <= 0 {
		o.DeliverTimeout = 4 * time.Second
	}
	a := &Adapter{opt: o, log: o.Logger.With("adapter", "wechat"), api: strings.TrimRight(o.APIURL, "/"),
		holder: randomHex(8), quota: quota.Counter{State: o.State, Limit: o.ReplyQuota}}
	if o.EncodingAESKey != "" {
		c, err := wxcrypt.New(o.EncodingAESKey, o.AppID)
		if err != nil {
			return nil, fmt.Errorf("wechat: new: %w", err)
		}
		a.crypt = c
	}
	return a, nil
}

// Channel reports Channel.
func (a *Adapter) Channel() bot.Channel { return Channel }

// Run makes sink available to the callback handler until ctx is done; it returns nil then.
func (a *Adapter) Run(ctx context.Context, sink bot.Sink) error {
	if sink == nil {
		return errors.New("wechat: run: nil sink")
	}
	a.sinkMu.Lock()
	a.sink = sink
	a.sinkMu.Unlock()
	if rs, ok := a.opt.Blobs.(wxmedia.RetryStore); ok {
		// Retries run outside the callback: no 5 s limit, so a longer timeout than MediaTimeout.
		wxmedia.RetryLoop(ctx, a.log, rs, Channel, a.opt.MediaRetryEvery, a.opt.Now, a.opt.MaxAttachment, 30*time.Second, a.Download)
	}
	<-ctx.Done()
	a.sinkMu.Lock()
	a.sink = nil
	a.sinkMu.Unlock()
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// MemState is an in-memory State for a single process and for tests.
type MemState = memstate.State

// NewMemState returns an empty MemState.
func NewMemState() *MemState { return memstate.New() }
