package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/pii"
	"github.com/kefu-dev/kefu/storage"
)

// TestKBDraftPublishReloads is the knowledge loop from the command line: a customer's complaint with
// their phone number is answered and resolved, `kefu kb add --from` makes a draft without the phone
// number, an agent may not publish it, the supervisor does, and a running server (another process
// with the database library watcher) answers from the new entry within faq.reload; kb stats counts it
// as the month's new entry; a rejected draft stays out of the library.
func TestKBDraftPublishReloads(t *testing.T) {
	env, _ := improveEnv(t)
	for _, k := range []string{"KEFU_CONFIG", "KEFU_DATABASE_URL"} {
		t.Setenv(k, env(k))
	}
	t.Setenv("KEFU_AGENT", "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// The server: its own app, watching the library's version every 20 ms.
	cfg, err := loadConfig("", os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	cfg.FAQ.Reload = 20 * time.Millisecond
	server, err := openApp(ctx, cfg, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	watched := make(chan error, 1)
	go func() { watched <- watchDBLibrary(ctx, server) }()

	c := &readmeCustomer{t: t}
	c.act("c1", bot.KindText, "你们的快递员态度恶劣，把我的冰箱摔坏了，我要投诉！电话 13812345678", "")
	c.act("c1", bot.KindButton, "", "对，提交")
	run := func(r func(context.Context, []string, *bytes.Buffer) error, args ...string) (string, error) {
		var out bytes.Buffer
		err := r(ctx, args, &out)
		return out.String(), err
	}
	ticket := func(ctx context.Context, args []string, out *bytes.Buffer) error {
		return runTicket(ctx, args, out, os.Getenv)
	}
	kbCmd := func(ctx context.Context, args []string, out *bytes.Buffer) error { return runKB(ctx, args, nil, out) }
	must := func(out string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return out
	}
	if _, err := run(kbCmd, "add", "--as", "alice", "--from", "GD20261203001"); err == nil || !strings.Contains(err.Error(), "not resolved yet") {
		t.Errorf("draft from an open ticket: %v", err)
	}
	must(run(ticket, "reply", "--as", "alice", "GD20261203001", "非常抱歉！冰箱摔坏可申请免费换新，我们 24 小时内安排上门取件，换新后回访 13812345678 确认。"))
	must(run(ticket, "resolve", "--as", "alice", "GD20261203001", "换新"))
	out := must(run(kbCmd, "add", "--as", "alice", "--from", "GD20261203001"))
	if !strings.Contains(out, "draft #1 from GD20261203001") || !strings.Contains(out, "免费换新") {
		t.Errorf("kb add: %s", out)
	}
	if pii.Leaks(out, []string{"13812345678"}) {
		t.Errorf("the draft shows the phone number:\n%s", out)
	}
	if _, err := run(kbCmd, "add", "--as", "alice", "--from", "GD20261203001"); err == nil || !strings.Contains(err.Error(), "draft #1 from it is waiting") {
		t.Errorf("second draft: %v", err)
	}
	if out := must(run(kbCmd, "drafts")); !strings.Contains(out, "#1  GD20261203001  zh-CN") || !strings.Contains(out, "[draft]") {
		t.Errorf("kb drafts: %s", out)
	}
	if _, err := run(kbCmd, "publish", "--as", "bob", "1"); !errors.Is(err, bot.ErrForbidden) {
		t.Errorf("an agent publishes: %v", err)
	}
	if server.matcher.Entry("faq-d1", "zh-CN") != nil {
		t.Fatal("the entry is served before it is published")
	}
	out = must(run(kbCmd, "publish", "--as", "sup", "--answer", "非常抱歉！冰箱在运输中摔坏可申请免费换新，我们 24 小时内安排上门取件。", "1"))
	if !strings.Contains(out, "draft #1 published as FAQ entry faq-d1 (zh-CN)") {
		t.Errorf("kb publish: %s", out)
	}
	deadline := time.Now().Add(5 * time.Second)
	for server.matcher.Entry("faq-d1", "zh-CN") == nil && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	e := server.matcher.Entry("faq-d1", "zh-CN")
	if e == nil {
		t.Fatal("the running server did not reload the published entry")
	}
	if !strings.Contains(e.Answer, "运输中摔坏") || pii.Leaks(e.Question+e.Answer, []string{"13812345678"}) {
		t.Errorf("served entry %+v", e)
	}
	if hits := server.matcher.Match("冰箱摔坏了怎么办", "zh-CN", 3); len(hits) == 0 {
		t.Error("the new entry matches nothing")
	}
	if _, err := run(kbCmd, "publish", "--as", "sup", "1"); !errors.Is(err, bot.ErrConflict) {
		t.Errorf("publish twice: %v", err)
	}
	// kb stats: the month's new entry.
	out = must(run(kbCmd, "stats"))
	if want := "New or revised entries in " + time.Now().Format("2006-01") + ": 1 (target >= 10: below the target)"; !strings.Contains(out, want) ||
		!strings.Contains(out, "faq-d1") || !strings.Contains(out, "Drafts waiting for a supervisor: 0") {
		t.Errorf("kb stats lacks %q:\n%s", want, out)
	}

	// A rejected draft: refused without a reason, then rejected; it never reaches the library.
	c2 := &readmeCustomer{t: t, seq: 100}
	c2.act("c2", bot.KindText, "你们的客服态度恶劣，我要投诉！", "")
	c2.act("c2", bot.KindButton, "", "对，提交")
	must(run(ticket, "reply", "--as", "alice", "GD20261203002", "抱歉，已批评教育。"))
	must(run(ticket, "resolve", "--as", "alice", "GD20261203002"))
	must(run(kbCmd, "add", "--as", "alice", "--from", "GD20261203002"))
	if _, err := run(kbCmd, "reject", "--as", "sup", "2"); !errors.Is(err, errUsage) {
		t.Errorf("reject without a reason: %v", err)
	}
	must(run(kbCmd, "reject", "--as", "sup", "2", "不适合公开"))
	if out := must(run(kbCmd, "drafts", "--all")); !strings.Contains(out, "[rejected by cli:sup: 不适合公开]") || !strings.Contains(out, "[published as faq-d1 by cli:sup]") {
		t.Errorf("kb drafts --all: %s", out)
	}
	if server.matcher.Entry("faq-d2", "zh-CN") != nil {
		t.Error("a rejected draft was published")
	}
	cancel()
	if err := <-watched; err != nil {
		t.Fatal(err)
	}
}

// TestKBCareStats: entries customers marked unhelpful are listed worst first; the month's changes
// count each entry once (new wins over revised) against the target of 10.
func TestKBCareStats(t *testing.T) {
	ctx := context.Background()
	_, dbPath := improveEnv(t)
	db, err := storage.Open(ctx, dbPath, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 12, 20, 10, 0, 0, 0, time.UTC)
	var cs []storage.FAQChange
	for i := range 10 {
		cs = append(cs, storage.FAQChange{EntryID: "e" + string(rune('a'+i)), Lang: "zh-CN", Change: "revised", Source: "slack", At: now.AddDate(0, 0, -i)})
	}
	cs = append(cs, storage.FAQChange{EntryID: "ea", Lang: "zh-CN", Change: "new", Source: "draft", At: now},
		storage.FAQChange{EntryID: "old", Lang: "zh-CN", Change: "new", Source: "draft", At: now.AddDate(0, -1, 0)})
	if err := db.RecordFAQChanges(ctx, cs); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	stats := []storage.FAQStat{{EntryID: "fine", Cited: 9, Helped: 9}, {EntryID: "meh", Cited: 4, Helped: 3, NotHelped: 1},
		{EntryID: "bad", Cited: 5, Helped: 1, NotHelped: 4}}
	if err := kbCareStats(ctx, db, &out, stats, now); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{"bad    4           1       5\nmeh    1           3       4\n",
		"New or revised entries in 2026-12: 10 (target >= 10: target met)", "ea     zh-CN  new", "eb     zh-CN  revised"} {
		if !strings.Contains(got, want) {
			t.Errorf("lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "fine") || strings.Contains(got, "old ") {
		t.Errorf("lists an entry nobody marked unhelpful, or last month's change:\n%s", got)
	}
}
