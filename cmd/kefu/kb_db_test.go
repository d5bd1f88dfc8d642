package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKBImportReplacesSample imports a library into the database and checks that the engine's matcher
// answers from it instead of the bundled sample, and that kb stats runs on it.
func TestKBImportReplacesSample(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "kefu.db")
	faq := filepath.Join(dir, "faq.jsonl")
	os.WriteFile(faq, []byte(`{"id":"opening-hours","question":"你们几点开门？","answer":"我们每天9点开门。","examples":["营业时间是几点","几点上班"],"category":"store","locale":"zh-CN"}
{"id":"opening-hours","question":"When do you open?","answer":"We open at 9 every day.","examples":["what are your opening hours"],"category":"store","locale":"en"}
`), 0o644)
	t.Setenv("KEFU_DATABASE_URL", dbPath)
	t.Chdir(dir)

	var out bytes.Buffer
	if err := kbImport(context.Background(), []string{faq}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "imported 2 entries") {
		t.Fatalf("import said %q", out.String())
	}
	cfg, err := loadConfig("", os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	a, err := openApp(context.Background(), cfg, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	hits := a.matcher.Match("营业时间是几点", "zh-CN", 3)
	if len(hits) == 0 || hits[0].Entry.ID != "opening-hours" {
		t.Fatalf("want the imported entry first, got %+v", hits)
	}
	if e := a.matcher.Entry("warranty-period", "zh-CN"); e != nil {
		t.Fatalf("the bundled sample is still loaded: %+v", e)
	}
	out.Reset()
	if err := kbStats(context.Background(), nil, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "unanswered") {
		t.Fatalf("stats output: %s", out.String())
	}
}
