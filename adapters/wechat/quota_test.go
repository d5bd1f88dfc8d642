package wechat

import (
	"errors"
	"strings"
	"testing"

	"github.com/kefu-dev/kefu/adapters/adaptertest"
	"github.com/kefu-dev/kefu/adapters/wechat/wechattest"
	"github.com/kefu-dev/kefu/bot"
)

// threeParts is a text WeChat takes in three messages.
var threeParts = strings.Repeat("冰箱不制冷了，已经三天。", 120)

// The fake is as strict as the platform: after a follower's message it accepts 5 messages and refuses
// the 6th with 45047, until the follower writes again.
func TestFakeRefusesSixthReply(t *testing.T) {
	r := newRig(t, false)
	a := r.adapter(t, func(o *Options) { o.ReplyQuota = -1 }) // kefu counts nothing: the platform decides
	run(t, a, adaptertest.NewStore())
	if _, err := r.f.PushText(follower, "hi"); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := a.Send(t.Context(), bot.Reply{OutboxID: int64(i + 1), ChatID: follower, Text: "ok"}); err != nil {
			t.Fatalf("reply %d: %v", i+1, err)
		}
	}
	_, err := a.Send(t.Context(), bot.Reply{OutboxID: 6, ChatID: follower, Text: "one too many"})
	var apiErr *Error
	if !errors.As(err, &apiErr) || apiErr.Code != codeOutOfCount || !errors.Is(err, ErrQuotaUsed) {
		t.Fatalf("6th reply = %v; want the platform's 45047 as ErrQuotaUsed", err)
	}
	if _, err := r.f.PushText(follower, "again"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Send(t.Context(), bot.Reply{OutboxID: 7, ChatID: follower, Text: "fresh quota"}); err != nil {
		t.Fatalf("reply after a new message: %v", err)
	}
}

// kefu counts the messages since the follower's last message and refuses the one that would pass the
// quota itself, without calling the platform, whole (a split text never half sent), as the same
// permanent error as the platform's own 45047.
func TestReplyQuota(t *testing.T) {
	if n := len(buildMessages(bot.Reply{Text: threeParts})); n != 3 {
		t.Fatalf("threeParts is %d messages, want 3", n)
	}
	type send struct {
		text    string
		inbound bool // the follower writes first
		calls   int  // custom/send calls it makes
		refused bool // kefu refuses it: a permanent ErrQuotaUsed
	}
	short := func(n int) []send {
		var s []send
		for range n {
			s = append(s, send{text: "好的", calls: 1})
		}
		return s
	}
	tests := []struct {
		name  string
		limit int // Options.ReplyQuota
		sends []send
	}{
		{"five go out, the sixth is refused without a call", 0,
			append(short(5), send{text: "第六条", refused: true})},
		{"a new message from the follower resets the count", 0,
			append(append(short(5), send{text: "第六条", refused: true}), send{text: "再来", inbound: true, calls: 1})},
		{"the count does not add up over messages", 0,
			append(append(short(3), send{text: "再来", inbound: true, calls: 1}), append(short(4), send{text: "多了", refused: true})...)},
		{"a 3-part text with 3 left goes out", 0,
			append(short(2), send{text: threeParts, calls: 3}, send{text: "多了", refused: true})},
		{"a 3-part text with 2 left is refused whole", 0,
			append(short(3), send{text: threeParts, refused: true}, send{text: "短的还行", calls: 1})},
		{"a configured quota of 2", 2,
			append(short(2), send{text: "第三条", refused: true})},
		{"a negative quota counts nothing (the platform refuses)", -1,
			short(5)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, false)
			a := r.adapter(t, func(o *Options) { o.ReplyQuota = tc.limit })
			run(t, a, adaptertest.NewStore())
			if _, err := r.f.PushText(follower, "hi"); err != nil {
				t.Fatal(err)
			}
			for i, s := range tc.sends {
				if s.inbound {
					if _, err := r.f.PushText(follower, "还在吗"); err != nil {
						t.Fatal(err)
					}
				}
				before := r.f.SendCalls()
				_, err := a.Send(t.Context(), bot.Reply{OutboxID: int64(i + 1), ChatID: follower, Text: s.text})
				var perm *bot.PermanentError
				if s.refused != (errors.As(err, &perm) && errors.Is(err, ErrQuotaUsed)) || !s.refused && err != nil {
					t.Fatalf("send %d: %v; want refused %v", i+1, err, s.refused)
				}
				if got := r.f.SendCalls() - before; got != s.calls {
					t.Fatalf("send %d: %d custom/send calls, want %d", i+1, got, s.calls)
				}
			}
			if r.f.SendCalls() != len(r.f.Sent()) {
				t.Errorf("the platform refused %d calls; kefu should have refused them first", r.f.SendCalls()-len(r.f.Sent()))
			}
		})
	}
}

// A split text whose send failed after some parts resumes with the rest on the retry: the parts already
// sent were counted, and the rest needs only what is left.
func TestReplyQuotaResumesParts(t *testing.T) {
	r := newRig(t, false)
	a := r.adapter(t, nil)
	run(t, a, adaptertest.NewStore())
	if _, err := r.f.PushText(follower, "hi"); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if _, err := a.Send(t.Context(), bot.Reply{OutboxID: int64(10 + i), ChatID: follower, Text: "好的"}); err != nil {
			t.Fatal(err)
		}
	}
	calls := 0
	r.f.SetSendHook(func(wechattest.Sent) (int, string) {
		if calls++; calls == 3 {
			return -1, "system error"
		}
		return 0, ""
	})
	long := bot.Reply{OutboxID: 20, ChatID: follower, Text: threeParts}
	if _, err := a.Send(t.Context(), long); err == nil || errors.As(err, new(*bot.PermanentError)) {
		t.Fatalf("Send = %v; want a retryable error on part 3", err)
	}
	// 4 sent, 1 left: the retry's one part fits.
	if _, err := a.Send(t.Context(), long); err != nil {
		t.Fatalf("retry of the last part: %v", err)
	}
	if n := len(r.f.Sent()); n != 5 {
		t.Errorf("%d messages accepted, want 5", n)
	}
	before := r.f.SendCalls()
	if _, err := a.Send(t.Context(), bot.Reply{OutboxID: 21, ChatID: follower, Text: "多了"}); !errors.Is(err, ErrQuotaUsed) || r.f.SendCalls() != before {
		t.Errorf("6th message = %v with %d calls; want refused without a call", err, r.f.SendCalls()-before)
	}
}

// The platform's own count wins when it is ahead of kefu's (another tool sent, or kefu's State was
// reset): its 45047 is the same permanent ErrQuotaUsed, and kefu makes no further call until the
// follower writes again.
func TestReplyQuotaPlatformAhead(t *testing.T) {
	r := newRig(t, false)
	r.f.ReplyLimit = 3
	a := r.adapter(t, nil)
	run(t, a, adaptertest.NewStore())
	if _, err := r.f.PushText(follower, "hi"); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := a.Send(t.Context(), bot.Reply{OutboxID: int64(i + 1), ChatID: follower, Text: "好的"}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := a.Send(t.Context(), bot.Reply{OutboxID: 4, ChatID: follower, Text: "第四条"})
	var apiErr *Error
	if !errors.As(err, &apiErr) || apiErr.Code != codeOutOfCount || !errors.As(err, new(*bot.PermanentError)) || !errors.Is(err, ErrQuotaUsed) {
		t.Fatalf("4th reply = %v; want the platform's 45047, permanent, ErrQuotaUsed", err)
	}
	before := r.f.SendCalls()
	if _, err := a.Send(t.Context(), bot.Reply{OutboxID: 5, ChatID: follower, Text: "第五条"}); !errors.Is(err, ErrQuotaUsed) || r.f.SendCalls() != before {
		t.Errorf("5th reply = %v with %d calls; want refused by kefu without a call", err, r.f.SendCalls()-before)
	}
	if _, err := r.f.PushText(follower, "在的"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Send(t.Context(), bot.Reply{OutboxID: 6, ChatID: follower, Text: "您好"}); err != nil {
		t.Errorf("reply after the follower wrote again: %v", err)
	}
}
