package sla_test

import (
	"testing"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/bot/sla"
)

// sla mirrors bot's priority and status strings (it cannot import bot, which imports it).
func TestMirrorsBotConstants(t *testing.T) {
	pairs := map[string]string{
		string(sla.P0): string(bot.P0), string(sla.P1): string(bot.P1), string(sla.P2): string(bot.P2),
		string(sla.StatusOpen): string(bot.StatusOpen), string(sla.StatusInProgress): string(bot.StatusInProgress),
		string(sla.StatusPending): string(bot.StatusPending), string(sla.StatusResolved): string(bot.StatusResolved),
		string(sla.StatusClosed): string(bot.StatusClosed),
	}
	for got, want := range pairs {
		if got != want {
			t.Errorf("sla has %q where bot has %q", got, want)
		}
	}
}
