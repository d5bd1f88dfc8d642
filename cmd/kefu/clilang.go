package main

// The command line's own language (its messages, usage errors, table headers): the operator's, not a
// customer's. Chosen once per `kefu …` run, in this order:
//
//  1. $KEFU_LANG (zh-CN | en);
//  2. the config file's cli.lang (or $KEFU_CLI_LANG, as for every config key);
//  3. the POSIX locale: the first set of $LC_ALL, $LC_MESSAGES, $LANG (zh* → zh-CN, en* → en);
//  4. zh-CN, the project's default.
//
// The text lives in locales/zh-CN.cli.yaml and locales/en.cli.yaml under cli.* keys. Machine-readable
// output (JSON, CSV, exported files) and slog lines are not translated; flag names and command words
// stay English.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"

	"github.com/mattn/go-runewidth"
	"gopkg.in/yaml.v3"

	"github.com/kefu-dev/kefu/locales"
)

// chooseCLILang picks the command line's language from the environment and the config file's
// cli.lang (cfgLang, "" when not set).
func chooseCLILang(getenv func(string) string, cfgLang string) string {
	if l := locales.Match(getenv("KEFU_LANG")); l != "" {
		return l
	}
	if l := locales.Match(cfgLang); l != "" {
		return l
	}
	for _, v := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if s := getenv(v); s != "" { // the first one set decides, as in POSIX
			if l := locales.Match(s); l != "" {
				return l
			}
			break
		}
	}
	return locales.ZhCN
}

// configCLILang reads only cli.lang (then $KEFU_CLI_LANG) from the config file the command would load:
// --config FILE among args, else $KEFU_CONFIG, else ./kefu.yaml. A missing or broken file gives "": the
// command itself reports it, in the language chosen without it.
func configCLILang(args []string, getenv func(string) string) string {
	if l := getenv("KEFU_CLI_LANG"); l != "" {
		return l
	}
	path := ""
	for i, a := range args {
		if a == "--" {
			break
		}
		if v, ok := strings.CutPrefix(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "config="); ok && strings.HasPrefix(a, "-") {
			path = v
		} else if (a == "--config" || a == "-config") && i+1 < len(args) {
			path = args[i+1]
		}
	}
	if path == "" {
		path = getenv("KEFU_CONFIG")
	}
	if path == "" {
		path = "kefu.yaml"
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	var c struct {
		CLI struct {
			Lang string `yaml:"lang"`
		} `yaml:"cli"`
	}
	if err := yaml.NewDecoder(bytes.NewReader(b)).Decode(&c); err != nil {
		return ""
	}
	return c.CLI.Lang
}

// cliLangNow is the language run chose for the command being run; empty outside run (tests that
// call a command's function directly), where the environment alone decides.
var cliLangNow atomic.Value

// setCLILang sets the command line's language for one run and returns the function restoring the
// previous one (run nests: a test's `kefu serve` and its `kefu ticket …` calls).
func setCLILang(lang string) (restore func()) {
	prev, _ := cliLangNow.Load().(string)
	cliLangNow.Store(lang)
	return func() { cliLangNow.Store(prev) }
}

// cliLang is the language of the command line's messages.
func cliLang() string {
	if l, _ := cliLangNow.Load().(string); l != "" {
		return l
	}
	return chooseCLILang(os.Getenv, os.Getenv("KEFU_CLI_LANG"))
}

// msg renders the CLI message key in the operator's language; kv are the template's arguments as
// name, value pairs: msg("cli.ticket.done", "no", no, "op", sub).
func msg(key string, kv ...any) string {
	return msgIn(cliLang(), key, kv...)
}

// msgIn is msg in a given language.
func msgIn(lang, key string, kv ...any) string {
	var args map[string]any
	if len(kv) > 0 {
		args = make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			args[fmt.Sprint(kv[i])] = kv[i+1]
		}
	}
	return locales.Default().T(lang, key, args)
}

// say prints the message key and a newline to w.
func say(w io.Writer, key string, kv ...any) {
	fmt.Fprintln(w, msg(key, kv...))
}

// usageMsg is a usage error (exit 2) with the localized one-line message key.
func usageMsg(key string, kv ...any) error {
	return fmt.Errorf("%w: %s", errUsage, msg(key, kv...))
}

// cliError is an error shown to the operator: a localized sentence that still unwraps to the cause, so
// errors.Is keeps working.
type cliError struct {
	text string
	err  error
}

func (e *cliError) Error() string { return e.text }
func (e *cliError) Unwrap() error { return e.err }

// failMsg is the localized message key as an error wrapping err (which may be nil). The cause's own
// text follows after ": " — the packages' errors carry no user-facing text, only diagnostic detail
// (which actor, which task), so that part stays as the package wrote it.
func failMsg(err error, key string, kv ...any) error {
	if err == nil {
		return errors.New(msg(key, kv...))
	}
	return &cliError{text: msg(key, kv...) + ": " + err.Error(), err: err}
}

// failOnly is failMsg without the cause's text: for a sentence that already says it all (or names
// the cause itself).
func failOnly(err error, key string, kv ...any) error {
	return &cliError{text: msg(key, kv...), err: err}
}

// cellWidth is how many terminal columns s takes: a CJK character takes two. East Asian ambiguous
// characters (…, ·) count as one, as in most terminals, whatever the locale.
var cellWidth = (&runewidth.Condition{EastAsianWidth: false, StrictEmojiNeutral: true}).StringWidth

// padCells pads s with spaces to n terminal columns, as %-Ns would if every character took one.
func padCells(s string, n int) string {
	return s + strings.Repeat(" ", max(0, n-cellWidth(s)))
}

// table prints rows in columns padded by display width (text/tabwriter counts runes, which misaligns
// Chinese text): two spaces between columns, the last column unpadded.
type table struct{ rows [][]string }

func (t *table) row(cells ...string) { t.rows = append(t.rows, cells) }

// rowf adds a row written as for text/tabwriter: cells separated by tabs, an optional final newline.
func (t *table) rowf(format string, args ...any) {
	t.row(strings.Split(strings.TrimSuffix(fmt.Sprintf(format, args...), "\n"), "\t")...)
}

// header adds the column titles: the message key's text, titles separated by "|".
func (t *table) header(key string) { t.row(strings.Split(msg(key), "|")...) }

func (t *table) print(w io.Writer) {
	var widths []int
	for _, r := range t.rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], cellWidth(c))
		}
	}
	var b strings.Builder
	for _, r := range t.rows {
		b.Reset()
		for i, c := range r {
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-cellWidth(c)+2))
			}
		}
		fmt.Fprintln(w, b.String())
	}
}
