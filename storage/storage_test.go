package storage_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/kefu-dev/kefu/adapters/slack"
	"github.com/kefu-dev/kefu/adapters/web"
	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/internal/testenv"
	"github.com/kefu-dev/kefu/storage"
	"github.com/kefu-dev/kefu/storage/storetest"
)

// TestStoreSemantics runs the conformance suite on SQLite always and on PostgreSQL when
// KEFU_TEST_POSTGRES_DSN is set.
func TestStoreSemantics(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) { storetest.Run(t, open) })
}

// The adapters declare the small stores they need; storage.DB must satisfy them.
var (
	_ web.Store   = (*storage.DB)(nil)
	_ slack.Store = (*storage.DB)(nil)
	_ bot.Store   = (*storage.DB)(nil)
)

func TestOpenDSNs(t *testing.T) {
	for _, tc := range []struct {
		dsn  string
		want storage.Dialect
	}{
		{"postgres://u@h/db", storage.Postgres},
		{"postgresql://u@h/db?sslmode=disable", storage.Postgres},
		{"host=/tmp user=app dbname=app", storage.Postgres},
		{"./data/kefu.db", storage.SQLite},
		{"sqlite://./x.db", storage.SQLite},
		{"", storage.SQLite},
	} {
		if got := storage.IsPostgresDSN(tc.dsn); got != (tc.want == storage.Postgres) {
			t.Errorf("IsPostgresDSN(%q) = %v", tc.dsn, got)
		}
	}
	dir := t.TempDir()
	ctx := context.Background()
	// sqlite:// form, creating missing directories; opening twice migrates once.
	path := filepath.Join(dir, "nested", "dir", "kefu.db")
	for i := 0; i < 2; i++ {
		db, err := storage.Open(ctx, "sqlite://"+path, storage.Options{})
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		if db.Dialect() != storage.SQLite {
			t.Errorf("dialect %s", db.Dialect())
		}
		var mode string
		if err := db.Gorm().Raw("PRAGMA journal_mode").Scan(&mode).Error; err != nil || mode != "wal" {
			t.Errorf("journal_mode = %q, %v; want wal", mode, err)
		}
		var fk int
		if err := db.Gorm().Raw("PRAGMA foreign_keys").Scan(&fk).Error; err != nil || fk != 1 {
			t.Errorf("foreign_keys = %d, %v", fk, err)
		}
		db.Close()
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database file: %v", err)
	}
	if _, err := storage.Open(ctx, ":memory:", storage.Options{}); err == nil {
		t.Error("in-memory SQLite accepted")
	}
}

// TestConcurrentStartups: several processes starting at once on an empty database migrate it once,
// without errors.
func TestConcurrentStartups(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			dsn := filepath.Join(t.TempDir(), "kefu.db")
			if dialect == "postgres" {
				if os.Getenv(storetest.EnvPostgres) == "" {
					testenv.Skip(t, testenv.Postgres, storetest.EnvPostgres+" is not set")
				}
				dsn, _ = storetest.PostgresSchemaDSN(t)
			}
			var wg sync.WaitGroup
			errs := make(chan error, 4)
			for i := 0; i < 4; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					db, err := storage.Open(context.Background(), dsn, storage.Options{})
					if err == nil {
						db.Close()
					}
					errs <- err
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Errorf("concurrent open: %v", err)
				}
			}
			db, err := storage.Open(context.Background(), dsn, storage.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var n int64
			if err := db.Gorm().Raw("SELECT COUNT(*) FROM schema_migrations").Scan(&n).Error; err != nil {
				t.Fatal(err)
			}
			ms, _ := storage.Migrations()
			if int(n) != len(ms) {
				t.Errorf("%d migrations recorded, want %d", n, len(ms))
			}
		})
	}
}
