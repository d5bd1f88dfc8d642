package main

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kefu-dev/kefu/adapters/wechat"
	"github.com/kefu-dev/kefu/adapters/wechat/wechattest"
	"github.com/kefu-dev/kefu/bot"
)

// startWeChatServer runs serve with the Official Account channel pointed at the fake platform,
// configured through KEFU_WECHAT_* as an operator would (safe mode), and aims the fake's callbacks at
// the server's /wechat/callback.
func startWeChatServer(t testing.TB, dbURL string, f *wechattest.Server) *journeyServer {
	t.Helper()
	s := startJourneyServer(t, dbURL, map[string]string{
		"KEFU_WECHAT_APP_ID":           wechattest.AppID,
		"KEFU_WECHAT_APP_SECRET":       wechattest.AppSecret,
		"KEFU_WECHAT_TOKEN":            wechattest.Token,
		"KEFU_WECHAT_ENCODING_AES_KEY": wechattest.EncodingAESKey,
		"KEFU_WECHAT_API_URL":          f.URL,
	}, nil)
	f.SafeMode = true
	f.Callback = s.url + "/wechat/callback"
	return s
}

// wxFollower is one follower of the Official Account.
type wxFollower struct {
	t      testing.TB
	f      *wechattest.Server
	s      *journeyServer
	openID string
	seen   int
	last   []wechattest.Sent
	msgSeq int
}

func (c *wxFollower) sent() []wechattest.Sent {
	var mine []wechattest.Sent
	for _, m := range c.f.Sent() {
		if m.ToUser == c.openID {
			mine = append(mine, m)
		}
	}
	return mine
}

// settle waits until the follower's outbox is drained and returns the new messages.
func (c *wxFollower) settle() []wechattest.Sent {
	c.t.Helper()
	waitFor(c.t, "outbox drained for "+c.openID, func() bool { return c.s.outboxDrained(c.t, wechat.Channel, c.openID) })
	mine := c.sent()
	out := mine[c.seen:]
	c.seen = len(mine)
	c.last = out
	return out
}

func (c *wxFollower) push(do func() error) []wechattest.Sent {
	c.t.Helper()
	if err := do(); err != nil {
		c.t.Fatal(err)
	}
	r := c.settle()
	if len(r) == 0 {
		c.t.Fatal("no reply")
	}
	return r
}

func (c *wxFollower) say(text string) []wechattest.Sent {
	c.t.Helper()
	return c.push(func() error { _, err := c.f.PushText(c.openID, text); return err })
}

// press taps the menu item labelled label (exactly, else as a prefix) of the newest menu message:
// WeChat sends its content back as text with bizmsgmenuid.
func (c *wxFollower) press(label string) []wechattest.Sent {
	c.t.Helper()
	for _, exact := range []bool{true, false} {
		for i := len(c.last) - 1; i >= 0; i-- {
			for _, it := range c.last[i].Menu {
				id, content, _ := strings.Cut(it, "=")
				if content == label || !exact && strings.HasPrefix(content, label) {
					return c.push(func() error {
						return c.f.Push(c.openID, wechattest.Field{Name: "MsgType", Value: "text"}, wechattest.Field{Name: "Content", Value: content},
							wechattest.Field{Name: "MsgId", Value: c.nextID()},
							wechattest.Field{Name: "bizmsgmenuid", Value: id})
					})
				}
			}
		}
	}
	c.t.Fatalf("no menu item %q in %+v", label, c.last)
	return nil
}

// nextID numbers the messages the test pushes itself, apart from the fake's ids.
func (c *wxFollower) nextID() string { c.msgSeq++; return strconv.Itoa(900000 + c.msgSeq) }

func wxHas(t testing.TB, msgs []wechattest.Sent, wants ...string) {
	t.Helper()
	var all strings.Builder
	for _, m := range msgs {
		all.WriteString(m.Text + " " + strings.Join(m.Menu, " ") + "\n")
	}
	for _, w := range wants {
		if !strings.Contains(all.String(), w) {
			t.Fatalf("no message containing %q in\n%s", w, all.String())
		}
	}
}

// TestJourneyWeChat walks the foundation journey on the Official Account in Chinese: follow →
// greeting, FAQ answer, not helped → clarification → ticket, a photo on the ticket, a command-line
// agent's reply delivered by the customer-service API; then a reply the platform refuses (window
// closed) is noted on the ticket for the agents rather than dropped, and so is a reply past the 5
// messages WeChat allows after the follower's last one, which kefu keeps back itself.
func TestJourneyWeChat(t *testing.T) {
	for name, dsn := range testDatabases(t) {
		t.Run(name, func(t *testing.T) {
			f := wechattest.New(t)
			s := startWeChatServer(t, dsn(t), f)
			sc := journeyScripts[0]
			c := &wxFollower{t: t, f: f, s: s, openID: "oWX_" + name + "_000000000000000001"}

			// The social-media greeting of the seeds (「…已收到您的留言」), not the online-chat one.
			wxHas(t, c.push(func() error { return f.PushEvent(c.openID, "subscribe", "") }), sc.greeting, "已收到您的留言")
			r := c.say(sc.question)
			wxHas(t, r, sc.answer, sc.notHelped)
			c.press(sc.notHelped)
			r = c.press(sc.category)
			for _, step := range []string{sc.description, sc.order, "!" + sc.urgency} {
				if strings.Contains(strings.Join(r[len(r)-1].Menu, " "), sc.submit) {
					break
				}
				if label, ok := strings.CutPrefix(step, "!"); ok {
					r = c.press(label)
				} else {
					r = c.say(step)
				}
			}
			r = c.press(sc.submit)
			no := ticketNo.FindString(r[len(r)-1].Text)
			if no == "" {
				t.Fatalf("no ticket number in %+v", r)
			}

			// A photo is stored on the ticket as an attachment with its media id.
			wxHas(t, c.push(func() error {
				return f.Push(c.openID, wechattest.Field{Name: "MsgType", Value: "image"}, wechattest.Field{Name: "PicUrl", Value: "http://mmbiz.qpic.cn/x"},
					wechattest.Field{Name: "MediaId", Value: "MEDIA_photo_1"}, wechattest.Field{Name: "MsgId", Value: c.nextID()})
			}), sc.added)
			_, evs := s.ticketEvents(t, no)
			found := false
			for _, e := range evs {
				for _, a := range e.Attachments {
					found = found || a.FileID == "MEDIA_photo_1" && a.Type == "photo"
				}
			}
			if !found {
				t.Fatalf("photo not stored on %s: %+v", no, evs)
			}

			s.cli("claim", no)
			s.cli("reply", no, sc.agentReply)
			wxHas(t, c.settle(), sc.agentReply)

			var got []string
			for _, m := range c.sent() {
				got = append(got, m.Text)
			}
			if diff := cmp.Diff(s.outboxTexts(t, wechat.Channel, c.openID), got); diff != "" {
				t.Errorf("custom/send texts differ from the outbox (-outbox +sent):\n%s", diff)
			}

			// The platform refuses the next reply (45015): the agents find a note on the ticket.
			f.SetSendHook(func(wechattest.Sent) (int, string) { return 45015, "response out of time limit" })
			s.cli("reply", no, "还在吗？")
			waitFor(t, "undelivered reply noted", func() bool {
				_, evs := s.ticketEvents(t, no)
				for _, e := range evs {
					if e.Kind == bot.EvNote && strings.Contains(e.Text, "48 小时") && strings.Contains(e.Text, "还在吗？") {
						return true
					}
				}
				return false
			})

			// WeChat allows 5 messages after the follower's last one: kefu sends no 6th (the platform
			// refuses none), and the agents find a note on the ticket instead, as for the platform's own
			// refusal; the follower's next message starts a fresh count.
			f.SetSendHook(nil)
			settled := func() bool { // every row sent or given up
				rows, err := s.db.OutboxRows(t.Context(), wechat.Channel, c.openID)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range rows {
					if r.Status != "sent" && r.Status != "failed" {
						return false
					}
				}
				return true
			}
			waitFor(t, "outbox settled", settled)
			if _, err := f.PushText(c.openID, "好的，我再等等"); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "outbox settled", settled)
			refusedBefore := f.SendCalls() - len(f.Sent())
			for i := 1; i <= 6; i++ {
				s.cli("reply", no, fmt.Sprintf("补充说明 %d", i))
			}
			waitFor(t, "reply past the quota noted", func() bool {
				_, evs := s.ticketEvents(t, no)
				for _, e := range evs {
					if e.Kind == bot.EvNote && strings.Contains(e.Text, "5 条") && strings.Contains(e.Text, "补充说明 6") {
						return true
					}
				}
				return false
			})
			if refused := f.SendCalls() - len(f.Sent()); refused != refusedBefore {
				t.Errorf("the platform refused %d calls; kefu should have kept them back", refused-refusedBefore)
			}
			wxHas(t, c.sent(), "补充说明 1")
			n := len(c.sent())
			if _, err := f.PushText(c.openID, "还有别的办法吗"); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "outbox settled", settled)
			s.cli("reply", no, "补充说明 7")
			waitFor(t, "a reply after the follower wrote again", func() bool {
				mine := c.sent()
				return len(mine) > n && strings.HasSuffix(mine[len(mine)-1].Text, "补充说明 7")
			})
		})
	}
}
