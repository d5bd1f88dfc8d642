package main

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/kefu-dev/kefu/adapters/slack"
	"github.com/kefu-dev/kefu/bot"
)

// TestFAQAdmin adds and edits FAQ entries the way `/kefu faq add|edit` does: the bot answers from the
// change at once, and the rest of the library (the bundled sample here) is kept.
func TestFAQAdmin(t *testing.T) {
	ctx := context.Background()
	cfg := defaultConfig()
	cfg.DatabaseURL = filepath.Join(t.TempDir(), "kefu.db")
	a, err := openApp(ctx, cfg, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	before := a.matcher.Library().Len()
	f := faqAdmin{a}
	agent := bot.Actor{ID: "slack:U1"}

	e, err := f.Add(ctx, agent, slack.FAQEntry{Lang: "zh-CN", Question: "你们的门店几点开门？", Answer: "门店每天早上9点开门。"})
	if err != nil {
		t.Fatal(err)
	}
	hits := a.matcher.Match("门店几点开门", "zh-CN", 1)
	if len(hits) == 0 || hits[0].Entry.ID != e.ID {
		t.Fatalf("the new entry is not found: %+v", hits)
	}
	if got := a.matcher.Library().Len(); got != before+1 {
		t.Fatalf("library has %d entries, want %d (the sample kept, plus one)", got, before+1)
	}
	if _, err := f.Edit(ctx, agent, e.ID, "门店每天早上10点开门。"); err != nil {
		t.Fatal(err)
	}
	if got := a.matcher.Entry(e.ID, "zh-CN").Answer; got != "门店每天早上10点开门。" {
		t.Fatalf("edited answer = %q", got)
	}
	if _, err := f.Edit(ctx, agent, "no-such-entry", "x"); !errors.Is(err, bot.ErrNotFound) {
		t.Fatalf("editing an unknown entry: %v, want ErrNotFound", err)
	}
	if _, err := f.Add(ctx, agent, slack.FAQEntry{Lang: "zh-CN", Question: "only a question"}); !errors.Is(err, bot.ErrBadInput) {
		t.Fatalf("adding without an answer: %v, want ErrBadInput", err)
	}
	res, err := f.Search(ctx, "门店开门时间", "zh-CN", 3)
	if err != nil || len(res) == 0 || res[0].ID != e.ID {
		t.Fatalf("search: %+v %v", res, err)
	}

	// A library kept in a file is edited there.
	a.cfg.FAQ.File = "faq.yaml"
	if _, err := f.Add(ctx, agent, slack.FAQEntry{Lang: "zh-CN", Question: "q", Answer: "a"}); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("add with faq.file set: %v, want ErrUnsupported", err)
	}
}
