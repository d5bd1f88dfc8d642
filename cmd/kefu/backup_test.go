package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/storage"
)

// TestBackupRestoreRoundTrip: demo traffic, a backup taken while the server runs and customers chat,
// more traffic after it, then a restore (first refused without the key and without --force): the
// restored database gives the same report numbers as at backup time, and the server starts on it.
func TestBackupRestoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dsn := filepath.Join(dir, "live", "kefu.db")
	env := dbEnv(dsn)
	t.Setenv("KEFU_DATABASE_URL", dsn) // kefu report reads it from the process environment
	// The key must come from the file beside each database (what the test is about), not from a key
	// the environment provides to every test (scripts/with-postgres.sh sets KEFU_ENCRYPTION_KEY_FILE).
	t.Setenv("KEFU_ENCRYPTION_KEY_FILE", "")
	t.Setenv("KEFU_ENCRYPTION_KEY", "")
	if err := runDemo(ctx, []string{"--days", "20", "--per-day", "6", "--seed", "7"}, io.Discard, env); err != nil {
		t.Fatal(err)
	}
	// Reports depend on "now" (backlog ages, open tickets past their deadline): pin it, so that two
	// reports of the same data are equal.
	pinned := time.Now()
	old := improveClock
	improveClock = func() time.Time { return pinned }
	t.Cleanup(func() { improveClock = old })
	// Days are the service's days (Asia/Shanghai by default): up to tomorrow, so that a chat just after
	// midnight there (still "today" in UTC) is inside the range.
	today := time.Now().AddDate(0, 0, 1).Format("2006-01-02")
	from := time.Now().AddDate(0, 0, -40).Format("2006-01-02")
	report := func() string {
		t.Helper()
		var b bytes.Buffer
		if err := runReport(ctx, []string{"--format", "json", "--from", from, "--to", today}, &b, env); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	before := report()
	if !strings.Contains(before, `"tickets_created"`) {
		t.Fatalf("report: %s", before)
	}

	// Online: the server runs and a customer chats while the backup is taken.
	s := startServer(t, dsn)
	sess := s.session()
	s.say(sess, nil, "你好")
	backup := filepath.Join(dir, "backups", "kefu-1.db")
	var out bytes.Buffer
	if err := runBackup(ctx, []string{backup}, &out, env); err != nil {
		t.Fatal(err)
	}
	mustContain(t, "backup output", out.String(), backup, "kefu.key")
	if err := runBackup(ctx, []string{backup}, io.Discard, env); err == nil {
		t.Error("a second backup over the first was allowed")
	}
	s.say(sess, nil, "保修期是多久？")
	// A restore while the server runs is refused and moves nothing: it would swap the file under the
	// server, which would go on writing into the moved-away copy.
	out.Reset()
	if err := runRestore(ctx, []string{"--force", backup}, &out, env); !errors.Is(err, storage.ErrDatabaseInUse) || out.Len() != 0 {
		t.Fatalf("restore --force under the running server: %v (%q)", err, out.String())
	}
	s.say(sess, nil, "你好")
	s.stop()
	// More traffic after the backup changes the numbers.
	if err := runDemo(ctx, []string{"--days", "5", "--per-day", "6", "--seed", "8", "--force"}, io.Discard, env); err != nil {
		t.Fatal(err)
	}

	// Restore elsewhere without the key: refused, nothing created.
	other := filepath.Join(dir, "elsewhere", "kefu.db")
	otherEnv := dbEnv(other)
	err := runRestore(ctx, []string{backup}, io.Discard, otherEnv)
	if err == nil || !strings.Contains(err.Error(), "key") {
		t.Fatalf("restore without the key: %v", err)
	}
	if _, err := os.Stat(other); err == nil {
		t.Error("a refused restore created the database")
	}
	// With the key in place it restores there: that copy is the snapshot the backup took (the live
	// server kept writing after it: SLA stamps, the second message), so its report is the reference.
	key, err := os.ReadFile(filepath.Join(filepath.Dir(dsn), "kefu.key"))
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Dir(other), 0o700)
	if err := os.WriteFile(filepath.Join(filepath.Dir(other), "kefu.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := runRestore(ctx, []string{backup}, io.Discard, otherEnv); err != nil {
		t.Fatalf("restore elsewhere with the key: %v", err)
	}
	t.Setenv("KEFU_DATABASE_URL", other)
	atBackup := report()
	t.Setenv("KEFU_DATABASE_URL", dsn)
	if atBackup == before {
		t.Fatal("the chat during the server's run is not in the backup")
	}
	if report() == atBackup {
		t.Fatal("the second demo run did not change the report; the round trip would prove nothing")
	}
	// Over the live database: refused without --force, then done, keeping the old files.
	if err := runRestore(ctx, []string{backup}, io.Discard, env); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("restore over an existing database without --force: %v", err)
	}
	out.Reset()
	if err := runRestore(ctx, []string{"--force", backup}, &out, env); err != nil {
		t.Fatal(err)
	}
	mustContain(t, "restore output", out.String(), "before-restore-", "restored")
	if after := report(); after != atBackup {
		t.Errorf("report after restore differs from the report at backup time:\nbefore %s\nafter  %s", atBackup, after)
	}
	// Not a database, a damaged one: refused.
	junk := filepath.Join(dir, "junk.db")
	os.WriteFile(junk, []byte("not a database"), 0o600)
	if err := runRestore(ctx, []string{"--force", junk}, io.Discard, env); err == nil || !strings.Contains(err.Error(), "not an SQLite database") {
		t.Errorf("restore of a junk file: %v", err)
	}
	// The server runs on the restored database, and the customer's conversation is there.
	s2 := startServer(t, dsn)
	s2.say(sess, nil, "保修期是多久？")
	// PostgreSQL is pg_dump's job, said clearly.
	pgEnv := func(k string) string {
		if k == "KEFU_DATABASE_URL" {
			return "postgres://kefu@localhost/kefu"
		}
		return ""
	}
	if err := runBackup(ctx, []string{filepath.Join(dir, "pg.db")}, io.Discard, pgEnv); err != storage.ErrBackupPostgres {
		t.Errorf("backup of PostgreSQL: %v", err)
	}
}
