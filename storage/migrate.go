package storage

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migration is one numbered schema change.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations returns the embedded migrations in order.
func Migrations() ([]Migration, error) {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("storage: list migrations: %w", err)
	}
	var ms []Migration
	seen := map[int]string{}
	for _, n := range names {
		base := path.Base(n)
		num, rest, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("storage: migration %s: name must be NNNN_name.sql", base)
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("storage: migrations %s and %s share version %d", prev, base, v)
		}
		seen[v] = base
		b, err := migrationFS.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("storage: read migration %s: %w", base, err)
		}
		ms = append(ms, Migration{Version: v, Name: strings.TrimSuffix(rest, ".sql"), SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	return ms, nil
}

// The migration files are plain SQL shared by both databases; the few type names that differ are
// placeholders. This tiny substitution is hand-written because a migration library (goose, migrate)
// would need two copies of every file for the two dialects.
func (db *DB) render(sql string) string {
	var pk, ts string
	switch db.dialect {
	case Postgres:
		pk, ts = "BIGSERIAL PRIMARY KEY", "TIMESTAMPTZ"
	default:
		pk, ts = "INTEGER PRIMARY KEY AUTOINCREMENT", "TIMESTAMP"
	}
	return strings.NewReplacer("{{pk}}", pk, "{{ts}}", ts).Replace(sql)
}

// splitSQL splits a migration into statements at semicolons that end a line; comment lines go.
// Inside a $$-quoted body (a PostgreSQL function) lines are kept whole and semicolons do not split.
func splitSQL(sql string) []string {
	var out []string
	var cur strings.Builder
	inBody := false
	for _, line := range strings.Split(sql, "\n") {
		t := strings.TrimSpace(line)
		if !inBody && (t == "" || strings.HasPrefix(t, "--")) {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.Count(line, "$$")%2 == 1 {
			inBody = !inBody
		}
		if !inBody && strings.HasSuffix(t, ";") {
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}

// Migrate applies pending migrations, each in its own transaction, and records them in
// schema_migrations. It is idempotent and safe when several processes start at once (PostgreSQL
// advisory lock; SQLite's write lock). It refuses a schema with migrations this build does not know
// (*SchemaTooNewError).
func (db *DB) Migrate(ctx context.Context) error {
	if _, _, err := db.checkSchema(ctx); err != nil {
		return err // a newer kefu's schema, or the database cannot be read
	}
	ms, err := Migrations()
	if err != nil {
		return err
	}
	g := db.gdb.WithContext(ctx)
	err = g.Transaction(func(tx *gorm.DB) error {
		if db.dialect == Postgres {
			// Concurrent CREATE TABLE IF NOT EXISTS can still collide in PostgreSQL's catalog.
			if err := tx.Exec("SELECT pg_advisory_xact_lock(7340417)").Error; err != nil {
				return err
			}
		}
		return tx.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY,
		name TEXT NOT NULL,
		applied_at ` + db.render("{{ts}}") + ` NOT NULL)`).Error
	})
	if err != nil {
		return fmt.Errorf("storage: migrate: create schema_migrations: %w", err)
	}
	for _, m := range ms {
		err := g.Transaction(func(tx *gorm.DB) error {
			if db.dialect == Postgres {
				if err := tx.Exec("SELECT pg_advisory_xact_lock(7340417)").Error; err != nil {
					return err
				}
			}
			var n int64
			if err := tx.Raw("SELECT COUNT(*) FROM schema_migrations WHERE version = ?", m.Version).Scan(&n).Error; err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			for _, stmt := range splitSQL(db.render(m.SQL)) {
				if only, ok := dialectOnly(stmt); ok && only != db.dialect {
					continue
				}
				if err := tx.Exec(stmt).Error; err != nil {
					return fmt.Errorf("%q: %w", firstLine(stmt), err)
				}
			}
			db.log.InfoContext(ctx, "migration applied", "version", m.Version, "name", m.Name)
			return tx.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
				m.Version, m.Name, time.Now().UTC()).Error
		})
		if err != nil {
			return fmt.Errorf("storage: migrate %04d_%s: %w", m.Version, m.Name, err)
		}
	}
	return nil
}

// dialectOnly reads the marker of a statement that only one database runs: a statement starting
// "/* postgres */" or "/* sqlite */" (the rest are shared).
func dialectOnly(stmt string) (Dialect, bool) {
	for _, d := range []Dialect{Postgres, SQLite} {
		if strings.HasPrefix(stmt, "/* "+string(d)+" */") {
			return d, true
		}
	}
	return "", false
}

// SchemaVersion returns the highest applied migration.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v *int
	if err := db.gdb.WithContext(ctx).Raw("SELECT MAX(version) FROM schema_migrations").Scan(&v).Error; err != nil {
		return 0, fmt.Errorf("storage: schema version: %w", err)
	}
	if v == nil {
		return 0, nil
	}
	return *v, nil
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
