package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/locales"
)

// TestChooseCLILang: KEFU_LANG, then the config's cli.lang, then the POSIX locale (the first of
// LC_ALL, LC_MESSAGES, LANG that is set), else zh-CN.
func TestChooseCLILang(t *testing.T) {
	for _, c := range []struct {
		name   string
		env    map[string]string
		cfg    string
		wantLn string
	}{
		{"default", nil, "", "zh-CN"},
		{"KEFU_LANG en", map[string]string{"KEFU_LANG": "en"}, "", "en"},
		{"KEFU_LANG beats config and locale", map[string]string{"KEFU_LANG": "zh-CN", "LANG": "en_US.UTF-8"}, "en", "zh-CN"},
		{"config", nil, "en", "en"},
		{"config beats locale", map[string]string{"LANG": "zh_CN.UTF-8"}, "en", "en"},
		{"unknown KEFU_LANG falls through", map[string]string{"KEFU_LANG": "fr", "LANG": "en_GB.UTF-8"}, "", "en"},
		{"LANG zh", map[string]string{"LANG": "zh_CN.UTF-8"}, "", "zh-CN"},
		{"LANG en", map[string]string{"LANG": "en_US.UTF-8"}, "", "en"},
		{"LC_MESSAGES beats LANG", map[string]string{"LC_MESSAGES": "en_US.UTF-8", "LANG": "zh_CN.UTF-8"}, "", "en"},
		{"LC_ALL beats both", map[string]string{"LC_ALL": "zh_TW.UTF-8", "LC_MESSAGES": "en_US", "LANG": "en_US"}, "", "zh-CN"},
		{"C locale: the default", map[string]string{"LC_ALL": "C", "LANG": "en_US.UTF-8"}, "", "zh-CN"},
		{"unsupported locale: the default", map[string]string{"LANG": "de_DE.UTF-8"}, "", "zh-CN"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := chooseCLILang(func(k string) string { return c.env[k] }, c.cfg); got != c.wantLn {
				t.Errorf("chooseCLILang = %q, want %q", got, c.wantLn)
			}
		})
	}
}

// TestConfigCLILang: cli.lang is read from the file the command would load (--config, $KEFU_CONFIG,
// ./kefu.yaml); $KEFU_CLI_LANG overrides it like every config key; a broken file gives "".
func TestConfigCLILang(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	en := write("en.yaml", "company: x\ncli:\n  lang: en\n")
	zh := write("zh.yaml", "cli: {lang: zh-CN}\n")
	bad := write("bad.yaml", "cli: [\n")
	t.Chdir(dir)
	write("kefu.yaml", "cli:\n  lang: en\n")
	for _, c := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"--config FILE", []string{"ticket", "list", "--config", zh}, nil, "zh-CN"},
		{"--config=FILE", []string{"ticket", "--config=" + zh, "list"}, nil, "zh-CN"},
		{"-config=FILE", []string{"ticket", "-config=" + zh, "list"}, nil, "zh-CN"},
		{"config=FILE is text", []string{"ticket", "note", "GD1", "config=" + zh}, nil, "en"},
		{"KEFU_CONFIG", []string{"ticket", "list"}, map[string]string{"KEFU_CONFIG": en}, "en"},
		{"flag beats KEFU_CONFIG", []string{"ticket", "-config", zh}, map[string]string{"KEFU_CONFIG": en}, "zh-CN"},
		{"./kefu.yaml", []string{"ticket", "list"}, nil, "en"},
		{"after -- is text", []string{"ticket", "reply", "GD1", "--", "--config", zh}, nil, "en"},
		{"KEFU_CLI_LANG", []string{"ticket", "--config", en}, map[string]string{"KEFU_CLI_LANG": "zh-CN"}, "zh-CN"},
		{"broken file", []string{"ticket", "--config", bad}, nil, ""},
		{"missing file", []string{"ticket", "--config", filepath.Join(dir, "none.yaml")}, nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := configCLILang(c.args, func(k string) string { return c.env[k] }); got != c.want {
				t.Errorf("configCLILang = %q, want %q", got, c.want)
			}
		})
	}
}

// TestCLIUsageErrorsLocalized runs kefu as main does, in each language: usage errors are one line
// in the operator's language, and kefu --help lists the commands with localized summaries.
func TestCLIUsageErrorsLocalized(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("KEFU_DATABASE_URL", filepath.Join(dir, "kefu.db"))
	t.Setenv("KEFU_CONFIG", "")
	t.Chdir(dir)
	for _, c := range []struct {
		lang string
		args []string
		want string
	}{
		{"zh-CN", []string{"ticket", "claim"}, "kefu ticket：claim 需要工单号（GDyyyymmddNNN）（用法见 kefu ticket --help）\n"},
		{"en", []string{"ticket", "claim"}, "kefu ticket: claim needs a ticket number (GDyyyymmddNNN) (kefu ticket --help)\n"},
		{"zh-CN", []string{"ticket", "reply", "GD1"}, "kefu ticket：reply 需要工单号和回复文字（用法见 kefu ticket --help）\n"},
		{"en", []string{"ticket", "reply", "GD1"}, "kefu ticket: reply needs a ticket number and a text (kefu ticket --help)\n"},
		{"zh-CN", []string{"ticket", "list", "--bogus"}, "kefu ticket：未知参数 --bogus（以 - 开头的文字请放在 -- 之后）（用法见 kefu ticket --help）\n"},
		{"zh-CN", []string{"ticket"}, "kefu ticket：缺少子命令（list、show、claim、reply……）（用法见 kefu ticket --help）\n"},
		{"en", []string{"ticket"}, "kefu ticket: missing subcommand (list, show, claim, reply, …) (kefu ticket --help)\n"},
		{"zh-CN", []string{"nosuch"}, "kefu：未知命令“nosuch”（kefu --help 列出全部命令）\n"},
		{"en", []string{"nosuch"}, "kefu: unknown command \"nosuch\" (kefu --help lists them)\n"},
	} {
		t.Run(c.lang+" "+strings.Join(c.args, " "), func(t *testing.T) {
			t.Setenv("KEFU_LANG", c.lang)
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), c.args, &stdout, &stderr); code != 2 {
				t.Fatalf("exit %d, want 2; stderr %q", code, stderr.String())
			}
			if got := stderr.String(); got != c.want {
				t.Errorf("stderr\n got %q\nwant %q", got, c.want)
			}
		})
	}
	for lang, want := range map[string][]string{
		"zh-CN": {"用法：kefu 命令 [参数]", "  ticket      list | show", "处理工单（不用 Slack 的坐席）", "  backup      backup FILE：kefu 运行时"},
		"en":    {"Usage: kefu COMMAND [flags]", "  ticket      list | show", "tickets (agents without Slack)"},
	} {
		t.Setenv("KEFU_LANG", lang)
		var stdout bytes.Buffer
		if code := run(context.Background(), []string{"--help"}, &stdout, &stdout); code != 0 {
			t.Fatalf("%s: kefu --help: exit %d", lang, code)
		}
		for _, w := range want {
			if !strings.Contains(stdout.String(), w) {
				t.Errorf("%s: kefu --help lacks %q:\n%s", lang, w, stdout.String())
			}
		}
		stdout.Reset()
		run(context.Background(), []string{"ticket", "--help"}, &stdout, &stdout)
		if w := map[string]string{"zh-CN": "通用参数：--as 坐席", "en": "Common flags: --as AGENT"}[lang]; !strings.Contains(stdout.String(), w) {
			t.Errorf("%s: kefu ticket --help lacks %q:\n%s", lang, w, stdout.String())
		}
	}
}

// TestTicketShowLocalized: `kefu ticket show`, `list` and `claim` print in the operator's language; the
// ticket's own data (number, status words, the customer's text) is the same in both.
func TestTicketShowLocalized(t *testing.T) {
	env, _ := improveEnv(t)
	for _, k := range []string{"KEFU_CONFIG", "KEFU_DATABASE_URL"} {
		t.Setenv(k, env(k))
	}
	t.Setenv("KEFU_AGENT", "")
	c := &readmeCustomer{t: t}
	c.act("c1", bot.KindText, "你们的快递员态度恶劣，把我的冰箱摔坏了，我要投诉！", "")
	c.act("c1", bot.KindButton, "", "对，提交")
	ticket := func(lang string, args ...string) string {
		t.Helper()
		t.Setenv("KEFU_LANG", lang)
		var out bytes.Buffer
		if err := runTicket(context.Background(), args, &out, os.Getenv); err != nil {
			t.Fatalf("%s: kefu ticket %v: %v", lang, args, err)
		}
		return out.String()
	}
	no := ticketNo.FindString(ticket("en", "list"))
	if no == "" {
		t.Fatal("no ticket opened")
	}
	for _, c := range []struct {
		lang       string
		args       []string
		want, lack []string
	}{
		{"zh-CN", []string{"show", no}, []string{no, "\n客户：     ", "\n处理人：   -\n", "\n期限：     首次响应 ", "\n摘要：     "}, []string{"customer:", "due:"}},
		{"en", []string{"show", no}, []string{no, "\ncustomer:  ", "\nassignee:  -\n", "\ndue:       first response ", "\nsummary:   "}, []string{"客户：", "期限："}},
		{"zh-CN", []string{"list"}, []string{"工单号         优先级  状态", no}, []string{"NUMBER"}},
		{"en", []string{"list"}, []string{"NUMBER         PRI  STATUS", no}, []string{"工单号"}},
		{"zh-CN", []string{"claim", "--as", "alice", no}, []string{no, "claim 完成  处理人=cli:alice"}, []string{"ok"}},
		{"en", []string{"note", "--as", "alice", no, "查物流"}, []string{no, "note ok  assignee=cli:alice"}, []string{"完成"}},
	} {
		out := ticket(c.lang, c.args...)
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s kefu ticket %v lacks %q:\n%s", c.lang, c.args, w, out)
			}
		}
		for _, l := range c.lack {
			if strings.Contains(out, l) {
				t.Errorf("%s kefu ticket %v has %q:\n%s", c.lang, c.args, l, out)
			}
		}
	}
	// An error shown to the operator: localized, and still the desk's sentinel underneath.
	t.Setenv("KEFU_LANG", "zh-CN")
	err := runTicket(context.Background(), []string{"show", "GD20000101999"}, &bytes.Buffer{}, os.Getenv)
	if err == nil || err.Error() != "没有工单 GD20000101999" {
		t.Errorf("show of an unknown ticket: %v, want 没有工单 GD20000101999", err)
	}
}

// TestTicketListAlignsCJK: with Chinese categories, names and summaries, every column of `kefu ticket
// list` starts at the same display column on every row (a CJK character is two columns wide).
func TestTicketListAlignsCJK(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	ts := []bot.Ticket{
		{No: "GD20261203001", Priority: bot.P1, Status: bot.StatusOpen, Category: "订单问题", Channel: "web",
			Assignee: "cli:张三", Summary: "快递三天没动", CreatedAt: now, FirstResponseDue: now.Add(time.Hour), ResolutionDue: now.Add(24 * time.Hour)},
		{No: "GD20261203002", Priority: bot.P0, Status: bot.StatusInProgress, Category: "order", Channel: "telegram",
			Assignee: "cli:alice", Summary: "refund please", CreatedAt: now, FirstResponseDue: now.Add(-time.Hour), ResolutionDue: now.Add(-time.Minute)},
		{No: "GD20261203003", Priority: bot.P2, Status: bot.StatusPending, Category: "售后·安装", Channel: "wecom",
			Summary: "空调装好后外机噪音很大，师傅说是正常的", CreatedAt: now, FirstResponseDue: now.Add(time.Hour), ResolutionDue: now.Add(time.Hour)},
	}
	for _, lang := range []string{"zh-CN", "en"} {
		t.Run(lang, func(t *testing.T) {
			t.Setenv("KEFU_LANG", lang)
			var out bytes.Buffer
			printTickets(&out, ts, time.UTC, now)
			lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			if len(lines) != len(ts)+1 {
				t.Fatalf("%d lines, want %d:\n%s", len(lines), len(ts)+1, out.String())
			}
			// The cells of each row, in order; each one's start is found after the previous one's end.
			rows := [][]string{strings.Split(msg("cli.ticket.list_header"), "|")}
			for _, tk := range ts {
				rows = append(rows, []string{tk.No, string(tk.Priority), string(tk.Status), tk.Category, string(tk.Channel),
					orDash(tk.Assignee), "12-03 12:00"})
			}
			var starts [][]int
			for i, cells := range rows {
				var cols []int
				at := 0
				for _, cell := range cells {
					j := strings.Index(lines[i][at:], cell)
					if j < 0 {
						t.Fatalf("row %d lacks %q after byte %d: %q", i, cell, at, lines[i])
					}
					cols = append(cols, cellWidth(lines[i][:at+j]))
					at += j + len(cell)
				}
				starts = append(starts, cols)
			}
			for i := 1; i < len(starts); i++ {
				for col := range starts[i] {
					if starts[i][col] != starts[0][col] {
						t.Errorf("row %d column %d starts at display column %d, the header's at %d:\n%s", i, col, starts[i][col], starts[0][col], out.String())
					}
				}
			}
		})
	}
}

// cliKey is a literal catalog key in the command line's source: "cli.…".
var cliKey = regexp.MustCompile(`"(cli\.[a-z0-9_.\-]+)"`)

// TestCLIKeysInBothCatalogs: every cli.* key the command line's source names, every command's summary
// (cli.cmd.NAME) and every ticket subcommand's missing-argument word exist in zh-CN and en.
func TestCLIKeysInBothCatalogs(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range cliKey.FindAllStringSubmatch(string(b), -1) {
			if !strings.HasSuffix(m[1], ".") { // a prefix completed at run time: checked below
				keys[m[1]] = f
			}
		}
	}
	if len(keys) < 50 {
		t.Fatalf("found only %d cli.* keys in the source", len(keys))
	}
	for name := range commands {
		keys["cli.cmd."+name] = "main.go (command summaries)"
	}
	for sub, ar := range ticketArity {
		if ar[0] > 1 {
			keys["cli.ticket.what."+sub] = "cmd_ticket.go (ticketArity)"
		}
	}
	cat := locales.Default()
	for k, f := range keys {
		for _, lang := range cat.Langs() {
			if !cat.Has(lang, k) {
				t.Errorf("%s: key %q is missing from the %s catalog", f, k, lang)
			}
		}
	}
}

// TestCLICatalogTranslated: every cli.* message exists in both catalogs and zh-CN's is not a copy of
// en's (both languages are first-class).
func TestCLICatalogTranslated(t *testing.T) {
	cat := locales.Default()
	n := 0
	for _, k := range cat.Keys(locales.En) {
		if !strings.HasPrefix(k, "cli.") {
			continue
		}
		n++
		if !cat.Has(locales.ZhCN, k) {
			t.Errorf("%s: only in en", k)
			continue
		}
		if zh, en := cat.T(locales.ZhCN, k, nil), cat.T(locales.En, k, nil); zh == en {
			t.Errorf("%s: zh-CN is the English text %q", k, en)
		}
	}
	for _, k := range cat.Keys(locales.ZhCN) {
		if strings.HasPrefix(k, "cli.") && !cat.Has(locales.En, k) {
			t.Errorf("%s: only in zh-CN", k)
		}
	}
	if n < 300 {
		t.Errorf("%d cli.* keys; the command line's catalog went missing?", n)
	}
}

// TestTableAlignsByDisplayWidth: the table every list command prints (ticket, macro, user, kb, …)
// starts each column at the same terminal column on every row, whatever mix of CJK and ASCII.
func TestTableAlignsByDisplayWidth(t *testing.T) {
	for _, c := range []struct {
		name string
		rows [][]string
	}{
		{"macro list zh", [][]string{{"编号", "团队", "名称", "文字"}, {"1", "*", "问候", "您好，{{customer_name}}"}, {"12", "售后", "refund-note", "退款将在 3 个工作日内到账"}}},
		{"ascii", [][]string{{"ID", "TEAM", "NAME"}, {"1", "*", "greet"}, {"100", "after-sales", "x"}}},
		{"fullwidth and ambiguous", [][]string{{"Ａ（全角）", "…", "x"}, {"a", "b·c", "y"}, {"", "", "z"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var tb table
			for _, r := range c.rows {
				tb.row(r...)
			}
			var out bytes.Buffer
			tb.print(&out)
			lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			for col := 1; col < len(c.rows[0]); col++ {
				want := -1
				for i, r := range c.rows {
					// the column starts after the previous cells and their padding
					prefix := strings.Join(r[:col], "")
					at := strings.Index(lines[i], r[col])
					if r[col] == "" || at < 0 {
						continue
					}
					got := cellWidth(lines[i][:at])
					if cellWidth(prefix) > got {
						t.Fatalf("row %d: cell %q found before its column", i, r[col])
					}
					if want < 0 {
						want = got
					} else if got != want {
						t.Errorf("row %d column %d starts at %d, row 0 at %d:\n%s", i, col, got, want, out.String())
					}
				}
			}
			if strings.Contains(out.String(), " \n") {
				t.Errorf("trailing spaces after the last column:\n%q", out.String())
			}
		})
	}
}
