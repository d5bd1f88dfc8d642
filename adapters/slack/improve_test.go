package slack

import (
	"context"
	"strings"
	"testing"
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
