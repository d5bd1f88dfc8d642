package main

import (
	"fmt"
	"net/url"

	"github.com/kefu-dev/kefu/adapters/wechat"
)

// WeChatConfig is the `wechat:` section: a WeChat Official Account (公众号). It is enabled by
// KEFU_WECHAT_APP_ID with KEFU_WECHAT_APP_SECRET; the callback is served at /wechat/callback.
type WeChatConfig struct {
	AppID          string `yaml:"app_id"`  // env KEFU_WECHAT_APP_ID
	AppSecret      string `yaml:"-"`       // env KEFU_WECHAT_APP_SECRET
	Token          string `yaml:"-"`       // env KEFU_WECHAT_TOKEN: 服务器配置 → 令牌(Token)
	EncodingAESKey string `yaml:"-"`       // env KEFU_WECHAT_ENCODING_AES_KEY: 安全模式 (recommended)
	APIURL         string `yaml:"api_url"` // env KEFU_WECHAT_API_URL (a test fake)
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
	}...)
}

// validateChannels reports the channel settings that cannot work.
func (c Config) validateChannels() []error {
	var errs []error
	w := c.WeChat
	if w.AppID != "" {
		if w.AppSecret == "" || w.Token == "" {
			errs = append(errs, fmt.Errorf("wechat: app_id %q needs KEFU_WECHAT_APP_SECRET and KEFU_WECHAT_TOKEN", w.AppID))
		}
		if w.EncodingAESKey != "" && len(w.EncodingAESKey) != 43 {
			errs = append(errs, fmt.Errorf("wechat: KEFU_WECHAT_ENCODING_AES_KEY must be the 43 characters the platform generated"))
		}
		if u, err := url.Parse(w.APIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("wechat.api_url %q: want an http(s) URL", w.APIURL))
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
		Logger:         a.log,
	})
}
