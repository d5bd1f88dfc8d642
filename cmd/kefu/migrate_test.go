package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kefu-dev/kefu/storage"
)

// TestMigrateCommandsAndGuards: `kefu migrate status|up` on a fresh database; a CLI command refuses a
// database with pending migrations (pointing at `kefu migrate up`) instead of migrating it; the
// server refuses a schema newer than it knows with a clear message.
func TestMigrateCommandsAndGuards(t *testing.T) {
	ctx := context.Background()
	dsn := filepath.Join(t.TempDir(), "kefu.db")
	env := func(k string) string {
		switch k {
		case "KEFU_DATABASE_URL":
			return dsn
		case "KEFU_AGENT":
			return "alice"
		}
		return ""
	}
	known, _ := storage.Migrations()
	last := known[len(known)-1]

	var out bytes.Buffer
	if err := runMigrate(ctx, []string{"status"}, &out, env); err != nil {
		t.Fatal(err)
	}
	mustContain(t, "migrate status (fresh)", out.String(), "0001_init", "pending", "0 applied")
	out.Reset()
	if err := runMigrate(ctx, []string{"up"}, &out, env); err != nil {
		t.Fatal(err)
	}
	mustContain(t, "migrate up", out.String(), "applied", " 0 pending")
	if strings.Contains(out.String(), " pending\n") && !strings.Contains(out.String(), " 0 pending") {
		t.Errorf("after migrate up something is pending:\n%s", out.String())
	}

	// Take the newest migration back out: the database is now "older than this kefu".
	db := openRawDB(t, dsn)
	if err := db.Gorm().Exec("DELETE FROM schema_migrations WHERE version = ?", last.Version).Error; err != nil {
		t.Fatal(err)
	}
	var tout bytes.Buffer
	err := runTicket(ctx, []string{"list"}, &tout, env)
	if err == nil || !strings.Contains(err.Error(), "kefu migrate up") {
		t.Fatalf("kefu ticket list on a database with a pending migration: %v; want a refusal naming `kefu migrate up`", err)
	}
	out.Reset()
	runMigrate(ctx, []string{"status"}, &out, env)
	mustContain(t, "migrate status (one pending)", out.String(), " 1 pending")
	// (Its tables are still there, so put the record back rather than apply it again.)
	if err := db.Gorm().Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, CURRENT_TIMESTAMP)", last.Version, last.Name).Error; err != nil {
		t.Fatal(err)
	}
	if err := runTicket(ctx, []string{"list"}, io.Discard, env); err != nil {
		t.Fatalf("kefu ticket list on an up-to-date schema: %v", err)
	}

	// A newer kefu's migration.
	if err := db.Gorm().Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'from_the_future', CURRENT_TIMESTAMP)").Error; err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := runMigrate(ctx, []string{"status"}, &out, env); err == nil {
		t.Error("migrate status on a newer schema: exit 0")
	}
	mustContain(t, "migrate status (newer)", out.String(), "9999_from_the_future", "UNKNOWN")
	cfg, err := loadConfig("", env)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Metrics.Addr = "off"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	err = serve(ctx, cfg, ln, slog.New(slog.DiscardHandler), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "newer than this kefu") || !strings.Contains(err.Error(), "9999_from_the_future") {
		t.Fatalf("serve on a newer schema: %v", err)
	}
	if err := runMigrate(ctx, []string{"bogus"}, io.Discard, env); err == nil {
		t.Error("kefu migrate bogus: no usage error")
	}
}

// openRawDB opens the database without touching its schema.
func openRawDB(t *testing.T, dsn string) *storage.DB {
	t.Helper()
	db, err := storage.Open(context.Background(), dsn, storage.Options{SkipMigrations: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestHealthcheckCommand: 0 against a ready server (found through KEFU_ADDR, as in the container),
// an error when nothing listens.
func TestHealthcheckCommand(t *testing.T) {
	s := startServer(t, filepath.Join(t.TempDir(), "kefu.db"))
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(s.url, "http://"))
	var out bytes.Buffer
	env := func(k string) string {
		if k == "KEFU_ADDR" {
			return ":" + port
		}
		return ""
	}
	if err := runHealthcheck(context.Background(), nil, &out, env); err != nil {
		t.Fatalf("healthcheck against a ready server: %v", err)
	}
	mustContain(t, "healthcheck output", out.String(), "ready", "database: ok")
	s.stop()
	if err := runHealthcheck(context.Background(), []string{"--timeout", "1s"}, io.Discard, env); err == nil || !strings.Contains(err.Error(), "not ready") {
		t.Errorf("healthcheck with the server stopped: %v", err)
	}
}
