package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/flows"
)

// TestExampleConfigIsTheDefaults loads the documented sample printed by `kefu config example` and
// checks that it says what kefu does with no file at all, so the two cannot drift apart.
func TestExampleConfigIsTheDefaults(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kefu.yaml")
	os.WriteFile(path, []byte(exampleConfig), 0o644)
	got, err := loadConfig(path, func(string) string { return "" })
	if err != nil {
		t.Fatalf("the example does not load: %v", err)
	}
	want := flows.DefaultConfig()
	want.Company, want.BotName = nil, nil
	if d := cmp.Diff(want, got.Conversation); d != "" {
		t.Errorf("conversation section differs from flows.DefaultConfig (-default +example):\n%s", d)
	}
	def := defaultConfig()
	if got.Telegram.PerChatInterval != def.Telegram.PerChatInterval || got.Telegram.GlobalRate != def.Telegram.GlobalRate {
		t.Errorf("telegram pacing: example %v/%v, default %v/%v", got.Telegram.PerChatInterval, got.Telegram.GlobalRate,
			def.Telegram.PerChatInterval, def.Telegram.GlobalRate)
	}
	if d := cmp.Diff(def.Security, got.Security, cmpopts.EquateEmpty()); d != "" {
		t.Errorf("security section differs from the defaults (-default +example):\n%s", d)
	}
	if got.Slack.Digests != def.Slack.Digests {
		t.Errorf("slack digests: example %+v, default %+v", got.Slack.Digests, def.Slack.Digests)
	}
	// The complaints section spells out every default (levels, solutions and limits, visits, auto-close).
	wantC := bot.DefaultComplaintConfig()
	wantC.Solutions, wantC.TaskKinds = bot.DefaultSolutions(), bot.DefaultTaskKinds()
	wantC.VisitDays, wantC.LowRatingVisit, wantC.AutoClose = 3, 24*time.Hour, 72*time.Hour
	if d := cmp.Diff(wantC, got.Complaints, cmpopts.EquateEmpty()); d != "" {
		t.Errorf("complaints section differs from bot.DefaultComplaintConfig (-default +example):\n%s", d)
	}
	if got.Timezone != "Asia/Shanghai" || got.DatabaseURL != "./data/kefu.db" || got.Addr != ":8080" {
		t.Errorf("basics: %q %q %q", got.Timezone, got.DatabaseURL, got.Addr)
	}
}

func TestConfigEnvAndValidation(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		env     map[string]string
		wantErr string
		check   func(t *testing.T, c Config)
	}{
		{name: "empty file is all defaults", yaml: "", check: func(t *testing.T, c Config) {
			if c.Company["zh-CN"] != "云朵家电" || c.Company["en"] != "Cloudy Home Appliances" {
				t.Errorf("company %v", c.Company)
			}
		}},
		{name: "one company name for every language", yaml: "company: ACME\n", check: func(t *testing.T, c Config) {
			if c.Company["zh-CN"] != "ACME" || c.Company["en"] != "ACME" {
				t.Errorf("company %v", c.Company)
			}
		}},
		{name: "environment wins over the file", yaml: "database_url: a.db\n",
			env: map[string]string{"KEFU_DATABASE_URL": "postgres://x@y/z", "KEFU_TELEGRAM_TOKEN": "123:abc"},
			check: func(t *testing.T, c Config) {
				if c.DatabaseURL != "postgres://x@y/z" || c.Telegram.Token != "123:abc" {
					t.Errorf("got %q %q", c.DatabaseURL, c.Telegram.Token)
				}
			}},
		{name: "secrets are not read from the file", yaml: "telegram: {token: leaked}\n", wantErr: "token"},
		{name: "unknown keys are refused", yaml: "compnay: typo\n", wantErr: "compnay"},
		{name: "every problem at once", yaml: "timezone: Mars/Base\ndefault_lang: fr\nlog: {format: xml}\nagents: [{id: bob}]\n",
			wantErr: "Mars/Base"},
		{name: "slack HTTP mode needs the signing secret", env: map[string]string{"KEFU_SLACK_BOT_TOKEN": "xoxb-1"}, wantErr: "SIGNING_SECRET"},
		{name: "telegram pacing", yaml: "telegram: {per_chat_interval: 10ms, global_rate: 100}\n", check: func(t *testing.T, c Config) {
			if c.Telegram.PerChatInterval != 10*time.Millisecond || c.Telegram.GlobalRate != 100 {
				t.Errorf("got %v %v", c.Telegram.PerChatInterval, c.Telegram.GlobalRate)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "kefu.yaml")
			os.WriteFile(path, []byte(tc.yaml), 0o644)
			c, err := loadConfig(path, func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("want an error mentioning %q, got %v", tc.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}
