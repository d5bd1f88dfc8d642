package wecom

import (
	"errors"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/adapters/adaptertest"
	"github.com/kefu-dev/kefu/adapters/wecom/wecomtest"
	"github.com/kefu-dev/kefu/bot"
)

// writes has the customer send a message (a second after the last, so that each has its own time)
// and waits until the adapter has stored it and recorded it as the start of a fresh count.
func (r *rig) writes(t *testing.T, a *Adapter, text string) {
	t.Helper()
	r.clk.Advance(time.Second)
	want := r.clk.Now().Unix()
	r.f.PushText(customer, text)
	for range 500 {
		if at, ok, _ := a.lastWrote(t.Context(), ChatID(wecomtest.OpenKfID, customer)); ok && at.Unix() >= want {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the customer's message was not synced")
}

// The fake is as strict as WeCom: after a customer's message it accepts 5 send_msg messages and refuses
// the 6th with 95018, until the customer writes again; entering the chat renews nothing.
func TestFakeRefusesSixthReply(t *testing.T) {
	r := newRig(t)
	a := r.adapter(t, func(o *Options) { o.ReplyQuota = -1 }) // kefu counts nothing: the platform decides
	start(t, a, adaptertest.NewStore())
	chat := ChatID(wecomtest.OpenKfID, customer)
	r.writes(t, a, "你好")
	for i := range 5 {
		if _, err := a.Send(t.Context(), bot.Reply{OutboxID: int64(i + 1), ChatID: chat, Text: "好的"}); err != nil {
			t.Fatalf("reply %d: %v", i+1, err)
		}
	}
	_, err := a.Send(t.Context(), bot.Reply{OutboxID: 6, ChatID: chat, Text: "多了"})
	var apiErr *Error
	if !errors.As(err, &apiErr) || apiErr.Code != 95018 || !errors.As(err, new(*bot.PermanentError)) {
		t.Fatalf("6th reply = %v; want the platform's permanent 95018", err)
	}
	r.f.EnterSession(customer)
	if _, err := a.Send(t.Context(), bot.Reply{OutboxID: 7, ChatID: chat, Text: "还是多了"}); !errors.As(err, &apiErr) || apiErr.Code != 95018 {
		t.Fatalf("reply after enter_session = %v; want 95018 (only a message renews the count)", err)
	}
	r.writes(t, a, "在吗")
	if _, err := a.Send(t.Context(), bot.Reply{OutboxID: 8, ChatID: chat, Text: "在的"}); err != nil {
		t.Fatalf("reply after a new message: %v", err)
	}
}

// kefu counts send_msg messages since the customer's last message and refuses the one past the quota
// without calling WeCom, as a permanent ErrQuotaUsed (the agents get a note, as for the platform's
// own refusal); a new message from the customer resets the count, which does not add up.
func TestReplyQuota(t *testing.T) {
	type step struct {
		writes  bool // the customer writes first
		refused bool
	}
	ok, no, msg := step{}, step{refused: true}, step{writes: true}
	tests := []struct {
		name  string
		limit int
		steps []step
	}{
		{"five go out, the sixth is refused without a call", 0, []step{ok, ok, ok, ok, ok, no}},
		{"a new message resets the count", 0, []step{ok, ok, ok, ok, ok, no, msg, ok, ok, ok, ok, no}},
		{"the count does not add up", 0, []step{ok, ok, msg, ok, ok, ok, ok, no}},
		{"a configured quota of 3", 3, []step{ok, ok, ok, no}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			a := r.adapter(t, func(o *Options) { o.ReplyQuota = tc.limit })
			start(t, a, adaptertest.NewStore())
			chat := ChatID(wecomtest.OpenKfID, customer)
			r.writes(t, a, "你好")
			for i, s := range tc.steps {
				if s.writes {
					r.writes(t, a, "还在吗")
				}
				before := r.f.SendCalls()
				_, err := a.Send(t.Context(), bot.Reply{OutboxID: int64(i + 1), ChatID: chat, Text: "回复"})
				var perm *bot.PermanentError
				refused := errors.As(err, &perm) && errors.Is(err, bot.ErrQuotaUsed)
				if refused != s.refused || !s.refused && err != nil {
					t.Fatalf("step %d: %v; want refused %v", i+1, err, s.refused)
				}
				want := 1
				if s.refused {
					want = 0
				}
				if got := r.f.SendCalls() - before; got != want {
					t.Fatalf("step %d: %d send_msg calls, want %d", i+1, got, want)
				}
			}
			if r.f.SendCalls() != len(r.f.Sent()) {
				t.Errorf("WeCom refused %d calls; kefu should have refused them first", r.f.SendCalls()-len(r.f.Sent()))
			}
		})
	}
}

// The greeting sent with the welcome code (send_msg_on_event) is not counted.
func TestReplyQuotaWelcomeNotCounted(t *testing.T) {
	r := newRig(t)
	a := r.adapter(t)
	st := adaptertest.NewStore()
	start(t, a, st)
	chat := ChatID(wecomtest.OpenKfID, customer)
	r.writes(t, a, "你好")
	r.f.EnterSession(customer)
	st.WaitFor(t, 2, 5*time.Second)
	for i := range 6 { // the greeting with the code, then 5 send_msg
		if _, err := a.Send(t.Context(), bot.Reply{OutboxID: int64(i + 1), ChatID: chat, Text: "回复"}); err != nil {
			t.Fatalf("reply %d: %v", i+1, err)
		}
	}
	if _, err := a.Send(t.Context(), bot.Reply{OutboxID: 7, ChatID: chat, Text: "多了"}); !errors.Is(err, bot.ErrQuotaUsed) {
		t.Fatalf("7th reply = %v; want ErrQuotaUsed", err)
	}
	if sent := r.f.Sent(); len(sent) != 6 || sent[0].Code == "" {
		t.Errorf("sent %+v; want the greeting with the welcome code and 5 more", sent)
	}
}
