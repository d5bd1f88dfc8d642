package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/storage"
)

// improveConfig is the README's agents (alice, bob and the supervisor sup, section "Agents") that the
// examples of its later sections act as: the tests running those examples use exactly that file.
func improveConfig(t *testing.T) string {
	t.Helper()
	return readmeYAML(t, "Agents\n")
}

// improveEnv writes a config with three agents and an SQLite database, and returns the getenv the
// commands use and the database path.
func improveEnv(t *testing.T) (func(string) string, string) {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "kefu.yaml")
	if err := os.WriteFile(cfg, []byte(improveConfig(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(dir, "kefu.db")
	env := map[string]string{"KEFU_CONFIG": cfg, "KEFU_DATABASE_URL": dbPath, "KEFU_AGENT": "alice"}
	return func(k string) string { return env[k] }, dbPath
}

// seedCLITickets adds tickets of a category created at the given times (resolved after res, rated).
func seedCLITickets(t *testing.T, dbPath string, category string, created []time.Time, res time.Duration, rating int) {
	t.Helper()
	db, err := storage.Open(context.Background(), dbPath, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	g := db.Gorm()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	must(g.Exec("INSERT INTO customers (id, name, created_at, updated_at) VALUES (1, 'c', ?, ?) ON CONFLICT DO NOTHING", base, base).Error)
	must(g.Exec("INSERT INTO conversations (id, channel, chat_id, customer_id, created_at, updated_at) VALUES (1, 'web', 'c1', 1, ?, ?) ON CONFLICT DO NOTHING", base, base).Error)
	for _, c := range created {
		var n int64
		g.Table("tickets").Count(&n)
		no := "GD" + c.Format("20060102") + strings.Repeat("0", 2) + string(rune('1'+n%9))
		r := c.Add(res)
		must(g.Exec(`INSERT INTO tickets (no, conversation_id, customer_id, channel, category, priority, status, created_at, updated_at,
			first_response_due, resolution_due, resolved_at, rating) VALUES (?, 1, 1, 'web', ?, 'P2', 'closed', ?, ?, ?, ?, ?, ?)`,
			no, category, c, c, c.Add(time.Hour), c.Add(24*time.Hour), r, rating).Error)
	}
}

func improveCLI(t *testing.T, env func(string) string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := runImprove(context.Background(), args, &out, env)
	return out.String(), err
}

// TestImproveCLI: a record from the command line, its action tracked to done, bad input answered in
// the configured language with exit 2 and nothing stored, targets for supervisors only.
func TestImproveCLI(t *testing.T) {
	t.Setenv("KEFU_LANG", "zh-CN") // the validation messages below are the operator's, in zh-CN
	env, dbPath := improveEnv(t)
	seedCLITickets(t, dbPath, "invoice", []time.Time{time.Now().Add(-48 * time.Hour)}, time.Hour, 4)
	ok := func(args ...string) string {
		t.Helper()
		out, err := improveCLI(t, env, args...)
		if err != nil {
			t.Fatalf("kefu improve %v: %v", args, err)
		}
		return out
	}
	fails := func(want string, args ...string) {
		t.Helper()
		_, err := improveCLI(t, env, args...)
		if err == nil || !errors.Is(err, errUsage) || !strings.Contains(err.Error(), want) {
			t.Fatalf("kefu improve %v: err = %v; want usage error containing %q", args, err, want)
		}
	}
	fails("请填写问题现象", "new", "--category", "invoice", "--why", "w")
	fails("至少填写一个", "new", "--category", "invoice", "--phenomenon", "p")
	out := ok("new", "--category", "invoice", "--phenomenon", "客户投诉发票未收到", "--why", "财务部未及时开具", "--why", "订单状态未同步至财务系统")
	no := strings.Fields(out)[0]
	if !strings.HasPrefix(no, "IMP-"+time.Now().Format("200601")+"-001") {
		t.Fatalf("new printed %q", out)
	}
	fails("责任人 cli:carol 不是已配置的客服或主管", "action", no, "--term", "short", "--owner", "carol", "--due", "2026-12-20", "--accept", "x", "fix")
	fails("请填写完成时间", "action", no, "--term", "short", "--owner", "alice", "--accept", "x", "fix")
	out = ok("action", no, "--term", "short", "--owner", "alice", "--due", "2099-12-20", "--accept", "接口同步成功率 100%", "优化接口程序")
	if !strings.Contains(out, "owner=cli:alice") || !strings.Contains(out, "open") {
		t.Fatalf("action printed %q", out)
	}
	for _, st := range []string{"in_progress", "verifying", "done"} {
		ok("state", "1", st)
	}
	out = ok("show", no)
	for _, want := range []string{"原因2：      订单状态未同步至财务系统", "done", "action_state"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	out = ok("effect", no, "--format", "json")
	var e struct {
		Before struct{ Tickets int64 }
		Pivot  *time.Time `json:"first_action_done_at"`
	}
	if err := json.Unmarshal([]byte(out), &e); err != nil || e.Pivot == nil || e.Before.Tickets != 1 {
		t.Fatalf("effect = %s (%v)", out, err)
	}
	fails("只有主管", "target", "set", "--metric", "csat", "--period", "2026-Q4", "--op", ">=", "--value", "4.5", "--owner", "sup", "--review", "2026-12-31")
	fails("未知指标", "target", "set", "--as", "sup", "--metric", "happiness", "--period", "2026-Q4", "--op", ">=", "--value", "4.5", "--owner", "sup", "--review", "2026-12-31")
	fails("阈值必须指定滑动窗口", "threshold", "set", "--as", "sup", "--name", "slow", "--metric", "first_response_median_min", "--op", ">", "--value", "25")
	db, err := storage.Open(context.Background(), dbPath, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int64
	db.Gorm().Table("improve_targets").Count(&n)
	var m int64
	db.Gorm().Table("improve_thresholds").Count(&m)
	if n != 0 || m != 0 {
		t.Errorf("bad input stored %d targets, %d thresholds", n, m)
	}
}

// shellWords splits a README command line as sh would for the quoting it uses: words separated by
// spaces, '…' and "…" quoted (no escapes, no expansions — the README uses none). Hand-written: a
// shell parser dependency for one test would be far heavier than these lines.
func shellWords(t *testing.T, line string) []string {
	t.Helper()
	var (
		out   []string
		cur   strings.Builder
		quote rune
		have  bool
	)
	for _, r := range line {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, have = r, true
		case r == ' ':
			if have || cur.Len() > 0 {
				out = append(out, cur.String())
			}
			cur.Reset()
			have = false
		default:
			cur.WriteRune(r)
		}
	}
	if quote != 0 {
		t.Fatalf("unbalanced quote in %q", line)
	}
	if have || cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

// readmeCommands returns the `kefu …` lines of the README section whose heading starts with title.
func readmeCommands(t *testing.T, title string) []string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "\n## "+title)
	if !ok {
		t.Fatalf("README has no section %q", title)
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	var cmds []string
	in := false
	for _, line := range strings.Split(sec, "\n") {
		switch {
		case strings.HasPrefix(line, "```"):
			in = !in
		case in && strings.HasPrefix(line, "kefu "):
			cmds = append(cmds, line)
		}
	}
	return cmds
}

// TestReadmeImprove runs every command of the README's continuous-improvement section exactly as
// written, on 3 Dec 2026 10:00 UTC, against a database with the ticket it names and three tickets in
// the last hour: the record is created and linked, its action is tracked to done, the ticket shows
// the known issue, the target shows actual vs goal in `kefu report`, and the threshold pings once.
func TestReadmeImprove(t *testing.T) {
	env, dbPath := improveEnv(t)
	for _, k := range []string{"KEFU_CONFIG", "KEFU_DATABASE_URL"} {
		t.Setenv(k, env(k))
	}
	t.Setenv("KEFU_AGENT", "")
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	old := improveClock
	improveClock = func() time.Time { return now }
	t.Cleanup(func() { improveClock = old })
	seedCLITickets(t, dbPath, "invoice", []time.Time{time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}, 5*time.Hour, 5)
	seedCLITickets(t, dbPath, "order", []time.Time{now.Add(-50 * time.Minute), now.Add(-40 * time.Minute), now.Add(-30 * time.Minute)}, 10*time.Minute, 4)

	outputs := map[string]string{}
	cmds := readmeCommands(t, "Continuous improvement")
	if len(cmds) < 10 {
		t.Fatalf("README section has %d commands", len(cmds))
	}
	// The commands as main runs them, writing to a buffer instead of os.Stdout.
	runners := map[string]func(context.Context, []string, io.Writer, func(string) string) error{
		"improve": runImprove, "ticket": runTicket, "report": runReport}
	for _, line := range cmds {
		words := shellWords(t, line)
		r, ok := runners[words[1]]
		if !ok {
			t.Fatalf("%s: no runner for %q", line, words[1])
		}
		var stdout bytes.Buffer
		if err := r(context.Background(), words[2:], &stdout, os.Getenv); err != nil {
			t.Fatalf("%s: %v\n%s", line, err, stdout.String())
		}
		outputs[line] = stdout.String()
	}
	find := func(prefix string) string {
		for l, o := range outputs {
			if strings.HasPrefix(l, prefix) {
				return o
			}
		}
		t.Fatalf("no README command %q", prefix)
		return ""
	}
	for _, c := range []struct{ cmd, want string }{
		{"kefu improve new", "IMP-202612-001  invoice  open  created"},
		{"kefu improve action", "action #1  IMP-202612-001  short  owner=cli:alice  due=2026-12-20  open"},
		{"kefu ticket show", "Known issue IMP-202612-001"}, // KEFU_LANG=en (TestMain); zh-CN: 已知问题
		{"kefu improve state 1 done", "action #1  IMP-202612-001  done"},
		{"kefu improve effect", "first action done 2026-12-03"},
		{"kefu improve list", "IMP-202612-001  done"},
		{"kefu improve target list", "csat    >= 4.5  4.25"},
		{"kefu improve alerts", "1 threshold changes"},
		{"kefu improve alerts", "busy"},
	} {
		if out := find(c.cmd); !strings.Contains(out, c.want) {
			t.Errorf("%s: output lacks %q:\n%s", c.cmd, c.want, out)
		}
	}
	var rep struct {
		Targets []struct {
			Metric, Period string
			Target         float64
			Actual         *float64
			Met            bool
		}
	}
	if err := json.Unmarshal([]byte(find("kefu report")), &rep); err != nil {
		t.Fatal(err)
	}
	// 2026-Q4 CSAT: ratings 5 (invoice) and 4, 4, 4 (order) → 4.25 < 4.5.
	if len(rep.Targets) != 1 || rep.Targets[0].Metric != "csat" || rep.Targets[0].Period != "2026-Q4" || rep.Targets[0].Target != 4.5 ||
		rep.Targets[0].Actual == nil || *rep.Targets[0].Actual != 4.25 || rep.Targets[0].Met {
		t.Errorf("report targets = %+v", rep.Targets)
	}
	// Scanning again pings nothing: the threshold is still crossed.
	if out, err := improveCLI(t, os.Getenv, "alerts"); err != nil || !strings.Contains(out, "0 pings sent") {
		t.Errorf("second scan: %v %s", err, out)
	}
}

// TestImproveWorker: the worker serve runs posts a threshold crossing through the Slack post function
// (the supervisors' channel) and stops cleanly with its context. Exactly-once across scans and
// processes is TestAlertsOnceAcrossProcesses (package improve).
func TestImproveWorker(t *testing.T) {
	env, dbPath := improveEnv(t)
	now := time.Now()
	seedCLITickets(t, dbPath, "order", []time.Time{now.Add(-30 * time.Minute), now.Add(-20 * time.Minute), now.Add(-10 * time.Minute)}, time.Minute, 5)
	if _, err := improveCLI(t, env, "threshold", "set", "--as", "sup", "--name", "busy", "--metric", "tickets", "--op", ">", "--value", "2", "--window", "1h"); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig("", env)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DatabaseURL = dbPath
	a, err := openApp(context.Background(), cfg, newLogger("text", "error"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	posts := make(chan string, 10)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- a.improveWorker(func(ctx context.Context, text string) error { posts <- text; return nil })(ctx)
	}()
	select {
	case p := <-posts:
		if !strings.Contains(p, "busy") || !strings.Contains(p, "tickets = 3") {
			t.Errorf("post %q", p)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no post")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("worker: %v", err)
	}
	if len(posts) != 0 {
		t.Errorf("more posts: %q", <-posts)
	}
}
