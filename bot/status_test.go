package bot_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/kefu-dev/kefu/bot"
)

// A ticket goes to resolved or closed only after an agent reply, or with a supervisor's recorded
// reason; nothing changes when refused.
func TestStatusOrder(t *testing.T) {
	agent := bot.AgentConfig{ID: "cli:alice", Name: "Alice"}
	sup := bot.AgentConfig{ID: "cli:sue", Name: "Sue", Supervisor: true}
	alice, sue := bot.Actor{ID: agent.ID}, bot.Actor{ID: sup.ID}
	ctx := context.Background()
	tests := []struct {
		name      string
		replied   bool
		do        func(e *bot.Engine, no string) (bot.Ticket, error)
		wantErr   error
		want      bot.Status
		wantForce bool
	}{
		{"close unanswered", false, func(e *bot.Engine, no string) (bot.Ticket, error) { return e.Close(ctx, alice, no) }, bot.ErrNoReply, bot.StatusOpen, false},
		{"resolve unanswered", false, func(e *bot.Engine, no string) (bot.Ticket, error) { return e.Resolve(ctx, alice, no, "") }, bot.ErrNoReply, bot.StatusOpen, false},
		{"status closed unanswered", false, func(e *bot.Engine, no string) (bot.Ticket, error) {
			return e.SetStatus(ctx, alice, no, bot.StatusClosed)
		}, bot.ErrNoReply, bot.StatusOpen, false},
		{"supervisor closes unanswered without reason", false, func(e *bot.Engine, no string) (bot.Ticket, error) { return e.Close(ctx, sue, no) }, bot.ErrNoReply, bot.StatusOpen, false},
		{"agent forces", false, func(e *bot.Engine, no string) (bot.Ticket, error) { return e.ForceClose(ctx, alice, no, "spam") }, bot.ErrForbidden, bot.StatusOpen, false},
		{"force without reason", false, func(e *bot.Engine, no string) (bot.Ticket, error) { return e.ForceClose(ctx, sue, no, "  ") }, bot.ErrBadInput, bot.StatusOpen, false},
		{"supervisor forces close", false, func(e *bot.Engine, no string) (bot.Ticket, error) {
			return e.ForceClose(ctx, sue, no, "duplicate of GD20261123002")
		}, nil, bot.StatusClosed, true},
		{"supervisor forces resolve", false, func(e *bot.Engine, no string) (bot.Ticket, error) {
			return e.ForceResolve(ctx, sue, no, "", "solved by phone")
		}, nil, bot.StatusResolved, true},
		{"close answered", true, func(e *bot.Engine, no string) (bot.Ticket, error) { return e.Close(ctx, alice, no) }, nil, bot.StatusClosed, false},
		{"resolve answered", true, func(e *bot.Engine, no string) (bot.Ticket, error) { return e.Resolve(ctx, alice, no, "done") }, nil, bot.StatusResolved, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, agent, sup)
			e.say(t, "s", "ticket x")
			no := "GD20261123001"
			want := tt.want
			if tt.replied {
				if _, err := e.eng.Reply(ctx, alice, no, "hello"); err != nil {
					t.Fatal(err)
				}
			}
			_, err := tt.do(e.eng, no)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			}
			tk, evs, err := e.eng.Ticket(ctx, no)
			if err != nil {
				t.Fatal(err)
			}
			if tt.replied && want == bot.StatusOpen {
				want = bot.StatusInProgress
			}
			if tk.Status != want {
				t.Errorf("status %s, want %s", tk.Status, want)
			}
			forced := false
			for _, ev := range evs {
				if ev.Kind == bot.EvForced {
					forced = true
					if ev.Actor != sue.ID || !ev.Internal || ev.Text == "" {
						t.Errorf("forced event %+v", ev)
					}
				}
			}
			if forced != tt.wantForce {
				t.Errorf("forced event recorded: %v, want %v (%s)", forced, tt.wantForce, fmt.Sprint(len(evs)))
			}
		})
	}
}
