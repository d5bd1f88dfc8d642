// Package discord connects kefu to Discord through github.com/bwmarrin/discordgo.
//
// Customers write to the bot in DMs or, when Options.SupportChannelID is set, in a support channel
// where each customer gets a private thread. Messages arrive over the gateway (they need the
// privileged MessageContent intent); buttons and slash commands arrive over the gateway or, when
// the application has an Interactions Endpoint URL, over HTTP (Adapter implements http.Handler).
//
// Delivery: discordgo stores the gateway sequence number on receipt and resumes (op 6) after a
// drop, so Discord replays what was missed and nothing is repeated. Events are then handed to the
// Sink in order per customer, retried with backoff while Deliver fails. The gateway has no
// acknowledgements: an event still queued in memory when the process dies is lost, which is why the
// queue is short and drained on a graceful shutdown.
//
// Rate limits: discordgo's retry-on-429 is switched off; Send and Edit return *bot.RateLimitedError
// so the persisted outbox waits instead of a goroutine sleeping. discordgo's proactive bucket
// limiter (X-RateLimit-* headers) stays on, so kefu rarely sees a 429 at all.
package discord

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
	"github.com/kefu-dev/kefu/bot"
)

// Options configures an Adapter.
type Options struct {
	// Token is the bot token from the developer portal (with or without the "Bot " prefix).
	Token string
	// APIURL replaces https://discord.com for REST calls (e.g. http://127.0.0.1:PORT, a proxy);
	// the /api/v9/... path is kept. Empty: discord.com.
	APIURL string
	// GatewayURL is the websocket URL to connect to (e.g. ws://127.0.0.1:PORT/gateway). Empty: ask
	// GET /api/v9/gateway.
	GatewayURL string
	// SupportChannelID, if set, is a guild text channel where each customer who writes gets a
	// private thread; the conversation continues there. Empty: DMs only.
	SupportChannelID string
	// PublicKey is the application's hex ed25519 public key, needed to serve the HTTP
	// interactions endpoint (ServeHTTP answers 503 without it).
	PublicKey string
	// ApplicationID registers the slash commands; empty: taken from the gateway READY.
	ApplicationID string
	// CommandDescriptions gives slash-command texts by kefu language ("zh-CN", "en") and key:
	// "status", "lang", "link", "help" (command descriptions), "lang.language" and "link.code"
	// (option descriptions). Missing texts fall back to the other language, then to the key.
	CommandDescriptions map[string]map[string]string
	// CommandNames optionally localizes command names ("status" -> "状态"), same shape.
	CommandNames map[string]map[string]string
	// HTTPClient is the base client for REST calls (its Transport is wrapped). Nil: 20 s timeout.
	HTTPClient *http.Client
	// Logger receives the adapter's logs. Nil: discarded.
	Logger *slog.Logger

	// Workers is how many goroutines hand events to the Sink (order is kept per customer). 0: 4.
	Workers int
	// RetryMin and RetryMax bound the backoff between failed Deliver calls. 0: 200 ms and 30 s.
	RetryMin, RetryMax time.Duration
	// DrainTimeout bounds how long Run keeps delivering queued events after ctx is done. 0: 5 s.
	DrainTimeout time.Duration
	// Now is the clock for interaction timestamps. Nil: time.Now.
	Now func() time.Time
	// GatewayGate, when set, is called by Run before it connects to the gateway: Run connects once it
	// returns nil, and stops when it returns an error (nil when ctx is done). Several replicas pass a
	// lease, so that only one holds the gateway connection; while a replica waits, its sends and its
	// HTTP interactions endpoint work as usual.
	GatewayGate func(ctx context.Context) error
}

// Adapter is the Discord channel. Create it with New; call Run once.
type Adapter struct {
	s       *discordgo.Session
	log     *slog.Logger
	support string
	pubKey  ed25519.PublicKey
	appID   string
	descs   map[string]map[string]string
	names   map[string]map[string]string
	now     func() time.Time
	gate    func(ctx context.Context) error

	retryMin, retryMax, drain time.Duration

	shards   []chan inbound
	done     chan struct{} // closed when Run stops taking events
	qmu      sync.RWMutex  // senders hold R while sending; stop holds W to close the shards
	qclosed  bool
	ran      atomic.Bool
	stopping atomic.Bool

	mu       sync.Mutex
	botID    string
	locales  map[string]string             // user id -> last interaction locale
	threads  map[string]*threadRef         // customer user id -> private thread
	owners   map[string]string             // thread id -> customer user id
	notOurs  map[string]bool               // guild channels that are not kefu threads
	pending  map[string]pendingInteraction // chat id -> deferred slash command awaiting its answer
	lastSeen map[string]time.Time          // interaction ids acknowledged recently (gateway+HTTP)
}

var (
	_ bot.Adapter  = (*Adapter)(nil)
	_ bot.Editor   = (*Adapter)(nil)
	_ http.Handler = (*Adapter)(nil)
)

// inbound is one queued event; support marks a message typed in the support channel itself, whose
// ChatID becomes the customer's private thread before delivery; guild marks a message in some
// other guild channel that is delivered only if it is a kefu thread of its author.
type inbound struct {
	ev      bot.Event
	guildID string
	support bool
	guild   bool
}

// Intents kefu needs. MessageContent is privileged: enable it in the developer portal.
const Intents = discordgo.IntentsDirectMessages | discordgo.IntentsGuildMessages |
	discordgo.IntentsMessageContent | discordgo.IntentsGuilds

// New builds an Adapter. It does no network I/O; Run connects.
func New(o Options) (*Adapter, error) {
	if strings.TrimSpace(o.Token) == "" {
		return nil, errors.New("discord: new: empty token")
	}
	token := strings.TrimSpace(o.Token)
	if !strings.HasPrefix(token, "Bot ") {
		token = "Bot " + token
	}
	s, err := discordgo.New(token)
	if err != nil {
		return nil, fmt.Errorf("discord: new: %w", err)
	}
	base := o.HTTPClient
	if base == nil {
		base = &http.Client{Timeout: 20 * time.Second}
	}
	next := base.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	rt := &rewriteTransport{gateway: o.GatewayURL, next: next}
	if o.APIURL != "" {
		u, err := url.Parse(o.APIURL)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("discord: new: bad API URL %q", o.APIURL)
		}
		rt.base = u
	}
	if o.GatewayURL != "" {
		if u, err := url.Parse(o.GatewayURL); err != nil || (u.Scheme != "ws" && u.Scheme != "wss") {
			return nil, fmt.Errorf("discord: new: bad gateway URL %q (want ws:// or wss://)", o.GatewayURL)
		}
	}
	client := *base
	client.Transport = rt
	s.Client = &client
	s.Identify.Intents = Intents
	s.SyncEvents = true              // handlers only enqueue; order is what the gateway sent
	s.ShouldRetryOnRateLimit = false // 429 -> *bot.RateLimitedError, the outbox waits
	s.StateEnabled = true

	var pub ed25519.PublicKey
	if o.PublicKey != "" {
		b, err := hex.DecodeString(strings.TrimSpace(o.PublicKey))
		if err != nil || len(b) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("discord: new: public key must be %d hex-encoded bytes", ed25519.PublicKeySize)
		}
		pub = ed25519.PublicKey(b)
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &Adapter{
		s:        s,
		log:      log.With("adapter", "discord"),
		support:  o.SupportChannelID,
		pubKey:   pub,
		appID:    o.ApplicationID,
		descs:    o.CommandDescriptions,
		names:    o.CommandNames,
		now:      o.Now,
		gate:     o.GatewayGate,
		retryMin: o.RetryMin,
		retryMax: o.RetryMax,
		drain:    o.DrainTimeout,
		done:     make(chan struct{}),
		locales:  map[string]string{},
		threads:  map[string]*threadRef{},
		owners:   map[string]string{},
		notOurs:  map[string]bool{},
		pending:  map[string]pendingInteraction{},
		lastSeen: map[string]time.Time{},
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.retryMin <= 0 {
		a.retryMin = 200 * time.Millisecond
	}
	if a.retryMax <= 0 {
		a.retryMax = 30 * time.Second
	}
	if a.drain <= 0 {
		a.drain = 5 * time.Second
	}
	n := o.Workers
	if n <= 0 {
		n = 4
	}
	for range n {
		a.shards = append(a.shards, make(chan inbound, 64))
	}
	s.AddHandler(a.onReady)
	s.AddHandler(a.onConnect)
	s.AddHandler(a.onDisconnect)
	s.AddHandler(a.onResumed)
	s.AddHandler(a.onMessageCreate)
	s.AddHandler(a.onMessageUpdate)
	s.AddHandler(a.onInteractionCreate)
	return a, nil
}

// Channel reports bot.ChannelDiscord.
func (a *Adapter) Channel() bot.Channel { return bot.ChannelDiscord }

// Run connects to the gateway, registers the slash commands and hands events to sink until ctx is
// done; then it closes the gateway, delivers what is still queued (up to DrainTimeout) and returns
// nil. It returns an error if the first connection fails for a reason retrying cannot fix (bad
// token); other connection errors are retried with backoff.
func (a *Adapter) Run(ctx context.Context, sink bot.Sink) error {
	if !a.ran.CompareAndSwap(false, true) {
		return errors.New("discord: run: already started")
	}
	var wg sync.WaitGroup
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	for _, ch := range a.shards {
		wg.Go(func() { a.work(workCtx, sink, ch) })
	}
	stop := func() {
		// Wake blocked senders, wait until none is inside enqueue, then close the shards: the
		// workers finish what is queued, within DrainTimeout, and exit.
		close(a.done)
		a.qmu.Lock()
		a.qclosed = true
		for _, ch := range a.shards {
			close(ch)
		}
		a.qmu.Unlock()
		t := time.AfterFunc(a.drain, stopWork)
		defer t.Stop()
		wg.Wait()
	}

	if a.gate != nil {
		if err := a.gate(ctx); err != nil {
			a.stopping.Store(true)
			stop()
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("discord: gateway gate: %w", err)
		}
	}
	if err := a.open(ctx); err != nil {
		a.stopping.Store(true)
		stop()
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	a.registerCommands(ctx)
	<-ctx.Done()
	a.stopping.Store(true)
	// discordgo's heartbeat or reader may hit the closing socket and call reconnect; make that a
	// no-op (both paths call Close, which takes this lock, before they read the flag).
	a.s.Lock()
	a.s.ShouldReconnectOnError = false
	a.s.Unlock()
	if err := a.s.Close(); err != nil {
		a.log.Warn("close gateway", "err", err)
	}
	stop()
	return nil
}

// open connects to the gateway, retrying transient failures with backoff.
func (a *Adapter) open(ctx context.Context) error {
	backoff := bot.Backoff{Min: time.Second, Max: 2 * time.Minute}
	for attempt := 1; ; attempt++ {
		err := a.s.Open()
		if err == nil {
			return nil
		}
		if permanentOpenError(err) {
			var ce *websocket.CloseError
			if errors.As(err, &ce) && ce.Code == 4014 {
				return fmt.Errorf("discord: connect: enable the privileged Message Content intent for the bot in the developer portal: %w", err)
			}
			return fmt.Errorf("discord: connect: %w", err)
		}
		wait := backoff.Delay(attempt)
		a.log.Warn("gateway connect failed; retrying", "err", err, "wait", wait)
		if !bot.Sleep(ctx, wait) {
			return ctx.Err()
		}
	}
}

// permanentOpenError reports connection failures that retrying cannot fix: a rejected token, or
// the gateway closing with 4004 (authentication failed), 4010-4013 (bad shard, version or intents)
// or 4014 (disallowed intents: MessageContent is not enabled in the developer portal).
func permanentOpenError(err error) bool {
	var ce *websocket.CloseError
	if errors.As(err, &ce) && (ce.Code == 4004 || ce.Code >= 4010 && ce.Code <= 4014) {
		return true
	}
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Response != nil {
		switch re.Response.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			return true
		}
	}
	return errors.Is(err, discordgo.ErrUnauthorized)
}

// enqueue queues an event on its customer's shard. It blocks while the shard is full (back
// pressure on the gateway reader) and returns false once Run has stopped or ctx is done.
func (a *Adapter) enqueue(ctx context.Context, it inbound) bool {
	h := fnv.New32a()
	h.Write([]byte(it.ev.UserID))
	ch := a.shards[int(h.Sum32()%uint32(len(a.shards)))]
	a.qmu.RLock()
	defer a.qmu.RUnlock()
	if !a.qclosed {
		select {
		case ch <- it:
			return true
		case <-a.done:
		case <-ctx.Done():
		}
	}
	a.log.Warn("event not queued: adapter stopping", "msg_id", it.ev.MsgID, "chat_id", it.ev.ChatID)
	return false
}

// work delivers one shard's events in order until the shard is closed and empty.
func (a *Adapter) work(ctx context.Context, sink bot.Sink, ch <-chan inbound) {
	for it := range ch {
		a.process(ctx, sink, it)
	}
}

// process resolves where the event belongs and delivers it, retrying with backoff until Deliver
// succeeds or ctx ends. Nothing is dropped silently: every give-up is logged at error level.
func (a *Adapter) process(ctx context.Context, sink bot.Sink, it inbound) {
	// deliver resolves the thread once and keeps it in it, so a retry does not resolve it again.
	once := bot.SinkFunc(func(ctx context.Context, _ bot.Event) error {
		if err := a.deliver(ctx, sink, &it); !errors.Is(err, errSkip) {
			return err
		}
		return nil
	})
	err := bot.DeliverRetry(ctx, once, it.ev, bot.Backoff{Min: a.retryMin, Max: a.retryMax}, a.log)
	switch {
	case err == nil:
	case errors.Is(err, bot.ErrBadInput):
		a.log.Error("event rejected by the engine", "msg_id", it.ev.MsgID, "err", err)
	default:
		a.log.Error("event not delivered before shutdown", "msg_id", it.ev.MsgID, "chat_id", it.ev.ChatID, "err", err)
	}
}

var errSkip = errors.New("discord: not a customer conversation")

func (a *Adapter) deliver(ctx context.Context, sink bot.Sink, it *inbound) error {
	switch {
	case it.support:
		id, err := a.supportThread(ctx, it.guildID, it.ev.UserID, it.ev.UserName)
		if err != nil {
			return err
		}
		it.ev.ChatID = id
		it.support = false
	case it.guild:
		ours, err := a.isCustomerThread(ctx, it.ev.ChatID, it.ev.UserID)
		if err != nil {
			return err
		}
		if !ours {
			a.log.Debug("guild message outside kefu threads ignored", "msg_id", it.ev.MsgID, "chat_id", it.ev.ChatID)
			return errSkip
		}
		it.guild = false
	}
	if err := sink.Deliver(ctx, it.ev); err != nil {
		return fmt.Errorf("discord: deliver %s: %w", it.ev.MsgID, err)
	}
	return nil
}

// --- gateway handlers (run on discordgo's reader goroutine; SyncEvents) ---

func (a *Adapter) onReady(s *discordgo.Session, r *discordgo.Ready) {
	a.mu.Lock()
	if r.User != nil {
		a.botID = r.User.ID
	}
	if a.appID == "" && r.Application != nil {
		a.appID = r.Application.ID
	}
	a.mu.Unlock()
	a.log.Info("gateway ready", "session_id", r.SessionID)
}

func (a *Adapter) onConnect(s *discordgo.Session, _ *discordgo.Connect) {
	if a.stopping.Load() {
		// discordgo's own reconnect loop finished after Run stopped: close again. Open holds the
		// session lock while it emits Connect, so Close must run elsewhere.
		go s.Close()
		return
	}
	a.log.Info("gateway connected")
}

func (a *Adapter) onDisconnect(*discordgo.Session, *discordgo.Disconnect) {
	if !a.stopping.Load() {
		a.log.Warn("gateway disconnected; discordgo reconnects and resumes")
	}
}

func (a *Adapter) onResumed(*discordgo.Session, *discordgo.Resumed) {
	a.log.Info("gateway session resumed")
}

func (a *Adapter) onMessageUpdate(_ *discordgo.Session, m *discordgo.MessageUpdate) {
	if m.Message == nil {
		return
	}
	a.log.Info("edited message ignored", "msg_id", m.ID, "chat_id", m.ChannelID)
}

func (a *Adapter) onMessageCreate(s *discordgo.Session, m *discordgo.MessageCreate) {
	if m.Message == nil {
		return
	}
	a.mu.Lock()
	botID := a.botID
	lang := ""
	if m.Author != nil {
		lang = a.locales[m.Author.ID]
	}
	a.mu.Unlock()
	ev, reason := messageEvent(m.Message, botID)
	if reason != "" {
		a.log.Debug("message ignored", "msg_id", m.ID, "reason", reason)
		return
	}
	ev.LangHint = lang
	it := inbound{ev: ev, guildID: m.GuildID}
	if m.GuildID != "" {
		switch {
		case a.support == "":
			a.log.Debug("guild message ignored: no support channel configured", "msg_id", m.ID)
			return
		case m.ChannelID == a.support:
			it.support = true
		default:
			it.guild = true
		}
	}
	a.enqueue(context.Background(), it)
}
