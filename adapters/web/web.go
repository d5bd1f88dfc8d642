// Package web is kefu's built-in web chat: one embedded page (HTML, JS and CSS; no CDN) and a small
// JSON API the page talks to.
//
// Web chat messages are pulled, not pushed: the outbox rows of channel "web" whose ChatID is the
// session id are the messages the page shows. The page posts the customer's text or button press,
// gets back the replies the engine enqueued while handling it, and polls for later ones (agent
// replies, the survey).
//
//	POST /api/webchat/sessions                      {"lang"?}                      -> 201 {"session"}
//	POST /api/webchat/messages                      {"session","text"|"action",
//	                                                 "lang"?,"client_id"?}          -> 200 {"replies":[…]}
//	GET  /api/webchat/messages?session=S&after=ID                                  -> 200 {"messages":[…]}
//
// Errors are JSON {"error": code, "message": localized text} with a 4xx or 5xx status.
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/kefu-dev/kefu/bot"
)

// Store is what the web chat needs from storage. Messages are the outbox rows of channel web whose
// ChatID is the session id; Reply.OutboxID is the message id and ids grow over time.
type Store interface {
	CreateWebSession(ctx context.Context, id, lang string) error
	WebSessionExists(ctx context.Context, id string) (bool, error)
	// WebSessionLang returns the language a session was created with ("" when none was given) and
	// whether the session exists.
	WebSessionLang(ctx context.Context, id string) (lang string, ok bool, err error)
	// WebMessagesAfter returns up to limit messages of session with an id greater than afterID, oldest first.
	WebMessagesAfter(ctx context.Context, session string, afterID int64, limit int) ([]bot.Reply, error)
	// LastWebMessageID returns the id of the session's newest message, or 0 when there is none.
	LastWebMessageID(ctx context.Context, session string) (int64, error)
}

// Translator renders a locale key; *locales.Catalog's T method has this signature.
type Translator func(lang, key string, args map[string]any) string

// Options configure an Adapter.
type Options struct {
	Store Store // required
	// T renders the page's strings and the API's error messages (keys web.*). Optional: missing keys
	// fall back to a small built-in table so the page always works.
	T Translator
	// Args are passed to T for every page string, e.g. {"company": "…", "bot": "…"}; LangArgs
	// override them per language (an English company name on the English page).
	Args     map[string]any
	LangArgs map[string]map[string]any
	// Langs the page offers in its language switch; default zh-CN and en. The first is the default.
	Langs        []string
	Logger       *slog.Logger
	MaxBody      int64         // request body limit in bytes; default 64 KiB (text over 4 KB must reach the engine)
	PollInterval time.Duration // how often the page asks for new messages; default 1.5 s
	// FrameAncestors lists origins allowed to embed the page in a frame (CSP frame-ancestors);
	// empty means none.
	FrameAncestors []string
	// MessagesPerSecond and MessageBurst limit how fast one session may post (e.g. 2 per second with
	// bursts of 20, which no person typing reaches); zero or negative means no limit, the default,
	// because load tests drive one session flat out. Over the limit the API answers 429.
	MessagesPerSecond float64
	MessageBurst      int
	// SessionsPerSecond and SessionBurst limit how fast one client (remote IP address) may make new
	// sessions (default 5 per second with bursts of 50), so a script cannot fill the database while
	// other visitors still get theirs; negative: no limit.
	SessionsPerSecond float64
	SessionBurst      int
	// ClientMessagesPerSecond and ClientMessageBurst limit how fast one client may post over all its
	// sessions (so a script cannot sidestep the per-session limit with many sessions); zero or
	// negative: no limit.
	ClientMessagesPerSecond float64
	ClientMessageBurst      int
	// MaxTextBytes: longer text is refused (413, nothing stored); default 4096, the engine's own
	// limit (flows max_input_bytes).
	MaxTextBytes int
	// ClientIP returns the client's address of a request, the key of the per-client limits; nil
	// means the peer's address. Serve passes one that believes X-Forwarded-For of trusted proxies only.
	ClientIP func(*http.Request) string
}

const (
	defaultMaxBody      = 64 << 10
	defaultPollInterval = 1500 * time.Millisecond
	defaultMaxText      = 4096
	repliesLimit        = 50  // replies returned by POST messages
	pageLimit           = 100 // messages returned by one GET
)

// Adapter is the web chat channel. It implements bot.Adapter and http.Handler (mount it at "/").
type Adapter struct {
	store   Store
	t       Translator
	args    map[string]map[string]any // by language; "" is every language
	langs   []string
	log     *slog.Logger
	maxBody int64
	poll    time.Duration
	csp     string
	sink    atomic.Pointer[bot.Sink] // set while Run runs; the API answers 503 otherwise
	msgLim  *limiter                 // per session
	sessLim *limiter                 // per client IP
	cliLim  *limiter                 // messages per client IP
	maxText int
	ipOf    func(*http.Request) string
	known   knownSessions // sessions recently seen to exist, with their language
	now     func() time.Time
	mux     *http.ServeMux
	page    *page
}

var (
	_ bot.Adapter  = (*Adapter)(nil)
	_ http.Handler = (*Adapter)(nil)
)

// New builds the web chat adapter.
func New(o Options) (*Adapter, error) {
	if o.Store == nil {
		return nil, errors.New("web: new: Store is required")
	}
	a := &Adapter{
		store:   o.Store,
		t:       o.T,
		args:    map[string]map[string]any{"": o.Args},
		langs:   o.Langs,
		log:     o.Logger,
		maxBody: o.MaxBody,
		poll:    o.PollInterval,
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	a.log = a.log.With("adapter", "web")
	if len(a.langs) == 0 {
		a.langs = []string{"zh-CN", "en"}
	}
	if a.maxBody <= 0 {
		a.maxBody = defaultMaxBody
	}
	if a.poll <= 0 {
		a.poll = defaultPollInterval
	}
	for _, fa := range o.FrameAncestors {
		if fa == "" || strings.ContainsAny(fa, "; ,\t\r\n") {
			return nil, fmt.Errorf("web: new: bad frame ancestor %q", fa)
		}
	}
	for l, m := range o.LangArgs {
		merged := make(map[string]any, len(o.Args)+len(m))
		for k, v := range o.Args {
			merged[k] = v
		}
		for k, v := range m {
			merged[k] = v
		}
		a.args[l] = merged
	}
	a.csp = contentSecurityPolicy(o.FrameAncestors)
	a.now = time.Now
	if o.MessagesPerSecond > 0 {
		a.msgLim = newLimiter(o.MessagesPerSecond, orDefaultInt(o.MessageBurst, int(math.Ceil(o.MessagesPerSecond*10))))
	}
	if o.ClientMessagesPerSecond > 0 {
		a.cliLim = newLimiter(o.ClientMessagesPerSecond, orDefaultInt(o.ClientMessageBurst, int(math.Ceil(o.ClientMessagesPerSecond*10))))
	}
	a.maxText = orDefaultInt(o.MaxTextBytes, defaultMaxText)
	a.ipOf = o.ClientIP
	if a.ipOf == nil {
		a.ipOf = peerIP
	}
	a.sessLim = newLimiter(orDefault(o.SessionsPerSecond, 5), orDefaultInt(o.SessionBurst, 50))
	p, err := newPage()
	if err != nil {
		return nil, fmt.Errorf("web: new: %w", err)
	}
	a.page = p
	a.mux = http.NewServeMux()
	a.mux.HandleFunc("/api/webchat/sessions", a.handleSessions)
	a.mux.HandleFunc("/api/webchat/messages", a.handleMessages)
	a.mux.HandleFunc("/api/", a.handleAPINotFound)
	a.mux.HandleFunc("GET /{$}", a.handlePage)
	a.mux.HandleFunc("GET /static/{file}", a.handleAsset)
	return a, nil
}

// Channel returns bot.ChannelWeb.
func (a *Adapter) Channel() bot.Channel { return bot.ChannelWeb }

// Run makes the API hand events to sink until ctx is done; until Run is called (and after it
// returns) the API answers 503. It returns nil on cancel.
func (a *Adapter) Run(ctx context.Context, sink bot.Sink) error {
	if sink == nil {
		return errors.New("web: run: nil sink")
	}
	if !a.sink.CompareAndSwap(nil, &sink) {
		return errors.New("web: run: already running")
	}
	defer a.sink.Store(nil)
	a.log.InfoContext(ctx, "web chat ready")
	<-ctx.Done()
	return nil
}

// Send returns the outbox id as the message id: the page pulls the outbox rows of channel web, so
// there is nothing to push.
func (a *Adapter) Send(_ context.Context, r bot.Reply) (string, error) {
	if r.ChatID == "" {
		return "", &bot.PermanentError{Err: errors.New("web: send: empty session id")}
	}
	return strconv.FormatInt(r.OutboxID, 10), nil
}

// ServeHTTP serves the page, its assets and the JSON API.
func (a *Adapter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", a.csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	if a.csp == cspNoFrames { // X-Frame-Options cannot express a list of allowed origins
		h.Set("X-Frame-Options", "DENY")
	}
	a.mux.ServeHTTP(w, r)
}

// cspBase allows only the page's own origin: no inline script or style, no CDN, no external fonts.
const cspBase = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors "

const cspNoFrames = cspBase + "'none'"

func contentSecurityPolicy(frameAncestors []string) string {
	if len(frameAncestors) == 0 {
		return cspNoFrames
	}
	return cspBase + strings.Join(frameAncestors, " ")
}

func orDefault(v, d float64) float64 {
	if v == 0 {
		return d
	}
	return v
}

func orDefaultInt(v, d int) int {
	if v <= 0 {
		return d
	}
	return v
}
