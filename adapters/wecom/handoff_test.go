package wecom

import (
	"errors"
	"testing"

	"github.com/kefu-dev/kefu/adapters/adaptertest"
	"github.com/kefu-dev/kefu/adapters/wecom/wecomtest"
	"github.com/kefu-dev/kefu/bot"
)

// TestHandOff: a session is handed to a named WeCom servicer (service_state/trans to 3) from the states
// WeCom allows, after which kefu's own replies are refused as taken over; an ended session, a servicer
// not on duty and no servicer at all are refused without changing anything.
func TestHandOff(t *testing.T) {
	chat := ChatID(wecomtest.OpenKfID, customer)
	tests := []struct {
		name     string
		state    int
		servicer string
		ok       bool
	}{
		{"new session", wecomtest.StateNew, "lisi", true},
		{"held by the API", wecomtest.StateBot, "lisi", true},
		{"waiting in the queue", wecomtest.StatePool, "lisi", true},
		{"from another servicer", wecomtest.StateServicer, "lisi", true},
		{"ended: the customer must write again", wecomtest.StateEnded, "lisi", false},
		{"servicer not on duty", wecomtest.StateBot, "wangwu", false},
		{"no servicer", wecomtest.StateBot, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			a := r.adapter(t)
			start(t, a, adaptertest.NewStore())
			r.f.Follow(customer)
			r.f.SetServicers("zhangsan", "lisi")
			r.f.SetServiceState(customer, tc.state, "zhangsan")
			err := a.HandOff(t.Context(), chat, tc.servicer)
			st, who, serr := a.ServiceState(t.Context(), chat)
			if serr != nil {
				t.Fatal(serr)
			}
			if !tc.ok {
				if err == nil || st != tc.state {
					t.Fatalf("HandOff = %v, state %d -> %d; want refused, unchanged", err, tc.state, st)
				}
				if tc.servicer == "" && !errors.Is(err, ErrNotServicer) {
					t.Errorf("no servicer: %v", err)
				}
				return
			}
			if err != nil || st != wecomtest.StateServicer || who != tc.servicer || len(r.f.Trans()) != 1 {
				t.Fatalf("HandOff = %v; state %d servicer %q, trans %v", err, st, who, r.f.Trans())
			}
			if _, err := a.Send(t.Context(), bot.Reply{OutboxID: 9, ChatID: chat, Text: "您好"}); !errors.Is(err, bot.ErrTakenOver) {
				t.Errorf("kefu's reply after the hand-off: %v, want ErrTakenOver", err)
			}
		})
	}
}
