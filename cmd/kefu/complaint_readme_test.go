package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
)

// customer acts in a web chat through a kefu process of its own (as `kefu serve` would), between the
// README's commands.
type readmeCustomer struct {
	t    *testing.T
	seq  int
	last []bot.Reply
}

func (c *readmeCustomer) act(chat string, kind bot.Kind, text, label string) {
	c.t.Helper()
	ctx := context.Background()
	cfg, err := loadConfig("", os.Getenv)
	if err != nil {
		c.t.Fatal(err)
	}
	a, err := openApp(ctx, cfg, newLogger("text", "error"), nil)
	if err != nil {
		c.t.Fatal(err)
	}
	defer a.Close()
	payload := ""
	if label != "" {
		all, err := a.db.WebMessagesAfter(ctx, chat, 0, 200) // the newest keyboard, also one an agent's action sent
		if err != nil {
			c.t.Fatal(err)
		}
		c.last = all
		for _, r := range c.last {
			for _, b := range r.Buttons {
				if strings.Contains(b.Label, label) {
					payload = b.Payload
				}
			}
		}
		if payload == "" {
			c.t.Fatalf("no button %q in %+v", label, c.last)
		}
	}
	before, _ := a.db.LastWebMessageID(ctx, chat)
	c.seq++
	ev := bot.Event{Channel: bot.ChannelWeb, MsgID: fmt.Sprintf("readme-%d", c.seq), ChatID: chat, UserID: chat, Kind: kind,
		Text: text, Payload: payload, At: time.Date(2026, 12, 3, 2, 0, c.seq, 0, time.UTC)}
	if err := a.engine.Deliver(ctx, ev); err != nil {
		c.t.Fatal(err)
	}
	if c.last, err = a.db.WebMessagesAfter(ctx, chat, before, 50); err != nil {
		c.t.Fatal(err)
	}
}

// messagesTo returns every message the bot queued for a web chat.
func messagesTo(t *testing.T, chat string) string {
	t.Helper()
	cfg, err := loadConfig("", os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	a, err := openApp(context.Background(), cfg, newLogger("text", "error"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	rs, err := a.db.WebMessagesAfter(context.Background(), chat, 0, 200)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, r := range rs {
		b.WriteString(r.Text + "\n")
	}
	return b.String()
}

// TestReadmeComplaints runs every command of the README's complaints section exactly as written while a
// customer complains in web chat: the complaint ticket (level 2, P1), the coupon declined with a reason,
// the refund above the agent's limit approved by the supervisor and accepted, resolution, a 2-star
// rating, the return visit recorded, an unanswered ticket closed only with a supervisor's reason, and
// the report's complaint numbers.
func TestReadmeComplaints(t *testing.T) {
	env, _ := improveEnv(t)
	for _, k := range []string{"KEFU_CONFIG", "KEFU_DATABASE_URL"} {
		t.Setenv(k, env(k))
	}
	t.Setenv("KEFU_AGENT", "")
	c := &readmeCustomer{t: t}
	c.act("c1", bot.KindText, "你们的快递员态度恶劣，把我的冰箱摔坏了，我要投诉！", "")
	c.act("c1", bot.KindButton, "", "对，提交")
	c2 := &readmeCustomer{t: t, seq: 100}
	c2.act("c2", bot.KindText, "转人工", "")
	c2.act("c2", bot.KindButton, "", "跳过")

	// What the customer does after a command.
	after := map[string]func(){
		"kefu complaint propose --as alice GD20261203001 coupon 30": func() {
			c.act("c1", bot.KindButton, "", "不接受")
			c.act("c1", bot.KindText, "不行，优惠券没用，我要退款", "")
		},
		"kefu complaint approve --as sup GD20261203001 2": func() { c.act("c1", bot.KindButton, "", "可以") },
		`kefu ticket resolve --as alice GD20261203001 "已退款 200 元"`: func() {
			c.act("c1", bot.KindButton, "", "已解决")
			c.act("c1", bot.KindButton, "", "2 分")
			c.act("c1", bot.KindText, "谢谢", "") // no comment: the low-score thank-you
		},
	}
	runners := map[string]func(context.Context, []string, io.Writer, func(string) string) error{
		"complaint": runComplaint, "ticket": runTicket, "report": runReport,
		"kb": func(ctx context.Context, args []string, out io.Writer, _ func(string) string) error {
			return runKB(ctx, args, nil, out)
		}}
	outputs := map[string]string{}
	cmds := readmeCommands(t, "Complaints, solutions and return visits")
	if len(cmds) < 10 {
		t.Fatalf("README section has %d commands", len(cmds))
	}
	// Refused before the reply: resolving an unanswered ticket.
	var sink bytes.Buffer
	if err := runTicket(context.Background(), []string{"resolve", "--as", "alice", "GD20261203001"}, &sink, os.Getenv); err == nil ||
		!strings.Contains(err.Error(), "no agent reply") {
		t.Errorf("resolve before a reply: %v", err)
	}
	// A proposal the ticket does not have is named as such, not as a missing ticket.
	if err := runComplaint(context.Background(), []string{"approve", "--as", "sup", "GD20261203001", "99"}, &sink, os.Getenv); err == nil ||
		!strings.Contains(err.Error(), "GD20261203001 has no proposal #99") {
		t.Errorf("approve an unknown proposal: %v", err)
	}
	// An agent's --force is refused as a supervisor's right (not as if alice were no agent at all).
	if err := runTicket(context.Background(), []string{"close", "--as", "alice", "--force", "客户来电已解决", "GD20261203002"}, &sink, os.Getenv); err == nil ||
		!strings.Contains(err.Error(), "only a supervisor may") || strings.Contains(err.Error(), "not a configured agent") {
		t.Errorf("an agent's --force: %v", err)
	}
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
		if f := after[line]; f != nil {
			f()
		}
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
	for _, w := range []struct{ cmd, want string }{
		{"kefu complaint propose --as alice GD20261203001 coupon", "offered to the customer"},
		{"kefu complaint propose --as alice GD20261203001 refund", "waiting for a supervisor"},
		{"kefu complaint approve", "proposal #2 refund 200  offered"},
		{"kefu complaint visit", "return visit recorded: satisfied"},
		{"kefu ticket show", "complaint: level 2"},
		{"kefu ticket show", "points=attitude,logistics responsible=logistics"},
		{"kefu ticket show", "proposal #1: coupon 30  declined  by cli:alice, reason: 不行，优惠券没用，我要退款"},
		{"kefu ticket show", "proposal #2: refund 200  accepted  by cli:alice, approved by cli:sup"},
		{"kefu ticket show", "rating:    2/5"},
		{"kefu ticket show", "faq_reply"},
		{"kefu ticket reply --as alice --faq refund-time", "reply ok"},
		{"kefu ticket close", "GD20261203002"},
		{"kefu complaint housekeep", "auto-closed 0"},
		{"kefu ticket task add", "GD20261203001  task #1 refund  owner finance:li  due "},
		{"kefu kb add", "draft #1 from GD20261203001, waiting for a supervisor"},
		{"kefu kb drafts", "Q: 你们的快递员态度恶劣，把我的冰箱摔坏了，我要投诉！"},
		{"kefu kb publish", "draft #1 published as FAQ entry faq-d1 (zh-CN)"},
		{"kefu ticket task done", "task #1 refund  owner finance:li"},
		{"kefu ticket show", "follow-through tasks (kefu ticket task done GD20261203001 ID):"},
		{"kefu ticket show", "cli:alice  财务已退款"},
	} {
		if out := find(w.cmd); !strings.Contains(out, w.want) {
			t.Errorf("%s: output lacks %q:\n%s", w.cmd, w.want, out)
		}
	}
	chat := messagesTo(t, "c1")
	for _, want := range []string{"非常抱歉给您带来不便", "针对您遇到的问题，我们为您提供优惠券 30 元，您看可以吗？", "针对您遇到的问题，我们为您提供退款 200 元",
		"已退款 200 元", "主管会在 24 小时内联系您"} {
		if !strings.Contains(chat, want) {
			t.Errorf("the customer was not told %q:\n%s", want, chat)
		}
	}
	var rep struct {
		Complaints struct {
			Total   int64
			ByLevel []struct {
				Key   string
				Count int64
			} `json:"by_level"`
		}
		RepeatPct    *float64                           `json:"repeat_complaint_pct"`
		ReturnVisits struct{ Due, Done, Overdue int64 } `json:"return_visits"`
		AgentReplies int64                              `json:"agent_replies"`
		AgentKBPct   *float64                           `json:"agent_kb_citation_pct"`
	}
	if err := json.Unmarshal([]byte(find("kefu report")), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Complaints.Total != 1 || len(rep.Complaints.ByLevel) != 1 || rep.Complaints.ByLevel[0].Key != "2" ||
		rep.RepeatPct == nil || *rep.RepeatPct != 0 {
		t.Errorf("report complaints %+v repeat %v", rep.Complaints, rep.RepeatPct)
	}
	// The text report says the same, and names the uncategorized ticket (转人工, skipped type).
	var text bytes.Buffer
	if err := runReport(context.Background(), []string{"--from", "2026-12-01", "--to", "2026-12-31"}, &text, os.Getenv); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"KB cited in agent replies (知识库引用率, target >= 80%)", "50% of 2", "Complaints by level / repeat rate", "L2 1", "0%",
		"Return visits due / done / overdue", "未分类 / Uncategorized"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
	// 知识库引用率 on agent replies: the apology and the --faq answer, one of two citing the library.
	if rep.AgentReplies != 2 || rep.AgentKBPct == nil || *rep.AgentKBPct != 50 {
		t.Errorf("agent replies %d, citing the FAQ %v%%, want 2 and 50%%", rep.AgentReplies, rep.AgentKBPct)
	}
}
