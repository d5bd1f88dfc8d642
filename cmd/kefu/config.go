package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/kefu-dev/kefu/adapters/wechat"
	"github.com/kefu-dev/kefu/adapters/wecom"
	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/bot/sla"
	"github.com/kefu-dev/kefu/flows"
)

// Config is kefu's whole configuration. It is loaded from defaults, then the optional YAML file, then
// KEFU_* environment variables (the only place for secrets), then flags. Packages never read the
// environment; they get Options built from this struct.
//
// Hand-written rather than koanf/viper: the struct with yaml tags plus a reflective environment
// mapping (config_env.go: every key as KEFU_<PATH>, secrets also from *_FILE) is all we need, and it
// keeps `kefu config example`, `kefu config env` and the loader in one place.
type Config struct {
	Company     Localized `yaml:"company"`      // shown in the greeting; one name or one per language
	BotName     Localized `yaml:"bot_name"`     // the bot's name in the greeting
	Timezone    string    `yaml:"timezone"`     // IANA zone for ticket numbers and promised times
	Addr        string    `yaml:"addr"`         // HTTP listen address
	PublicURL   string    `yaml:"public_url"`   // where people reach this server (links in Slack, console)
	DatabaseURL string    `yaml:"database_url"` // SQLite path or postgres:// DSN (env KEFU_DATABASE_URL)
	DefaultLang string    `yaml:"default_lang"` // zh-CN or en

	// CLI is the command line's own settings. Lang is the language of its messages (zh-CN or en; empty:
	// the POSIX locale, else zh-CN); $KEFU_LANG overrides it (clilang.go).
	CLI struct {
		Lang string `yaml:"lang"`
	} `yaml:"cli"`

	Log struct {
		Format string `yaml:"format"` // text | json
		Level  string `yaml:"level"`  // debug | info | warn | error
	} `yaml:"log"`

	FAQ struct {
		File             string        `yaml:"file"`              // YAML or JSONL library; empty: the bundled sample
		Reload           time.Duration `yaml:"reload"`            // how often the file is checked for changes
		AnswerThreshold  float64       `yaml:"answer_threshold"`  // confidence to answer directly
		SuggestThreshold float64       `yaml:"suggest_threshold"` // confidence to offer the top 3
		WordNet          bool          `yaml:"wordnet"`           // relate English words through WordNet (few-shot English libraries; ~12 MiB)
	} `yaml:"faq"`

	Conversation flows.Config `yaml:"conversation"` // categories, order numbers, keyword lists

	SLA SLAConfig `yaml:"sla"`

	// Complaints: levels, core points, responsible parties, the standard solution library with the
	// agents' limits, return visits and auto-closing (issue 11). Empty: the seeds' defaults.
	Complaints bot.ComplaintConfig `yaml:"complaints"`

	// Agents who may act on tickets, by id: "cli:NAME" for the command line, "slack:UXXXX" for Slack.
	// With none configured, any command-line agent may act (single-machine, zero-setup use).
	Agents []AgentConfig `yaml:"agents"`

	// Console is the web console's agents' inbox (issue 17).
	Console struct {
		// AgentsSeeAllTeams lets agents open every team's tickets; by default an agent sees their own,
		// the unassigned ones not queued for another team, and their team's (agents[].team).
		AgentsSeeAllTeams bool `yaml:"agents_see_all_teams"`
	} `yaml:"console"`

	Outbox struct {
		PollInterval time.Duration `yaml:"poll_interval"`
		MaxAttempts  int           `yaml:"max_attempts"`
		// Retention: delivered outbox rows and idle web chat sessions older than this are deleted
		// (hourly, by one process of all that share the database).
		Retention time.Duration `yaml:"retention"`
	} `yaml:"outbox"`

	// Webhooks: how outbound webhook deliveries (`kefu webhook add`) are retried: the wait doubles from
	// min_backoff up to max_backoff; after max_attempts failures a delivery is given up (status failed
	// in the outbox, kefu_outbox_failed{channel="webhook"}). Timeout bounds one request.
	// RotationOverlap is how long `kefu webhook rotate` keeps signing with the replaced secret too
	// (default 24 h; --overlap overrides it).
	Webhooks struct {
		MaxAttempts     int           `yaml:"max_attempts"`
		MinBackoff      time.Duration `yaml:"min_backoff"`
		MaxBackoff      time.Duration `yaml:"max_backoff"`
		Timeout         time.Duration `yaml:"timeout"`
		RotationOverlap time.Duration `yaml:"rotation_overlap"`
	} `yaml:"webhooks"`

	// Web is the built-in web chat.
	Web struct {
		// SessionsPerSecond and SessionBurst limit how fast one client (IP address) may open chat
		// sessions (default 5/s, bursts of 50); negative: no limit (load tests).
		SessionsPerSecond float64 `yaml:"sessions_per_second"`
		SessionBurst      int     `yaml:"session_burst"`
		// Longer messages are refused (413) before anything is stored (issue 15).
		MaxMessageBytes int `yaml:"max_message_bytes"`
		// Messages per chat session and per client IP (all its sessions together); negative: no limit.
		MessagesPerSecond       float64 `yaml:"messages_per_second"`
		MessageBurst            int     `yaml:"message_burst"`
		ClientMessagesPerSecond float64 `yaml:"client_messages_per_second"`
		ClientMessageBurst      int     `yaml:"client_message_burst"`
		// Sites that may embed the chat (widget.js): their origins, e.g. https://www.example.com. They
		// become the page's CSP frame-ancestors; empty: no site may frame it.
		AllowedOrigins []string `yaml:"allowed_origins"`
	} `yaml:"web"`

	Telegram struct {
		Token         string `yaml:"-"` // env KEFU_TELEGRAM_TOKEN
		APIURL        string `yaml:"api_url"`
		WebhookURL    string `yaml:"webhook_url"`
		WebhookSecret string `yaml:"-"` // env KEFU_TELEGRAM_WEBHOOK_SECRET; generated when empty
		// Pacing of outgoing messages (Telegram's limits: about 1/s per chat, 30/s overall). A
		// self-hosted Bot API server or a test fake may allow more.
		PerChatInterval time.Duration `yaml:"per_chat_interval"`
		GlobalRate      float64       `yaml:"global_rate"`
	} `yaml:"telegram"`

	Discord struct {
		Token          string `yaml:"-"` // env KEFU_DISCORD_TOKEN
		APIURL         string `yaml:"api_url"`
		GatewayURL     string `yaml:"gateway_url"`
		PublicKey      string `yaml:"public_key"`
		ApplicationID  string `yaml:"application_id"`
		SupportChannel string `yaml:"support_channel"`
	} `yaml:"discord"`

	Slack SlackConfig `yaml:"slack"`

	WeChat WeChatConfig `yaml:"wechat"` // WeChat Official Account (channels.go)
	WeCom  WeComConfig  `yaml:"wecom"`  // WeCom customer service 微信客服 (channels.go)
	Email  EmailConfig  `yaml:"email"`  // support mailbox (channels.go)

	Security SecurityConfig `yaml:"security"` // trusted proxies, web chat limits, HTTP timeouts (config_security.go)
	Database DatabaseConfig `yaml:"database"`
	Metrics  MetricsConfig  `yaml:"metrics"`
	Privacy  PrivacyConfig  `yaml:"privacy"` // personal-data retention (cmd_customer.go)

	serving bool // set by serve: the server applies pending migrations, other commands do not
}

// DatabaseConfig sizes the connection pool (the DSN is database_url).
type DatabaseConfig struct {
	MaxOpenConns    int           `yaml:"max_open_conns"`    // 0: 8 on PostgreSQL, 4 on SQLite
	MaxIdleConns    int           `yaml:"max_idle_conns"`    // 0: as max_open_conns
	ConnMaxLifetime time.Duration `yaml:"conn_max_lifetime"` // 0: connections are kept
	// GroupCommit: on SQLite, customers' messages arriving together share one transaction and commit
	// (default true; see storage/group.go). PostgreSQL ignores it.
	GroupCommit bool `yaml:"group_commit"`
}

const defaultMetricsAddr = "127.0.0.1:9464"

// MetricsConfig is the monitoring listener: Prometheus /metrics and, when enabled, Go's pprof. It is
// separate from the public address so that neither is exposed by the reverse proxy in front of kefu.
type MetricsConfig struct {
	Addr  string `yaml:"addr"`  // "" or "off": no metrics listener
	Pprof bool   `yaml:"pprof"` // /debug/pprof/ on the metrics address

	ln net.Listener // tests: an already open listener for Addr
}

// Localized is a name given once for every language ("ACME") or per language ({zh-CN: …, en: …}).
type Localized map[string]string

// UnmarshalYAML accepts a plain string or a map of language to string.
func (l *Localized) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*l = Localized{"zh-CN": n.Value, "en": n.Value}
		return nil
	}
	var m map[string]string
	if err := n.Decode(&m); err != nil {
		return err
	}
	*l = m
	return nil
}

// SLAConfig is the `sla:` section: bot/sla's whole policy (calendar with working hours, holidays
// and 调休 make-up days; per-priority targets and their clocks; per-category overrides; warning lead;
// repeat interval; escalation levels; customer updates), inlined, plus two extras:
//
//   - first_response / resolution: the earlier flat shape ({P0: 30m, P1: 2h, P2: 24h}), still read
//     and folded into priorities.<P>.first_response / .resolution;
//   - scan_interval: how often each process looks for due tickets (default 15s).
//
// The calendar's time zone defaults to the top-level timezone. See kefu.example.yaml.
type SLAConfig struct {
	sla.Config    `yaml:",inline"`
	FirstResponse map[sla.Priority]sla.Duration `yaml:"first_response,omitempty"`
	Resolution    map[sla.Priority]sla.Duration `yaml:"resolution,omitempty"`
	ScanInterval  time.Duration                 `yaml:"scan_interval,omitempty"`

	now func() time.Time // tests: the scanner's clock (nil: time.Now)
}

// policyConfig returns the sla.Config the policy is built from: the calendar's zone defaults to tz,
// and the flat first_response/resolution maps fill the per-priority targets. A target given in both
// shapes is an error, so nobody wonders which one counts.
func (c SLAConfig) policyConfig(tz string) (sla.Config, error) {
	out := c.Config
	if out.Calendar.TZ == "" {
		out.Calendar.TZ = tz
	}
	if len(c.FirstResponse) == 0 && len(c.Resolution) == 0 {
		return out, nil
	}
	out.Priorities = make(map[sla.Priority]sla.Limits, len(c.Priorities)+3)
	for p, l := range c.Priorities {
		out.Priorities[p] = l
	}
	var errs []error
	fold := func(name string, flat map[sla.Priority]sla.Duration, get func(*sla.Limits) *sla.Limit) {
		for _, p := range slices.Sorted(maps.Keys(flat)) {
			l := out.Priorities[p]
			lim := get(&l)
			if lim.Within != 0 && lim.Within != flat[p] {
				errs = append(errs, failMsg(nil, "cli.cfg.sla_both", "name", name, "p", p))
				continue
			}
			lim.Within = flat[p]
			out.Priorities[p] = l
		}
	}
	fold("first_response", c.FirstResponse, func(l *sla.Limits) *sla.Limit { return &l.FirstResponse })
	fold("resolution", c.Resolution, func(l *sla.Limits) *sla.Limit { return &l.Resolution })
	return out, errors.Join(errs...)
}

// policy compiles the SLA section (every problem joined).
func (c Config) policy() (*sla.Policy, error) {
	pc, err := c.SLA.policyConfig(c.Timezone)
	if err != nil {
		return nil, err
	}
	return sla.New(pc)
}

// AgentConfig is one person allowed to act on tickets.
type AgentConfig struct {
	ID         string `yaml:"id"`
	Name       string `yaml:"name"`
	Team       string `yaml:"team"`
	Supervisor bool   `yaml:"supervisor"`
}

// SlackConfig connects the agents' side.
type SlackConfig struct {
	BotToken           string              `yaml:"-"` // env KEFU_SLACK_BOT_TOKEN
	SigningSecret      string              `yaml:"-"` // env KEFU_SLACK_SIGNING_SECRET
	AppToken           string              `yaml:"-"` // env KEFU_SLACK_APP_TOKEN (Socket Mode)
	APIURL             string              `yaml:"api_url"`
	Lang               string              `yaml:"lang"`
	DefaultChannel     string              `yaml:"default_channel"`
	SupervisorsChannel string              `yaml:"supervisors_channel"`
	Routes             map[string]string   `yaml:"routes"` // category key -> channel id
	Agents             []string            `yaml:"agents"` // Slack user or user-group ids
	Supervisors        []string            `yaml:"supervisors"`
	AutoAssign         bool                `yaml:"auto_assign"`
	OnDuty             map[string][]string `yaml:"on_duty"` // team channel -> user ids
	Digests            DigestConfig        `yaml:"digests"` // report digests to the supervisors' channel
}

func defaultConfig() Config {
	var c Config
	c.Company = Localized{"zh-CN": "云朵家电", "en": "Cloudy Home Appliances"}
	c.BotName = Localized{"zh-CN": "小云", "en": "Cloudy"}
	c.Timezone = "Asia/Shanghai"
	c.Addr = ":8080"
	c.PublicURL = "http://localhost:8080"
	c.DatabaseURL = "./data/kefu.db"
	c.DefaultLang = "zh-CN"
	c.Log.Format = "text"
	c.Log.Level = "info"
	c.FAQ.Reload = 5 * time.Second
	c.Outbox.PollInterval = 100 * time.Millisecond
	c.Outbox.MaxAttempts = 20
	c.Outbox.Retention = 30 * 24 * time.Hour
	c.Database.GroupCommit = true
	c.Webhooks.MaxAttempts, c.Webhooks.MinBackoff, c.Webhooks.MaxBackoff = 15, 10*time.Second, time.Hour
	c.Webhooks.Timeout = 15 * time.Second
	c.Webhooks.RotationOverlap = 24 * time.Hour
	c.Web.SessionsPerSecond = 5
	c.Web.SessionBurst = 50
	c.Web.MaxMessageBytes = 4096
	c.Web.MessagesPerSecond, c.Web.MessageBurst = 1, 20
	c.Web.ClientMessagesPerSecond, c.Web.ClientMessageBurst = 10, 100
	c.SLA.ScanInterval = sla.DefaultInterval // the targets default to sla.DefaultConfig (the seeds')
	c.Telegram.APIURL = "https://api.telegram.org"
	c.Telegram.PerChatInterval = time.Second
	c.Telegram.GlobalRate = 30
	c.WeChat.APIURL, c.WeChat.ReplyQuota = wechat.DefaultAPIURL, wechat.DefaultReplyQuota
	c.Email.IMAPSecurity, c.Email.SMTPSecurity, c.Email.Mailbox = "tls", "starttls", "INBOX"
	c.Email.PollInterval = 30 * time.Second
	c.WeCom.APIURL, c.WeCom.PollInterval, c.WeCom.ReplyQuota = wecom.DefaultAPIURL, time.Minute, wecom.DefaultReplyQuota
	c.Slack.APIURL = "https://slack.com/api/"
	c.Slack.Lang = "zh-CN"
	c.Slack.Digests = defaultDigestConfig()
	c.Security = defaultSecurityConfig()
	c.Metrics.Addr = defaultMetricsAddr
	return c
}

// loadConfig reads path (if not empty) over the defaults, then the environment.
func loadConfig(path string, getenv func(string) string) (Config, error) {
	c := defaultConfig()
	if path == "" && getenv("KEFU_CONFIG") != "" {
		path = getenv("KEFU_CONFIG")
	}
	if path == "" {
		if _, err := os.Stat("kefu.yaml"); err == nil {
			path = "kefu.yaml"
		}
	}
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("config: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) { // an empty file means all defaults
			return c, fmt.Errorf("config: %s: %w", path, err)
		}
	}
	if err := applyEnv(&c, getenv); err != nil {
		return c, fmt.Errorf("config: environment: %w", err)
	}
	return c, c.Validate()
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if c.Privacy.MessagesDays < 0 || c.Privacy.ClosedTicketDays < 0 {
		errs = append(errs, failMsg(nil, "cli.cfg.privacy"))
	}
	if _, err := time.LoadLocation(c.Timezone); err != nil {
		errs = append(errs, failMsg(err, "cli.cfg.timezone", "value", c.Timezone))
	}
	if c.DefaultLang != "zh-CN" && c.DefaultLang != "en" {
		errs = append(errs, failMsg(nil, "cli.cfg.default_lang", "value", c.DefaultLang))
	}
	if l := c.CLI.Lang; l != "" && l != "zh-CN" && l != "en" {
		errs = append(errs, failMsg(nil, "cli.cfg.cli_lang", "value", l))
	}
	if _, err := c.policy(); err != nil {
		errs = append(errs, err)
	}
	if c.SLA.ScanInterval < 0 || (c.SLA.ScanInterval > 0 && c.SLA.ScanInterval < 100*time.Millisecond) {
		errs = append(errs, failMsg(nil, "cli.cfg.scan_interval", "value", c.SLA.ScanInterval))
	}
	errs = append(errs, c.validateChannels()...)
	if c.FAQ.AnswerThreshold < 0 || c.FAQ.AnswerThreshold > 1 || c.FAQ.SuggestThreshold < 0 || c.FAQ.SuggestThreshold > 1 {
		errs = append(errs, failMsg(nil, "cli.cfg.faq_range"))
	}
	if c.FAQ.AnswerThreshold > 0 && c.FAQ.SuggestThreshold > c.FAQ.AnswerThreshold {
		errs = append(errs, failMsg(nil, "cli.cfg.faq_order"))
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		errs = append(errs, failMsg(nil, "cli.cfg.log_format", "value", c.Log.Format))
	}
	seen := map[string]bool{}
	for i, a := range c.Agents {
		if !strings.HasPrefix(a.ID, "cli:") && !strings.HasPrefix(a.ID, "slack:") {
			errs = append(errs, failMsg(nil, "cli.cfg.agent_id", "i", i, "value", a.ID))
		}
		if seen[a.ID] {
			errs = append(errs, failMsg(nil, "cli.cfg.agent_dup", "i", i, "value", a.ID))
		}
		seen[a.ID] = true
	}
	if c.Telegram.WebhookURL != "" && !strings.HasPrefix(c.Telegram.WebhookURL, "https://") && !strings.HasPrefix(c.Telegram.WebhookURL, "http://") {
		errs = append(errs, failMsg(nil, "cli.cfg.want_url", "key", "telegram.webhook_url", "value", c.Telegram.WebhookURL))
	}
	if c.Database.MaxOpenConns < 0 || c.Database.MaxIdleConns < 0 || c.Database.ConnMaxLifetime < 0 {
		errs = append(errs, failMsg(nil, "cli.cfg.db_pool"))
	}
	if w := c.Webhooks; w.MaxAttempts < 1 || w.MinBackoff <= 0 || w.MaxBackoff < w.MinBackoff || w.Timeout <= 0 || w.RotationOverlap < 0 {
		errs = append(errs, failMsg(nil, "cli.cfg.webhooks"))
	}
	if a := c.Metrics.Addr; a != "" && a != "off" {
		if _, _, err := net.SplitHostPort(a); err != nil {
			errs = append(errs, failMsg(err, "cli.cfg.metrics_addr", "value", a))
		}
	}
	for i, o := range c.Web.AllowedOrigins {
		if err := checkOrigin(o); err != nil {
			errs = append(errs, failMsg(err, "cli.cfg.origin", "i", i, "value", o))
		}
	}
	if c.Web.MaxMessageBytes < 1 {
		errs = append(errs, failMsg(nil, "cli.cfg.max_message_bytes", "n", c.Web.MaxMessageBytes))
	}
	if err := c.Security.validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Slack.Digests.validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Slack.BotToken != "" && c.Slack.AppToken == "" && c.Slack.SigningSecret == "" {
		errs = append(errs, failMsg(nil, "cli.cfg.slack_secret"))
	}
	return errors.Join(errs...)
}
