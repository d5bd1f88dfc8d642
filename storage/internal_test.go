package storage

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestTransient(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("storage: x: %w", &pgconn.PgError{Code: "40P01"}), true},
		{&pgconn.PgError{Code: "40001"}, true},
		{&pgconn.PgError{Code: "23505"}, false},
		{errors.New("database is locked (5) (SQLITE_BUSY)"), true},
		{errors.New("no such table"), false},
	} {
		if got := transient(tc.err); got != tc.want {
			t.Errorf("transient(%v) = %v", tc.err, got)
		}
	}
}

func TestSplitSQL(t *testing.T) {
	got := splitSQL("-- comment\nCREATE TABLE a (\n  x INT\n);\n\nCREATE INDEX i ON a (x);\n")
	if len(got) != 2 || got[0] != "CREATE TABLE a (\n  x INT\n);" || got[1] != "CREATE INDEX i ON a (x);" {
		t.Errorf("splitSQL = %q", got)
	}
	// A $$ body keeps its semicolons and comment lines; a dialect marker selects the database.
	fn := "/* postgres */ CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n    -- note\n    PERFORM 1;\n    RETURN NULL;\nEND\n$$;"
	got = splitSQL("-- c\n" + fn + "\n/* sqlite */ SELECT 1;\nSELECT 2;\n")
	if len(got) != 3 || got[0] != fn || got[1] != "/* sqlite */ SELECT 1;" || got[2] != "SELECT 2;" {
		t.Fatalf("splitSQL with a function body = %q", got)
	}
	for i, want := range []struct {
		d  Dialect
		ok bool
	}{{Postgres, true}, {SQLite, true}, {"", false}} {
		if d, ok := dialectOnly(got[i]); d != want.d || ok != want.ok {
			t.Errorf("dialectOnly(%q) = %q, %v", got[i], d, ok)
		}
	}
}

// TestStatementJournalSetting: the first SQLite Open of a process sets SQLite's statement journal to
// memory in small chunks before SQLite initializes (sqlite_tune.go); a setting SQLite refused would
// leave every multi-row statement paying an mmap and a munmap.
func TestStatementJournalSetting(t *testing.T) {
	db, err := Open(t.Context(), "sqlite://"+t.TempDir()+"/k.db", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if stmtJournalRC != 0 {
		t.Fatalf("sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL) = %d, want SQLITE_OK", stmtJournalRC)
	}
}

// TestBackgroundCheckpoint: on SQLite a goroutine copies the write-ahead log back into the database
// file, so the group-commit writer's COMMITs do not (checkpoint.go), and a connection checkpoints by
// itself only past writerCheckpointPages.
func TestBackgroundCheckpoint(t *testing.T) {
	db, err := Open(t.Context(), "sqlite://"+t.TempDir()+"/k.db", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var pages int
	if err := db.gdb.Raw("PRAGMA wal_autocheckpoint").Scan(&pages).Error; err != nil {
		t.Fatal(err)
	}
	if pages != writerCheckpointPages {
		t.Errorf("wal_autocheckpoint = %d, want %d", pages, writerCheckpointPages)
	}
	runs0, _ := db.CheckpointStats()
	if err := db.gdb.Exec("CREATE TABLE ck (v TEXT)").Error; err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		if err := db.gdb.Exec("INSERT INTO ck (v) VALUES (?)", fmt.Sprint(i)).Error; err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		runs, copied := db.CheckpointStats()
		if runs > runs0 && copied > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no background checkpoint after 10 s: %d runs, %d pages", runs, copied)
		}
		time.Sleep(20 * time.Millisecond)
	}
	db.Close()
	runs, _ := db.CheckpointStats()
	time.Sleep(3 * checkpointEvery)
	if after, _ := db.CheckpointStats(); after != runs {
		t.Errorf("checkpoints after Close: %d → %d", runs, after)
	}
}
