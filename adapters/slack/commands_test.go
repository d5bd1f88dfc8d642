package slack

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/adapters/slack/slacktest"

	"github.com/google/go-cmp/cmp"

	"github.com/kefu-dev/kefu/bot"
)

func TestCommands(t *testing.T) {
	const no = "GD20261123001"
	tests := []struct {
		name      string
		user      string
		text      string
		setup     func(e *env)
		want      []string // substrings of the answer
		wantCalls []string // desk calls
		check     func(t *testing.T, e *env)
	}{
		{name: "help", user: agent1, text: "help", want: []string{"slack.help"}},
		{name: "bad syntax", user: agent1, text: "claim 12345", want: []string{"slack.error.syntax", "slack.usage.claim", "slack.help.hint"}},
		{name: "unknown verb", user: agent1, text: "dance", want: []string{"slack.usage.unknown"}},
		{name: "list open", user: agent1, text: "list", want: []string{"slack.list.header", "count=1", no},
			wantCalls: []string{`List assignee="" unassigned=false overdue=false`}},
		{name: "list mine empty", user: agent2, text: "list mine", want: []string{"slack.list.empty", "slack.list.filter.mine"},
			wantCalls: []string{`List assignee="slack:UAGENT2" unassigned=false overdue=false`}},
		{name: "list overdue", user: agent1, text: "list overdue", want: []string{"slack.list.empty"},
			wantCalls: []string{`List assignee="" unassigned=false overdue=true`}},
		{name: "show", user: agent1, text: "show " + no, want: []string{no}},
		{name: "show unknown", user: agent1, text: "show GD20990101001", want: []string{"slack.error.unknown_ticket", "GD20990101001"}},
		{name: "team", user: agent1, text: "team " + no + " vip", want: []string{"slack.done.team", "team=vip"},
			wantCalls: []string{"AssignTeam " + no + " slack:UAGENT1"},
			check: func(t *testing.T, e *env) {
				if tk, _, _ := e.desk.Ticket(context.Background(), no); tk.Team != "vip" {
					t.Errorf("team = %q, want vip", tk.Team)
				}
			}},
		{name: "team cleared", user: agent1, text: "team " + no + " -", want: []string{"slack.done.team_cleared"},
			wantCalls: []string{"AssignTeam " + no + " slack:UAGENT1"}},
		{name: "team unknown", user: agent1, text: "team " + no + " nosuch", want: []string{"slack.error"},
			wantCalls: []string{"AssignTeam " + no + " slack:UAGENT1"}},
		{name: "team bad syntax", user: agent1, text: "team " + no, want: []string{"slack.error.syntax", "slack.usage.team"}},
		{name: "claim", user: agent1, text: "claim " + no, want: []string{"slack.done.claimed"}, wantCalls: []string{"Claim " + no + " slack:UAGENT1"}},
		{name: "claim unknown", user: agent1, text: "claim GD20990101001", want: []string{"slack.error.unknown_ticket"}, wantCalls: []string{"Claim GD20990101001 slack:UAGENT1"}},
		{name: "reply", user: agent1, text: "reply " + no + " 您好，请重启试试", want: []string{"slack.done.replied"},
			wantCalls: []string{"Reply " + no + " slack:UAGENT1"},
			check: func(t *testing.T, e *env) {
				if _, to := e.desk.snapshot(); len(to) != 1 || to[0] != no+": 您好，请重启试试" {
					t.Errorf("customer got %q", to)
				}
			}},
		{name: "note stays internal", user: agent1, text: "note " + no + " 老客户", want: []string{"slack.done.noted"},
			wantCalls: []string{"Note " + no + " slack:UAGENT1"},
			check: func(t *testing.T, e *env) {
				if _, to := e.desk.snapshot(); len(to) != 0 {
					t.Errorf("note reached the customer: %q", to)
				}
			}},
		{name: "status pending", user: agent1, text: "status " + no + " pending", want: []string{"slack.done.status"}, wantCalls: []string{"SetStatus " + no + " slack:UAGENT1"}},
		{name: "status resolved resolves", user: agent1, text: "status " + no + " resolved", want: []string{"slack.done.status"}, wantCalls: []string{"Resolve " + no + " slack:UAGENT1"}},
		{name: "status closed closes", user: agent1, text: "status " + no + " closed", want: []string{"slack.done.status"}, wantCalls: []string{"Close " + no + " slack:UAGENT1"}},
		{name: "closed ticket", user: agent1, text: "reply " + no + " hi",
			setup: func(e *env) { e.desk.tickets[no].Status = bot.StatusClosed },
			want:  []string{"slack.error.closed"}, wantCalls: []string{"Reply " + no + " slack:UAGENT1"}},
		{name: "priority", user: agent1, text: "priority " + no + " p0", want: []string{"slack.done.priority", "priority=P0"},
			wantCalls: []string{"SetPriority " + no + " slack:UAGENT1"},
			check: func(t *testing.T, e *env) {
				if p := e.desk.ticket(no).Priority; p != bot.P0 {
					t.Errorf("priority %s", p)
				}
			}},
		{name: "assign", user: supervisor, text: "assign " + no + " <@" + agent2 + "|bob>", want: []string{"slack.done.assigned", "<@" + agent2 + ">"},
			wantCalls: []string{"Assign " + no + " slack:USUP1"},
			check: func(t *testing.T, e *env) {
				if a := e.desk.ticket(no).Assignee; a != "slack:"+agent2 {
					t.Errorf("assignee %s", a)
				}
			}},
		{name: "assign to a non-agent", user: supervisor, text: "assign " + no + " <@" + stranger + ">", want: []string{"slack.error.not_agent"}},
		{name: "forbidden by the desk", user: agent1, text: "escalate " + no + " why",
			setup: func(e *env) { delete(e.desk.agents, "slack:"+agent1) },
			want:  []string{"slack.error.forbidden"}, wantCalls: []string{"Escalate " + no + " slack:UAGENT1"}},
		{name: "claimed by someone else", user: agent2, text: "claim " + no,
			setup: func(e *env) { e.desk.tickets[no].Assignee = "slack:" + agent1 },
			want:  []string{"slack.error.claimed_by", "<@" + agent1 + ">"}, wantCalls: []string{"Claim " + no + " slack:UAGENT2"}},
		{name: "faq not wired", user: agent1, text: "faq search 退款", want: []string{"slack.faq.unavailable"}},
		{name: "report not wired", user: agent1, text: "report week", want: []string{"slack.report.unavailable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.desk.create(ticketGD1())
			if tt.setup != nil {
				tt.setup(e)
			}
			got := e.command(t, tt.user, tt.text)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("answer %q lacks %q", got, w)
				}
			}
			calls, _ := e.desk.snapshot()
			if diff := cmp.Diff(tt.wantCalls, calls); diff != "" {
				t.Errorf("desk calls (-want +got):\n%s", diff)
			}
			if tt.check != nil {
				tt.check(t, e)
			}
		})
	}
}

type fakeFAQ struct{ entries map[string]FAQEntry }

func (f *fakeFAQ) Search(ctx context.Context, q, lang string, limit int) ([]FAQEntry, error) {
	var out []FAQEntry
	for _, e := range f.entries {
		if strings.Contains(e.Question, q) {
			out = append(out, e)
		}
	}
	return out, nil
}

func (f *fakeFAQ) Add(ctx context.Context, a bot.Actor, e FAQEntry) (FAQEntry, error) {
	e.ID = "faq-" + string(rune('0'+len(f.entries)))
	f.entries[e.ID] = e
	return e, nil
}

func (f *fakeFAQ) Edit(ctx context.Context, a bot.Actor, id, answer string) (FAQEntry, error) {
	e, ok := f.entries[id]
	if !ok {
		return FAQEntry{}, bot.ErrNotFound
	}
	e.Answer = answer
	f.entries[id] = e
	return e, nil
}

type fakeReports struct{}

func (fakeReports) Report(ctx context.Context, period, lang string) (string, error) {
	return "report " + period + " " + lang + ": 工单 12", nil
}

func TestFAQAndReport(t *testing.T) {
	faq := &fakeFAQ{entries: map[string]FAQEntry{"faq-0": {ID: "faq-0", Question: "退款多久到账", Answer: "1-3 天"}}}
	e := newEnv(t, func(o *Options) { o.FAQ = faq; o.Reports = fakeReports{} })
	steps := []struct{ text, want string }{
		{"faq search 退款", "退款多久到账"},
		{"faq search 发票", "slack.faq.none"},
		{"faq add 怎么开发票 | 在订单页申请", "slack.faq.added id=faq-1"},
		{"faq edit faq-1 在 我的-订单 页申请", "slack.faq.edited id=faq-1"},
		{"faq edit nope x", "slack.faq.unknown id=nope"},
		{"report", "report today zh-CN: 工单 12"},
		{"report month", "report month zh-CN"},
	}
	for _, s := range steps {
		if got := e.command(t, agent1, s.text); !strings.Contains(got, s.want) {
			t.Errorf("%q: %q lacks %q", s.text, got, s.want)
		}
	}
	if got := faq.entries["faq-1"]; got.Question != "怎么开发票" || got.Answer != "在 我的-订单 页申请" {
		t.Errorf("faq entry %+v", got)
	}
}

// A Desk slower than the acknowledgement window: Slack gets an empty 200 at once, the answer follows
// through response_url.
func TestSlowCommandAnswersThroughResponseURL(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.AckTimeout = time.Millisecond })
	e.desk.create(ticketGD1())
	e.desk.gate = make(chan struct{})
	w := httptest.NewRecorder()
	e.app.ServeHTTP(w, slacktest.NewSignedRequest("/slack/commands", "application/x-www-form-urlencoded",
		slacktest.CommandBody(agent1, "CTECH", "claim GD20261123001", e.slack.ResponseURL("abc")), time.Now(), testSecret))
	if w.Code != http.StatusOK || w.Body.Len() != 0 {
		t.Fatalf("ack: %d %q", w.Code, w.Body)
	}
	if got := e.slack.Called("response_url"); len(got) != 0 {
		t.Fatalf("answered before the work was done: %v", got)
	}
	close(e.desk.gate)
	if err := e.app.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	got := e.slack.Called("response_url")
	if len(got) != 1 {
		t.Fatalf("response_url posts: %v", got)
	}
	b, _ := json.Marshal(got[0].JSON)
	if !strings.Contains(string(b), "slack.done.claimed") || got[0].JSON["response_type"] != "ephemeral" {
		t.Errorf("late answer %s", b)
	}
}
