package storage_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kefu-dev/kefu/storage"
	"github.com/kefu-dev/kefu/storage/storetest"
)

// migrationDSNs are fresh databases by DSN (the tests reopen them).
func migrationDSNs(t *testing.T) map[string]func(t *testing.T) string {
	return map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "kefu.db") },
		"postgres": func(t *testing.T) string { dsn, _ := storetest.PostgresSchemaDSN(t); return dsn },
	}
}

// TestSchemaGuards: the status lists every migration; a schema with a migration this build does not
// know is refused by every opening mode (with the names), and a partly migrated database is refused by
// MigrateIfEmpty (the CLI) but not by SkipMigrations.
func TestSchemaGuards(t *testing.T) {
	for name, dsnFor := range migrationDSNs(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			dsn := dsnFor(t)
			open := func(o storage.Options) (*storage.DB, error) {
				db, err := storage.Open(ctx, dsn, o)
				if err == nil {
					t.Cleanup(func() { db.Close() })
				}
				return db, err
			}
			// An empty database: MigrateIfEmpty creates the schema (zero-setup CLI use).
			db, err := open(storage.Options{Migrate: storage.MigrateIfEmpty})
			if err != nil {
				t.Fatalf("empty database with MigrateIfEmpty: %v", err)
			}
			known, _ := storage.Migrations()
			sts, err := db.MigrationStatus(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(sts) != len(known) {
				t.Fatalf("status has %d rows, want %d", len(sts), len(known))
			}
			for _, st := range sts {
				if !st.Known || !st.Applied || st.AppliedAt.IsZero() {
					t.Errorf("after migrating: %+v", st)
				}
			}

			// A migration is missing: the CLI mode refuses, the server mode would apply.
			last := known[len(known)-1]
			if err := db.Gorm().Exec("DELETE FROM schema_migrations WHERE version = ?", last.Version).Error; err != nil {
				t.Fatal(err)
			}
			if _, err := open(storage.Options{Migrate: storage.MigrateIfEmpty}); !errors.Is(err, storage.ErrPendingMigrations) {
				t.Errorf("pending migration with MigrateIfEmpty: %v, want ErrPendingMigrations", err)
			}
			sts, _ = db.MigrationStatus(ctx)
			if st := sts[len(sts)-1]; st.Version != last.Version || st.Applied {
				t.Errorf("the deleted migration's status: %+v", st)
			}
			if err := db.Gorm().Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
				last.Version, last.Name, sts[0].AppliedAt).Error; err != nil {
				t.Fatal(err)
			}

			// A newer kefu's migration: refused by Apply, IfEmpty and Migrate; SkipMigrations still opens.
			if err := db.Gorm().Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'from_the_future', ?)", sts[0].AppliedAt).Error; err != nil {
				t.Fatal(err)
			}
			for _, mode := range []storage.MigrateMode{storage.MigrateApply, storage.MigrateIfEmpty} {
				_, err := open(storage.Options{Migrate: mode})
				var tooNew *storage.SchemaTooNewError
				if !errors.As(err, &tooNew) || !strings.Contains(err.Error(), "9999_from_the_future") || !strings.Contains(err.Error(), "newer") {
					t.Errorf("mode %d on a newer schema: %v", mode, err)
				}
			}
			if err := db.Migrate(ctx); err == nil {
				t.Error("Migrate on a newer schema succeeded")
			}
			if _, err := open(storage.Options{SkipMigrations: true}); err != nil {
				t.Errorf("SkipMigrations on a newer schema: %v", err)
			}
		})
	}
}
