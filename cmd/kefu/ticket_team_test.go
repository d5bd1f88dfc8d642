package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kefu-dev/kefu/storage/storetest"
)

// TestTicketTeam: `kefu ticket team` queues a ticket for a configured team (the console's "my team"
// view shows it) through the engine's AssignTeam, refuses unknown teams and takes it out with "-".
func TestTicketTeam(t *testing.T) {
	dir := t.TempDir()
	dbURL := filepath.Join(dir, "kefu.db")
	cfgPath := filepath.Join(dir, "kefu.yaml")
	os.WriteFile(cfgPath, []byte("database_url: "+dbURL+"\nagents:\n  - {id: \"cli:alice\", name: Alice, team: tech}\n  - {id: \"cli:bob\", name: Bob, team: billing}\n"), 0o600)
	db := openTestDB(t, dbURL)
	no := storetest.Journey(t, db, "13800138000").No
	env := func(string) string { return "" }
	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := runTicket(context.Background(), append([]string{args[0], "--config", cfgPath, "--as", "alice"}, args[1:]...), &out, env)
		return out.String(), err
	}
	if out, err := run("team", no, "billing"); err != nil || !strings.Contains(out, "team ok") {
		t.Fatalf("team billing: %q %v", out, err)
	}
	if tk, _ := db.TicketByNo(context.Background(), no); tk.Team != "billing" {
		t.Errorf("team %q, want billing", tk.Team)
	}
	if _, err := run("team", no, "moon"); err == nil || !strings.Contains(err.Error(), "not a configured team") {
		t.Errorf("unknown team: %v", err)
	}
	if _, err := run("team", no, "-"); err != nil {
		t.Fatal(err)
	}
	if tk, _ := db.TicketByNo(context.Background(), no); tk.Team != "" {
		t.Errorf("team %q after -, want none", tk.Team)
	}
}
