// Package telegram connects kefu to Telegram through the Bot API, on
// github.com/go-telegram-bot-api/telegram-bot-api/v5.
//
// The adapter only translates: updates become bot.Events handed to a bot.Sink, bot.Replies become
// sendMessage calls. It runs in one of two modes:
//
//   - Long polling (the default): Run owns a getUpdates loop. The offset moves past an update only
//     after Sink.Deliver returned nil for it, so a crash loses nothing; after a restart Telegram hands
//     back the unconfirmed updates and the engine's (Channel, MsgID) deduplication drops repeats.
//   - Webhook (Options.WebhookURL set): New registers the webhook with a secret token and the Adapter,
//     an http.Handler, serves it (mount it at the path of WebhookURL, e.g. /telegram/webhook). Requests
//     without the right X-Telegram-Bot-Api-Secret-Token get 401; a failed Deliver gets 500 so Telegram
//     delivers the update again. Run only waits for ctx.
//
// Setup: create the bot with @BotFather (/newbot) and give kefu its token (KEFU_TELEGRAM_TOKEN).
// Leave group privacy on (the default): in groups the bot then only sees commands, mentions and
// replies, which is exactly what it answers with the group notice. For webhook mode expose kefu over
// HTTPS and set KEFU_TELEGRAM_WEBHOOK_URL (e.g. https://kefu.example.com/telegram/webhook) and
// KEFU_TELEGRAM_WEBHOOK_SECRET; in polling mode kefu deletes any webhook left behind.
//
// The library has no context.Context; every call here runs on a shallow copy of the BotAPI whose HTTP
// client binds the caller's ctx to the request, so cancellation reaches the socket.
package telegram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/kefu-dev/kefu/bot"
)

// DefaultAPIURL is Telegram's Bot API server. kefu calls {APIURL}/bot{token}/{method}.
const DefaultAPIURL = "https://api.telegram.org"

// Commands the adapter turns into bot.KindCommand events; any other "/word" is plain text.
var Commands = []string{"start", "status", "lang", "help", "link"}

// Options configure an Adapter. Only Token is required.
type Options struct {
	Token  string
	APIURL string // default DefaultAPIURL; a self-hosted Bot API server or a test fake

	// WebhookURL switches to webhook mode: the public https URL Telegram posts updates to. Mount the
	// Adapter at its path. WebhookSecret (1–256 of A–Z a–z 0–9 _ -) is then required.
	WebhookURL    string
	WebhookSecret string

	// HTTPClient carries every Bot API call. Default: a client whose Timeout is PollTimeout+15s; a
	// client with a shorter Timeout shortens PollTimeout to fit.
	HTTPClient *http.Client
	Logger     *slog.Logger // default: discard

	PerChatInterval time.Duration // minimum gap between messages to one chat; default 1s
	GlobalRate      float64       // messages per second over all chats; default 30
	PollTimeout     time.Duration // getUpdates long-poll timeout; default 30s

	// BotUsername is the bot's @name without "@". Default: the username getMe returns.
	BotUsername string
	// GroupNotice renders, in a language ("zh-CN" | "en"; from the sender's language_code, may be
	// empty), the short text sent to a group that addresses the bot, telling people where to reach it.
	// The lead builds it from locales. If nil, group messages are only logged and ignored.
	GroupNotice func(lang string) string
	// GroupNoticeInterval limits notices to one per group per interval; default 10 minutes.
	GroupNoticeInterval time.Duration
	// CommandDescriptions for RegisterCommands: kefu language ("zh-CN", "en") -> command -> text.
	CommandDescriptions map[string]map[string]string
}

// Adapter is the Telegram channel. It implements bot.Adapter, bot.Editor and http.Handler.
type Adapter struct {
	api      *tgbotapi.BotAPI
	http     *http.Client
	log      *slog.Logger
	opt      Options
	self     selfInfo
	webhook  bool
	apiBase  string
	limits   *limiter
	progress *progress
	backoff  bot.Backoff

	noticeMu   sync.Mutex
	lastNotice map[int64]time.Time

	sinkMu sync.RWMutex
	sink   bot.Sink // set while Run runs in webhook mode
}

var (
	_ bot.Adapter  = (*Adapter)(nil)
	_ bot.Editor   = (*Adapter)(nil)
	_ http.Handler = (*Adapter)(nil)
)

// New checks the token with getMe and, in webhook mode, registers the webhook (setWebhook with
// secret_token). ctx bounds those calls.
func New(ctx context.Context, o Options) (*Adapter, error) {
	if o.Token == "" {
		return nil, errors.New("telegram: new: token is required")
	}
	if o.APIURL == "" {
		o.APIURL = DefaultAPIURL
	}
	base, err := url.Parse(o.APIURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("telegram: new: bad API URL %q", o.APIURL)
	}
	if o.PerChatInterval <= 0 {
		o.PerChatInterval = time.Second
	}
	if o.GlobalRate <= 0 {
		o.GlobalRate = 30
	}
	if o.PollTimeout <= 0 {
		o.PollTimeout = 30 * time.Second
	}
	if o.PollTimeout < time.Second {
		o.PollTimeout = time.Second // the Bot API counts whole seconds
	}
	if o.GroupNoticeInterval <= 0 {
		o.GroupNoticeInterval = 10 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: o.PollTimeout + 15*time.Second}
	} else if t := o.HTTPClient.Timeout; t > 0 && t < o.PollTimeout+5*time.Second {
		// A long poll must end on Telegram's side before the client gives up on it.
		o.PollTimeout = max(t/2, time.Second)
		o.Logger.Warn("telegram: poll timeout shortened to fit the HTTP client timeout", "poll_timeout", o.PollTimeout, "client_timeout", t)
	}
	if o.WebhookURL != "" {
		if err := checkWebhook(o.WebhookURL, o.WebhookSecret); err != nil {
			return nil, fmt.Errorf("telegram: new: %w", err)
		}
	}
	a := &Adapter{
		http:       o.HTTPClient,
		log:        o.Logger.With("adapter", "telegram"),
		opt:        o,
		webhook:    o.WebhookURL != "",
		apiBase:    strings.TrimRight(o.APIURL, "/"),
		limits:     newLimiter(o.PerChatInterval, o.GlobalRate),
		progress:   newProgress(),
		backoff:    bot.Backoff{Min: 200 * time.Millisecond, Max: 30 * time.Second, Jitter: 0.2},
		lastNotice: make(map[int64]time.Time),
	}
	// NewBotAPIWithClient calls getMe at once; run it with ctx bound.
	api, err := tgbotapi.NewBotAPIWithClient(o.Token, a.apiBase+"/bot%s/%s", ctxDoer{ctx: ctx, c: o.HTTPClient})
	if err != nil {
		return nil, fmt.Errorf("telegram: connect: %w", redact(err, o.Token))
	}
	api.Client = o.HTTPClient
	a.api = api
	a.self = selfInfo{ID: api.Self.ID, UserName: api.Self.UserName, Commands: Commands}
	if o.BotUsername != "" {
		a.self.UserName = strings.TrimPrefix(o.BotUsername, "@")
	}
	if a.webhook {
		if err := a.setWebhook(ctx); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// Channel reports bot.ChannelTelegram.
func (a *Adapter) Channel() bot.Channel { return bot.ChannelTelegram }

// BotUsername is the bot's @name (without "@"), from Options or getMe; the lead uses it for t.me links.
func (a *Adapter) BotUsername() string { return a.self.UserName }

// Run receives updates until ctx is done and returns nil then. In webhook mode it makes sink
// available to ServeHTTP and waits.
func (a *Adapter) Run(ctx context.Context, sink bot.Sink) error {
	if sink == nil {
		return errors.New("telegram: run: nil sink")
	}
	if a.webhook {
		a.sinkMu.Lock()
		a.sink = sink
		a.sinkMu.Unlock()
		<-ctx.Done()
		a.sinkMu.Lock()
		a.sink = nil
		a.sinkMu.Unlock()
		return nil
	}
	return a.poll(ctx, sink)
}

// call returns a copy of the BotAPI whose requests carry ctx. BotAPI holds no locks, so a shallow
// copy per call is safe; the copy shares the configured *http.Client and its connection pool.
func (a *Adapter) call(ctx context.Context) *tgbotapi.BotAPI {
	c := *a.api
	c.Client = ctxDoer{ctx: ctx, c: a.http}
	return &c
}

// ctxDoer binds a context to every request of a library without context support.
type ctxDoer struct {
	ctx context.Context
	c   *http.Client
}

func (d ctxDoer) Do(r *http.Request) (*http.Response, error) { return d.c.Do(r.WithContext(d.ctx)) }

// redact removes the token from an error text (net/http errors quote the request URL).
func redact(err error, token string) error {
	if err == nil || token == "" || !strings.Contains(err.Error(), token) {
		return err
	}
	return redactedError{msg: strings.ReplaceAll(err.Error(), token, "<token>"), err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e redactedError) Error() string { return e.msg }
func (e redactedError) Unwrap() error { return e.err }
