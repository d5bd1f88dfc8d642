package console_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
)

// seedOn opens a ticket for a new customer on ch whose message came at at, and returns its number.
func (e *inboxEnv) seedOn(t testing.TB, ch bot.Channel, at time.Time, text string) string {
	t.Helper()
	seedSeq++
	ctx := context.Background()
	chat := fmt.Sprintf("chat-%d", seedSeq)
	var no string
	err := e.db.Tx(ctx, func(tx bot.Tx) error {
		conv, err := tx.SaveInbound(ctx, bot.Event{Channel: ch, MsgID: "m-" + chat, ChatID: chat, UserID: "u-" + chat,
			Kind: bot.KindText, Text: text, At: at})
		if err != nil {
			return err
		}
		tk, err := tx.CreateTicket(ctx, bot.Ticket{ConversationID: conv.ID, CustomerID: conv.CustomerID, Channel: ch,
			Category: "order", Priority: bot.P2, Summary: text, Description: text, Lang: "zh-CN", CreatedAt: at,
			FirstResponseDue: at.Add(time.Hour), ResolutionDue: at.Add(24 * time.Hour)}, at.Format("20060102"))
		no = tk.No
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return no
}

// TestReplyWindowConsole: a reply (or FAQ answer) from the inbox after WeChat's/WeCom's 48-hour reply
// window is refused at once (409) with the localized reason — when it closed, what the agent can do —
// the typed text kept and nothing queued; within the window, on web chat, or once the customer wrote
// again, it is sent.
func TestReplyWindowConsole(t *testing.T) {
	const text = "我的快递三天没动了，怎么查物流"
	tests := []struct {
		name    string
		channel bot.Channel
		ago     time.Duration
		action  string
		lang    string
		again   bool
		purged  bool // the ticket's conversation holds no message of the customer (retention)
		want    int
		msg     []string // in the re-rendered page
	}{
		{name: "wechat within", channel: bot.ChannelWeChat, ago: 47 * time.Hour, action: "reply", lang: "en", want: 303},
		{name: "wechat after en", channel: bot.ChannelWeChat, ago: 49 * time.Hour, action: "reply", lang: "en", want: 409,
			msg: []string{"WeChat Official Account 48-hour reply window", "closed at 2026-11-20 11:00 UTC", "last wrote at 2026-11-18 11:00 UTC", "internal note", "师傅明天上午到"}},
		{name: "wecom after zh-CN", channel: bot.ChannelWeCom, ago: 50 * time.Hour, action: "reply", lang: "zh-CN", want: 409,
			msg: []string{"微信客服 的 48 小时回复窗口已于 2026-11-20 10:00 UTC 关闭", "内部备注"}},
		{name: "wechat faq after", channel: bot.ChannelWeChat, ago: 49 * time.Hour, action: "faq", lang: "en", want: 409,
			msg: []string{"48-hour reply window"}},
		{name: "web has no window", channel: bot.ChannelWeb, ago: 200 * time.Hour, action: "reply", lang: "en", want: 303},
		{name: "customer wrote again", channel: bot.ChannelWeChat, ago: 49 * time.Hour, action: "reply", lang: "en", again: true, want: 303},
		{name: "wecom never wrote zh-CN", channel: bot.ChannelWeCom, ago: time.Hour, action: "reply", lang: "zh-CN", purged: true, want: 409,
			msg: []string{"该客户在 微信客服 没有发过消息", "内部备注", "师傅明天上午到"}},
		{name: "web never wrote", channel: bot.ChannelWeb, ago: time.Hour, action: "reply", lang: "en", purged: true, want: 303},
	}
	e := newInboxEnv(t, false)
	alice, _ := e.signIn(t, "alice", "password-alice")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			no := e.seedOn(t, tc.channel, testNow.Add(-tc.ago), text)
			tk, _, err := e.eng.Ticket(context.Background(), no)
			if err != nil {
				t.Fatal(err)
			}
			if tc.again {
				if err := e.db.Tx(context.Background(), func(tx bot.Tx) error {
					conv, _ := tx.Conversation(context.Background(), tk.ConversationID)
					_, err := tx.SaveInbound(context.Background(), bot.Event{Channel: tc.channel, MsgID: "again-" + no, ChatID: conv.ChatID,
						UserID: "u-" + conv.ChatID, Kind: bot.KindText, Text: "还在吗", At: testNow.Add(-time.Minute)})
					return err
				}); err != nil {
					t.Fatal(err)
				}
			}
			if tc.purged {
				if err := e.db.Gorm().Exec("DELETE FROM messages WHERE conversation_id = ?", tk.ConversationID).Error; err != nil {
					t.Fatal(err)
				}
			}
			_, page := get(t, alice, e.srv.URL+"/console/tickets/"+no)
			f := url.Values{"csrf": {csrfOf(t, page)}}
			if tc.action == "faq" {
				faq := e.eng.Suggestions(tk, 1)
				if len(faq) == 0 {
					t.Fatal("no FAQ suggestion: the FAQ case proves nothing")
				}
				f.Set("faq", faq[0].Entry.ID)
			} else {
				f.Set("text", "师傅明天上午到")
			}
			before := len(e.outbound(t, no))
			resp, body := post(t, alice, e.srv.URL+"/console/tickets/"+no+"/"+tc.action+"?lang="+tc.lang, f)
			if resp.StatusCode != tc.want {
				t.Fatalf("%s: %d, want %d\n%.600s", tc.action, resp.StatusCode, tc.want, body)
			}
			after := len(e.outbound(t, no))
			if tc.want == 303 {
				if after != before+1 {
					t.Errorf("outbound %d -> %d: the reply was not queued", before, after)
				}
				return
			}
			for _, m := range tc.msg {
				if !strings.Contains(body, m) {
					t.Errorf("page lacks %q", m)
				}
			}
			if after != before {
				t.Errorf("outbound %d -> %d: a refused reply was queued", before, after)
			}
			_, evs, _ := e.eng.Ticket(context.Background(), no)
			for _, ev := range evs {
				if ev.Kind == bot.EvAgentReply || ev.Kind == bot.EvFAQReply {
					t.Errorf("refused reply recorded: %+v", ev)
				}
			}
		})
	}
}
