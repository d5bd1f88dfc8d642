package main

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/adapters/email"
	"github.com/kefu-dev/kefu/adapters/email/emailtest"
	"github.com/kefu-dev/kefu/adapters/wecom/wecomtest"
)

// mailCustomer writes to the support mailbox and reads kefu's answers from the SMTP server.
type mailCustomer struct {
	t      testing.TB
	m      *emailtest.Server
	s      *journeyServer
	addr   string
	chat   string
	seq    int
	seen   int
	last   []emailtest.Mail
	parent string
	subj   string
}

func (c *mailCustomer) mine() []emailtest.Mail {
	var out []emailtest.Mail
	for _, m := range c.m.Sent() {
		if len(m.To) == 1 && m.To[0] == c.addr {
			out = append(out, m)
		}
	}
	return out
}

// write sends a mail (the first one starts the thread, later ones answer kefu's last mail) and
// returns kefu's answers once the conversation's outbox is drained.
func (c *mailCustomer) write(body string, headers ...string) []emailtest.Mail {
	c.t.Helper()
	c.seq++
	id := fmt.Sprintf("c%d.%s", c.seq, c.addr)
	subj, extra := c.subj, headers
	if c.parent != "" {
		subj = "Re: " + c.subj
		extra = append(extra, "In-Reply-To: <"+c.parent+">", "References: <"+c.parent+">")
	}
	if err := c.m.Deliver(emailtest.Message(c.addr, subj, id, body, extra...)); err != nil {
		c.t.Fatal(err)
	}
	waitFor(c.t, "a mail from kefu", func() bool { return len(c.mine()) > c.seen })
	waitFor(c.t, "outbox drained", func() bool { return c.s.outboxDrained(c.t, email.Channel, c.chat) })
	all := c.mine()
	c.last, c.seen = all[c.seen:], len(all)
	c.parent, _ = c.last[len(c.last)-1].Header.MessageID()
	return c.last
}

func mailHas(t testing.TB, ms []emailtest.Mail, wants ...string) string {
	t.Helper()
	var all strings.Builder
	for _, m := range ms {
		s, _ := m.Header.Subject()
		all.WriteString("Subject: " + s + "\n" + m.Body + "\n")
	}
	for _, w := range wants {
		if !strings.Contains(all.String(), w) {
			t.Fatalf("no mail containing %q in\n%s", w, all.String())
		}
	}
	return all.String()
}

// TestJourneyEmail walks the foundation journey by e-mail in Chinese and English, one mail per answer:
// a question gets the FAQ answer with "did this help?" as a numbered list, "not solved" (answered by
// writing the option) gets every clarifying question in one mail (the types as a numbered list, order
// number, urgency), the customer's numbered reply fills them all and opens the ticket — restated, its
// number in the subject from then on — and a command-line agent's reply arrives in the same thread.
// An out-of-office answer to kefu's mail is never answered.
func TestJourneyEmail(t *testing.T) {
	for name, dsn := range testDatabases(t) {
		t.Run(name, func(t *testing.T) {
			m := emailtest.New(t)
			s := startJourneyServer(t, dsn(t), map[string]string{
				"KEFU_EMAIL_IMAP_ADDR":     m.IMAPAddr,
				"KEFU_EMAIL_IMAP_SECURITY": "plain",
				"KEFU_EMAIL_SMTP_ADDR":     m.SMTPAddr,
				"KEFU_EMAIL_SMTP_SECURITY": "plain",
				"KEFU_EMAIL_USERNAME":      emailtest.Username,
				"KEFU_EMAIL_PASSWORD":      emailtest.Password,
				"KEFU_EMAIL_POLL_INTERVAL": "50ms",
			}, nil)
			for i, sc := range journeyScripts {
				addr := fmt.Sprintf("customer%d@example.cn", i)
				c := &mailCustomer{t: t, m: m, s: s, addr: addr, chat: "h:" + s.db.Keys().Hash(addr), subj: sc.question}
				one := func(r []emailtest.Mail) emailtest.Mail {
					t.Helper()
					if len(r) != 1 {
						t.Fatalf("%d mails for one customer mail, want one:\n%s", len(r), mailHas(t, r))
					}
					return r[0]
				}
				r := c.write(sc.question)
				mailHas(t, r, sc.answer, "] "+sc.notHelped)
				one(r)
				// All the clarifying questions in one mail, the types as a numbered list.
				q := one(c.write(sc.notHelped)).Body
				for _, w := range []string{"1. ", "2. ", "3. ", ") " + sc.category, "202611"} {
					if !strings.Contains(q, w) {
						t.Fatalf("the questions mail lacks %q:\n%s", w, q)
					}
				}
				if strings.Contains(q, "\r\n[1] ") {
					t.Fatalf("the questions mail offers buttons:\n%s", q)
				}
				// One numbered reply answers them; the ticket opens, restated.
				got := one(c.write(fmt.Sprintf("1. %s\n2. %s\n3. %s", sc.category, sc.order, sc.urgency)))
				no := ticketNo.FindString(got.Body)
				if no == "" || !strings.Contains(got.Body, sc.order) || !strings.Contains(got.Body, sc.category) {
					t.Fatalf("no ticket number, order or type in\n%s", got.Body)
				}
				tk, _ := s.ticketEvents(t, no)
				if tk.Category != "aftersale" || tk.OrderNo != sc.order || tk.Urgency != "low" || tk.Channel != email.Channel {
					t.Fatalf("ticket %s: category %q order %q urgency %q channel %q", no, tk.Category, tk.OrderNo, tk.Urgency, tk.Channel)
				}
				// A photo mailed to the ticket is kept with it (its bytes, not only a reference).
				photo := "\xff\xd8\xff\xe0 photo of " + addr
				one(c.write("--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"+sc.description+"\r\n--XX\r\n"+
					"Content-Type: image/jpeg\r\nContent-Disposition: attachment; filename=\"panel.jpg\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"+
					base64.StdEncoding.EncodeToString([]byte(photo))+"\r\n--XX--\r\n", "Content-Type: multipart/mixed; boundary=XX"))
				_, evs := s.ticketEvents(t, no)
				var kept []byte
				for _, e := range evs {
					for _, a := range e.Attachments {
						if a.Name == "panel.jpg" && a.BlobID != 0 {
							b, err := s.db.Blob(t.Context(), a.BlobID)
							if err != nil {
								t.Fatal(err)
							}
							kept = b.Data
						}
					}
				}
				if string(kept) != photo {
					t.Fatalf("the mailed photo is not kept on %s (%q): %+v", no, kept, evs)
				}

				s.cli("claim", no)
				s.cli("reply", no, sc.agentReply)
				waitFor(t, "the agent's reply", func() bool { return len(c.mine()) > c.seen })
				got = c.mine()[c.seen]
				subj, _ := got.Header.Subject()
				inReply, _ := got.Header.MsgIDList("In-Reply-To")
				if !strings.Contains(got.Body, sc.agentReply) || !strings.HasPrefix(subj, "["+no+"] Re: ") || len(inReply) != 1 {
					t.Fatalf("agent reply: subject %q in-reply-to %v\n%s", subj, inReply, got.Body)
				}
				c.seen++

				// An auto-reply to that mail is not answered.
				if err := m.Deliver(emailtest.Message(addr, "Automatic reply: "+subj, "ooo"+addr, "I am out of office.", "Auto-Submitted: auto-replied")); err != nil {
					t.Fatal(err)
				}
				time.Sleep(300 * time.Millisecond)
				if n := len(c.mine()); n != c.seen {
					t.Fatalf("kefu answered an auto-reply (%d mails, want %d)", n, c.seen)
				}
			}
		})
	}
}

// TestEmailLink: a web chat customer asks for a /link code and mails it to the support mailbox — in a
// new mail with a subject of its own, the way people write mail — and the two become one customer:
// the answer by mail says so.
func TestEmailLink(t *testing.T) {
	for name, dsn := range testDatabases(t) {
		t.Run(name, func(t *testing.T) {
			m := emailtest.New(t)
			s := startJourneyServer(t, dsn(t), map[string]string{
				"KEFU_EMAIL_IMAP_ADDR":     m.IMAPAddr,
				"KEFU_EMAIL_IMAP_SECURITY": "plain",
				"KEFU_EMAIL_SMTP_ADDR":     m.SMTPAddr,
				"KEFU_EMAIL_SMTP_SECURITY": "plain",
				"KEFU_EMAIL_USERNAME":      emailtest.Username,
				"KEFU_EMAIL_PASSWORD":      emailtest.Password,
				"KEFU_EMAIL_POLL_INTERVAL": "50ms",
			}, nil)
			sess := s.session()
			s.say(sess, nil, "你好")
			r := s.say(sess, nil, "/link")
			code := regexp.MustCompile(`/link ([0-9A-Za-z-]+)`).FindStringSubmatch(r[len(r)-1].Text)
			if code == nil {
				t.Fatalf("no link code in %+v", r)
			}
			addr := "link@example.cn"
			c := &mailCustomer{t: t, m: m, s: s, addr: addr, chat: "h:" + s.db.Keys().Hash(addr), subj: "账号绑定"}
			mailHas(t, c.write("/link "+code[1]+"\r\n\r\n张三\r\n"), "账号关联成功")
		})
	}
}

// TestReadyzInboundDown: the mailbox refuses kefu's login (a changed password or 授权码): /readyz says
// so on the e-mail line instead of "ok (nothing sent yet)", while the process stays ready (the other
// channels work), and says ok once kefu reads the mailbox. The same for WeCom's sync_msg with a
// refused secret.
func TestReadyzInboundDown(t *testing.T) {
	m := emailtest.New(t)
	env := map[string]string{
		"KEFU_EMAIL_IMAP_ADDR":     m.IMAPAddr,
		"KEFU_EMAIL_IMAP_SECURITY": "plain",
		"KEFU_EMAIL_SMTP_ADDR":     m.SMTPAddr,
		"KEFU_EMAIL_SMTP_SECURITY": "plain",
		"KEFU_EMAIL_USERNAME":      emailtest.Username,
		"KEFU_EMAIL_PASSWORD":      "changed",
		"KEFU_EMAIL_POLL_INTERVAL": "50ms",
	}
	readyz := func(s *journeyServer) (int, string) {
		resp, err := http.Get(s.url + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	s := startJourneyServer(t, filepath.Join(t.TempDir(), "kefu.db"), env, nil)
	var body string
	waitFor(t, "/readyz reporting the mailbox down", func() bool {
		var code int
		code, body = readyz(s)
		return code == http.StatusOK && strings.Contains(body, "\nemail: unreachable since ")
	})
	s.stop()
	env["KEFU_EMAIL_PASSWORD"] = emailtest.Password
	s = startJourneyServer(t, filepath.Join(t.TempDir(), "kefu.db"), env, nil)
	waitFor(t, "/readyz reporting the mailbox read", func() bool {
		_, body = readyz(s)
		return strings.Contains(body, "\nemail: ok")
	})
	s.stop()

	f := wecomtest.New(t)
	s = startJourneyServer(t, filepath.Join(t.TempDir(), "kefu.db"), map[string]string{
		"KEFU_WECOM_CORP_ID":          wecomtest.CorpID,
		"KEFU_WECOM_SECRET":           "revoked",
		"KEFU_WECOM_TOKEN":            wecomtest.Token,
		"KEFU_WECOM_ENCODING_AES_KEY": wecomtest.EncodingAESKey,
		"KEFU_WECOM_API_URL":          f.URL,
	}, nil)
	waitFor(t, "/readyz reporting WeCom down", func() bool {
		var code int
		code, body = readyz(s)
		return code == http.StatusOK && strings.Contains(body, "\nwecom: unreachable since ")
	})
}
