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
)

// TestUserAdminCommands runs `kefu user …` account administration as a shell user would: each
// command's exit code and output, the last-admin guard, and the audit log naming cli:$KEFU_AGENT.
func TestUserAdminCommands(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("KEFU_DATABASE_URL", filepath.Join(dir, "kefu.db"))
	t.Setenv("KEFU_CONFIG", "")
	t.Setenv("KEFU_AGENT", "ops")
	t.Chdir(dir)
	for _, c := range []struct {
		args []string
		code int
		out  string // stdout (code 0) or stderr contains
	}{
		{[]string{"user", "add", "root", "--role", "admin"}, 0, "added root (admin)"},
		{[]string{"user", "add", "alice", "--role", "agent"}, 0, "added alice (agent)"},
		{[]string{"user", "disable", "root"}, 2, "last enabled admin"},
		{[]string{"user", "rm", "root"}, 2, "last enabled admin"},
		{[]string{"user", "role", "root", "--role", "agent"}, 2, "last enabled admin"},
		{[]string{"user", "role", "alice"}, 2, "--role"},
		{[]string{"user", "role", "alice", "--role", "boss"}, 2, "--role"},
		{[]string{"user", "disable"}, 2, "NAME is required"},
		{[]string{"user", "disable", "nobody"}, 2, `no account "nobody"`},
		{[]string{"user", "agent", "alice"}, 2, "--agent ID is required"},
		{[]string{"user", "agent", "alice", "--agent", "a b"}, 2, "no spaces"},
		{[]string{"user", "agent", "root", "--agent", "cli:alice"}, 2, "already has agent id"},
		{[]string{"user", "agent", "alice", "--agent", "slack:U123"}, 0, `alice is linked to agent id "slack:U123"`},
		{[]string{"user", "role", "alice", "--role", "admin"}, 0, "alice is now admin"},
		{[]string{"user", "disable", "root"}, 0, "disabled root; their sessions ended"},
		{[]string{"user", "list"}, 0, "disabled"},
		{[]string{"user", "enable", "root"}, 0, "enabled root"},
		{[]string{"user", "rm", "alice"}, 0, "removed alice"},
		{[]string{"user", "rm", "root"}, 2, "last enabled admin"},
	} {
		var stdout bytes.Buffer
		err := runUser(context.Background(), c.args[1:], strings.NewReader(""), &stdout, os.Getenv)
		code, got := 0, stdout.String()
		if err != nil {
			code, got = 1, err.Error()
			if errors.Is(err, errUsage) {
				code = 2
			}
		}
		if code != c.code || !strings.Contains(got, c.out) {
			t.Fatalf("kefu %s: exit %d, want %d; output %q lacks %q", strings.Join(c.args, " "), code, c.code, got, c.out)
		}
	}
	db, err := openDB(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	log, err := db.AccountAudit(context.Background(), "", 100)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, e := range log {
		if e.Actor != "cli:ops" {
			t.Errorf("audit actor %q", e.Actor)
		}
		lines = append(lines, e.Action+" "+e.Target+" "+e.Detail)
	}
	want := "deleted alice admin|enabled root |disabled root |role alice agent->admin|agent_id alice cli:alice->slack:U123|added alice agent|added root admin"
	if got := strings.Join(lines, "|"); got != want {
		t.Errorf("audit log\n got %s\nwant %s", got, want)
	}
}

// TestMacroCommandErrors: bad `kefu macro` input is a usage error (exit 2) with a clear line.
func TestMacroCommandErrors(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("KEFU_DATABASE_URL", filepath.Join(dir, "kefu.db"))
	t.Setenv("KEFU_CONFIG", "")
	t.Chdir(dir)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"add", "x"}, "kefu macro add NAME TEXT"},
		{[]string{"add", "x", "电话 {{phone}}"}, "unknown placeholder {{phone}}"},
		{[]string{"add", "", "text"}, "needs a name"},
		{[]string{"rm", "abc"}, `ID "abc" is not a macro id`},
		{[]string{"rm", "7"}, "no macro 7"},
		{[]string{"list", "x"}, `unexpected argument "x"`},
		{[]string{"fly"}, `unknown subcommand "fly"`},
	} {
		err := runMacro(context.Background(), c.args, io.Discard, os.Getenv)
		if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("kefu macro %s: %v; want a usage error with %q", strings.Join(c.args, " "), err, c.want)
		}
	}
	if err := runMacro(context.Background(), []string{"add", "问候", "您好"}, io.Discard, os.Getenv); err != nil {
		t.Fatal(err)
	}
	if err := runMacro(context.Background(), []string{"add", "问候", "again"}, io.Discard, os.Getenv); !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "exists already") {
		t.Errorf("duplicate: %v", err)
	}
}
