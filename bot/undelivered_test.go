package bot_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/kefu-dev/kefu/bot"
)

// A reply that can no longer be sent is never dropped silently: the agents get an internal note on
// the ticket saying why (the 48-hour window, or repeated failures) and what was not delivered — also
// when the ticket was resolved before the send failed.
func TestUndeliveredNoted(t *testing.T) {
	windowClosed := &bot.PermanentError{Err: fmt.Errorf("wechat: %w", bot.ErrWindowClosed)}
	tests := []struct {
		name     string
		cause    error
		resolve  bool
		noTicket bool
		want     string // the note; "" for none
	}{
		{name: "window closed", cause: windowClosed, want: "zh-CN:channels.undelivered.window|text=师傅明天上午到"},
		{name: "quota used", cause: &bot.PermanentError{Err: fmt.Errorf("wechat: %w", bot.ErrQuotaUsed)}, want: "zh-CN:channels.undelivered.quota|text=师傅明天上午到"},
		{name: "failed", cause: errors.New("503 after 8 attempts"), want: "zh-CN:channels.undelivered.failed|text=师傅明天上午到"},
		{name: "ticket already resolved", cause: windowClosed, resolve: true, want: "zh-CN:channels.undelivered.window"},
		{name: "no ticket: only logged", cause: windowClosed, noTicket: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			text := "ticket 冰箱不制冷"
			if tc.noTicket {
				text = "hello"
			}
			e.say(t, "o1", text)
			conv, err := e.db.Conversation(ctx, 1)
			if err != nil {
				t.Fatal(err)
			}
			const no = "GD20261123001"
			if tc.resolve {
				if _, err := e.eng.Reply(ctx, alice, no, "师傅明天上午到"); err != nil {
					t.Fatal(err)
				}
				if _, err := e.eng.Resolve(ctx, alice, no, "done"); err != nil {
					t.Fatal(err)
				}
			}
			r := bot.Reply{OutboxID: 7, ConversationID: conv.ID, Channel: bot.ChannelWeChat, ChatID: "o1", Text: "师傅明天上午到"}
			if err := e.eng.Undelivered(ctx, r, tc.cause); err != nil {
				t.Fatal(err)
			}
			if tc.noTicket {
				if tks, _ := e.eng.ListTickets(ctx, bot.TicketFilter{}); len(tks) != 0 {
					t.Fatalf("tickets %+v", tks)
				}
				return
			}
			_, evs, err := e.eng.Ticket(ctx, no)
			if err != nil {
				t.Fatal(err)
			}
			var notes []bot.TicketEvent
			for _, ev := range evs {
				if ev.Kind == bot.EvNote && ev.Actor == "system" {
					notes = append(notes, ev)
				}
			}
			if len(notes) != 1 || !strings.HasPrefix(notes[0].Text, tc.want) || !notes[0].Internal {
				t.Errorf("notes %+v, want one internal note starting %q", notes, tc.want)
			}
		})
	}
}
