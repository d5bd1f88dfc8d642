package main

import (
	"net/url"
	"strings"
	"time"

	"github.com/kefu-dev/kefu/adapters/email"
	"github.com/kefu-dev/kefu/adapters/wechat"
	"github.com/kefu-dev/kefu/adapters/wecom"
)

// WeChatConfig is the `wechat:` section: a WeChat Official Account (公众号). It is enabled by
// KEFU_WECHAT_APP_ID with KEFU_WECHAT_APP_SECRET; the callback is served at /wechat/callback.
type WeChatConfig struct {
	AppID          string `yaml:"app_id"`  // env KEFU_WECHAT_APP_ID
	AppSecret      string `yaml:"-"`       // env KEFU_WECHAT_APP_SECRET
	Token          string `yaml:"-"`       // env KEFU_WECHAT_TOKEN: 服务器配置 → 令牌(Token)
	EncodingAESKey string `yaml:"-"`       // env KEFU_WECHAT_ENCODING_AES_KEY: 安全模式 (recommended)
	APIURL         string `yaml:"api_url"` // env KEFU_WECHAT_API_URL (a test fake)
	// MaxAttachment caps a follower's file kefu keeps a copy of (bytes; default 10 MiB).
	MaxAttachment int64 `yaml:"max_attachment"`
	// ReplyQuota is how many messages kefu sends after each message of a follower before it waits for
	// the next one (WeChat allows 5 within 48 hours; -1: no count, the platform refuses with 45047).
	ReplyQuota int `yaml:"reply_quota"`
}

// WeComConfig is the `wecom:` section: a WeCom customer-service (微信客服) account, enabled by
// wecom.corp_id (KEFU_WECOM_CORP_ID) with KEFU_WECOM_SECRET, KEFU_WECOM_TOKEN and
// KEFU_WECOM_ENCODING_AES_KEY; the callback is served at /wecom/callback.
type WeComConfig struct {
	CorpID         string        `yaml:"corp_id"`
	Secret         string        `yaml:"-"`
	Token          string        `yaml:"-"`
	EncodingAESKey string        `yaml:"-"`
	APIURL         string        `yaml:"api_url"`
	PollInterval   time.Duration `yaml:"poll_interval"` // sync without a notice this often
	// MaxAttachment caps a customer's file kefu keeps a copy of (bytes; default 10 MiB).
	MaxAttachment int64 `yaml:"max_attachment"`
	// ReplyQuota is how many send_msg messages kefu sends after each message of a customer before it
	// waits for the next one (WeCom allows 5 within 48 hours; -1: no count, WeCom refuses with 95018).
	ReplyQuota int `yaml:"reply_quota"`
	// Servicers maps kefu agents (agents[].id) to their WeCom servicer userids (接待人员), for handing
	// a customer's session to them in the WeCom app (`kefu wecom handoff`).
	Servicers map[string]string `yaml:"servicers"`
}

// EmailConfig is the `email:` section: a support mailbox, enabled by email.imap_addr
// (KEFU_EMAIL_IMAP_ADDR); the password comes from KEFU_EMAIL_PASSWORD.
type EmailConfig struct {
	IMAPAddr     string        `yaml:"imap_addr"`     // host:port, e.g. imap.exmail.qq.com:993
	IMAPSecurity string        `yaml:"imap_security"` // tls | starttls | plain (loopback only)
	Mailbox      string        `yaml:"mailbox"`
	SMTPAddr     string        `yaml:"smtp_addr"`     // host:port, e.g. smtp.exmail.qq.com:465
	SMTPSecurity string        `yaml:"smtp_security"` // tls | starttls | plain
	Username     string        `yaml:"username"`      // the mailbox login (IMAP and SMTP)
	Password     string        `yaml:"-"`             // env KEFU_EMAIL_PASSWORD
	From         string        `yaml:"from"`          // the support address; default username
	FromName     string        `yaml:"from_name"`     // default the company name
	PollInterval time.Duration `yaml:"poll_interval"` // re-check interval (IDLE notices new mail at once)
	// MaxAttachment caps a customer's attachment kefu keeps a copy of (bytes; default 10 MiB).
	MaxAttachment int64 `yaml:"max_attachment"`
	// LoopLimit: mails one address may send within an hour and still be answered (default 20;
	// -1: no limit). Stops loops with robots that do not mark their mail as automatic.
	LoopLimit int `yaml:"loop_limit"`
}

// The channels' secrets, settable from the environment only (config_env.go); their other settings
// follow the kefu.yaml keys (wechat.app_id → KEFU_WECHAT_APP_ID).
func init() {
	secretEnv = append(secretEnv, []struct {
		name string
		dst  func(*Config) *string
	}{
		{"KEFU_WECHAT_APP_SECRET", func(c *Config) *string { return &c.WeChat.AppSecret }},
		{"KEFU_WECHAT_TOKEN", func(c *Config) *string { return &c.WeChat.Token }},
		{"KEFU_WECHAT_ENCODING_AES_KEY", func(c *Config) *string { return &c.WeChat.EncodingAESKey }},
		{"KEFU_WECOM_SECRET", func(c *Config) *string { return &c.WeCom.Secret }},
		{"KEFU_WECOM_TOKEN", func(c *Config) *string { return &c.WeCom.Token }},
		{"KEFU_WECOM_ENCODING_AES_KEY", func(c *Config) *string { return &c.WeCom.EncodingAESKey }},
		{"KEFU_EMAIL_PASSWORD", func(c *Config) *string { return &c.Email.Password }},
	}...)
}

// validateChannels reports the channel settings that cannot work.
func (c Config) validateChannels() []error {
	var errs []error
	w := c.WeChat
	if w.AppID != "" {
		if w.AppSecret == "" || w.Token == "" {
			errs = append(errs, failMsg(nil, "cli.cfg.wechat_secret", "id", w.AppID))
		}
		if w.EncodingAESKey != "" && len(w.EncodingAESKey) != 43 {
			errs = append(errs, failMsg(nil, "cli.cfg.wechat_aes"))
		}
		if u, err := url.Parse(w.APIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, failMsg(nil, "cli.cfg.want_url", "key", "wechat.api_url", "value", w.APIURL))
		}
	}
	for name, q := range map[string]int{"wechat": c.WeChat.ReplyQuota, "wecom": c.WeCom.ReplyQuota} {
		if q == 0 || q < -1 {
			errs = append(errs, failMsg(nil, "cli.cfg.reply_quota", "name", name, "n", q))
		}
	}
	if w := c.WeCom; w.CorpID != "" && (w.Secret == "" || w.Token == "" || len(w.EncodingAESKey) != 43) {
		errs = append(errs, failMsg(nil, "cli.cfg.wecom_secret"))
	}
	for agent, userid := range c.WeCom.Servicers { // agent ids: cli:NAME (agents[].id) or slack:UXXXX
		if !strings.Contains(agent, ":") || strings.TrimSpace(userid) == "" {
			errs = append(errs, failMsg(nil, "cli.cfg.wecom_servicer", "agent", agent))
		}
	}
	if e := c.Email; e.IMAPAddr != "" {
		if e.SMTPAddr == "" || e.Username == "" {
			errs = append(errs, failMsg(nil, "cli.cfg.email_smtp"))
		}
		for _, s := range []string{e.IMAPSecurity, e.SMTPSecurity} {
			if s != "tls" && s != "starttls" && s != "plain" {
				errs = append(errs, failMsg(nil, "cli.cfg.email_security", "value", s))
			}
		}
	}
	return errs
}

func newWeChat(a *app) (*wechat.Adapter, error) {
	c := a.cfg.WeChat
	return wechat.New(wechat.Options{
		AppID:          c.AppID,
		AppSecret:      c.AppSecret,
		Token:          c.Token,
		EncodingAESKey: c.EncodingAESKey,
		APIURL:         c.APIURL,
		State:          a.db,
		Hash:           a.db.Keys().Hash,
		Blobs:          a.db,
		MaxAttachment:  c.MaxAttachment,
		ReplyQuota:     c.ReplyQuota,
		Logger:         a.log,
	})
}

// newEmail builds the e-mail channel; health hears whether the mailbox can be read (nil: nobody).
func newEmail(a *app, health func(error)) (*email.Adapter, error) {
	c := a.cfg.Email
	from := c.From
	if from == "" {
		from = c.Username
	}
	name := c.FromName
	if name == "" {
		name = a.cfg.Company[a.cfg.DefaultLang]
	}
	keys := a.db.Keys()
	return email.New(email.Options{
		IMAPAddr:       c.IMAPAddr,
		IMAPSecurity:   email.Security(c.IMAPSecurity),
		Mailbox:        c.Mailbox,
		SMTPAddr:       c.SMTPAddr,
		SMTPSecurity:   email.Security(c.SMTPSecurity),
		Username:       c.Username,
		Password:       c.Password,
		From:           from,
		FromName:       name,
		PollInterval:   c.PollInterval,
		DefaultSubject: a.cat.T(a.cfg.DefaultLang, "channels.email.subject", nil),
		State:          a.db,
		Blobs:          a.db,
		MaxAttachment:  c.MaxAttachment,
		LoopLimit:      c.LoopLimit,
		Health:         health,
		Hash:           keys.Hash,
		Seal:           keys.Seal,
		Open:           keys.Open,
		Logger:         a.log,
	})
}

// newWeCom builds the WeCom channel; health hears whether sync_msg works (nil: nobody).
func newWeCom(a *app, health func(error)) (*wecom.Adapter, error) {
	c := a.cfg.WeCom
	return wecom.New(wecom.Options{
		CorpID:         c.CorpID,
		Secret:         c.Secret,
		Token:          c.Token,
		EncodingAESKey: c.EncodingAESKey,
		APIURL:         c.APIURL,
		PollInterval:   c.PollInterval,
		State:          a.db,
		Blobs:          a.db,
		MaxAttachment:  c.MaxAttachment,
		ReplyQuota:     c.ReplyQuota,
		Health:         health,
		Logger:         a.log,
	})
}
