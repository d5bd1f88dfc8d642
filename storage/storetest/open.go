// Package storetest is the semantics suite every kefu database passes (SQLite always; PostgreSQL when
// KEFU_TEST_POSTGRES_DSN is set), plus helpers that open throwaway databases for other packages' tests.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/kefu-dev/kefu/internal/testenv"
	"github.com/kefu-dev/kefu/storage"
)

// EnvPostgres names the environment variable with the PostgreSQL DSN for tests.
const EnvPostgres = "KEFU_TEST_POSTGRES_DSN"

// Opener opens a fresh, empty, migrated database for one test (closed at cleanup).
type Opener func(t testing.TB) *storage.DB

// Dialects returns the databases to test on: SQLite always, PostgreSQL when EnvPostgres is set.
func Dialects() map[string]Opener {
	m := map[string]Opener{"sqlite": OpenSQLite}
	if os.Getenv(EnvPostgres) != "" {
		m["postgres"] = OpenPostgres
	}
	return m
}

// ForEach runs f once per dialect as a subtest; for PostgreSQL without EnvPostgres it adds a skipped
// subtest that says why.
func ForEach(t *testing.T, f func(t *testing.T, open Opener)) {
	t.Run("sqlite", func(t *testing.T) { f(t, OpenSQLite) })
	t.Run("postgres", func(t *testing.T) {
		if os.Getenv(EnvPostgres) == "" {
			testenv.Skip(t, testenv.Postgres, EnvPostgres+" is not set; set it to a PostgreSQL DSN (as .ci/run does) to run on PostgreSQL")
		}
		f(t, OpenPostgres)
	})
}

// OpenSQLite opens a new SQLite database in t.TempDir().
func OpenSQLite(t testing.TB) *storage.DB {
	t.Helper()
	return OpenSQLitePath(t, filepath.Join(t.TempDir(), "kefu.db"))
}

// OpenSQLitePath opens (or reopens) the SQLite database at path.
func OpenSQLitePath(t testing.TB, path string) *storage.DB {
	t.Helper()
	db, err := storage.Open(context.Background(), path, storage.Options{})
	if err != nil {
		t.Fatalf("storetest: open sqlite: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// OpenPostgres opens the database of EnvPostgres in a new schema of its own (dropped at cleanup), so
// tests never see each other's rows. It skips the test when EnvPostgres is not set.
func OpenPostgres(t testing.TB) *storage.DB {
	t.Helper()
	dsn, schema := PostgresSchemaDSN(t)
	db, err := storage.Open(context.Background(), dsn, storage.Options{})
	if err != nil {
		t.Fatalf("storetest: open postgres schema %s: %v", schema, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// PostgresSchemaDSN creates a fresh schema and returns a DSN that uses it (schema dropped at cleanup).
func PostgresSchemaDSN(t testing.TB) (dsn, schema string) {
	t.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		testenv.Skip(t, testenv.Postgres, EnvPostgres+" is not set")
	}
	var b [6]byte
	rand.Read(b[:])
	schema = "kefu_test_" + hex.EncodeToString(b[:])
	admin, err := gorm.Open(postgres.Open(base), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatalf("storetest: connect to %s: %v", EnvPostgres, err)
	}
	if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		t.Fatalf("storetest: create schema: %v", err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		if sqlDB, err := admin.DB(); err == nil {
			sqlDB.Close()
		}
	})
	return withSearchPath(base, schema), schema
}

func withSearchPath(dsn, schema string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		return dsn + sep + "search_path=" + schema
	}
	return dsn + " search_path=" + schema
}
