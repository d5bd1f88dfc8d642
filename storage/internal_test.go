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

// TestSQLiteTimesOfTheOldDriver: databases written before the driver change (glebarez/go-sqlite) hold
// times as "2006-01-02 15:04:05.999999999-07:00" text; they read back as the same instants, new times
// are written the same way, and a date() result stays text (the reports' trend keys).
func TestSQLiteTimesOfTheOldDriver(t *testing.T) {
	db, err := Open(t.Context(), "sqlite://"+t.TempDir()+"/k.db", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	g := db.gdb
	if err := g.Exec("CREATE TABLE tt (id INTEGER PRIMARY KEY, at TIMESTAMP NOT NULL)").Error; err != nil {
		t.Fatal(err)
	}
	if err := g.Exec("INSERT INTO tt (id, at) VALUES (1, '2026-11-01 10:00:00.25+08:00')").Error; err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 11, 1, 2, 0, 0, 250_000_000, time.UTC)
	var got time.Time
	if err := g.Raw("SELECT at FROM tt WHERE id = 1").Row().Scan(&got); err != nil {
		t.Fatal(err)
	}
	if !got.Equal(want) {
		t.Errorf("old row read as %v, want %v", got, want)
	}
	if err := g.Exec("INSERT INTO tt (id, at) VALUES (2, ?)", want).Error; err != nil {
		t.Fatal(err)
	}
	var text, day string
	if err := g.Raw("SELECT CAST(at AS TEXT), date(at, '+28800 seconds') FROM tt WHERE id = 2").Row().Scan(&text, &day); err != nil {
		t.Fatal(err)
	}
	if text != "2026-11-01 02:00:00.25+00:00" || day != "2026-11-01" {
		t.Errorf("new row stored as %q, date() %q; want %q and %q", text, day, "2026-11-01 02:00:00.25+00:00", "2026-11-01")
	}
}

// TestHotStatementsPrepared: on SQLite every statement of a returning customer's FAQ message is
// prepared at Open (prepared.go), so none is compiled again per message.
func TestHotStatementsPrepared(t *testing.T) {
	db, err := Open(t.Context(), "sqlite://"+t.TempDir()+"/k.db", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	known, _ := knownQuery(SQLite, "", "", db.keys.Hashes("u"))
	for _, q := range []string{sqlInsertInbound, sqlInsertOutbox, sqlInsertOutMessage, updateSession,
		sqlInsertCitations + sqlCitationRow, known} {
		if db.hot[q] == nil {
			t.Errorf("not prepared: %.60s…", q)
		}
	}
}
