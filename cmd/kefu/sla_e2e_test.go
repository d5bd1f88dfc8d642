package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/adapters/slack/slacktest"
	"github.com/kefu-dev/kefu/storage/storetest"
)

// slaPosts counts the SLA posts about ticket no by "kind level channel" (thread lines as
// "thread <marker>"): the pings carry a block id "kefu_sla:NO:KIND:TARGET:LEVEL", warnings and audit
// lines are told apart by their leading emoji.
func slaPosts(f *slacktest.Server, no string) map[string]int {
	out := map[string]int{}
	for _, c := range f.Called("chat.postMessage") {
		text, blocks := c.Form.Get("text"), c.Form.Get("blocks")
		if !strings.Contains(text, no) {
			continue
		}
		key := ""
		if i := strings.Index(blocks, "kefu_sla:"+no+":"); i >= 0 {
			id := blocks[i:]
			id = id[:strings.IndexByte(id, '"')]
			parts := strings.Split(id, ":") // kefu_sla NO kind target level
			key = parts[2] + " " + parts[4]
		} else {
			for marker, kind := range map[string]string{":hourglass_flowing_sand:": "warn 0", ":white_check_mark:": "ack",
				":rotating_light:": "ping", ":sos:": "ping"} {
				if strings.HasPrefix(text, marker) {
					key = kind
				}
			}
		}
		if key == "" {
			continue
		}
		if c.Form.Get("thread_ts") != "" {
			out["thread "+key]++
		} else {
			out[key+" "+c.Form.Get("channel")]++
		}
	}
	return out
}

const slaSigningSecret = "test-signing-secret"

// slaConfig is a short policy (seconds, 24x7) on a fake clock that the test moves forward.
func slaTestConfig(t *testing.T, dbURL, slackURL string, skew *atomic.Int64) (Config, string) {
	t.Helper()
	body := `timezone: Asia/Shanghai
agents:
  - {id: "cli:alice", name: Alice}
  - {id: "slack:UAGENT", name: Agent}
sla:
  calendar: {hours: {mon-sun: ["00:00-24:00"]}}
  priorities:
    P0: {clock: 24x7, first_response: 3s, resolution: {within: 1h, warn_before: 10m}}
    P1: {clock: 24x7, first_response: 3s, resolution: {within: 1h, warn_before: 10m}}
    P2: {clock: 24x7, first_response: 3s, resolution: {within: 1h, warn_before: 10m}}
  warn_before: 50%
  repeat_every: 1m
  escalation:
    - {name: agent, after: 0s, notify: [assignee, supervisors]}
    - {name: team_lead, after: 30m, notify: [team_lead, supervisors]}
  customer_update: {every: 0s}
  scan_interval: 100ms
slack:
  api_url: ` + slackURL + `/api/
  default_channel: CTEAM
  supervisors_channel: CSUP
  agents: [UAGENT]
  supervisors: [USUP]
`
	path := filepath.Join(t.TempDir(), "kefu.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(k string) string {
		switch k {
		case "KEFU_DATABASE_URL":
			return dbURL
		case "KEFU_SLACK_BOT_TOKEN":
			return slacktest.BotToken
		case "KEFU_SLACK_SIGNING_SECRET":
			return slaSigningSecret
		}
		return ""
	}
	cfg, err := loadConfig(path, env)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Outbox.PollInterval = 20 * time.Millisecond
	cfg.SLA.now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	return cfg, path
}

// ticketCLI runs `kefu ticket ARGS…` with the test's config file.
func ticketCLI(t *testing.T, cfgPath string, env func(string) string, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	full := append([]string{args[0], "--config", cfgPath}, args[1:]...)
	if err := runTicket(context.Background(), full, &out, env); err != nil {
		t.Fatalf("kefu ticket %v: %v", args, err)
	}
	return out.String()
}

// pressAck presses the Acknowledge button as user through a signed Slack interaction.
func pressAck(t *testing.T, s *e2eServer, user, channel, no string) {
	t.Helper()
	body := slacktest.InteractionBody(map[string]any{
		"type": "block_actions", "trigger_id": "1.2.3", "user": map[string]any{"id": user, "name": "sup"},
		"channel": map[string]any{"id": channel}, "team": map[string]any{"id": "T1"},
		"actions": []map[string]any{{"action_id": "kefu_sla_ack", "block_id": "kefu_sla_actions:" + no, "value": no, "type": "button"}},
	})
	req := slacktest.NewSignedRequest(s.url+"/slack/interactions", "application/x-www-form-urlencoded", body, time.Now(), slaSigningSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("interaction: status %d", resp.StatusCode)
	}
}

// TestSLAExactlyOnce: a ticket opened through the web chat goes overdue on a short policy; with
// several kefu processes on one database the fake Slack receives the warning (assignee DM + team
// channel) and the breach ping (assignee DM + supervisors, with an Acknowledge button) exactly once
// each; a restart neither repeats them nor misses the repeat that fell due while everything was down;
// after the Acknowledge button the repeats stop. SQLite runs one process; PostgreSQL (when
// KEFU_TEST_POSTGRES_DSN is set) runs three on one schema.
func TestSLAExactlyOnce(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		slaScenario(t, filepath.Join(t.TempDir(), "kefu.db"), 1)
	})
	t.Run("postgres", func(t *testing.T) {
		dsn, _ := storetest.PostgresSchemaDSN(t) // skips without KEFU_TEST_POSTGRES_DSN
		slaScenario(t, dsn, 3)
	})
}

func slaScenario(t *testing.T, dbURL string, procs int) {
	fs := slacktest.NewServer(t)
	var skew atomic.Int64
	cfg, cfgPath := slaTestConfig(t, dbURL, fs.URL, &skew)
	env := dbEnv(dbURL)
	start := func() []*e2eServer {
		var ss []*e2eServer
		for range procs {
			ss = append(ss, runServer(t, cfg))
		}
		return ss
	}
	stop := func(ss []*e2eServer) {
		for _, s := range ss {
			s.stop()
		}
	}
	ss := start()
	_, _, no := journeyWebTicket(t, ss[0], "洗衣机滚筒不转了，没法洗衣服，希望尽快上门维修")
	ticketCLI(t, cfgPath, env, "assign", "--as", "alice", no, "slack:UAGENT")

	want := map[string]int{
		"warn 0 UAGENT": 1, "warn 0 CTEAM": 1, // warning: the assignee's DM and the team channel
		"breach 1 UAGENT": 1, "breach 1 CSUP": 1, // breach: the assignee's DM and the supervisors
		"thread ping": 1, // the breach line in the card's thread (the warning is in the team channel already)
	}
	settle := func(what string, want map[string]int) {
		t.Helper()
		waitWithin(t, 15*time.Second, what, func() bool {
			got := slaPosts(fs, no)
			for k, n := range want {
				if got[k] < n {
					return false
				}
			}
			return true
		})
		// Let every process scan and follow the feed a few more times: nothing may come twice.
		time.Sleep(time.Second + 5*cfg.SLA.ScanInterval)
		if diff := diffCounts(want, slaPosts(fs, no)); diff != "" {
			t.Fatalf("%s: SLA posts for %s (want → got):\n%s", what, no, diff)
		}
	}
	settle("warning and breach", want)

	// `kefu ticket list --overdue` shows it, with the SLA deadline.
	if out := ticketCLI(t, cfgPath, env, "list", "--overdue"); !strings.Contains(out, no) || !strings.Contains(out, "OVERDUE") {
		t.Fatalf("list --overdue lacks %s:\n%s", no, out)
	}

	// Everything stops; the first repeat falls due while nothing runs; a restart sends it once.
	stop(ss)
	skew.Store(int64(time.Minute + time.Second))
	ss = start()
	want["repeat 1 UAGENT"], want["repeat 1 CSUP"], want["thread ping"] = 1, 1, 2
	settle("the repeat after a restart", want)

	// A supervisor acknowledges on another process; later repeats never come.
	pressAck(t, ss[len(ss)-1], "USUP", "CSUP", no)
	want["thread ack"] = 1
	waitWithin(t, 10*time.Second, "the acknowledgement in the thread", func() bool { return slaPosts(fs, no)["thread ack"] == 1 })
	skew.Store(int64(4*time.Minute + time.Second))
	settle("after the acknowledgement", want)
	if out := ticketCLI(t, cfgPath, env, "show", no); !strings.Contains(out, `"kind":"ack"`) || !strings.Contains(out, "slack:USUP") {
		t.Fatalf("the acknowledgement is not in the audit trail:\n%s", out)
	}
	t.Logf("SLA posts for %s with %d process(es): %v", no, procs, slaPosts(fs, no))
}

func diffCounts(want, got map[string]int) string {
	var b strings.Builder
	keys := map[string]bool{}
	for k := range want {
		keys[k] = true
	}
	for k := range got {
		keys[k] = true
	}
	for k := range keys {
		if want[k] != got[k] {
			fmt.Fprintf(&b, "  %s: %d → %d\n", k, want[k], got[k])
		}
	}
	return b.String()
}
