package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/kb"
)

// TestKBLearnLoop: a customer picks one of the bot's candidates and says it helped; `kefu kb learn`
// lists their wording, a non-supervisor may not accept it, a supervisor does, and the served library
// then answers that wording directly.
func TestKBLearnLoop(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("KEFU_DATABASE_URL", filepath.Join(dir, "kefu.db"))
	t.Chdir(dir)
	cfgPath := filepath.Join(dir, "kefu.yaml")
	os.WriteFile(cfgPath, []byte("agents:\n  - id: cli:alice\n    name: alice\n  - id: cli:boss\n    name: boss\n    supervisor: true\n"), 0o600)
	ctx := context.Background()
	getenv := func(k string) string {
		if k == "USER" || k == "KEFU_AGENT" {
			return ""
		}
		return os.Getenv(k)
	}

	cfg, err := loadConfig(cfgPath, getenv)
	if err != nil {
		t.Fatal(err)
	}
	a, err := openApp(ctx, cfg, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	// A wording the sample library is unsure about: the bot offers candidates.
	const words = "装机要给师傅钱吗"
	hits := a.matcher.Match(words, "zh-CN", 3)
	if a.matcher.Decide(hits) != kb.Suggest {
		t.Fatalf("precondition: %q should get suggestions, got %v", words, hits)
	}
	target := ""
	for _, h := range hits {
		if h.Entry.ID == "installation" {
			target = h.Entry.ID
		}
	}
	if target == "" {
		t.Fatalf("precondition: installation not among %v", hits)
	}
	n := 0
	var buttons []bot.Button
	say := func(kind bot.Kind, text, action string) {
		n++
		payload := ""
		if kind == bot.KindButton { // buttons carry the session's sequence number: press the one offered
			for _, b := range buttons {
				if strings.HasSuffix(b.Payload, ":"+action) {
					payload = b.Payload
				}
			}
			if payload == "" {
				t.Fatalf("no %q button among %+v", action, buttons)
			}
		}
		ev := bot.Event{Channel: "web", MsgID: "m" + strconv.Itoa(n), ChatID: "s1", UserID: "s1", Kind: kind,
			Text: text, Payload: payload, LangHint: "zh-CN", At: time.Now()}
		if err := a.engine.Deliver(ctx, ev); err != nil {
			t.Fatalf("deliver %q: %v", text+action, err)
		}
		for range 10 { // the outbox hands out one reply per chat at a time: mark each sent, claim the next
			replies, err := a.db.ClaimOutbox(ctx, time.Now().Add(time.Minute), []bot.Channel{"web"}, time.Minute, 100)
			if err != nil {
				t.Fatal(err)
			}
			if len(replies) == 0 {
				break
			}
			for _, r := range replies {
				if len(r.Buttons) > 0 {
					buttons = r.Buttons
				}
				if err := a.db.MarkSent(ctx, r.OutboxID, "x", time.Now()); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	say(bot.KindText, "你好", "")
	say(bot.KindText, words, "")
	say(bot.KindButton, "", "pick:installation")
	say(bot.KindButton, "", "yes")
	a.Close()

	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := kbLearn(ctx, append([]string{"--config", cfgPath}, args...), &out, getenv)
		return out.String(), err
	}
	out, err := run()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, words) || !strings.Contains(out, "installation") {
		t.Fatalf("kb learn lists:\n%s", out)
	}
	if _, err := run("--accept", "all", "--as", "alice"); err == nil || !strings.Contains(err.Error(), "supervisor") {
		t.Fatalf("an agent accepted: %v", err)
	}
	if _, err := run("--accept", "7", "--as", "boss"); err == nil {
		t.Fatal("a number outside the list was accepted")
	}
	if out, err = run("--accept", "all", "--as", "boss"); err != nil || !strings.Contains(out, "1 wordings accepted") {
		t.Fatalf("accept: %v\n%s", err, out)
	}
	if out, _ = run(); !strings.Contains(out, "nothing to learn") {
		t.Fatalf("decided wording listed again:\n%s", out)
	}

	a, err = openApp(ctx, cfg, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	hits = a.matcher.Match(words, "zh-CN", 3)
	if len(hits) == 0 || hits[0].Entry.ID != "installation" || a.matcher.Decide(hits) != kb.Answer {
		t.Fatalf("after learning %q: %v, want install-fee answered", words, hits)
	}
}

func TestLearnableRefusesPersonalData(t *testing.T) {
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"装空调要钱吗", true},
		{"my order 12 is late", true},
		{"我的手机号13812345678换了", false},
		{"订单 2026 1123 0001 到哪了", false},
		{"mail me at a@b.example", false},
		{"", false},
		{strings.Repeat("长", 201), false},
	} {
		if got := kb.Learnable(tc.text); got != tc.want {
			t.Errorf("Learnable(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
}
