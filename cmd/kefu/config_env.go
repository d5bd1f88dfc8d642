package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// Every setting of kefu.yaml can also be set from the environment: the key path in upper case joined
// by "_" after KEFU_ (log.level → KEFU_LOG_LEVEL, sla.scan_interval → KEFU_SLA_SCAN_INTERVAL,
// metrics.addr → KEFU_METRICS_ADDR). Text settings take the value as it is; the others take a YAML
// value, so lists and maps work too (KEFU_AGENTS='[{id: "cli:alice"}]', KEFU_SLACK_ROUTES='{tech: C0TECH}').
// `kefu config env` prints the whole mapping.
//
// Secrets are not in the file at all: they have fixed names (secretEnv). Every variable, secret or
// not, may instead name a file with its value: KEFU_X_FILE=/run/secrets/x (Docker and Kubernetes
// secrets); a trailing newline is dropped.

// secretEnv are the secrets: settable from the environment only.
var secretEnv = []struct {
	name string
	dst  func(*Config) *string
}{
	{"KEFU_TELEGRAM_TOKEN", func(c *Config) *string { return &c.Telegram.Token }},
	{"KEFU_TELEGRAM_WEBHOOK_SECRET", func(c *Config) *string { return &c.Telegram.WebhookSecret }},
	{"KEFU_DISCORD_TOKEN", func(c *Config) *string { return &c.Discord.Token }},
	{"KEFU_SLACK_BOT_TOKEN", func(c *Config) *string { return &c.Slack.BotToken }},
	{"KEFU_SLACK_SIGNING_SECRET", func(c *Config) *string { return &c.Slack.SigningSecret }},
	{"KEFU_SLACK_APP_TOKEN", func(c *Config) *string { return &c.Slack.AppToken }},
}

// envSetting is one settable key: its environment variable and its place in kefu.yaml.
type envSetting struct {
	Env, Path string
	field     reflect.Value
}

// envSettings lists every key of c reachable from the environment, in struct order.
func envSettings(c *Config) []envSetting {
	var out []envSetting
	walkEnv(reflect.ValueOf(c).Elem(), "KEFU", "", &out)
	return out
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

func walkEnv(v reflect.Value, envPrefix, pathPrefix string, out *[]envSetting) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		fv := v.Field(i)
		if strings.Contains(opts, "inline") {
			walkEnv(fv, envPrefix, pathPrefix, out)
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		env := envPrefix + "_" + strings.ToUpper(name)
		path := pathPrefix + name
		if f.Type.Kind() == reflect.Struct && !reflect.PointerTo(f.Type).Implements(unmarshalerType) {
			walkEnv(fv, env, path+".", out)
			continue
		}
		*out = append(*out, envSetting{Env: env, Path: path, field: fv})
	}
}

// lookupEnv returns the content of the file named by KEY_FILE, or else KEY's value. The file wins
// when both are set: it is the more deliberate setting (the image sets KEFU_DATABASE_URL to its SQLite
// default; a compose file adds KEFU_DATABASE_URL_FILE with the PostgreSQL DSN).
func lookupEnv(getenv func(string) string, key string) (string, error) {
	f := getenv(key + "_FILE")
	if f == "" {
		return getenv(key), nil
	}
	b, err := os.ReadFile(f)
	if err != nil {
		return "", fmt.Errorf("%s_FILE: %w", key, err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// applyEnv sets c from the environment; it reports every bad value at once.
func applyEnv(c *Config, getenv func(string) string) error {
	var errs []error
	for _, s := range envSettings(c) {
		v, err := lookupEnv(getenv, s.Env)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if v == "" {
			continue
		}
		if s.field.Kind() == reflect.String {
			s.field.SetString(v)
			continue
		}
		// Decode into a fresh value so that a bad value leaves the default in place.
		nv := reflect.New(s.field.Type())
		if err := yaml.Unmarshal([]byte(v), nv.Interface()); err != nil {
			errs = append(errs, fmt.Errorf("%s (%s): %w", s.Env, s.Path, err))
			continue
		}
		s.field.Set(nv.Elem())
	}
	for _, s := range secretEnv {
		v, err := lookupEnv(getenv, s.name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if v != "" {
			*s.dst(c) = v
		}
	}
	return errors.Join(errs...)
}

// printEnvMapping prints every variable with its kefu.yaml key (`kefu config env`).
func printEnvMapping(w io.Writer) {
	c := defaultConfig()
	fmt.Fprintln(w, "# Every kefu.yaml key as an environment variable; each may also be given as VAR_FILE=/path.")
	fmt.Fprintln(w, "# Text keys take the value as it is; the others a YAML value (lists and maps too).")
	for _, s := range envSettings(&c) {
		fmt.Fprintf(w, "%-42s %s\n", s.Env, s.Path)
	}
	fmt.Fprintln(w, "# Secrets (environment only):")
	for _, s := range secretEnv {
		fmt.Fprintln(w, s.name)
	}
}
