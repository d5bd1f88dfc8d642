package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"slices"
	"time"

	"golang.org/x/net/netutil"
	"golang.org/x/sync/errgroup"

	"github.com/kefu-dev/kefu/adapters/discord"
	"github.com/kefu-dev/kefu/adapters/email"
	"github.com/kefu-dev/kefu/adapters/telegram"
	"github.com/kefu-dev/kefu/adapters/web"
	"github.com/kefu-dev/kefu/adapters/wechat"
	"github.com/kefu-dev/kefu/adapters/wecom"
	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/kb"
	"github.com/kefu-dev/kefu/webhook"
)

func init() {
	commands["serve"] = command{run: runServe} // summary and usage: cli.cmd.serve, cli.usage.serve
}

// runnable is an adapter or worker that serve runs until shutdown.
type runnable struct {
	name string
	run  func(ctx context.Context) error
}

func runServe(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "config file (default ./kefu.yaml when present, or $KEFU_CONFIG)")
	addr := fs.String("addr", "", "listen address (default :8080, or $KEFU_ADDR)")
	if _, err := parseArgs(fs, args, 0, 0, ""); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath, os.Getenv)
	if err != nil {
		return err
	}
	if *addr != "" {
		cfg.Addr = *addr
	}
	log := newLogger(cfg.Log.Format, cfg.Log.Level)
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.Addr, err)
	}
	return serve(ctx, cfg, ln, log, os.Stderr)
}

// serve runs kefu on ln until ctx is done. Tests call it with a listener on a random port.
func serve(ctx context.Context, cfg Config, ln net.Listener, log *slog.Logger, banner io.Writer) error {
	defer ln.Close()
	cfg.serving = true
	bi := buildInfo()
	log.Info("kefu starting", "version", bi.Version, "commit", bi.Commit, "go", bi.GoVersion, "platform", bi.Platform)
	var dispatcher, hooks *bot.Dispatcher
	kick := func() {
		if dispatcher != nil {
			dispatcher.Kick()
		}
		if hooks != nil {
			hooks.Kick()
		}
	}
	starts := newPlatformStarts() // platforms not reachable at start run degraded (degraded.go)
	slackAg, err := slackAgents(ctx, cfg, log)
	if err != nil {
		// Slack down during a restart must not stop the web chat: the configured user ids still act;
		// user-group members are resolved again when the process restarts.
		starts.set("slack", err)
		log.ErrorContext(ctx, "slack unreachable at start; running without its user groups, retrying in the background", "err", err)
		slackAg = plainSlackAgents(cfg, log)
	}
	a, err := openApp(ctx, cfg, log, kick, slackAg...)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.syncAgents(ctx); err != nil {
		return err
	}
	m, err := newMetrics(a.db, log)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	a.metrics = m
	a.matcher.observe = m.observeFAQ

	adapters := map[bot.Channel]bot.Adapter{}
	mux := http.NewServeMux()
	var workers []runnable

	webAd, err := web.New(web.Options{
		Store:             a.db,
		T:                 a.localizedT(),
		Logger:            log,
		SessionsPerSecond: cfg.Web.SessionsPerSecond,
		SessionBurst:      cfg.Web.SessionBurst,
		// issue 15: refuse over-long text before storing it; per-session and per-client message limits
		MaxTextBytes:            cfg.Web.MaxMessageBytes,
		MessagesPerSecond:       cfg.Web.MessagesPerSecond,
		MessageBurst:            cfg.Web.MessageBurst,
		ClientMessagesPerSecond: cfg.Web.ClientMessagesPerSecond,
		ClientMessageBurst:      cfg.Web.ClientMessageBurst,
		ClientIP:                cfg.Security.clientIPs().IP,
		FrameAncestors:          cfg.Web.AllowedOrigins, // the sites that embed widget.js
	})
	if err != nil {
		return err
	}
	adapters[bot.ChannelWeb] = webAd

	if cfg.Telegram.Token != "" {
		// connected in the background (getMe): Telegram down at start does not stop the rest
		tg := &lazyTelegram{connect: func(ctx context.Context) (*telegram.Adapter, error) { return newTelegram(ctx, a) },
			states: starts, log: log}
		adapters[bot.ChannelTelegram] = tg
		if cfg.Telegram.WebhookURL != "" {
			mux.Handle("/telegram/webhook", tg)
		}
	}
	if cfg.Discord.Token != "" {
		dc, err := newDiscord(a)
		if err != nil {
			return err
		}
		adapters[bot.ChannelDiscord] = dc
		mux.Handle("/discord/interactions", dc)
	}
	if cfg.WeChat.AppID != "" {
		wx, err := newWeChat(a)
		if err != nil {
			return err
		}
		adapters[wechat.Channel] = wx
		mux.Handle("/wechat/callback", wx)
	}
	if cfg.WeCom.CorpID != "" {
		wc, err := newWeCom(a, starts.reporter(log, "wecom"))
		if err != nil {
			return err
		}
		adapters[wecom.Channel] = wc
		mux.Handle("/wecom/callback", wc)
	}
	if cfg.Email.IMAPAddr != "" {
		em, err := newEmail(a, starts.reporter(log, "email"))
		if err != nil {
			return err
		}
		adapters[email.Channel] = em
	}
	var improvePost func(context.Context, string) error // nil: improvement pings go to the log
	if cfg.Slack.BotToken != "" {
		sl, err := newSlack(a)
		if err != nil {
			return err
		}
		mux.Handle("/slack/", sl)
		workers = append(workers, runnable{"slack", func(ctx context.Context) error {
			return keepTrying(ctx, log, starts, "slack", sl.Run) // auth.test retried, not fatal
		}})
		if cfg.Slack.SupervisorsChannel != "" {
			ds, err := newDigestScheduler(a, cfg.Slack.Digests, sl)
			if err != nil {
				return err
			}
			workers = append(workers, runnable{"digests", ds.Run})
			improvePost = sl.PostDigest
		}
	}
	workers = append(workers, runnable{"improve", a.improveWorker(improvePost)})
	workers = append(workers, runnable{"retention", retentionWorker(a.db, cfg.Outbox.Retention, log)})
	workers = append(workers, runnable{"privacy", privacyWorker(a.db, cfg.Privacy.retention(), log)})

	metered := make(map[bot.Channel]bot.Adapter, len(adapters))
	for ch, ad := range adapters {
		metered[ch] = m.adapter(ad)
	}
	dispatcher, err = bot.NewDispatcher(bot.DispatcherOptions{
		Store:        a.db,
		Adapters:     metered,
		Logger:       log,
		PollInterval: cfg.Outbox.PollInterval,
		MaxAttempts:  cfg.Outbox.MaxAttempts,
		OnGiveUp:     a.engine.Undelivered,
	})
	if err != nil {
		return err
	}

	// Outbound webhooks: the same outbox machinery (claims, heartbeat, takeover after a kill) with its
	// own retry schedule, and no "undelivered" notice to the agents when a receiver stays down.
	hooks, err = bot.NewDispatcher(bot.DispatcherOptions{
		Store:        a.db,
		Adapters:     map[bot.Channel]bot.Adapter{webhook.Channel: m.adapter(newWebhookSender(a.db, cfg))},
		Logger:       log.With("component", "webhooks"),
		PollInterval: cfg.Outbox.PollInterval,
		MaxAttempts:  cfg.Webhooks.MaxAttempts,
		BaseBackoff:  cfg.Webhooks.MinBackoff,
		MaxBackoff:   cfg.Webhooks.MaxBackoff,
		SendTimeout:  cfg.Webhooks.Timeout + time.Second,
		MarkEvery:    1, // a kill re-sends only the requests in flight (receivers deduplicate those)
	})
	if err != nil {
		return err
	}

	scanner, err := a.newSLAScanner(cfg.SLA.now)
	if err != nil {
		return err
	}

	ready := func() error {
		pctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return a.db.Ping(pctx)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	// /readyz: 503 only when the database is down (nothing can be stored, so a load balancer should
	// send traffic elsewhere); a failing platform is reported but keeps the process ready, since
	// inbound messages are still stored and its outbox rows wait to be retried.
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		status, db := http.StatusOK, "ok"
		if err := ready(); err != nil {
			status, db = http.StatusServiceUnavailable, "unavailable"
		}
		w.WriteHeader(status)
		if status == http.StatusOK {
			fmt.Fprintln(w, "ready")
		} else {
			fmt.Fprintln(w, "not ready")
		}
		fmt.Fprintf(w, "database: %s\n", db)
		for _, ch := range slices.Sorted(maps.Keys(adapters)) {
			st := m.platformStatus(string(ch))
			if since, down := starts.PlatformDown(string(ch)); down {
				st = "unreachable since " + since.UTC().Format(time.RFC3339) + " (retrying)"
			}
			fmt.Fprintf(w, "%s: %s\n", ch, st)
		}
		if cfg.Slack.BotToken != "" {
			st := "ok"
			if since, down := starts.PlatformDown("slack"); down {
				st = "unreachable since " + since.UTC().Format(time.RFC3339) + " (retrying)"
			}
			fmt.Fprintf(w, "slack: %s\n", st)
		}
	})
	url := cfg.PublicURL
	if cfg.Addr != ":8080" || url == "" {
		url = "http://" + displayAddr(ln.Addr())
	}
	cons, err := newConsole(ctx, a, banner, url)
	if err != nil {
		return err
	}
	mux.Handle("/console/", cons)
	mux.Handle("/console", cons)
	mux.HandleFunc("GET /widget.js", serveWidget)
	mux.Handle("/api/v1/", newAPI(a)) // integrations' REST API (api.go); the web chat keeps /api/webchat/
	mux.Handle("/", webAd)

	srv := newHTTPServer(cfg.Security, accessLog(mux, log, m), log)
	ln = netutil.LimitListener(ln, cfg.Security.HTTP.MaxConnections)
	metricsLn, err := listenMetrics(cfg.Metrics, log)
	if err != nil {
		return err
	}

	g, gctx := errgroup.WithContext(ctx)
	for ch, ad := range adapters {
		g.Go(func() error {
			if err := ad.Run(gctx, m.sink(a.engine)); err != nil && !errors.Is(err, context.Canceled) {
				return fmt.Errorf("adapter %s: %w", ch, err)
			}
			return nil
		})
	}
	for _, w := range workers {
		g.Go(func() error {
			if err := w.run(gctx); err != nil && !errors.Is(err, context.Canceled) {
				return fmt.Errorf("%s: %w", w.name, err)
			}
			return nil
		})
	}
	g.Go(func() error { return dispatcher.Run(gctx) })
	g.Go(func() error { return hooks.Run(gctx) })
	g.Go(func() error { return scanner.Run(gctx) })
	g.Go(func() error { return housekeep(gctx, a.engine, log, time.Minute) })
	if cfg.FAQ.File == "" {
		g.Go(func() error { return watchDBLibrary(gctx, a) })
	}
	g.Go(func() error { return watchLearned(gctx, a) })
	if cfg.FAQ.File != "" {
		g.Go(func() error {
			return kb.Watch(gctx, cfg.FAQ.File, cfg.FAQ.Reload, func(lib *kb.Library) {
				a.swapLibrary(gctx, lib)
				log.Info("faq library reloaded", "file", cfg.FAQ.File)
			})
		})
	}
	g.Go(func() error {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	})

	if metricsLn != nil {
		msrv := &http.Server{Handler: m.handler(cfg.Metrics.Pprof), ReadHeaderTimeout: 10 * time.Second}
		g.Go(func() error {
			if err := msrv.Serve(metricsLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("metrics: %w", err)
			}
			return nil
		})
		g.Go(func() error {
			<-gctx.Done()
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return msrv.Shutdown(sctx)
		})
		log.Info("metrics listening", "addr", metricsLn.Addr().String(), "pprof", cfg.Metrics.Pprof)
	}
	log.Info("kefu is running", "web_chat", url+"/", "database", a.db.Dialect(), "channels", channelNames(adapters))
	fmt.Fprintf(banner, "\n  %s\n\n", msg("cli.serve.banner", "url", url))

	err = g.Wait()
	log.Info("kefu stopped")
	return err
}

func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || tcp.IP.IsUnspecified() {
		if ok {
			return fmt.Sprintf("localhost:%d", tcp.Port)
		}
	}
	return a.String()
}

func channelNames(m map[bot.Channel]bot.Adapter) []string {
	var out []string
	for ch := range m {
		out = append(out, string(ch))
	}
	return out
}

// derivedWebhookSecret is the Telegram webhook secret when none is configured: HMAC-SHA256 of a fixed
// label keyed with the bot token. Every replica has the token, so they all register and expect the same
// secret (a random one per process made every replica but the last to register refuse Telegram), and
// nobody without the token can compute it.
func derivedWebhookSecret(token string) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("kefu telegram webhook secret v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)) // [A-Za-z0-9_-], as Telegram requires
}

func newTelegram(ctx context.Context, a *app) (*telegram.Adapter, error) {
	c := a.cfg.Telegram
	secret := c.WebhookSecret
	if c.WebhookURL != "" && secret == "" {
		secret = derivedWebhookSecret(c.Token)
	}
	tg, err := telegram.New(ctx, telegram.Options{
		Token:               c.Token,
		APIURL:              c.APIURL,
		WebhookURL:          c.WebhookURL,
		WebhookSecret:       secret,
		PerChatInterval:     c.PerChatInterval,
		GlobalRate:          c.GlobalRate,
		Logger:              a.log,
		GroupNotice:         func(lang string) string { return a.localizedT()(lang, "telegram.group_notice", nil) },
		CommandDescriptions: commandDescriptions(a),
	})
	if err != nil {
		return nil, err
	}
	if err := tg.RegisterCommands(ctx); err != nil {
		a.log.Warn("telegram: setMyCommands failed", "err", err)
	}
	return tg, nil
}

func newDiscord(a *app) (*discord.Adapter, error) {
	c := a.cfg.Discord
	return discord.New(discord.Options{
		Token:               c.Token,
		APIURL:              c.APIURL,
		GatewayURL:          c.GatewayURL,
		SupportChannelID:    c.SupportChannel,
		PublicKey:           c.PublicKey,
		ApplicationID:       c.ApplicationID,
		CommandDescriptions: commandDescriptions(a),
		Logger:              a.log,
		// Several replicas: one holds the gateway connection (a lease); all send and serve interactions.
		GatewayGate: leaseGate(a.db, "discord-gateway", discordLeaseTTL, a.log.With("component", "discord")),
	})
}

// discordLeaseTTL is how long a crashed replica's Discord gateway lease holds before another connects.
const discordLeaseTTL = 15 * time.Second

// commandDescriptions renders the slash-command help texts from locales for both languages.
func commandDescriptions(a *app) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, lang := range []string{"zh-CN", "en"} {
		m := map[string]string{}
		for _, k := range []string{"start", "status", "lang", "help", "link", "lang.language", "link.code"} {
			m[k] = a.cat.T(lang, "command."+k, nil)
		}
		out[lang] = m
	}
	return out
}

// watchDBLibrary swaps in the library imported with `kefu kb import` when its version changes.
func watchDBLibrary(ctx context.Context, a *app) error {
	_, seen, _ := dbLibrary(ctx, a.db)
	return watchKV(ctx, a, kvFAQVersion, seen, func() bool {
		lib, _, err := dbLibrary(ctx, a.db)
		if err != nil {
			a.log.Warn("faq library reload failed", "err", err)
			return false
		}
		if lib != nil {
			a.swapLibrary(ctx, lib)
			a.log.Info("faq library reloaded from the database", "entries", lib.Len())
		}
		return true
	})
}

// watchKV calls changed every faq.reload while the value of key differs from the one last handled
// (seen at first); changed reports whether it handled it (false: try again at the next tick).
func watchKV(ctx context.Context, a *app, key, seen string, changed func() bool) error {
	every := a.cfg.FAQ.Reload
	if every <= 0 { // as kb.Watch does for faq.file: the default rather than a NewTicker panic
		every = defaultConfig().FAQ.Reload
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		v, _, err := a.db.GetKV(ctx, key)
		if err != nil || v == seen {
			continue
		}
		if changed() {
			seen = v
		}
	}
}

// listenMetrics opens the metrics listener, unless it is off. When the default address is taken
// (a second kefu on one machine) the server runs without metrics and says so; an address the operator
// chose must work.
func listenMetrics(c MetricsConfig, log *slog.Logger) (net.Listener, error) {
	if c.ln != nil {
		return c.ln, nil
	}
	if c.Addr == "" || c.Addr == "off" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		if c.Addr == defaultMetricsAddr {
			log.Warn("metrics: default address in use; running without metrics (set metrics.addr or KEFU_METRICS_ADDR)", "addr", c.Addr, "err", err)
			return nil, nil
		}
		return nil, failOnly(err, "cli.serve.metrics_listen", "addr", c.Addr, "err", err)
	}
	return ln, nil
}
