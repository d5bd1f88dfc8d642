package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kefu-dev/kefu/bot"
)

const intakeSection = "Intake fields and the customer's history"

// readmeYAML returns the first ```yaml block of a README section.
func readmeYAML(t *testing.T, title string) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "\n## "+title)
	if !ok {
		t.Fatalf("README has no section %q", title)
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	_, y, ok := strings.Cut(sec, "```yaml\n")
	if !ok {
		t.Fatalf("README section %q has no yaml block", title)
	}
	y, _, _ = strings.Cut(y, "```")
	return y
}

// TestReadmeIntake runs the README's intake section as written: its configuration, a customer who
// answers the intake fields (a bad phone number and e-mail refused and asked again) and later asks for
// a person, and every command of the section: the flags set by a supervisor and read by an agent,
// `ticket show` with the intake details masked and the earlier ticket, the uncategorized ticket in the
// list, the flag change in the audit log.
func TestReadmeIntake(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "kefu.yaml")
	if err := os.WriteFile(cfgPath, []byte(improveConfig(t)+readmeYAML(t, intakeSection)), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KEFU_CONFIG", cfgPath)
	t.Setenv("KEFU_DATABASE_URL", filepath.Join(dir, "kefu.db"))
	t.Setenv("KEFU_AGENT", "")
	ctx := context.Background()
	c := &readmeCustomer{t: t}
	say := func(text, wantReply string) {
		t.Helper()
		c.act("c1", bot.KindText, text, "")
		var got []string
		for _, r := range c.last {
			got = append(got, r.Text)
		}
		if !strings.Contains(strings.Join(got, "\n"), wantReply) {
			t.Fatalf("after %q the customer was told %q, want %q", text, got, wantReply)
		}
	}
	say("我要投诉，你们的安装师傅态度很差，迟到了三个小时还乱收费", "请问怎么称呼您")
	say("我叫王小明", "请留下您的手机号码")
	say("12345", "「12345」不是有效的手机号码")
	say("13812345678", "电子邮箱")
	say("wang@example", "不是有效的电子邮箱地址")
	say("wang@example.cn", "您希望我们在什么时间之前解决")
	say("明天下午", "您是想反馈「投诉」问题")
	c.act("c1", bot.KindButton, "", "对，提交")
	run := func(r func(context.Context, []string, io.Writer, func(string) string) error, args ...string) (string, error) {
		var out bytes.Buffer
		err := r(ctx, args, &out, os.Getenv)
		return out.String(), err
	}
	for _, args := range [][]string{{"reply", "--as", "alice", "GD20261203001", "您好，我们马上核实"}, {"close", "--as", "alice", "GD20261203001"}} {
		if out, err := run(runTicket, args...); err != nil {
			t.Fatalf("ticket %v: %v\n%s", args, err, out)
		}
	}
	// Later: 转人工, a skipped type, then the description: it is the new ticket's summary.
	c.act("c1", bot.KindText, "转人工", "")
	c.act("c1", bot.KindButton, "", "跳过")
	say("冰箱门关不严，一直报警", "")
	// Strangers may not even look; agents may not change flags; unknown flags are refused.
	if _, err := run(runCustomer, "flag", "--as", "mallory", "1"); !errors.Is(err, bot.ErrForbidden) {
		t.Errorf("a stranger read flags: %v", err)
	}
	if _, err := run(runCustomer, "flag", "--as", "alice", "--set", "vip", "1"); !errors.Is(err, bot.ErrForbidden) {
		t.Errorf("an agent set a flag: %v", err)
	}
	if _, err := run(runCustomer, "flag", "--as", "sup", "--set", "vpi", "1"); !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "known: media, vip") {
		t.Errorf("unknown flag: %v", err)
	}
	runners := map[string]func(context.Context, []string, io.Writer, func(string) string) error{"customer": runCustomer, "ticket": runTicket}
	outputs := map[string]string{}
	cmds := readmeCommands(t, intakeSection)
	if len(cmds) != 5 {
		t.Fatalf("README intake section has %d commands", len(cmds))
	}
	for _, line := range cmds {
		words := shellWords(t, line)
		out, err := run(runners[words[1]], words[2:]...)
		if err != nil {
			t.Fatalf("%s: %v\n%s", line, err, out)
		}
		outputs[words[1]+" "+words[2]] += out
	}
	for _, w := range []struct {
		cmd   string
		wants []string
		not   []string
	}{
		{"customer flag", []string{"customer 1 flags: vip\ncustomer 1 flags: vip\n"}, nil},
		{"ticket show", []string{"GD20261203002  P1  open  未分类 / Uncategorized", "summary:   冰箱门关不严，一直报警",
			"intake:    name 王* · phone 138****5678 · email w***@example.cn",
			"earlier tickets of this customer:", "GD20261203001  closed  complaint  rating -"},
			[]string{"13812345678", "wang@example.cn", "王小明"}},
		{"ticket list", []string{"未分类 / Uncategorized"}, nil},
		{"customer audit", []string{"flags   cli:sup", "flags=vip"}, nil},
	} {
		out := outputs[w.cmd]
		for _, want := range w.wants {
			if !strings.Contains(out, want) {
				t.Errorf("%s lacks %q:\n%s", w.cmd, want, out)
			}
		}
		for _, n := range w.not {
			if strings.Contains(out, n) {
				t.Errorf("%s shows %q unmasked:\n%s", w.cmd, n, out)
			}
		}
	}
	// The complaint ticket carries the expected time; a supervisor's reveal shows the details.
	show, err := run(runTicket, "show", "--as", "sup", "--reveal", "GD20261203001")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"expected:  2026-12-04 18:00", "intake:    name 王小明 · phone 13812345678 · email wang@example.cn", "customer:  王小明"} {
		if !strings.Contains(show, want) {
			t.Errorf("revealed show lacks %q:\n%s", want, show)
		}
	}
}
