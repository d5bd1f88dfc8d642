package slack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"

	"github.com/kefu-dev/kefu/bot"
)

const (
	maxBody     = 1 << 20
	workTimeout = 30 * time.Second // ceiling for work that continues after Slack has been answered
)

// App serves Slack's HTTP endpoints (it is an http.Handler), follows the Desk's event feed (Run) and,
// with an app-level token, Socket Mode.
type App struct {
	o      Options
	api    *slack.Client
	http   *http.Client
	log    *slog.Logger
	now    func() time.Time
	desk   bot.Desk
	store  Store
	access *access
	mux    *http.ServeMux

	wg      sync.WaitGroup // background work started by handlers
	kick    chan struct{}  // wakes the feed worker after a change made from Slack
	seen    *seenSet       // Events API deliveries already handled (event_id, channel/ts)
	replays *replayGuard   // signatures of commands and interactions already handled
	feedMu  sync.Mutex     // one feed pass at a time
	botUser atomic.Value   // string: our own user id (auth.test), to ignore our own messages
	holder  string         // this process's name for the feed lease (see Leaser)
}

// New checks o and builds an App. It makes no network call; Run calls auth.test.
func New(o Options) (*App, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	if o.APIURL == "" {
		o.APIURL = DefaultAPIURL
	}
	if !strings.HasSuffix(o.APIURL, "/") {
		o.APIURL += "/"
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if o.Lang == "" {
		o.Lang = "zh-CN"
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if o.AckTimeout <= 0 {
		o.AckTimeout = 2500 * time.Millisecond
	}
	if o.GroupTTL <= 0 {
		o.GroupTTL = 5 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	opts := []slack.Option{slack.OptionAPIURL(o.APIURL), slack.OptionHTTPClient(o.HTTPClient)}
	if o.AppToken != "" {
		opts = append(opts, slack.OptionAppLevelToken(o.AppToken))
	}
	a := &App{
		o:     o,
		api:   slack.New(o.BotToken, opts...),
		http:  o.HTTPClient,
		log:   o.Logger.With("adapter", "slack"),
		now:   o.Now,
		desk:  o.Desk,
		store: o.Store,
		kick:  make(chan struct{}, 1),
		seen:  newSeenSet(4096),
		// a timestamp is accepted for 5 minutes either way (slack.NewSecretsVerifier): remember longer
		replays: newReplayGuard(11 * time.Minute),
		holder:  newHolder(),
	}
	a.access = newAccess(a.api, o.Agents, o.Supervisors, o.GroupTTL, o.Now)
	a.mux = http.NewServeMux()
	a.mux.HandleFunc("POST /slack/commands", a.verified(a.once(a.serveCommand)))
	a.mux.HandleFunc("POST /slack/interactions", a.verified(a.once(a.serveInteraction)))
	a.mux.HandleFunc("POST /slack/events", a.verified(a.serveEvent))
	return a, nil
}

// ServeHTTP serves /slack/commands, /slack/interactions and /slack/events.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// Wait blocks until background work started by handlers has finished (or ctx is done). Call it on
// shutdown after the HTTP server has stopped accepting requests.
func (a *App) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { a.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("slack: wait: %w", ctx.Err())
	}
}

// verified refuses (401) any request without a valid, fresh v0 signature; it hands the body on.
func (a *App) verified(next func(http.ResponseWriter, *http.Request, []byte)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if a.o.SigningSecret == "" { // Socket Mode only: the HTTP endpoints stay closed
			http.Error(w, "http endpoints disabled", http.StatusNotFound)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			http.Error(w, "bad body", http.StatusRequestEntityTooLarge)
			return
		}
		sv, err := slack.NewSecretsVerifier(r.Header, a.o.SigningSecret)
		if err == nil {
			_, _ = sv.Write(body)
			err = sv.Ensure()
		}
		if err != nil {
			a.log.WarnContext(r.Context(), "refused unsigned or stale request", "path", r.URL.Path, "err", err)
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next(w, r, body)
	}
}

// once drops a signed request already handled (a replay): 200 with nothing done.
func (a *App) once(next func(http.ResponseWriter, *http.Request, []byte)) func(http.ResponseWriter, *http.Request, []byte) {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		if !a.replays.first(r.Header.Get("X-Slack-Signature"), a.now()) {
			a.log.WarnContext(r.Context(), "replayed slack request ignored", "path", r.URL.Path)
			w.WriteHeader(http.StatusOK)
			return
		}
		next(w, r, body)
	}
}

// spawn runs fn in a goroutine owned by a, detached from the request's cancellation but bounded.
func (a *App) spawn(parent context.Context, fn func(ctx context.Context)) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), workTimeout)
		defer cancel()
		defer func() {
			if p := recover(); p != nil {
				a.log.ErrorContext(ctx, "panic in slack handler", "panic", p)
			}
		}()
		fn(ctx)
	}()
}

// within runs fn in the background and waits up to AckTimeout for its answer. If fn is slower, within
// returns ok=false and late receives the answer when it comes.
func (a *App) within(parent context.Context, fn func(ctx context.Context) *slack.WebhookMessage,
	late func(ctx context.Context, m *slack.WebhookMessage)) (*slack.WebhookMessage, bool) {
	var (
		mu       sync.Mutex
		answered bool // fn's answer went to the waiter
		deferred bool // the waiter gave up
		ch       = make(chan *slack.WebhookMessage, 1)
	)
	a.spawn(parent, func(ctx context.Context) {
		m := fn(ctx)
		mu.Lock()
		giveLate := deferred
		if !deferred {
			answered = true
			ch <- m
		}
		mu.Unlock()
		if giveLate && m != nil {
			late(ctx, m)
		}
	})
	t := time.NewTimer(a.o.AckTimeout)
	defer t.Stop()
	select {
	case m := <-ch:
		return m, true
	case <-t.C:
		mu.Lock()
		defer mu.Unlock()
		if answered {
			return <-ch, true
		}
		deferred = true
		return nil, false
	}
}

// respond posts m to a response_url (answers that missed the 3-second window, button feedback).
func (a *App) respond(ctx context.Context, url string, m *slack.WebhookMessage) {
	if url == "" || m == nil {
		return
	}
	if err := slack.PostWebhookCustomHTTPContext(ctx, url, a.http, m); err != nil {
		a.log.ErrorContext(ctx, "response_url post failed", "err", err)
	}
}

// kickFeed wakes the feed worker so that cards follow a change made from Slack at once.
func (a *App) kickFeed() {
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

// tr renders a Slack-side string; without a translator (or for a missing key) it shows the key and its
// arguments, so nothing is lost.
func (a *App) tr(key string, args map[string]any) string {
	if a.o.T != nil {
		if s := a.o.T(a.o.Lang, key, args); s != "" && s != key {
			return s
		}
	}
	if len(args) == 0 {
		return key
	}
	return key + " " + formatArgs(args)
}

// trOr renders key, or returns fallback when no translation exists.
func (a *App) trOr(key, fallback string) string {
	if a.o.T != nil {
		if s := a.o.T(a.o.Lang, key, nil); s != "" && s != key {
			return s
		}
	}
	return fallback
}

// errText maps a Desk error to a message for the agent; unexpected errors are logged here.
func (a *App) errText(ctx context.Context, err error, no string) string {
	args := map[string]any{"no": no}
	var wc *bot.WindowClosedError
	switch {
	case errors.As(err, &wc): // the platform's reply window closed: say when, and what the agent can do
		return a.tr(wc.Key(), wc.Args(slackDate))
	case errors.Is(err, bot.ErrNoProposal): // a proposal id the ticket does not have
		return a.tr("slack.error.no_proposal", args)
	case errors.Is(err, bot.ErrUnknownTkt), errors.Is(err, bot.ErrNotFound):
		return a.tr("slack.error.unknown_ticket", args)
	case errors.Is(err, bot.ErrClosed):
		return a.tr("slack.error.closed", args)
	case errors.Is(err, bot.ErrNoReply):
		return a.tr("slack.error.no_reply", args)
	case errors.Is(err, bot.ErrOpenTasks): // a complaint with open follow-through tasks (followup.go)
		return a.tr("slack.error.open_tasks", args)
	case errors.Is(err, bot.ErrSupervisorOnly):
		return a.tr("slack.error.supervisor_only", args)
	case errors.Is(err, bot.ErrForbidden):
		return a.tr("slack.error.forbidden", args)
	case errors.Is(err, bot.ErrConflict):
		return a.tr("slack.error.conflict", args)
	case errors.Is(err, bot.ErrBadInput):
		return a.tr("slack.error.bad_input", args)
	case errors.Is(err, errors.ErrUnsupported):
		return a.tr("slack.error.unavailable", args)
	}
	a.log.ErrorContext(ctx, "desk call failed", "ticket_no", no, "err", err)
	return a.tr("slack.error.internal", args)
}

func ephemeral(text string) *slack.WebhookMessage {
	return &slack.WebhookMessage{ResponseType: slack.ResponseTypeEphemeral, Text: text}
}

func actorID(user string) string { return "slack:" + user }

// slackUser returns the Slack user id of an actor id ("slack:U1" -> "U1"), or "".
func slackUser(actor string) string {
	if u, ok := strings.CutPrefix(actor, "slack:"); ok {
		return u
	}
	return ""
}
