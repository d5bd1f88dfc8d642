package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kefu-dev/kefu/adapters/telegram"
	"github.com/kefu-dev/kefu/bot"
)

// Degraded start (issue 15): a platform that cannot be reached when kefu starts (Slack auth.test,
// Telegram getMe) no longer stops the process — the web chat and every other channel keep working —
// it is retried in the background, logged once when it goes down and once when it is up, and shown
// in /readyz through PlatformStates.

// PlatformStates is what /readyz (and metrics) can read about the platforms' connections: for each
// platform that is not connected, since when and why (the error text is never shown to clients).
type PlatformStates interface {
	// PlatformDown reports whether name ("slack", "telegram") is not connected, and since when.
	PlatformDown(name string) (since time.Time, down bool)
}

// platformStarts implements PlatformStates for serve's background connections.
type platformStarts struct {
	mu    sync.Mutex
	since map[string]time.Time
}

func newPlatformStarts() *platformStarts { return &platformStarts{since: map[string]time.Time{}} }

func (p *platformStarts) PlatformDown(name string) (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t, ok := p.since[name]
	return t, ok
}

// set records name as down (err != nil) or up; it reports whether the state changed.
func (p *platformStarts) set(name string, err error) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, was := p.since[name]
	if err != nil {
		if !was {
			p.since[name] = time.Now()
		}
		return !was
	}
	delete(p.since, name)
	return was
}

// reporter returns a function an adapter calls with how its inbound connection goes (a mailbox that
// refuses the login, a sync that fails): /readyz shows name down from the first error until a nil, and
// the log says so once per outage.
func (p *platformStarts) reporter(log *slog.Logger, name string) func(error) {
	return func(err error) {
		if !p.set(name, err) {
			return
		}
		if err != nil {
			log.Error(name+" unreachable; the other channels keep running, retrying in the background", "err", err)
		} else {
			log.Info(name + " connected")
		}
	}
}

// retryBackoff is the wait before the nth retry of a platform connection: 1 s doubling to
// platformRetryMax.
func retryBackoff(n int) time.Duration {
	return min(time.Second<<min(n, 6), platformRetryMax)
}

// platformRetryMax caps the wait between connection attempts (a variable for tests).
var platformRetryMax = time.Minute

// keepTrying runs run until ctx is done; when it fails it is logged (once per outage), marked down
// in states and run again after a backoff. A run that returns nil while ctx is live ends it.
func keepTrying(ctx context.Context, log *slog.Logger, states *platformStarts, name string, run func(context.Context) error) error {
	for n := 0; ; n++ {
		done := make(chan struct{})
		go func() { // still running after a few seconds: connected
			select {
			case <-time.After(3 * time.Second):
				if states.set(name, nil) {
					log.InfoContext(ctx, name+" connected")
				}
			case <-done:
			}
		}()
		err := run(ctx)
		close(done)
		if ctx.Err() != nil || err == nil {
			return nil
		}
		if states.set(name, err) {
			log.ErrorContext(ctx, name+" unreachable; the other channels keep running, retrying in the background", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(retryBackoff(n)):
		}
	}
}

// lazyTelegram is the Telegram channel while getMe has not answered yet: sends wait in the outbox
// (a transient error, retried), the webhook answers 503 (Telegram retries), and Run connects in the
// background until it succeeds, then runs the real adapter.
type lazyTelegram struct {
	connect func(context.Context) (*telegram.Adapter, error)
	states  *platformStarts
	log     *slog.Logger
	cur     atomic.Pointer[telegram.Adapter]
}

var errNotConnected = errors.New("telegram: not connected yet (getMe failed at start; retrying)")

func (l *lazyTelegram) Channel() bot.Channel { return bot.ChannelTelegram }

func (l *lazyTelegram) Run(ctx context.Context, sink bot.Sink) error {
	return keepTrying(ctx, l.log, l.states, "telegram", func(ctx context.Context) error {
		tg := l.cur.Load()
		if tg == nil {
			var err error
			if tg, err = l.connect(ctx); err != nil {
				return err
			}
			l.cur.Store(tg)
		}
		return tg.Run(ctx, sink)
	})
}

func (l *lazyTelegram) Send(ctx context.Context, r bot.Reply) (string, error) {
	if tg := l.cur.Load(); tg != nil {
		return tg.Send(ctx, r)
	}
	return "", errNotConnected
}

func (l *lazyTelegram) Edit(ctx context.Context, chatID, msgID string, r bot.Reply) error {
	if tg := l.cur.Load(); tg != nil {
		return tg.Edit(ctx, chatID, msgID, r)
	}
	return errNotConnected
}

func (l *lazyTelegram) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if tg := l.cur.Load(); tg != nil {
		tg.ServeHTTP(w, r)
		return
	}
	http.Error(w, "not connected yet", http.StatusServiceUnavailable)
}

var (
	_ bot.Adapter = (*lazyTelegram)(nil)
	_ bot.Editor  = (*lazyTelegram)(nil)
)

// plainSlackAgents are the configured Slack agents and supervisors given as user ids (U…), the ones
// known without asking Slack (user groups need usergroups.users.list).
func plainSlackAgents(cfg Config, log *slog.Logger) []bot.AgentConfig {
	o := slackOptions(cfg, log)
	var out []bot.AgentConfig
	seen := map[string]int{}
	for _, m := range []struct {
		users []string
		sup   bool
	}{{o.Supervisors.Users, true}, {o.Agents.Users, false}} {
		for _, u := range m.users {
			if i, ok := seen[u]; ok {
				out[i].Supervisor = out[i].Supervisor || m.sup
				continue
			}
			seen[u] = len(out)
			out = append(out, bot.AgentConfig{ID: "slack:" + u, Name: u, Supervisor: m.sup})
		}
	}
	return out
}
