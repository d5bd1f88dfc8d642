package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/bot/sla"
	"github.com/kefu-dev/kefu/flows"
	"github.com/kefu-dev/kefu/kb"
	"github.com/kefu-dev/kefu/locales"
	"github.com/kefu-dev/kefu/pii"
	"github.com/kefu-dev/kefu/storage"
)

// app is what every command that touches the database shares: config, logger, database, FAQ
// library, catalog and engine. Adapters and workers are added by serve only.
type app struct {
	cfg     Config
	log     *slog.Logger
	db      *storage.DB
	cat     *locales.Catalog
	matcher *liveMatcher
	engine  *bot.Engine
	loc     *time.Location
	agents  []bot.AgentConfig
	policy  *sla.Policy
	metrics *promMetrics               // serve only: counts SLA scans and notifications
	baseLib atomic.Pointer[kb.Library] // the served library without learned examples (kb_learn.go)
}

func newLogger(format, level string) *slog.Logger {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		lv = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lv}
	// Every line goes through pii.MaskingHandler: no personal data in the logs, whatever a message or an
	// error carries.
	if format == "json" {
		return slog.New(pii.MaskingHandler(slog.NewJSONHandler(os.Stderr, opts)))
	}
	return slog.New(pii.MaskingHandler(slog.NewTextHandler(os.Stderr, opts)))
}

// openApp opens the database (migrating it) and builds the engine. onEnqueue may be nil.
// extraAgents (e.g. Slack user-group members) may act on tickets besides the configured agents.
func openApp(ctx context.Context, cfg Config, log *slog.Logger, onEnqueue func(), extraAgents ...bot.AgentConfig) (*app, error) {
	loc, err := time.LoadLocation(cfg.Timezone)
	if err != nil {
		return nil, fmt.Errorf("timezone: %w", err)
	}
	policy, err := cfg.policy()
	if err != nil {
		return nil, err
	}
	// With the policy the store keeps each ticket's SLA clock from its audit trail (pauses,
	// priority changes, reopenings) and writes the business-hours due times.
	db, err := storage.Open(ctx, cfg.DatabaseURL, cfg.storageOptions(log, policy))
	if err != nil {
		return nil, err
	}
	lib, err := loadLibrary(cfg.FAQ.File)
	if err != nil {
		db.Close()
		return nil, err
	}
	if cfg.FAQ.File == "" {
		// A library imported with `kefu kb import` replaces the bundled sample.
		if dbLib, _, err := dbLibrary(ctx, db); err != nil {
			db.Close()
			return nil, err
		} else if dbLib != nil {
			lib = dbLib
		}
	}
	a := &app{cfg: cfg, log: log, db: db, cat: locales.Default(), loc: loc, policy: policy}
	a.baseLib.Store(lib)
	a.matcher = newLiveMatcher(a.withLearned(ctx, lib), a.matchOptions())

	fc := cfg.Conversation
	fc.Company, fc.BotName = cfg.Company, cfg.BotName
	machine, err := flows.New(flows.Options{KB: a.matcher, Config: fc})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("conversation config: %w", err)
	}
	agents := make([]bot.AgentConfig, 0, len(cfg.Agents))
	for _, ag := range cfg.Agents {
		agents = append(agents, bot.AgentConfig{ID: ag.ID, Name: ag.Name, Team: ag.Team, Supervisor: ag.Supervisor})
	}
	agents = append(agents, extraAgents...)
	a.agents = agents
	a.engine, err = bot.New(bot.Options{
		Store:     db,
		Flows:     machine,
		KB:        a.matcher,
		Catalog:   a.cat,
		Due:       slaDue(policy),
		Location:  loc,
		Agents:    agents,
		Logger:    log,
		OnEnqueue: onEnqueue,
		// Return visits count working days on the SLA calendar.
		Complaints: cfg.Complaints,
		Workdays:   policy.Calendar(),
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	return a, nil
}

func (a *app) Close() error { return a.db.Close() }

// syncAgents records the agents the engine accepts, so reports and the console can name them.
func (a *app) syncAgents(ctx context.Context) error {
	var list []storage.Agent
	for _, ag := range a.agents {
		list = append(list, storage.Agent{ID: ag.ID, Name: ag.Name, Supervisor: ag.Supervisor})
	}
	if len(list) == 0 {
		return nil
	}
	return a.db.SyncAgents(ctx, list)
}

func (a *app) matchOptions() kb.MatchOptions {
	return kb.MatchOptions{AnswerThreshold: a.cfg.FAQ.AnswerThreshold, SuggestThreshold: a.cfg.FAQ.SuggestThreshold, WordNet: a.cfg.FAQ.WordNet}
}

// loadLibrary reads the configured FAQ file, or the bundled sample when none is configured.
func loadLibrary(path string) (*kb.Library, error) {
	if path == "" {
		return kb.Sample(), nil
	}
	lib, err := kb.LoadFile(path)
	if err != nil {
		return nil, fmt.Errorf("faq library: %w", err)
	}
	return lib, nil
}

// liveMatcher is a kb.Matcher whose library can be swapped while the server runs (FAQ reload). Every
// call sees one immutable index.
type liveMatcher struct {
	cur atomic.Pointer[matcherSnapshot]
	// observe, when set (serve, before traffic), sees every decision: the FAQ metrics.
	observe func(kb.Decision, []kb.Hit)
}

type matcherSnapshot struct {
	idx *kb.Index
	lib *kb.Library
}

var _ kb.Matcher = (*liveMatcher)(nil)

func newLiveMatcher(lib *kb.Library, o kb.MatchOptions) *liveMatcher {
	m := &liveMatcher{}
	m.Swap(lib, o)
	return m
}

// Swap builds an index for lib and makes it current.
func (m *liveMatcher) Swap(lib *kb.Library, o kb.MatchOptions) {
	m.cur.Store(&matcherSnapshot{idx: kb.NewMatcher(lib, o), lib: lib})
}

// Library is the library behind the current index.
func (m *liveMatcher) Library() *kb.Library { return m.cur.Load().lib }
func (m *liveMatcher) Match(q, lang string, k int) []kb.Hit {
	return m.cur.Load().idx.Match(q, lang, k)
}
func (m *liveMatcher) Decide(h []kb.Hit) kb.Decision {
	d := m.cur.Load().idx.Decide(h)
	if m.observe != nil {
		m.observe(d, h)
	}
	return d
}
func (m *liveMatcher) Entry(id, lang string) *kb.Entry { return m.cur.Load().idx.Entry(id, lang) }

// openCLI opens the app for a one-shot command: the config at path (else $KEFU_CONFIG or ./kefu.yaml),
// the database and the engine, logging warnings and errors only. The caller closes it.
func openCLI(ctx context.Context, path string, getenv func(string) string) (*app, error) {
	cfg, err := loadConfig(path, getenv)
	if err != nil {
		return nil, err
	}
	return openApp(ctx, cfg, newLogger(cfg.Log.Format, "warn"), nil)
}

// agentFrom resolves the acting agent for CLI commands: --as, then $KEFU_AGENT, then the OS user.
func agentFrom(as string, getenv func(string) string) (bot.Actor, error) {
	name := as
	if name == "" {
		name = getenv("KEFU_AGENT")
	}
	if name == "" {
		name = getenv("USER")
	}
	if name == "" {
		return bot.Actor{}, usageMsg("cli.err.who")
	}
	id := name
	if !strings.Contains(id, ":") {
		id = "cli:" + name
	}
	return bot.Actor{ID: id, Name: strings.TrimPrefix(id, "cli:")}, nil
}

// localizedT is the catalog's T with the company and bot names of the configured language filled in,
// for strings rendered outside a conversation (the web page, group notices).
func (a *app) localizedT() func(lang, key string, args map[string]any) string {
	return func(lang, key string, args map[string]any) string {
		all := map[string]any{"company": pick(a.cfg.Company, lang), "bot": pick(a.cfg.BotName, lang)}
		for k, v := range args {
			all[k] = v
		}
		return a.cat.T(lang, key, all)
	}
}

// pick returns the name for lang, falling back to zh-CN, then to any.
func pick(l Localized, lang string) string {
	if v, ok := l[lang]; ok {
		return v
	}
	if v, ok := l["zh-CN"]; ok {
		return v
	}
	for _, v := range l {
		return v
	}
	return ""
}
