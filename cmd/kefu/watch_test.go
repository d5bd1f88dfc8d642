package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

// TestWatchDBLibraryAcceptsAnyReload: faq.reload of 0 or below in kefu.yaml passes validation (the
// file watcher falls back to its default), so the database library watcher that serve runs with no
// faq.file must not panic on it (time.NewTicker does on a non-positive interval) and take the
// server down.
func TestWatchDBLibraryAcceptsAnyReload(t *testing.T) {
	for _, reload := range []string{"0s", "-1s"} {
		t.Run(reload, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "kefu.yaml")
			yaml := fmt.Sprintf("database_url: %s\nfaq:\n  reload: %s\n", filepath.Join(dir, "kefu.db"), reload)
			if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, err := loadConfig(path, func(string) string { return "" })
			if err != nil {
				t.Skipf("rejected by the config (a clear error is fine too): %v", err)
			}
			a, err := openApp(context.Background(), cfg, slog.New(slog.DiscardHandler), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("watchDBLibrary panicked with faq.reload %s: %v", reload, p)
				}
			}()
			if err := watchDBLibrary(ctx, a); err != nil {
				t.Fatal(err)
			}
		})
	}
}
