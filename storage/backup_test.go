package storage_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/kefu-dev/kefu/storage"
)

// TestRestoreRefusedWhileInUse: a restore over a database that a kefu process has open (kefu serve,
// or any command) is refused, the live files stay where they are, and once that process has closed
// the database the same restore goes through. Without this the restore renamed the database under the
// running server, which went on writing every new message into the *.before-restore-… file.
func TestRestoreRefusedWhileInUse(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	parsed, err := storage.ParseKeys(storage.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	keys, err := storage.NewKeyring(parsed...)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "kefu.db")
	db, err := storage.Open(ctx, path, storage.Options{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(dir, "backups", "kefu-1.db")
	if err := db.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	moved, err := storage.RestoreSQLite(ctx, backup, path, storage.RestoreOptions{Keys: keys, Force: true})
	if !errors.Is(err, storage.ErrDatabaseInUse) {
		t.Fatalf("restore under an open database: moved %v, err %v; want ErrDatabaseInUse", moved, err)
	}
	if len(moved) != 0 {
		t.Errorf("a refused restore moved %v", moved)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the live database is gone after a refused restore: %v", err)
	}
	if err := db.Ping(ctx); err != nil {
		t.Errorf("the open database stopped working: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := storage.RestoreSQLite(ctx, backup, path, storage.RestoreOptions{Keys: keys, Force: true}); err != nil {
		t.Fatalf("restore after the database was closed: %v", err)
	}
	// The restored database opens (and holds the in-use mark again while open).
	db2, err := storage.Open(ctx, path, storage.Options{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if _, err := storage.RestoreSQLite(ctx, backup, path, storage.RestoreOptions{Keys: keys, Force: true}); !errors.Is(err, storage.ErrDatabaseInUse) {
		t.Errorf("restore under the reopened database: %v", err)
	}
}
