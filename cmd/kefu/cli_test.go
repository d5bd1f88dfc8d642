package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseArgs(t *testing.T) {
	for _, c := range []struct {
		name     string
		args     []string
		min, max int
		wantPos  []string
		wantAs   string
		wantMine bool
		wantErr  string
	}{
		{name: "flags before", args: []string{"--as", "alice", "claim", "GD1"}, max: -1, wantPos: []string{"claim", "GD1"}, wantAs: "alice"},
		{name: "flags after", args: []string{"claim", "GD1", "--as", "alice"}, max: -1, wantPos: []string{"claim", "GD1"}, wantAs: "alice"},
		{name: "flags between", args: []string{"reply", "GD1", "--as=alice", "您好", "--mine"}, max: -1, wantPos: []string{"reply", "GD1", "您好"}, wantAs: "alice", wantMine: true},
		{name: "-- ends flags", args: []string{"reply", "GD1", "--", "--as", "alice"}, max: -1, wantPos: []string{"reply", "GD1", "--as", "alice"}},
		{name: "unknown flag among text", args: []string{"reply", "GD1", "--sa", "alice"}, max: -1, wantErr: "unknown flag --sa"},
		{name: "text beginning with a dash", args: []string{"reply", "GD1", "-_-"}, max: -1, wantErr: "unknown flag -_-"},
		{name: "flag without its value", args: []string{"claim", "--as"}, max: -1, wantErr: "flag --as needs a value"},
		{name: "too many", args: []string{"a", "b"}, max: 1, wantErr: `unexpected argument "b"`},
		{name: "too few", args: nil, min: 1, max: 1, wantErr: "missing THING"},
		{name: "help", args: []string{"x", "--help"}, max: -1, wantErr: flag.ErrHelp.Error()},
		{name: "bad value", args: []string{"--limit", "x"}, max: -1, wantErr: `invalid value "x" for flag -limit`},
		{name: "negative number value", args: []string{"--limit", "-5"}, max: -1, wantPos: []string{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			as := fs.String("as", "", "")
			mine := fs.Bool("mine", false, "")
			fs.Int("limit", 0, "")
			pos, err := parseArgs(fs, c.args, c.min, c.max, "THING")
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(pos) == 0 {
				pos = []string{}
			}
			if d := cmp.Diff(c.wantPos, pos); d != "" || *as != c.wantAs || *mine != c.wantMine {
				t.Errorf("pos (-want +got) %s; as %q mine %v", d, *as, *mine)
			}
		})
	}
}

// TestCommandLineContract runs the kefu command line as a user would (run, as main does) and checks
// the exit codes and that a usage error is one clear line: no doubled prefixes, no Go type names.
func TestCommandLineContract(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("KEFU_DATABASE_URL", filepath.Join(dir, "kefu.db"))
	t.Setenv("KEFU_CONFIG", "")
	t.Chdir(dir) // no ./kefu.yaml, no ./data written into the repository
	for _, c := range []struct {
		args     []string
		code     int
		errMatch string // stderr must contain
	}{
		{[]string{"--help"}, 0, ""},
		{[]string{"serve", "--help"}, 0, ""},
		{[]string{"ticket", "--help"}, 0, ""},
		{[]string{"ticket", "reply", "GD1", "--help"}, 0, ""},
		{[]string{"kb", "match", "-h"}, 0, ""},
		{[]string{"improve", "--help"}, 0, ""},
		{[]string{"serve", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"serve", "--bogus"}, 2, "unknown flag --bogus"},
		{[]string{"kb"}, 2, "missing subcommand"},
		{[]string{"kb", "eval"}, 2, "--queries"},
		{[]string{"kb", "import"}, 2, "missing FILE"},
		{[]string{"kb", "stats", "extra"}, 2, "unexpected argument"},
		{[]string{"ticket"}, 2, "missing subcommand"},
		{[]string{"ticket", "fly", "GD1"}, 2, `unknown ticket subcommand "fly"`},
		{[]string{"ticket", "claim"}, 2, "needs a ticket number"},
		{[]string{"ticket", "claim", "GD1", "GD2"}, 2, `unexpected argument "GD2"`},
		{[]string{"ticket", "reply", "GD1", "--sa", "alice", "hi"}, 2, "unknown flag --sa"},
		{[]string{"ticket", "list", "--limit", "many"}, 2, `invalid value "many"`},
		{[]string{"user", "add"}, 2, "NAME and --role"},
		{[]string{"user", "list", "bob"}, 2, `unexpected argument "bob"`},
		{[]string{"export", "everything", "-o", "x"}, 2, `unknown export "everything"`},
		{[]string{"report", "--format", "pdf"}, 2, "table, json or csv"},
		{[]string{"config", "example", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"demo", "--days", "0"}, 2, "--days"},
		{[]string{"nosuch"}, 2, `unknown command "nosuch"`},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), c.args, &stdout, &stderr)
			if code != c.code {
				t.Fatalf("exit %d, want %d; stderr %q", code, c.code, stderr.String())
			}
			if c.code == 0 {
				if stdout.Len() == 0 && !strings.Contains(c.args[0], "help") && c.args[0] != "improve" {
					// help goes to stdout (commands that print their usage themselves write os.Stdout)
				}
				return
			}
			msg := stderr.String()
			if !strings.Contains(msg, c.errMatch) {
				t.Errorf("stderr %q lacks %q", msg, c.errMatch)
			}
			if strings.Count(msg, "\n") != 1 {
				t.Errorf("stderr is not one line: %q", msg)
			}
			for _, bad := range []string{"kb: kb:", "usage:", "usage: usage", " int\n", " string\n", "*flag.", "strconv."} {
				if strings.Contains(msg, bad) {
					t.Errorf("stderr %q contains %q", msg, bad)
				}
			}
		})
	}
}

// quickStart returns the `go run ./cmd/kefu …` commands of the README's Quick start, as written.
func quickStart(t *testing.T) [][]string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "\n## Quick start\n")
	if !ok {
		t.Fatal("README has no Quick start section")
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	var cmds [][]string
	for _, line := range strings.Split(sec, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "go run ./cmd/kefu ")
		if ok {
			cmds = append(cmds, shellWords(t, rest))
		}
	}
	if len(cmds) < 3 {
		t.Fatalf("Quick start has %d kefu commands: %q", len(cmds), cmds)
	}
	return cmds
}

// (shellWords is improve_test.go's.)

// TestReadmeQuickStart runs the README's Quick start as written: `kefu serve`, a customer who asks
// for a person in the web chat, then every `kefu ticket …` line (with the ticket number the server
// gave instead of the README's example number). KEFU_AGENT names somebody else, as in the finding:
// the reply must be alice's and reach the customer without the flag in its text.
func TestReadmeQuickStart(t *testing.T) {
	cmds := quickStart(t)
	dir := t.TempDir()
	dsn := filepath.Join(dir, "kefu.db")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	t.Setenv("KEFU_DATABASE_URL", dsn)
	t.Setenv("KEFU_ADDR", addr)
	t.Setenv("KEFU_CONFIG", "")
	t.Setenv("KEFU_AGENT", "bob")
	t.Chdir(dir)

	if d := cmp.Diff([]string{"serve"}, cmds[0]); d != "" {
		t.Fatalf("the Quick start begins with %q, want serve", cmds[0])
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- run(ctx, cmds[0], &bytes.Buffer{}, &bytes.Buffer{}) }()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop")
		}
	}()
	s := &e2eServer{t: t, url: "http://" + addr, dbURL: dsn}
	waitFor(t, "kefu serve", func() bool {
		select {
		case code := <-done:
			t.Fatalf("kefu serve exited %d", code)
		default:
		}
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	sess, no := handoff(t, s, "洗衣机不转了")
	var replyText string
	for _, args := range cmds[1:] {
		args = append([]string(nil), args...)
		for i, a := range args {
			if ticketNo.MatchString(a) {
				args[i] = no
			}
		}
		if args[0] == "ticket" && len(args) > 1 && args[1] == "reply" {
			replyText = args[len(args)-1]
		}
		var stdout, stderr bytes.Buffer
		if code := run(ctx, args, &stdout, &stderr); code != 0 {
			t.Fatalf("kefu %s: exit %d: %s", strings.Join(args, " "), code, stderr.String())
		}
	}
	if replyText == "" {
		t.Fatal("the Quick start has no ticket reply")
	}
	got := s.poll(sess, 0, replyText)
	if !strings.HasSuffix(got.Text, "alice】"+replyText) || strings.Contains(got.Text, "--as") {
		t.Errorf("the customer got %q, want alice's %q and nothing else", got.Text, replyText)
	}
	db := openTestDB(t, dsn)
	tk, err := db.TicketByNo(context.Background(), no)
	if err != nil {
		t.Fatal(err)
	}
	evs, _ := db.TicketEvents(context.Background(), tk.ID)
	for _, e := range evs {
		if strings.Contains(e.Text, "--as") || e.Actor == "cli:bob" {
			t.Errorf("event %s by %s %q: the flag was taken as text or the wrong agent acted", e.Kind, e.Actor, e.Text)
		}
	}
	if tk.Assignee != "cli:alice" {
		t.Errorf("assignee %q, want cli:alice", tk.Assignee)
	}
	fmt.Fprintln(os.Stderr) // serve's banner went to the process's stderr
}

// TestDemoRefusesRealTickets: `kefu demo` into a database that already holds tickets is refused
// (exit 2) unless --force.
func TestDemoRefusesRealTickets(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("KEFU_DATABASE_URL", filepath.Join(dir, "kefu.db"))
	t.Setenv("KEFU_CONFIG", "")
	t.Chdir(dir)
	var out, errb bytes.Buffer
	// A week of traffic: --days 1 generates none in the first minutes of the configured zone's day, and
	// then nothing would be there to refuse.
	if code := run(context.Background(), []string{"demo", "--days", "7", "--per-day", "5", "--seed", "1"}, &out, &errb); code != 0 {
		t.Fatalf("demo into an empty database: exit %d %s", code, errb.String())
	}
	if strings.HasPrefix(out.String(), "demo: 0 tickets") {
		t.Fatalf("the first demo generated no tickets: %s", out.String())
	}
	errb.Reset()
	if code := run(context.Background(), []string{"demo", "--days", "1", "--per-day", "2"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "--force") {
		t.Fatalf("demo into a database with tickets: exit %d %q, want 2 and a hint at --force", code, errb.String())
	}
	if code := run(context.Background(), []string{"demo", "--force", "--days", "1", "--per-day", "2"}, &out, &errb); code != 0 {
		t.Fatalf("demo --force: exit %d %s", code, errb.String())
	}
}

// TestReadmeInstall runs the Quick start's install line as written (with GOBIN in a temporary
// folder), and the installed kefu answers `kefu version`.
func TestReadmeInstall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds kefu")
	}
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, _ := strings.Cut(string(b), "\n## Quick start\n")
	sec, _, _ = strings.Cut(sec, "\n## ")
	const line = "go install ./cmd/kefu"
	if !strings.Contains(sec, "```sh\n"+line+"\n```") {
		t.Fatalf("the Quick start does not show %q", line)
	}
	bin := t.TempDir()
	cmd := exec.Command("go", "install", "./cmd/kefu")
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "GOBIN="+bin)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", line, err, out)
	}
	out, err := exec.Command(filepath.Join(bin, "kefu"), "version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "kefu") {
		t.Fatalf("kefu version: %v: %s", err, out)
	}
}
