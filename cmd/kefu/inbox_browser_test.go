package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/console"
	"github.com/kefu-dev/kefu/storage"
)

// TestBrowserInbox runs a customer and an agent in one headless Chromium against the real server: the
// customer opens a ticket in the web chat; the agent signs in to the console, finds it in the inbox's
// unassigned view, claims it, writes an internal note and a reply; the reply appears in the customer's
// chat, the note never does (neither on the page nor in the stored transcript).
func TestBrowserInbox(t *testing.T) {
	bin := needChromium(t)
	s := startJourneyServer(t, filepath.Join(t.TempDir(), "kefu.db"), nil, func(c *Config) {
		c.Agents = []AgentConfig{{ID: "cli:alice", Name: "Alice", Team: "tech"}}
	})
	hash, err := console.HashPassword("password-alice", bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.CreateUser(context.Background(), storage.User{Name: "alice", Role: console.RoleAgent, AgentID: "cli:alice", PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	out := artifactsDir(t)

	customer := phoneBrowser(t, bin, 120*time.Second)

	chat := webChat{t, customer}

	// The customer opens a ticket in the web chat.
	no := chat.openTicket(s.url)

	// The agent, in a second tab: sign in, the inbox, the ticket.
	agent, cancel := chromedp.NewContext(customer)
	defer cancel()
	shot := func(name string) {
		buf, err := chromedp.Run(agent, chromedp.FullScreenshot(85))
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		os.WriteFile(filepath.Join(out, name), buf, 0o644)
	}
	if err := chromedp.Do(agent, chromedp.Navigate(s.url+"/console/login?lang=zh-CN"), chromedp.WaitVisible("#login-form"),
		chromedp.SendKeys("#name", "alice"), chromedp.SendKeys("#password", "password-alice"), chromedp.Click("#signin"),
		chromedp.WaitVisible("#nav-inbox"), chromedp.Click("#nav-inbox"), chromedp.WaitVisible(`main[data-page="inbox"]`)); err != nil {
		t.Fatalf("sign in and open the inbox: %v", err)
	}
	row := `tr.ticket-row[data-ticket="` + no + `"] a`
	if err := chromedp.Do(agent, chromedp.Click("#view-unassigned"), chromedp.WaitVisible(row)); err != nil {
		t.Fatalf("the new ticket is not in the unassigned view: %v", err)
	}
	shot("inbox-unassigned.jpg")
	if err := chromedp.Do(agent, chromedp.Click(row), chromedp.WaitVisible(`main[data-page="ticket"][data-ticket="`+no+`"]`),
		chromedp.Click("#claim"), chromedp.WaitVisible("#flash-notice")); err != nil {
		t.Fatalf("open and claim %s: %v", no, err)
	}
	assignee, err := chromedp.Run(agent, chromedp.Evaluate[string](`document.querySelector('#assignee').innerText`))
	if err != nil || !strings.Contains(assignee, "cli:alice") {
		t.Fatalf("after claiming the ticket shows assignee %q (%v)", assignee, err)
	}
	const note, answer = "内部：客户第二次报修，优先安排老师傅", "您好，师傅明天上午上门"
	if err := chromedp.Do(agent, chromedp.SendKeys("#note-text", note), chromedp.Click("#note-add"), chromedp.WaitVisible("#flash-notice"),
		chromedp.WaitVisible(".msg-note"), chromedp.SendKeys("#reply-text", answer), chromedp.Click("#reply-send"),
		chromedp.WaitVisible("#flash-notice"), chromedp.WaitVisible(".msg-agent")); err != nil {
		t.Fatalf("note and reply: %v", err)
	}
	shot("inbox-ticket.jpg")

	// The customer sees the reply, never the note.
	chat.waitText("the agent's reply", regexp.MustCompile(answer))
	if strings.Contains(chat.log(), "老师傅") {
		t.Fatal("the internal note reached the customer's chat")
	}
	tk, err := s.db.TicketByNo(context.Background(), no)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := s.db.Transcript(context.Background(), tk.ConversationID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if strings.Contains(m.Text, "老师傅") {
			t.Fatalf("the internal note was stored as a %s message of the customer's chat", m.Direction)
		}
	}
	if tk.Assignee != "cli:alice" || tk.Status != bot.StatusInProgress || tk.FirstResponseAt == nil {
		t.Errorf("ticket after the console work: assignee %q, %s, first response %v", tk.Assignee, tk.Status, tk.FirstResponseAt)
	}
}
