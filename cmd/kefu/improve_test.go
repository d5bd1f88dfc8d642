package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/storage"
)

const improveConfig = `agents:
  - {id: "cli:alice", name: Alice}
  - {id: "cli:bob", name: Bob}
  - {id: "cli:sup", name: Sup, supervisor: true}
`

// improveEnv writes a config with three agents and an SQLite database, and returns the getenv the
// commands use and the database path.
func improveEnv(t *testing.T) (func(string) string, string) {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "kefu.yaml")
	if err := os.WriteFile(cfg, []byte(improveConfig), 0o600); err != nil {
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
	for _, want := range []string{"why2:        订单状态未同步至财务系统", "done", "action_state"} {
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
