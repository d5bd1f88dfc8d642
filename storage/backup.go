package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ErrDatabaseInUse says that a kefu process has the SQLite database open: a restore must wait until it
// has stopped (kefu serve, or a command still running).
var ErrDatabaseInUse = errors.New("storage: the database is in use")

// ErrBackupPostgres says that PostgreSQL is backed up with its own tools.
var ErrBackupPostgres = errors.New("storage: kefu backup/restore handle SQLite; back PostgreSQL up with pg_dump " +
	"(pg_dump --format=custom --file=kefu.dump \"$KEFU_DATABASE_URL\") and restore with pg_restore " +
	"(pg_restore --clean --if-exists --no-owner --dbname=\"$KEFU_DATABASE_URL\" kefu.dump)")

// Backup writes a consistent copy of the SQLite database to dest while kefu keeps running
// (VACUUM INTO: one read transaction, so the copy is a snapshot; writers are not blocked in WAL mode).
// dest must not exist. The copy holds personal data sealed with the database's key: the key is not
// in it (KeyFile says where it is), and a restore needs it.
func (db *DB) Backup(ctx context.Context, dest string) error {
	if db.dialect != SQLite {
		return ErrBackupPostgres
	}
	if _, err := os.Stat(dest); err == nil {
		return fmt.Errorf("storage: backup: %s already exists", dest)
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o700); err != nil {
		return fmt.Errorf("storage: backup: %w", err)
	}
	// Into a temporary name first, so a failed or interrupted backup never looks like a good one.
	tmp := dest + ".partial"
	os.Remove(tmp)
	if err := db.gdb.WithContext(ctx).Exec("VACUUM INTO ?", tmp).Error; err != nil {
		os.Remove(tmp)
		return fmt.Errorf("storage: backup: %w", err)
	}
	if err := syncFile(tmp); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, dest); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("storage: backup: %w", err)
	}
	return os.Chmod(dest, 0o600)
}

// KeyFile is the key file personal data is sealed with ("" when the key comes from
// KEFU_ENCRYPTION_KEY).
func (db *DB) KeyFile() string { return db.keys.File() }

// RestoreOptions tune RestoreSQLite.
type RestoreOptions struct {
	// Keys open the backup's personal data: the restore checks the backup was sealed with them
	// before it replaces anything. Nil: the keys the server will use, as Open finds them
	// (KEFU_ENCRYPTION_KEY, KEFU_ENCRYPTION_KEY_FILE, or kefu.key beside dest), which must exist:
	// a restore never makes a new key.
	Keys *Keyring
	// Force replaces an existing database; the old files are kept beside it as
	// NAME.before-restore-<time>.
	Force bool
	Now   func() time.Time
}

// RestoreSQLite checks that backup is a kefu SQLite database this build can run (integrity, schema
// not newer, sealed with o.Keys) and then puts it at dest (atomically: a copy, then a rename). kefu
// must not be running on dest: while any kefu process has it open the restore fails with ErrDatabaseInUse
// and changes nothing. It returns the names the replaced files were moved to.
func RestoreSQLite(ctx context.Context, backup, dest string, o RestoreOptions) (moved []string, err error) {
	if IsPostgresDSN(dest) {
		return nil, ErrBackupPostgres
	}
	if dest, err = sqlitePath(dest); err != nil {
		return nil, err
	}
	if o.Keys == nil {
		src := KeySourceFromEnv(os.Getenv, filepath.Join(filepath.Dir(dest), KeyFileName))
		if src.Key == "" {
			f := src.File
			if f == "" {
				f = src.DefaultFile
			}
			if _, err := os.Stat(f); err != nil {
				return nil, fmt.Errorf("storage: restore: the encryption key file %s is missing: put the key the backup was made with there "+
					"(or set KEFU_ENCRYPTION_KEY / KEFU_ENCRYPTION_KEY_FILE) before restoring", f)
			}
		}
		if o.Keys, err = LoadKeyring(src); err != nil {
			return nil, fmt.Errorf("storage: restore: %w", err)
		}
	}
	if err := checkSQLiteHeader(backup); err != nil {
		return nil, err
	}
	// Check a private copy: opening a database file can write to it (WAL), and the backup must stay as it is.
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return nil, fmt.Errorf("storage: restore: %w", err)
	}
	tmp := dest + ".restoring"
	removeSQLite(tmp)
	if err := copyFile(backup, tmp); err != nil {
		return nil, err
	}
	defer removeSQLite(tmp)
	if err := verifyBackup(ctx, tmp, o.Keys); err != nil {
		return nil, err
	}
	// Held until the rename: a kefu that opens dest meanwhile waits for nothing and fails (in use).
	lock, err := lockExclusive(dest)
	if err != nil {
		return nil, err
	}
	defer closeMark(lock)
	if _, err := os.Stat(dest); err == nil {
		if !o.Force {
			return nil, fmt.Errorf("storage: restore: %s exists: stop kefu, then restore with --force (the current files are kept as %s.before-restore-…)", dest, filepath.Base(dest))
		}
		now := time.Now
		if o.Now != nil {
			now = o.Now
		}
		suffix := ".before-restore-" + now().UTC().Format("20060102T150405Z")
		for _, ext := range []string{"", "-wal", "-shm"} {
			if _, err := os.Stat(dest + ext); err != nil {
				continue
			}
			if err := os.Rename(dest+ext, dest+ext+suffix); err != nil {
				return moved, fmt.Errorf("storage: restore: keep the current database: %w", err)
			}
			moved = append(moved, dest+ext+suffix)
		}
	}
	// The verified copy was checkpointed and closed: it is a complete database on its own.
	if err := os.Rename(tmp, dest); err != nil {
		return moved, fmt.Errorf("storage: restore: %w", err)
	}
	return moved, nil
}

func verifyBackup(ctx context.Context, path string, keys *Keyring) error {
	db, err := Open(ctx, path, Options{SkipMigrations: true, Keys: keys, MaxOpenConns: 1})
	if err != nil {
		return fmt.Errorf("storage: restore: the backup cannot be opened: %w", err)
	}
	defer db.Close()
	var res []string
	if err := db.gdb.WithContext(ctx).Raw("PRAGMA integrity_check").Scan(&res).Error; err != nil {
		return fmt.Errorf("storage: restore: integrity check: %w", err)
	}
	if len(res) != 1 || res[0] != "ok" {
		return fmt.Errorf("storage: restore: the backup is damaged: %s", strings.Join(res, "; "))
	}
	if !db.gdb.Migrator().HasTable("schema_migrations") {
		return errors.New("storage: restore: the file is an SQLite database but not a kefu one (no schema_migrations)")
	}
	if _, _, err := db.checkSchema(ctx); err != nil {
		return fmt.Errorf("storage: restore: %w", err)
	}
	if err := db.checkKey(ctx, true); err != nil {
		return fmt.Errorf("storage: restore: %w", err)
	}
	// Leave no WAL behind: the file alone is the database.
	if err := db.gdb.WithContext(ctx).Exec("PRAGMA wal_checkpoint(TRUNCATE)").Error; err != nil {
		return fmt.Errorf("storage: restore: checkpoint: %w", err)
	}
	return nil
}

func checkSQLiteHeader(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("storage: restore: %w", err)
	}
	defer f.Close()
	head := make([]byte, 16)
	if _, err := io.ReadFull(f, head); err != nil || string(head) != "SQLite format 3\x00" {
		return fmt.Errorf("storage: restore: %s is not an SQLite database (a kefu backup is one)", path)
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("storage: copy: %w", err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("storage: copy: %w", err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("storage: copy: %w", err)
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return fmt.Errorf("storage: copy: %w", err)
	}
	return out.Close()
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("storage: sync: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("storage: sync: %w", err)
	}
	return nil
}

func removeSQLite(path string) {
	for _, ext := range []string{"", "-wal", "-shm"} {
		os.Remove(path + ext)
	}
}
