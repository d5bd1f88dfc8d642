package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kefu-dev/kefu/bot"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden transcripts in testdata/")

// TestTicketTaskCLI runs `kefu ticket task …` against a complaint opened in web chat, and compares the
// transcript (commands, their output or error) with testdata/ticket_task.golden: add, list, a resolve
// refused while the task is open (the message names it and says what to do), bad input refused with
// a clear sentence and nothing stored, done, cancel, reopen, and `ticket show` listing the tasks.
func TestTicketTaskCLI(t *testing.T) {
	env, _ := improveEnv(t)
	for _, k := range []string{"KEFU_CONFIG", "KEFU_DATABASE_URL"} {
		t.Setenv(k, env(k))
	}
	t.Setenv("KEFU_AGENT", "")
	c := &readmeCustomer{t: t}
	c.act("c1", bot.KindText, "你们的快递员态度恶劣，把我的冰箱摔坏了，我要投诉！", "")
	c.act("c1", bot.KindButton, "", "对，提交")
	var b strings.Builder
	run := func(line string) string {
		t.Helper()
		var out bytes.Buffer
		words := shellWords(t, line)
		err := runTicket(context.Background(), words[2:], &out, os.Getenv)
		fmt.Fprintf(&b, "$ %s\n%s", line, out.String())
		if err != nil {
			fmt.Fprintf(&b, "error: %v\n", err)
		}
		return out.String()
	}
	for _, line := range []string{
		`kefu ticket reply --as alice GD20261203001 "非常抱歉，我们马上处理"`,
		`kefu ticket task add --as alice --kind refund --owner finance:li --due "2030-01-31 18:00" GD20261203001 "退款 200 元"`,
		`kefu ticket task add --as alice --kind reship --owner warehouse --due 2030-02-01 GD20261203001`,
		`kefu ticket task list GD20261203001`,
		`kefu ticket resolve --as alice GD20261203001 "已退款"`,
		`kefu ticket task add --as alice --kind teleport --owner finance:li --due 24h GD20261203001`,
		`kefu ticket task add --as alice --kind refund --owner finance:li --due yesterday GD20261203001`,
		`kefu ticket task add --as alice --kind refund --due 24h GD20261203001`,
		`kefu ticket task add --as mallory --kind refund --owner finance:li --due 24h GD20261203001`,
		`kefu ticket task done --as alice GD20261203001 9`,
		`kefu ticket task done --as alice GD20261203001 x`,
		`kefu ticket task cancel --as alice GD20261203001 2`,
		`kefu ticket task done --as alice GD20261203001 1 "财务已退款"`,
		`kefu ticket task done --as alice GD20261203001 1`,
		`kefu ticket task cancel --as alice GD20261203001 2 "客户改为退款"`,
		`kefu ticket task reopen --as alice GD20261203001 2`,
		`kefu ticket task cancel --as alice GD20261203001 2 "客户改为退款"`,
		`kefu ticket task list GD20261203001`,
		`kefu ticket resolve --as alice GD20261203001 "已退款"`,
	} {
		run(line)
	}
	show := run("kefu ticket show GD20261203001")
	if !strings.Contains(show, "follow-through tasks") || !strings.Contains(show, "cancelled") {
		t.Errorf("ticket show lacks the tasks:\n%s", show)
	}
	// ticket show's times are the real clock's: keep the task lines only in the golden file.
	got := b.String()
	got = got[:strings.Index(got, "$ kefu ticket show")]
	path := filepath.Join("testdata", "ticket_task.golden")
	if *updateGolden {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/kefu -run TestTicketTaskCLI -update)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, diff)
	}
}

func TestParseDue(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
		bad  bool
	}{
		{"24h", now.Add(24 * time.Hour), false},
		{"90m", now.Add(90 * time.Minute), false},
		{"3d", now.Add(72 * time.Hour), false},
		{"2026-12-05 18:00", time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC), false},
		{"2026-12-05T18:00", time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC), false},
		{"2026-12-05", time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC), false},
		{"2026-12-05T18:00:00Z", time.Date(2026, 12, 5, 18, 0, 0, 0, time.UTC), false},
		{"-2h", time.Time{}, true},
		{"0d", time.Time{}, true},
		{"tomorrow", time.Time{}, true},
		{"", time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := parseDue(tt.in, now, loc)
		if (err != nil) != tt.bad || !got.Equal(tt.want) {
			t.Errorf("parseDue(%q) = %v, %v; want %v (bad %v)", tt.in, got, err, tt.want, tt.bad)
		}
	}
}
