package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kefu-dev/kefu/storage"
)

// TestReadmeAccountsAndMacros runs every command of the README's "Console accounts, live feed and
// canned replies" section exactly as written, in order, and checks what each one did.
func TestReadmeAccountsAndMacros(t *testing.T) {
	cmds := readmeCommands(t, "Console accounts, live feed and canned replies")
	dir := t.TempDir()
	t.Setenv("KEFU_DATABASE_URL", filepath.Join(dir, "kefu.db"))
	t.Setenv("KEFU_CONFIG", "")
	t.Setenv("KEFU_AGENT", "ops")
	t.Chdir(dir)
	ctx := context.Background()
	if len(cmds) != 9 {
		t.Fatalf("README section has %d commands: %q", len(cmds), cmds)
	}
	// The last admin is protected, so the README's account is not the only one.
	if err := runUser(ctx, []string{"add", "root", "--role", "admin"}, strings.NewReader(""), io.Discard, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	check := map[string]func(t *testing.T, db *storage.DB, out string){
		"kefu user add li": func(t *testing.T, db *storage.DB, out string) {
			if u, err := db.UserByName(ctx, "li"); err != nil || u.Role != "agent" || u.AgentID != "slack:U024BE7LH" {
				t.Errorf("li %+v %v", u, err)
			}
		},
		"kefu user role li": func(t *testing.T, db *storage.DB, out string) {
			if u, _ := db.UserByName(ctx, "li"); u.Role != "supervisor" {
				t.Errorf("role %q", u.Role)
			}
		},
		"kefu user agent li": func(t *testing.T, db *storage.DB, out string) {
			if u, _ := db.UserByName(ctx, "li"); u.AgentID != "cli:li" {
				t.Errorf("agent id %q", u.AgentID)
			}
		},
		"kefu user disable li": func(t *testing.T, db *storage.DB, out string) {
			if u, _ := db.UserByName(ctx, "li"); !u.Disabled() {
				t.Error("not disabled")
			}
		},
		"kefu user enable li": func(t *testing.T, db *storage.DB, out string) {
			if u, _ := db.UserByName(ctx, "li"); u.Disabled() {
				t.Error("still disabled")
			}
		},
		"kefu user rm li": func(t *testing.T, db *storage.DB, out string) {
			if _, err := db.UserByName(ctx, "li"); err == nil {
				t.Error("li still exists")
			}
		},
		"kefu macro add": func(t *testing.T, db *storage.DB, out string) {
			ms, _ := db.Macros(ctx)
			if len(ms) != 1 || ms[0].ID != 1 || ms[0].Team != "tech" || ms[0].Name != "问候" || !strings.Contains(ms[0].Body, "{{customer_name}}") {
				t.Errorf("macros %+v", ms)
			}
		},
		"kefu macro list": func(t *testing.T, db *storage.DB, out string) {
			if !strings.Contains(out, "问候") || !strings.Contains(out, "tech") {
				t.Errorf("list:\n%s", out)
			}
		},
		"kefu macro rm": func(t *testing.T, db *storage.DB, out string) {
			if ms, _ := db.Macros(ctx); len(ms) != 0 {
				t.Errorf("macros after rm %+v", ms)
			}
		},
	}
	for _, line := range cmds {
		words := shellWords(t, line)
		var out bytes.Buffer
		var err error
		switch words[1] {
		case "user":
			err = runUser(ctx, words[2:], strings.NewReader("a-long-password\n"), &out, func(k string) string { return map[string]string{"KEFU_AGENT": "ops"}[k] })
		case "macro":
			err = runMacro(ctx, words[2:], &out, func(string) string { return "ops" })
		default:
			t.Fatalf("README command %q", line)
		}
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		var fn func(*testing.T, *storage.DB, string)
		for prefix, f := range check {
			if line == prefix || strings.HasPrefix(line, prefix+" ") {
				fn = f
			}
		}
		if fn == nil {
			t.Fatalf("no check for %q", line)
		}
		db, err := openDB(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		fn(t, db, out.String())
		db.Close()
	}
}
