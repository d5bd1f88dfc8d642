package email

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/adapters/adaptertest"
	"github.com/kefu-dev/kefu/adapters/email/emailtest"
	"github.com/kefu-dev/kefu/adapters/internal/memstate"
	"github.com/kefu-dev/kefu/bot"
)

const customer = "zhang.san@example.cn"

func newAdapter(t *testing.T, s *emailtest.Server, state State, mod func(*Options)) *Adapter {
	t.Helper()
	o := Options{IMAPAddr: s.IMAPAddr, IMAPSecurity: Plain, SMTPAddr: s.SMTPAddr, SMTPSecurity: Plain,
		Username: emailtest.Username, Password: emailtest.Password, From: emailtest.Address, FromName: "云朵家电客服",
		PollInterval: 50 * time.Millisecond, DefaultSubject: "客服回复", State: state}
	if mod != nil {
		mod(&o)
	}
	a, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestConformance(t *testing.T) {
	for _, idle := range []bool{true, false} {
		t.Run(map[bool]string{true: "idle", false: "polling"}[idle], func(t *testing.T) {
			adaptertest.Run(t, func(t *testing.T) adaptertest.Harness {
				s := emailtest.New(t)
				state := NewMemState()
				var n atomic.Int64
				return adaptertest.Harness{
					Features: adaptertest.Features{Redelivery: true, IgnoresBots: true},
					New: func(t *testing.T) bot.Adapter {
						return newAdapter(t, s, state, func(o *Options) { o.NoIdle = !idle })
					},
					Inject: func(t *testing.T, text string) string {
						id := fmt.Sprintf("m%d@example.cn", n.Add(1))
						if err := s.Deliver(emailtest.Message(customer, "Re: 咨询", id, text, "In-Reply-To: <x@kefu.test>")); err != nil {
							t.Fatal(err)
						}
						return customer
					},
					InjectFromBot: func(t *testing.T, text string) {
						id := fmt.Sprintf("auto%d@example.cn", n.Add(1))
						if err := s.Deliver(emailtest.Message(customer, "Automatic reply: 咨询", id, text, "Auto-Submitted: auto-replied")); err != nil {
							t.Fatal(err)
						}
					},
					ChatID: customer,
				}
			})
		})
	}
}

// A customer writes, kefu answers in the thread, the customer answers that reply: the answer comes
// back on the same conversation, and kefu's next reply continues the same thread with the ticket number.
func TestReplyThreadRoundTrip(t *testing.T) {
	s := emailtest.New(t)
	a := newAdapter(t, s, NewMemState(), nil)
	st := adaptertest.NewStore()
	ctx := t.Context()
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, st) }()

	if err := s.Deliver(emailtest.Message("张三 <Zhang.San@Example.cn>", "冰箱问题", "q1@example.cn", "你好，\n冰箱不制冷了，怎么办？\n\n-- \n张三\n")); err != nil {
		t.Fatal(err)
	}
	ev := st.WaitFor(t, 1, 10*time.Second)[0]
	if ev.ChatID != customer || ev.MsgID != "q1@example.cn" || ev.UserName != "张三" || ev.Text != "冰箱问题\n你好，\n冰箱不制冷了，怎么办？" {
		t.Fatalf("event = %+v", ev)
	}
	if _, err := a.Send(ctx, bot.Reply{OutboxID: 41, ChatID: ev.ChatID, Text: "已为您创建工单 GD20261203001，我们会尽快联系您。"}); err != nil {
		t.Fatal(err)
	}
	m := s.WaitSent(t, 1, 5*time.Second)[0]
	subj, _ := m.Header.Subject()
	inReply, _ := m.Header.MsgIDList("In-Reply-To")
	ourID, _ := m.Header.MessageID()
	if subj != "[GD20261203001] Re: 冰箱问题" || strings.Join(inReply, ",") != "q1@example.cn" || m.To[0] != customer ||
		m.Header.Get("Auto-Submitted") != "auto-replied" || !strings.Contains(m.Body, "GD20261203001") || ourID != "kefu.41."+shortHash(customer)+"@kefu.test" {
		t.Fatalf("reply: subject %q, in-reply-to %v, to %v, id %q, header %v\n%s", subj, inReply, m.To, ourID, m.Header.Map(), m.Body)
	}

	// The customer answers from their mail client, quoting kefu's mail.
	body := "好的，我明天在家。\n\n在 2026年12月3日 10:00，云朵家电客服 <support@kefu.test> 写道：\n> 已为您创建工单 GD20261203001\n"
	if err := s.Deliver(emailtest.Message(customer, subj, "q2@example.cn", body,
		"In-Reply-To: <"+ourID+">", "References: <q1@example.cn> <"+ourID+">")); err != nil {
		t.Fatal(err)
	}
	ev2 := st.WaitFor(t, 2, 10*time.Second)[1]
	if ev2.ChatID != ev.ChatID || ev2.Text != "好的，我明天在家。" {
		t.Fatalf("answer = %+v; want the same chat and the quote trimmed", ev2)
	}
	if _, err := a.Send(ctx, bot.Reply{OutboxID: 42, ChatID: ev.ChatID, Text: "师傅明天上午上门。"}); err != nil {
		t.Fatal(err)
	}
	m2 := s.WaitSent(t, 2, 5*time.Second)[1]
	subj2, _ := m2.Header.Subject()
	refs, _ := m2.Header.MsgIDList("References")
	if subj2 != "[GD20261203001] Re: 冰箱问题" || strings.Join(refs, " ") != "q1@example.cn "+ourID+" q2@example.cn" {
		t.Errorf("second reply: subject %q references %v", subj2, refs)
	}
	for deadline := time.Now().Add(5 * time.Second); s.Unseen() != 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d messages left unread; kefu flags what it handled", s.Unseen())
		}
	}
}

// Auto-replies, bounces and list mail are never handed on (so never answered); the person's mail
// after them is.
func TestAutomaticMailNotAnswered(t *testing.T) {
	s := emailtest.New(t)
	a := newAdapter(t, s, NewMemState(), nil)
	st := adaptertest.NewStore()
	go func() { _ = a.Run(t.Context(), st) }()
	for i, extra := range [][]string{
		{"Auto-Submitted: auto-replied"},
		{"Precedence: bulk"},
		{"X-Autoreply: yes"},
		{"List-Id: <news.example.cn>"},
		{"Content-Type: multipart/report; report-type=delivery-status; boundary=b"},
	} {
		if err := s.Deliver(emailtest.Message(customer, "自动回复：我正在休假", fmt.Sprintf("auto%d@example.cn", i), "我正在休假，12 月 10 日回来。", extra...)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Deliver(emailtest.Message("MAILER-DAEMON@mx.example.cn", "Undelivered Mail Returned to Sender", "bounce@mx", "The mail system could not deliver")); err != nil {
		t.Fatal(err)
	}
	if err := s.Deliver(emailtest.Message(customer, "退款", "real@example.cn", "我要退款")); err != nil {
		t.Fatal(err)
	}
	evs := st.WaitFor(t, 1, 10*time.Second)
	time.Sleep(200 * time.Millisecond)
	if got := st.Texts(); len(got) != 1 || got[0] != "我要退款" || evs[0].MsgID != "real@example.cn" {
		t.Errorf("stored %q; want only the person's mail", got)
	}
	if len(s.Sent()) != 0 {
		t.Errorf("%d mails sent in answer to automatic mail", len(s.Sent()))
	}
}

func TestSendRefused(t *testing.T) {
	s := emailtest.New(t)
	a := newAdapter(t, s, NewMemState(), nil)
	s.Reject(func(string) int { return 550 })
	_, err := a.Send(t.Context(), bot.Reply{OutboxID: 1, ChatID: customer, Text: "x"})
	var perm *bot.PermanentError
	if !errors.As(err, &perm) {
		t.Errorf("550 = %v; want permanent", err)
	}
	s.Reject(func(string) int { return 451 })
	if _, err := a.Send(t.Context(), bot.Reply{OutboxID: 2, ChatID: customer, Text: "x"}); err == nil || errors.As(err, &perm) {
		t.Errorf("451 = %v; want a retryable error", err)
	}
	bad := newAdapter(t, s, NewMemState(), func(o *Options) { o.Password = "wrong" })
	s.Reject(nil)
	if _, err := bad.Send(t.Context(), bot.Reply{OutboxID: 3, ChatID: customer, Text: "x"}); err == nil {
		t.Error("send with a wrong password succeeded")
	}
}

// With Hash and Seal (storage's key ring) no address is kept in clear: the chat id is a hash, the
// address and thread are sealed in State, and replies still reach the customer.
func TestAddressProtected(t *testing.T) {
	s := emailtest.New(t)
	state := NewMemState()
	a := newAdapter(t, s, state, func(o *Options) {
		o.Hash = func(v string) string { return fmt.Sprintf("%x", len(v)*7919) + "hh" }
		o.Seal = func(v string) string { return "sealed:" + reverse(v) }
		o.Open = func(v string) (string, error) { return reverse(strings.TrimPrefix(v, "sealed:")), nil }
	})
	st := adaptertest.NewStore()
	go func() { _ = a.Run(t.Context(), st) }()
	if err := s.Deliver(emailtest.Message(customer, "发票", "inv@example.cn", "请开发票")); err != nil {
		t.Fatal(err)
	}
	ev := st.WaitFor(t, 1, 10*time.Second)[0]
	if strings.Contains(ev.ChatID, "@") || strings.Contains(ev.UserID, "@") {
		t.Fatalf("chat id %q holds the address", ev.ChatID)
	}
	for k, v := range state.(*memstate.State).Snapshot() {
		if strings.Contains(k+v, customer) {
			t.Errorf("state %q = %q holds the address in clear", k, v)
		}
	}
	if _, err := a.Send(t.Context(), bot.Reply{OutboxID: 5, ChatID: ev.ChatID, Text: "好的"}); err != nil {
		t.Fatal(err)
	}
	if m := s.WaitSent(t, 1, 5*time.Second)[0]; m.To[0] != customer {
		t.Errorf("sent to %v", m.To)
	}
}

func reverse(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}

// A reply with options lists them numbered; the customer's answer with a number or a label is the
// button press.
func TestOptionsAnswered(t *testing.T) {
	s := emailtest.New(t)
	a := newAdapter(t, s, NewMemState(), nil)
	st := adaptertest.NewStore()
	go func() { _ = a.Run(t.Context(), st) }()
	if err := s.Deliver(emailtest.Message(customer, "保修", "o1@example.cn", "保修怎么申请？")); err != nil {
		t.Fatal(err)
	}
	st.WaitFor(t, 1, 10*time.Second)
	if _, err := a.Send(t.Context(), bot.Reply{OutboxID: 1, ChatID: customer, Text: "这个回答有帮助吗？",
		Buttons: []bot.Button{{Label: "有帮助", Payload: "3:yes"}, {Label: "没解决", Payload: "3:no"}}}); err != nil {
		t.Fatal(err)
	}
	if m := s.WaitSent(t, 1, 5*time.Second)[0]; !strings.Contains(m.Body, "[1] 有帮助\r\n[2] 没解决") {
		t.Fatalf("options not listed:\n%s", m.Body)
	}
	for i, answer := range []string{"２\n\n在 2026年12月3日 写道：\n> 这个回答有帮助吗？", "没解决", "其实我还想问运费"} {
		if err := s.Deliver(emailtest.Message(customer, "Re: 保修", fmt.Sprintf("o%d@example.cn", i+2), answer, "In-Reply-To: <x@kefu.test>")); err != nil {
			t.Fatal(err)
		}
	}
	evs := st.WaitFor(t, 4, 10*time.Second)
	for i, want := range []struct {
		kind          bot.Kind
		payload, text string
	}{{bot.KindButton, "3:no", "没解决"}, {bot.KindButton, "3:no", "没解决"}, {bot.KindText, "", "其实我还想问运费"}} {
		if ev := evs[i+1]; ev.Kind != want.kind || ev.Payload != want.payload || ev.Text != want.text {
			t.Errorf("answer %d = %s %q %q; want %s %q %q", i, ev.Kind, ev.Payload, ev.Text, want.kind, want.payload, want.text)
		}
	}
}
