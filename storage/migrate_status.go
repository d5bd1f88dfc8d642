package storage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// MigrateMode is what Open does with pending migrations.
type MigrateMode int

const (
	// MigrateApply applies pending migrations (under the lock; once). kefu serve and kefu migrate up.
	MigrateApply MigrateMode = iota
	// MigrateIfEmpty creates the schema of an empty database (nothing can run on it yet) but refuses,
	// with ErrPendingMigrations, a database that has some migrations and lacks others: upgrading the
	// schema under a running server is for `kefu migrate up` or the server, not a side effect of
	// `kefu ticket list`. The other CLI commands.
	MigrateIfEmpty
)

// ErrPendingMigrations is returned by Open with MigrateIfEmpty when the schema is behind this build.
var ErrPendingMigrations = errors.New("storage: the database schema is older than this kefu: run `kefu migrate up` (or start `kefu serve`, which migrates) first")

// SchemaTooNewError is returned when the database has migrations this build does not know: a newer
// kefu upgraded it. Running an older kefu on it could corrupt data, so it refuses.
type SchemaTooNewError struct {
	Unknown []MigrationState // applied, not known here
	Known   int              // the newest version this build knows
}

func (e *SchemaTooNewError) Error() string {
	names := make([]string, len(e.Unknown))
	for i, m := range e.Unknown {
		names[i] = fmt.Sprintf("%04d_%s", m.Version, m.Name)
	}
	return fmt.Sprintf("storage: the database schema is newer than this kefu: it has migration(s) %s, this kefu knows up to %04d. "+
		"It was upgraded by a newer kefu: run that version (or newer), or restore a backup taken before the upgrade",
		strings.Join(names, ", "), e.Known)
}

// MigrationState is one migration as `kefu migrate status` shows it.
type MigrationState struct {
	Version   int
	Name      string
	Known     bool      // this build has it
	Applied   bool      // the database has it
	AppliedAt time.Time // when (zero if pending)
}

// MigrationStatus lists every migration this build knows and every one the database has, by version.
func (db *DB) MigrationStatus(ctx context.Context) ([]MigrationState, error) {
	known, err := Migrations()
	if err != nil {
		return nil, err
	}
	by := map[int]*MigrationState{}
	for _, m := range known {
		by[m.Version] = &MigrationState{Version: m.Version, Name: m.Name, Known: true}
	}
	if db.gdb.WithContext(ctx).Migrator().HasTable("schema_migrations") {
		var rows []struct {
			Version   int
			Name      string
			AppliedAt time.Time
		}
		if err := db.gdb.WithContext(ctx).Raw("SELECT version, name, applied_at FROM schema_migrations").Scan(&rows).Error; err != nil {
			return nil, fmt.Errorf("storage: migration status: %w", err)
		}
		for _, r := range rows {
			st := by[r.Version]
			if st == nil {
				st = &MigrationState{Version: r.Version, Name: r.Name}
				by[r.Version] = st
			}
			st.Applied, st.AppliedAt = true, r.AppliedAt.UTC()
		}
	}
	out := make([]MigrationState, 0, len(by))
	for _, st := range by {
		out = append(out, *st)
	}
	slices.SortFunc(out, func(a, b MigrationState) int { return a.Version - b.Version })
	return out, nil
}

// checkSchema returns a *SchemaTooNewError when the database has migrations this build lacks, and
// how many migrations are applied and pending.
func (db *DB) checkSchema(ctx context.Context) (applied, pending int, err error) {
	sts, err := db.MigrationStatus(ctx)
	if err != nil {
		return 0, 0, err
	}
	tooNew := &SchemaTooNewError{}
	for _, st := range sts {
		switch {
		case !st.Known:
			tooNew.Unknown = append(tooNew.Unknown, st)
		case st.Applied:
			applied++
		default:
			pending++
		}
		if st.Known {
			tooNew.Known = max(tooNew.Known, st.Version)
		}
	}
	if len(tooNew.Unknown) > 0 {
		return applied, pending, tooNew
	}
	return applied, pending, nil
}

// migrateOnOpen does what o says with the schema.
func (db *DB) migrateOnOpen(ctx context.Context, o Options) error {
	if o.SkipMigrations {
		return nil
	}
	applied, pending, err := db.checkSchema(ctx)
	if err != nil {
		return err
	}
	if pending == 0 {
		return nil
	}
	if o.Migrate == MigrateIfEmpty && applied > 0 {
		return ErrPendingMigrations
	}
	return db.Migrate(ctx)
}
