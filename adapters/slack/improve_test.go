package slack

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/kefu-dev/kefu/bot"
)

type fakeImprove struct{ got []string }

func (f *fakeImprove) Run(ctx context.Context, actor, text, lang string) string {
	f.got = append(f.got, actor+" "+text+" "+lang)
	return "improve answer"
}

// TestImproveCommand: `/kefu improve …` reaches Options.Improve with the acting agent and the rest of
// the line; strangers are refused before it; without Options.Improve it says "not available".
func TestImproveCommand(t *testing.T) {
	fi := &fakeImprove{}
	e := newEnv(t, func(o *Options) { o.Improve = fi })
	if got := e.command(t, agent1, "improve new invoice | 发票未收到 | 财务未开具"); got != "improve answer" {
		t.Errorf("answer %q", got)
	}
	if got := e.command(t, "USTRANGER", "improve list"); !strings.Contains(got, "slack.refused") {
		t.Errorf("stranger: %q", got)
	}
	if len(fi.got) != 1 || fi.got[0] != "slack:"+agent1+" new invoice | 发票未收到 | 财务未开具 zh-CN" {
		t.Errorf("runner got %q", fi.got)
	}
	if got := newEnv(t).command(t, agent1, "improve list"); !strings.Contains(got, "improve.chat.unavailable") {
		t.Errorf("without a runner: %q", got)
	}
}

// TestCardKnownIssue: an open ticket of a category with an open improvement record shows
// 「已知问题 IMP-…」 on its card; a closed one does not.
func TestCardKnownIssue(t *testing.T) {
	var asked []string
	e := newEnv(t, func(o *Options) {
		o.KnownIssues = func(ctx context.Context, category string) []string {
			asked = append(asked, category)
			if category == "tech" {
				return []string{"IMP-202611-001"}
			}
			return nil
		}
	})
	tk := ticketGD1()
	tk.Status = bot.StatusOpen
	b, _ := json.Marshal(e.app.cardBlocks(tk, true))
	if !strings.Contains(string(b), "improve.known_issue no=IMP-202611-001") {
		t.Errorf("open tech ticket's card lacks the known issue: %s", b)
	}
	tk.Status = bot.StatusClosed
	b, _ = json.Marshal(e.app.cardBlocks(tk, true))
	if strings.Contains(string(b), "improve.known_issue") || len(asked) != 1 {
		t.Errorf("closed ticket's card: %s (asked %v)", b, asked)
	}
}
