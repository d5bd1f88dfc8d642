package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kefu-dev/kefu/adapters/wecom"
	"github.com/kefu-dev/kefu/adapters/wecom/wecomtest"
	"github.com/kefu-dev/kefu/bot"
)

// TestJourneyWeCom walks the foundation journey on a WeCom customer-service account: entering the
// chat gives the greeting (sent with the welcome code), a question the FAQ answer, "not solved" (a
// menu tap) the clarification and a ticket, and a command-line agent's reply reaches the customer; a
// reply past the 5 WeCom allows after the customer's last message is kept back and noted on the ticket.
func TestJourneyWeCom(t *testing.T) {
	for name, dsn := range testDatabases(t) {
		t.Run(name, func(t *testing.T) {
			f := wecomtest.New(t)
			s := startJourneyServer(t, dsn(t), map[string]string{
				"KEFU_WECOM_CORP_ID":          wecomtest.CorpID,
				"KEFU_WECOM_SECRET":           wecomtest.Secret,
				"KEFU_WECOM_TOKEN":            wecomtest.Token,
				"KEFU_WECOM_ENCODING_AES_KEY": wecomtest.EncodingAESKey,
				"KEFU_WECOM_API_URL":          f.URL,
			}, nil)
			f.Callback = s.url + "/wecom/callback"
			sc := journeyScripts[0]
			user := "wm_" + name + "_customer"
			chat := wecom.ChatID(wecomtest.OpenKfID, user)
			seen := 0
			var last []wecomtest.Sent
			settle := func() []wecomtest.Sent {
				t.Helper()
				waitFor(t, "a reply", func() bool { return len(f.Sent()) > seen })
				waitFor(t, "outbox drained", func() bool { return s.outboxDrained(t, wecom.Channel, chat) })
				all := f.Sent()
				last, seen = all[seen:], len(all)
				return last
			}
			has := func(ms []wecomtest.Sent, want string) {
				t.Helper()
				for _, m := range ms {
					if strings.Contains(m.Text+strings.Join(m.Menu, " "), want) {
						return
					}
				}
				t.Fatalf("no message with %q in %+v", want, ms)
			}
			press := func(label string) []wecomtest.Sent {
				t.Helper()
				for i := len(last) - 1; i >= 0; i-- {
					for _, it := range last[i].Menu {
						id, content, _ := strings.Cut(it, "=")
						if content == label || strings.HasPrefix(content, label) {
							f.PushMenuClick(user, id, content)
							return settle()
						}
					}
				}
				t.Fatalf("no menu item %q in %+v", label, last)
				return nil
			}
			say := func(text string) []wecomtest.Sent { f.PushText(user, text); return settle() }

			code := f.EnterSession(user)
			r := settle()
			has(r, sc.greeting)
			has(r, "已收到您的留言") // the seeds' social-media greeting
			if r[0].Code != code {
				t.Errorf("greeting sent without the welcome code: %+v", r[0])
			}
			r = say(sc.question)
			has(r, sc.answer)
			press(sc.notHelped)
			r = press(sc.category)
			for _, step := range []string{sc.description, sc.order, "!" + sc.urgency} {
				if strings.Contains(strings.Join(r[len(r)-1].Menu, " "), sc.submit) {
					break
				}
				if label, ok := strings.CutPrefix(step, "!"); ok {
					r = press(label)
				} else {
					r = say(step)
				}
			}
			r = press(sc.submit)
			no := ticketNo.FindString(r[len(r)-1].Text)
			if no == "" {
				t.Fatalf("no ticket number in %+v", r)
			}
			s.cli("claim", no)
			s.cli("reply", no, sc.agentReply)
			has(settle(), sc.agentReply)

			// WeCom allows 5 send_msg messages after the customer's last message: kefu sends no 6th
			// (WeCom refuses none), the agents find a note on the ticket instead, and the customer's next
			// message starts a fresh count.
			f.PushText(user, "好的，我等着")
			settled := func() bool { // every row sent or given up
				rows, err := s.db.OutboxRows(t.Context(), wecom.Channel, chat)
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
			waitFor(t, "the customer's message stored", func() bool {
				_, evs := s.ticketEvents(t, no)
				for _, e := range evs {
					if strings.Contains(e.Text, "好的，我等着") {
						return true
					}
				}
				return false
			})
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
				t.Errorf("WeCom refused %d calls; kefu should have kept them back", refused-refusedBefore)
			}
			n := len(f.Sent())
			f.PushText(user, "还有别的办法吗")
			waitFor(t, "the customer's message stored", func() bool {
				_, evs := s.ticketEvents(t, no)
				for _, e := range evs {
					if strings.Contains(e.Text, "还有别的办法吗") {
						return true
					}
				}
				return false
			})
			waitFor(t, "outbox settled", settled)
			s.cli("reply", no, "补充说明 7")
			waitFor(t, "a reply after the customer wrote again", func() bool {
				all := f.Sent()
				return len(all) > n && strings.HasSuffix(all[len(all)-1].Text, "补充说明 7")
			})
		})
	}
}
