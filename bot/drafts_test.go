package bot_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/pii"
)

func TestScrubPII(t *testing.T) {
	names := []string{"张伟", "Zhang Wei"}
	tests := []struct {
		name, lang, in, want string
		secrets              []string
	}{
		{"mobile", "zh-CN", "我的电话是 138 1234 5678，请回电", "我的电话是 [手机号]，请回电", nil},
		{"email en", "en", "mail me at wei.zhang@example.cn please", "mail me at [e-mail] please", nil},
		{"id number", "zh-CN", "身份证 110101199003074514 登记错了", "身份证 [证件号] 登记错了", nil},
		{"customer's name", "zh-CN", "张伟您好，退款已到账", "[姓名]您好，退款已到账", nil},
		{"latin name", "en", "Hello Zhang Wei, the refund is done", "Hello [name], the refund is done", nil},
		{"order number given", "zh-CN", "订单 DD2026112300012 一直没发货", "订单 [订单号] 一直没发货", []string{"DD2026112300012"}},
		{"other long numbers", "en", "tracking 7712345678901 is stuck", "tracking [number] is stuck", nil},
		{"short numbers stay", "zh-CN", "3 天内退款 200 元", "3 天内退款 200 元", nil},
		{"nothing personal", "en", "How long does a refund take?", "How long does a refund take?", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := bot.ScrubPII(tt.in, tt.lang, names, tt.secrets...)
			if got != tt.want {
				t.Errorf("ScrubPII(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if pii.Contains(got) {
				t.Errorf("personal data left in %q", got)
			}
		})
	}
}

// TestDraftFAQ: a resolved ticket's own agent reply becomes a draft whose question and answer carry
// none of the customer's personal data; an open ticket, a ticket answered only from the FAQ, a second
// draft and a stranger are refused with nothing stored; the trail records the draft.
func TestDraftFAQ(t *testing.T) { forEachDB(t, testDraftFAQ) }

func testDraftFAQ(t *testing.T, mk envMaker) {
	ctx := context.Background()
	e := mk(t, agentA, supS)
	alice := bot.Actor{ID: agentA.ID}
	secrets := []string{"13812345678", "wei@example.cn", "张伟", "DD2026112300012"}
	msgSeq++
	if err := e.eng.Deliver(ctx, bot.Event{Channel: bot.ChannelWeb, MsgID: "draft-1", ChatID: "c", UserID: "c", UserName: "张伟",
		Kind: bot.KindText, Text: "ticket 我是张伟，电话 13812345678，邮箱 wei@example.cn，订单 DD2026112300012 的退款什么时候到账？", At: e.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	no := "GD20261123001"
	if _, err := e.eng.DraftFAQ(ctx, alice, no); !errors.Is(err, bot.ErrNotResolved) {
		t.Errorf("draft from an open ticket: %v", err)
	}
	if _, err := e.eng.Reply(ctx, alice, no, "张伟您好，退款会在 3 个工作日内原路退回，到账后短信通知 13812345678。"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.Resolve(ctx, alice, no, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.DraftFAQ(ctx, bot.Actor{ID: "cli:mallory"}, no); !errors.Is(err, bot.ErrForbidden) {
		t.Errorf("stranger drafts: %v", err)
	}
	d, err := e.eng.DraftFAQ(ctx, alice, no)
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != bot.DraftOpen || d.TicketNo != no || d.Category != "order" || d.CreatedBy != alice.ID {
		t.Errorf("draft %+v", d)
	}
	if !strings.Contains(d.Question, "退款什么时候到账") || !strings.Contains(d.Answer, "3 个工作日内原路退回") {
		t.Errorf("draft lost the content: Q %q A %q", d.Question, d.Answer)
	}
	if pii.Leaks(d.Question+d.Answer, secrets) {
		t.Errorf("personal data in the draft: Q %q A %q", d.Question, d.Answer)
	}
	stored, err := e.db.FAQDrafts(ctx, bot.DraftOpen, 10)
	if err != nil || len(stored) != 1 || stored[0].Question != d.Question || stored[0].Answer != d.Answer {
		t.Fatalf("stored drafts %+v %v", stored, err)
	}
	again, err := e.eng.DraftFAQ(ctx, alice, no)
	if !errors.Is(err, bot.ErrDraftExists) || again.ID != d.ID {
		t.Errorf("second draft: %+v %v", again, err)
	}
	_, evs, _ := e.eng.Ticket(ctx, no)
	n := 0
	for _, ev := range evs {
		if ev.Kind == bot.EvFAQDraft && ev.Text == "#1" && ev.Internal {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d faq_draft events, want 1", n)
	}

	// A ticket answered only from the FAQ has nothing new to draft.
	e.say(t, "d", "ticket refund time?")
	if _, err := e.eng.ReplyFAQ(ctx, alice, "GD20261123002", "refund"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.Resolve(ctx, alice, "GD20261123002", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.DraftFAQ(ctx, alice, "GD20261123002"); !errors.Is(err, bot.ErrNoReply) {
		t.Errorf("draft from FAQ-only replies: %v", err)
	}
	if all, _ := e.db.FAQDrafts(ctx, "", 10); len(all) != 1 {
		t.Errorf("refused drafts stored: %+v", all)
	}
}
