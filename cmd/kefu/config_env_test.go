package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestEveryKeyFromEnvironment sets nested keys of every kind (text, number, duration, bool, list,
// map, a localized name) and secrets through files, as a container would.
func TestEveryKeyFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "slack_bot_token")
	os.WriteFile(tokenFile, []byte("xoxb-from-file\n"), 0o600)
	dsnFile := filepath.Join(dir, "dsn")
	os.WriteFile(dsnFile, []byte("postgres://kefu:s3cret@db/kefu"), 0o600)
	env := map[string]string{
		"KEFU_COMPANY":                              "ACME",
		"KEFU_LOG_LEVEL":                            "debug",
		"KEFU_FAQ_ANSWER_THRESHOLD":                 "0.7",
		"KEFU_SLA_SCAN_INTERVAL":                    "30s",
		"KEFU_SLA_CALENDAR_TZ":                      "Europe/Berlin",
		"KEFU_AGENTS":                               `[{id: "cli:alice", name: Alice}]`,
		"KEFU_SLACK_ROUTES":                         "{tech: C0TECH}",
		"KEFU_SLACK_AUTO_ASSIGN":                    "true",
		"KEFU_SLACK_DIGESTS_DAILY":                  "off",
		"KEFU_DATABASE_MAX_OPEN_CONNS":              "16",
		"KEFU_METRICS_ADDR":                         ":9464",
		"KEFU_SLACK_BOT_TOKEN_FILE":                 tokenFile,
		"KEFU_SLACK_SIGNING_SECRET":                 "sig",
		"KEFU_DATABASE_URL_FILE":                    dsnFile,
		"KEFU_DATABASE_URL":                         "/data/kefu.db", // the image's default: the file wins
		"KEFU_TELEGRAM_WEBHOOK_SECRET":              "whs",
		"KEFU_CONVERSATION_MAX_REASKS":              "3",
		"KEFU_OUTBOX_POLL_INTERVAL":                 "250ms",
		"KEFU_DATABASE_CONN_MAX_LIFETIME":           "5m",
		"KEFU_CONVERSATION_FIELDS_PHONE_MODE":       "optional",
		"KEFU_CONVERSATION_FIELDS_PHONE_CATEGORIES": "{complaint: required}",
	}
	c, err := loadConfig("", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"company", c.Company["en"], "ACME"},
		{"log.level", c.Log.Level, "debug"},
		{"faq.answer_threshold", c.FAQ.AnswerThreshold, 0.7},
		{"sla.scan_interval", c.SLA.ScanInterval, 30 * time.Second},
		{"sla.calendar.tz", c.SLA.Calendar.TZ, "Europe/Berlin"},
		{"agents", len(c.Agents) == 1 && c.Agents[0].ID == "cli:alice" && c.Agents[0].Name == "Alice", true},
		{"slack.routes", c.Slack.Routes["tech"], "C0TECH"},
		{"slack.auto_assign", c.Slack.AutoAssign, true},
		{"slack.digests.daily", c.Slack.Digests.Daily, "off"},
		{"database.max_open_conns", c.Database.MaxOpenConns, 16},
		{"database.conn_max_lifetime", c.Database.ConnMaxLifetime, 5 * time.Minute},
		{"metrics.addr", c.Metrics.Addr, ":9464"},
		{"slack bot token from file", c.Slack.BotToken, "xoxb-from-file"},
		{"database_url from file", c.DatabaseURL, "postgres://kefu:s3cret@db/kefu"},
		{"telegram webhook secret", c.Telegram.WebhookSecret, "whs"},
		{"conversation.max_reasks", c.Conversation.MaxReasks, 3},
		{"outbox.poll_interval", c.Outbox.PollInterval, 250 * time.Millisecond},
		{"conversation.fields.phone.mode", c.Conversation.Fields.Phone.Mode, "optional"},
		{"conversation.fields.phone.categories", c.Conversation.Fields.Phone.Categories["complaint"], "required"},
		{"conversation.fields.email.mode (default)", c.Conversation.Fields.Mode("email", "complaint"), "off"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
}

// TestBadEnvironmentValues reports every bad variable by name and key, and a missing secret file.
func TestBadEnvironmentValues(t *testing.T) {
	env := map[string]string{
		"KEFU_SLA_SCAN_INTERVAL":       "soon",
		"KEFU_DATABASE_MAX_OPEN_CONNS": "many",
		"KEFU_SLACK_BOT_TOKEN_FILE":    filepath.Join(t.TempDir(), "missing"),
		"KEFU_METRICS_ADDR":            "9464",
	}
	_, err := loadConfig("", func(k string) string { return env[k] })
	if err == nil {
		t.Fatal("bad values were accepted")
	}
	for _, want := range []string{"KEFU_SLA_SCAN_INTERVAL (sla.scan_interval)", "KEFU_DATABASE_MAX_OPEN_CONNS (database.max_open_conns)", "KEFU_SLACK_BOT_TOKEN_FILE"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	env = map[string]string{"KEFU_METRICS_ADDR": "9464"}
	if _, err := loadConfig("", func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "metrics.addr") {
		t.Errorf("metrics.addr without a port: %v", err)
	}
}

// TestConfigEnvListsEveryKey checks that `kefu config env` names every key of the example file and
// every secret.
func TestConfigEnvListsEveryKey(t *testing.T) {
	var b bytes.Buffer
	printEnvMapping(&b)
	out := b.String()
	for _, want := range []string{"KEFU_LOG_LEVEL                             log.level", "KEFU_SLA_SCAN_INTERVAL", "KEFU_METRICS_PPROF", "KEFU_DATABASE_MAX_OPEN_CONNS", "KEFU_SLACK_DIGESTS_WEEKLY", "KEFU_SLACK_BOT_TOKEN\n", "KEFU_DISCORD_TOKEN\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("kefu config env lacks %q", want)
		}
	}
	// Each top-level section of the documented example has variables.
	for _, line := range strings.Split(exampleConfig, "\n") {
		if line == "" || line[0] == ' ' || line[0] == '#' || !strings.Contains(line, ":") {
			continue
		}
		key, _, _ := strings.Cut(line, ":")
		if !strings.Contains(out, "KEFU_"+strings.ToUpper(key)) {
			t.Errorf("example key %q has no KEFU_ variable", key)
		}
	}
}
