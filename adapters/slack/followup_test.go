package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/adapters/slack/slacktest"
	"github.com/kefu-dev/kefu/bot"
)

// fakeFollowUp records the follow-up calls; tasks live in memory.
type fakeFollowUp struct {
	mu    sync.Mutex
	calls []string
	tasks map[string][]bot.Task
	now   time.Time
}

func (f *fakeFollowUp) call(s string) { f.mu.Lock(); f.calls = append(f.calls, s); f.mu.Unlock() }
func (f *fakeFollowUp) AddTask(_ context.Context, a bot.Actor, no string, n bot.NewTask) (bot.Task, error) {
	f.call(fmt.Sprintf("AddTask %s %s %s %s %s %q", no, a.ID, n.Kind, n.Owner, n.Due.Sub(f.now), n.Note))
	if n.Kind != "refund" && n.Kind != "reship" {
		return bot.Task{}, bot.ErrBadInput
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	k := bot.Task{ID: int64(len(f.tasks[no]) + 1), TicketNo: no, Kind: n.Kind, Owner: n.Owner, DueAt: n.Due, State: bot.TaskOpen, Note: n.Note}
	f.tasks[no] = append(f.tasks[no], k)
	return k, nil
}
func (f *fakeFollowUp) SetTaskState(_ context.Context, a bot.Actor, no string, id int64, s bot.TaskState, note string) (bot.Task, error) {
	f.call(fmt.Sprintf("SetTaskState %s %s %d %s %q", no, a.ID, id, s, note))
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.tasks[no] {
		if f.tasks[no][i].ID == id {
			f.tasks[no][i].State = s
			return f.tasks[no][i], nil
		}
	}
	return bot.Task{}, bot.ErrNoTask
}
func (f *fakeFollowUp) Tasks(_ context.Context, no string) ([]bot.Task, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]bot.Task(nil), f.tasks[no]...), nil
}
func (f *fakeFollowUp) TaskKinds() []string { return []string{"refund", "reship"} }
func (f *fakeFollowUp) ReplyFAQ(_ context.Context, a bot.Actor, no, id string) (bot.Ticket, error) {
	f.call(fmt.Sprintf("ReplyFAQ %s %s %s", no, a.ID, id))
	return bot.Ticket{No: no}, nil
}
func (f *fakeFollowUp) DraftFAQ(_ context.Context, a bot.Actor, no string) (bot.FAQDraft, error) {
	f.call(fmt.Sprintf("DraftFAQ %s %s", no, a.ID))
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.tasks["drafted"]) > 0 {
		return bot.FAQDraft{ID: 1}, bot.ErrDraftExists
	}
	f.tasks["drafted"] = append(f.tasks["drafted"], bot.Task{})
	return bot.FAQDraft{ID: 1, TicketNo: no, Question: "冰箱摔坏了怎么办", Answer: "可申请免费换新"}, nil
}
func (f *fakeFollowUp) FAQSuggestions(t bot.Ticket, k int) []FAQEntry {
	all := []FAQEntry{{ID: "refund-time", Question: "退款多久到账？", Answer: "1-3 个工作日原路退回。"},
		{ID: "reship", Question: "怎么补发？", Answer: "客服登记后 24 小时内补发。"},
		{ID: "exchange", Question: "怎么换货？", Answer: "七天内可换货。"},
		{ID: "fourth", Question: "never shown", Answer: "-"}}
	return all[:min(k, len(all))]
}

// cardBlocks returns the parsed blocks of the newest card post or update of ticket no.
func cardBlocksOf(t *testing.T, e *env, no string) []map[string]any {
	t.Helper()
	calls := e.slack.Called("chat.postMessage", "chat.update")
	for i := len(calls) - 1; i >= 0; i-- {
		c := calls[i]
		if c.Form.Get("channel") == "CSUP" || !strings.Contains(c.Form.Get("blocks"), "kefu_head") || !strings.Contains(c.Form.Get("text"), no) {
			continue
		}
		var bs []map[string]any
		if err := json.Unmarshal([]byte(c.Form.Get("blocks")), &bs); err != nil {
			t.Fatal(err)
		}
		return bs
	}
	t.Fatalf("no card of %s posted", no)
	return nil
}

func block(bs []map[string]any, id string) map[string]any {
	for _, b := range bs {
		if b["block_id"] == id {
			return b
		}
	}
	return nil
}

var pressSeq int

// press sends a signed block_actions payload for a card button and returns what the user was told.
func (e *env) press(t *testing.T, user, action, value, secret string) (int, string) {
	t.Helper()
	before := len(e.slack.Called("chat.postEphemeral"))
	pressSeq++ // each press is a new interaction (a repeated one is a Slack retry, answered once)
	p := slacktest.ButtonPayload(user, "CTECH", action, value)
	p["trigger_id"] = fmt.Sprintf("trig-press-%d", pressSeq)
	w := e.do(t, slacktest.NewSignedRequest("/slack/interactions", "application/x-www-form-urlencoded",
		slacktest.InteractionBody(p), time.Now(), secret))
	eph := e.slack.Called("chat.postEphemeral")
	if len(eph) == before {
		return w.Code, ""
	}
	return w.Code, eph[len(eph)-1].Form.Get("text")
}

// TestCardFAQButtons: an open ticket's card carries the top-3 FAQ suggestions (not a fourth), each with
// a "Send this answer" button whose value names the ticket and entry; pressing it (a signed
// block_actions payload) runs ReplyFAQ for the agent; a forged signature and a non-agent are refused
// with nothing sent. The fake checks the card against Block Kit's limits (invalid_blocks).
func TestCardFAQButtons(t *testing.T) {
	f := &fakeFollowUp{tasks: map[string][]bot.Task{}}
	e := newEnv(t, func(o *Options) { o.FollowUp = f })
	f.now = e.desk.now
	e.desk.create(ticketGD1())
	no := "GD20261123001"
	e.sync(t)
	if r := e.slack.Refused(); len(r) > 0 {
		t.Fatalf("the fake refused %+v", r)
	}
	bs := cardBlocksOf(t, e, no)
	for i, id := range []string{"refund-time", "reship", "exchange"} {
		b := block(bs, fmt.Sprintf("kefu_faq_%d", i+1))
		if b == nil {
			t.Fatalf("no FAQ suggestion %d on the card: %v", i+1, bs)
		}
		acc, _ := b["accessory"].(map[string]any)
		if acc["action_id"] != actFAQReply || acc["value"] != no+"|"+id {
			t.Errorf("suggestion %d button %v", i+1, acc)
		}
	}
	if block(bs, "kefu_faq_4") != nil || block(bs, "kefu_faq_title") == nil {
		t.Errorf("want exactly three suggestions under a title: %v", bs)
	}

	if code, _ := e.press(t, agent1, actFAQReply, no+"|reship", "wrong-secret"); code != http.StatusUnauthorized || len(f.calls) != 0 {
		t.Errorf("forged signature: %d, calls %v", code, f.calls)
	}
	if _, told := e.press(t, stranger, actFAQReply, no+"|reship", testSecret); told != "slack.refused" || len(f.calls) != 0 {
		t.Errorf("stranger: told %q, calls %v", told, f.calls)
	}
	if _, told := e.press(t, agent1, actFAQReply, "GDX|reship", testSecret); told != "slack.error.bad_input" || len(f.calls) != 0 {
		t.Errorf("bad value: told %q, calls %v", told, f.calls)
	}
	_, told := e.press(t, agent1, actFAQReply, no+"|reship", testSecret)
	if told != "slack.done.faq_replied id=reship no="+no || len(f.calls) != 1 || f.calls[0] != "ReplyFAQ "+no+" slack:"+agent1+" reship" {
		t.Errorf("send: told %q, calls %v", told, f.calls)
	}
}

// TestCardTasksAndDraft: an open task shows on the card with a Done button that marks it done; a
// resolved ticket's card has no FAQ suggestions but an "Add to FAQ" button that drafts once.
func TestCardTasksAndDraft(t *testing.T) {
	f := &fakeFollowUp{tasks: map[string][]bot.Task{}}
	e := newEnv(t, func(o *Options) { o.FollowUp = f })
	f.now = e.desk.now
	no := "GD20261123001"
	f.tasks[no] = []bot.Task{{ID: 1, TicketNo: no, Kind: "refund", Owner: "slack:UFIN", DueAt: e.desk.now.Add(-time.Hour), State: bot.TaskOpen},
		{ID: 2, TicketNo: no, Kind: "reship", Owner: "warehouse", DueAt: e.desk.now.Add(time.Hour), State: bot.TaskDone}}
	e.desk.create(ticketGD1())
	e.sync(t)
	bs := cardBlocksOf(t, e, no)
	b := block(bs, "kefu_task_1")
	if b == nil || block(bs, "kefu_task_2") != nil {
		t.Fatalf("want the open task only: %v", bs)
	}
	if txt := fmt.Sprint(b["text"]); !strings.Contains(txt, "slack.card.task_late") || !strings.Contains(txt, "<@UFIN>") {
		t.Errorf("late task line %s", txt)
	}
	if acc, _ := b["accessory"].(map[string]any); acc["action_id"] != actTaskDone || acc["value"] != no+"|1" {
		t.Errorf("done button %v", acc)
	}
	if _, told := e.press(t, agent1, actTaskDone, no+"|1", testSecret); !strings.HasPrefix(told, "slack.done.task") ||
		f.calls[len(f.calls)-1] != "SetTaskState "+no+" slack:"+agent1+" 1 done \"\"" {
		t.Errorf("done: told %q, calls %v", told, f.calls)
	}
	if _, told := e.press(t, agent1, actTaskDone, no+"|9", testSecret); !strings.HasPrefix(told, "slack.error.no_task") {
		t.Errorf("unknown task: told %q", told)
	}

	e.desk.mu.Lock()
	e.desk.tickets[no].Status = bot.StatusResolved
	e.desk.event(no, "slack:"+agent1, bot.EvResolved, "")
	e.desk.mu.Unlock()
	e.sync(t)
	bs = cardBlocksOf(t, e, no)
	if block(bs, "kefu_faq_1") != nil {
		t.Error("a resolved ticket's card still suggests FAQ answers")
	}
	acts := block(bs, "kefu_done_actions")
	els, _ := acts["elements"].([]any)
	if len(els) != 1 || els[0].(map[string]any)["action_id"] != actFAQDraft || els[0].(map[string]any)["value"] != no {
		t.Fatalf("draft button %v", acts)
	}
	if _, told := e.press(t, agent1, actFAQDraft, no, testSecret); !strings.HasPrefix(told, "slack.done.faq_draft") || !strings.Contains(told, "id=1") {
		t.Errorf("draft: told %q", told)
	}
	if _, told := e.press(t, agent1, actFAQDraft, no, testSecret); !strings.HasPrefix(told, "slack.error.draft_exists") {
		t.Errorf("second draft: told %q", told)
	}
	if r := e.slack.Refused(); len(r) > 0 {
		t.Fatalf("the fake refused %+v", r)
	}
}

// /kefu task lists, adds (a mention as owner), marks done, cancels with a reason and reopens; bad
// input gets the usage or the kinds, with nothing called.
func TestTaskCommand(t *testing.T) {
	f := &fakeFollowUp{tasks: map[string][]bot.Task{}}
	e := newEnv(t, func(o *Options) { o.FollowUp = f })
	f.now = e.desk.now
	e.desk.create(ticketGD1())
	const no = "GD20261123001"
	steps := []struct{ text, want, call string }{
		{"task " + no, "slack.task.none", ""},
		{"task " + no + " add refund <@UFIN|li> 24h 退款 200 元", "slack.done.task_added", "AddTask " + no + " slack:UAGENT1 refund slack:UFIN 24h0m0s \"退款 200 元\""},
		{"task " + no + " add reship warehouse 3d", "slack.done.task_added", "AddTask " + no + " slack:UAGENT1 reship warehouse 72h0m0s \"\""},
		{"task " + no + " add teleport li 1h", "slack.task.bad", "AddTask " + no + " slack:UAGENT1 teleport li 1h0m0s \"\""},
		{"task " + no + " add refund li soon", "slack.usage.task", ""},
		{"task " + no + " add refund", "slack.usage.task", ""},
		{"task " + no + " list", "slack.task.header", ""},
		{"task " + no + " done 1 财务已退款", "slack.done.task", "SetTaskState " + no + " slack:UAGENT1 1 done \"财务已退款\""},
		{"task " + no + " cancel 2", "slack.usage.task", ""},
		{"task " + no + " cancel 2 客户不要了", "slack.done.task", "SetTaskState " + no + " slack:UAGENT1 2 cancelled \"客户不要了\""},
		{"task " + no + " reopen 2", "slack.done.task", "SetTaskState " + no + " slack:UAGENT1 2 open \"\""},
		{"task " + no + " done x", "slack.usage.task", ""},
		{"task " + no + " fly", "slack.usage.task", ""},
		{"task GDX", "slack.usage.task", ""},
	}
	for _, s := range steps {
		n := len(f.calls)
		if got := e.command(t, agent1, s.text); !strings.Contains(got, s.want) {
			t.Errorf("%q: %q lacks %q", s.text, got, s.want)
		}
		switch {
		case s.call == "" && len(f.calls) != n:
			t.Errorf("%q: called %v", s.text, f.calls[n:])
		case s.call != "" && (len(f.calls) != n+1 || f.calls[n] != s.call):
			t.Errorf("%q: calls %v, want %q", s.text, f.calls[n:], s.call)
		}
	}
	if got := e.command(t, stranger, "task "+no+" done 1"); !strings.Contains(got, "slack.refused") {
		t.Errorf("stranger: %q", got)
	}
}

// A late task's ping reaches the supervisors' channel once per event, mentioning a Slack owner.
func TestTaskLateReachesSupervisors(t *testing.T) {
	e := newEnv(t)
	e.desk.create(ticketGD1())
	no := "GD20261123001"
	e.sync(t)
	e.desk.mu.Lock()
	e.desk.event(no, "system", bot.EvTaskLate, "#1 refund owner=slack:UFIN due=2026-11-24T01:30:00Z")
	e.desk.mu.Unlock()
	e.sync(t)
	e.sync(t)
	var sup []string
	for _, c := range e.slack.Called("chat.postMessage") {
		if c.Form.Get("channel") == "CSUP" && strings.Contains(c.Form.Get("text"), "slack.sup.task_late") {
			sup = append(sup, c.Form.Get("text"))
		}
	}
	if len(sup) != 1 || !strings.Contains(sup[0], "owner=<@UFIN>") {
		t.Errorf("supervisors got %q", sup)
	}
}
