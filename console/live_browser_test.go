package console_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/internal/browsertest"
	"github.com/kefu-dev/kefu/internal/testenv"
	"github.com/kefu-dev/kefu/storage"
)

// customerSays stores a customer message on a seeded ticket's conversation the way the engine stores
// one (the inbound message and the ticket's customer_message event in one transaction).
func (e *inboxEnv) customerSays(t *testing.T, no, text string, at time.Time) {
	t.Helper()
	ctx := context.Background()
	tk, _, err := e.eng.Ticket(ctx, no)
	if err != nil {
		t.Fatal(err)
	}
	conv, err := e.db.Conversation(ctx, tk.ConversationID)
	if err != nil {
		t.Fatal(err)
	}
	err = e.db.Tx(ctx, func(tx bot.Tx) error {
		if _, err := tx.SaveInbound(ctx, bot.Event{Channel: conv.Channel, MsgID: fmt.Sprintf("live-%d", at.UnixNano()), ChatID: conv.ChatID,
			UserID: "u-" + conv.ChatID, UserName: "王小明", Kind: bot.KindText, Text: text, At: at}); err != nil {
			return err
		}
		_, err := tx.AddEvent(ctx, bot.TicketEvent{TicketID: tk.ID, TicketNo: tk.No, At: at, Actor: "customer", Kind: bot.EvCustomerMessage, Text: text, Channel: conv.Channel})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// browserAgent is one signed-in person in their own browser context (cookies of their own).
type browserAgent struct {
	t   *testing.T
	ctx context.Context
	e   *inboxEnv
}

func (a *browserAgent) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	a.t.Helper()
	if err := chromedp.Do(a.ctx, steps...); err != nil {
		a.t.Fatalf("%s: %v", what, err)
	}
}

func (a *browserAgent) eval(expr string) bool {
	ok, err := chromedp.Run(a.ctx, chromedp.Evaluate[bool](expr))
	return err == nil && ok
}

// waitFor polls a JavaScript condition and returns how long it took to hold.
func (a *browserAgent) waitFor(what, expr string, limit time.Duration) time.Duration {
	a.t.Helper()
	start := time.Now()
	for time.Since(start) < limit {
		if a.eval(expr) {
			return time.Since(start)
		}
		time.Sleep(15 * time.Millisecond)
	}
	a.t.Fatalf("%s: not within %v (%s)", what, limit, expr)
	return 0
}

func (a *browserAgent) shot(dir, name string) {
	if buf, err := chromedp.Run(a.ctx, chromedp.FullScreenshot(80)); err == nil {
		os.WriteFile(filepath.Join(dir, name), buf, 0o644)
	}
}

// TestBrowserLiveInbox drives two agents in headless Chromium: a new ticket and a customer message
// appear in alice's open inbox without reload within 1 s; on the ticket page the message is appended
// within 1 s; a second agent (sue) opening the same ticket sees that alice is viewing it and alice
// sees sue; j/k, Enter and r work and ? shows the shortcuts; a macro goes into the reply box without a
// round trip; when the admin disables alice, her open page signs her out.
func TestBrowserLiveInbox(t *testing.T) {
	bin := chromium()
	if bin == "" {
		testenv.Skip(t, testenv.Browser, "no Chromium found (install the chromium package or set KEFU_CHROMIUM)")
	}
	if testing.Short() {
		testenv.Skip(t, testenv.Browser, "browser test skipped in -short mode")
	}
	e := newInboxEnv(t, false)
	out := artifacts(t)
	free := e.seed(t, "", "", "快递三天没动")
	e.seed(t, "", "", "发票抬头错了")
	if _, err := e.db.AddMacro(t.Context(), storage.Macro{Team: "", Name: "问候", Body: "您好 {{customer_name}}，工单 {{ticket_no}} 由 {{agent_name}} 跟进。", CreatedBy: "console:sue"}); err != nil {
		t.Fatal(err)
	}

	bctx := browsertest.Start(t, bin, chromedp.WindowSize(1280, 900))
	agent := func(name string) *browserAgent {
		ctx, cancel := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
		t.Cleanup(cancel)
		a := &browserAgent{t: t, ctx: ctx, e: e}
		a.do("sign in "+name, chromedp.Navigate(e.srv.URL+"/console/login?lang=zh-CN"), chromedp.WaitVisible("#login-form"),
			chromedp.SendKeys("#name", name), chromedp.SendKeys("#password", "password-"+name), chromedp.Click("#signin"))
		a.waitFor(name+" signed in", `location.pathname === '/console/' && document.readyState === 'complete'`, 10*time.Second)
		return a
	}
	alice := agent("alice")
	sue := agent("sue")
	live := `document.querySelector('main').dataset.live === 'open'`

	// 1. the inbox follows the feed
	alice.do("open the inbox", chromedp.Navigate(e.srv.URL+"/console/inbox?view=unassigned"))
	alice.waitFor("stream open", live, 10*time.Second)
	if !alice.eval(`document.querySelectorAll('tr.ticket-row').length === 2`) {
		t.Fatal("the unassigned view does not list the two seeded tickets")
	}
	count := func() string {
		s, _ := chromedp.Run(alice.ctx, chromedp.Evaluate[string](`document.querySelector('.view-count[data-view="unassigned"]').textContent`))
		return s
	}
	before := count()
	fresh := e.seed(t, "", "", "网页上付不了款")
	d := alice.waitFor("new ticket row", `!!document.querySelector('tr.ticket-row.live-new[data-ticket="`+fresh+`"]')`, 10*time.Second)
	t.Logf("new ticket in the open inbox after %v", d.Round(time.Millisecond))
	if after := count(); after == before {
		t.Errorf("unassigned count stayed %s", after)
	}
	e.customerSays(t, free, "还没到，能快点吗？", testNow.Add(time.Minute))
	d = alice.waitFor("changed row", `!!document.querySelector('tr.ticket-row.live-changed[data-ticket="`+free+`"]')`, 10*time.Second)
	t.Logf("customer message marked in the open inbox after %v", d.Round(time.Millisecond))
	alice.shot(out, "live-inbox.jpg")

	// 2. keyboard: j/k select, ? shows the help, Enter opens
	alice.do("j j k", chromedp.KeyEvent("j"), chromedp.KeyEvent("j"), chromedp.KeyEvent("k"))
	if !alice.eval(`document.querySelectorAll('tr.ticket-row.selected').length === 1 && document.querySelector('tr.ticket-row.selected') === document.querySelectorAll('tr.ticket-row')[0]`) {
		t.Error("j j k did not select the first row")
	}
	alice.do("?", chromedp.KeyEvent("?"))
	alice.waitFor("help shown", `!document.getElementById('shortcuts-help').hidden && document.getElementById('shortcuts-help').textContent.includes('认领工单')`, 2*time.Second)
	alice.shot(out, "live-shortcuts.jpg")
	alice.do("Esc", chromedp.KeyEvent("\x1b"))
	alice.waitFor("help hidden", `document.getElementById('shortcuts-help').hidden`, 2*time.Second)
	first, _ := chromedp.Run(alice.ctx, chromedp.Evaluate[string](`document.querySelector('tr.ticket-row.selected').dataset.ticket`))
	alice.do("Enter", chromedp.KeyEvent("\r"))
	alice.waitFor("ticket opened", `location.pathname === '/console/tickets/`+first+`'`, 5*time.Second)
	alice.waitFor("stream open on the ticket page", live, 10*time.Second)
	alice.do("r", chromedp.KeyEvent("r"))
	if !alice.eval(`document.activeElement === document.getElementById('reply-text')`) {
		t.Error("r did not focus the reply box")
	}
	alice.do("Esc", chromedp.KeyEvent("\x1b"))

	// 3. collision notice: alice and sue on the same ticket
	alice.do("open "+free, chromedp.Navigate(e.srv.URL+"/console/tickets/"+free))
	alice.waitFor("stream open", live, 10*time.Second)
	sue.do("open "+free, chromedp.Navigate(e.srv.URL+"/console/tickets/"+free))
	sue.waitFor("sue sees alice", `!document.getElementById('collision').hidden && document.getElementById('collision').textContent.includes('alice')`, 5*time.Second)
	alice.waitFor("alice sees sue", `!document.getElementById('collision').hidden && document.getElementById('collision').textContent.includes('sue')`, 8*time.Second)
	sue.shot(out, "live-collision.jpg")

	// 4. the ticket page appends a customer message
	e.customerSays(t, free, "我换个地址可以吗", testNow.Add(2*time.Minute))
	d = alice.waitFor("message appended", `Array.from(document.querySelectorAll('#conversation li.live-new')).some(li => li.textContent.includes('我换个地址可以吗'))`, 10*time.Second)
	t.Logf("customer message appended on the open ticket page after %v", d.Round(time.Millisecond))

	// 5. a macro goes into the reply box without a round trip
	alice.do("insert macro", chromedp.Click("#macro-insert"))
	alice.waitFor("macro inserted", `document.getElementById('reply-text').value.includes('您好 {{customer_name}}，工单 `+free+` 由 Alice 跟进。') && location.pathname === '/console/tickets/`+free+`'`, 3*time.Second)

	// 6. the admin disables alice: her open page signs her out
	if err := e.db.SetUserDisabled(t.Context(), "console:root", "alice", true); err != nil {
		t.Fatal(err)
	}
	d = alice.waitFor("alice signed out", `location.pathname === '/console/login'`, 5*time.Second)
	t.Logf("disabled agent signed out after %v", d.Round(time.Millisecond))
	alice.shot(out, "live-signed-out.jpg")
	if strings.TrimSpace(out) != "" {
		t.Logf("screenshots in %s", out)
	}
}
