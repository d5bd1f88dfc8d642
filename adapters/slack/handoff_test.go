package slack

import (
	"context"
	"strings"
	"testing"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/locales"
)

// TestSlashHandOff: `/kefu handoff GD…` runs Options.HandOff as the acting agent and answers its text
// (a refusal too); without HandOff it says the command is unavailable; a bad ticket number gets the
// usage line.
func TestSlashHandOff(t *testing.T) {
	var got []string
	e := newEnv(t, func(o *Options) {
		o.T = locales.Default().T
		o.HandOff = func(_ context.Context, actor bot.Actor, no string) (string, bool, error) {
			got = append(got, actor.ID+" "+no)
			if no == "GD20261123002" {
				return "没有对应的企业微信接待人员", false, nil
			}
			return "已转给企业微信接待人员 lisi", true, nil
		}
	})
	if text := e.command(t, agent1, "handoff gd20261123001"); !strings.Contains(text, "lisi") {
		t.Errorf("handoff answer %q", text)
	}
	if text := e.command(t, agent1, "handoff GD20261123002"); !strings.Contains(text, "没有对应") {
		t.Errorf("refusal answer %q", text)
	}
	if len(got) != 2 || got[0] != "slack:"+agent1+" GD20261123001" {
		t.Errorf("HandOff calls %v", got)
	}
	if text := e.command(t, agent1, "handoff 123"); !strings.Contains(text, "/kefu handoff GD…") {
		t.Errorf("bad ticket number: %q, want the usage", text)
	}
	off := newEnv(t, func(o *Options) { o.T = locales.Default().T })
	if text := off.command(t, agent1, "handoff GD20261123001"); text == "" || strings.Contains(text, "lisi") {
		t.Errorf("without HandOff: %q", text)
	}
}
