package console_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
)

// TestTicketPageSaysLabelsNotKeys: the ticket page names a pressed button by the label the customer
// saw (not its payload "5:ok"), the urgency and the audit trail's events by their words, and the inbox's category filter by the
// categories' names — in both languages (found by trying the console as an agent).
func TestTicketPageSaysLabelsNotKeys(t *testing.T) {
	e := newInboxEnv(t, false)
	ctx := context.Background()
	no := e.seed(t, "cli:alice", "", "冰箱漏水")
	chat := fmt.Sprintf("chat-%d", seedSeq)
	if err := e.db.Gorm().Exec("UPDATE tickets SET urgency = 'normal', category = 'tech' WHERE no = ?", no).Error; err != nil {
		t.Fatal(err)
	}
	for i, payload := range []string{"3:type:tech", "5:urg:low", "6:ok", "11:rate:2", "12:skip", "7:lang:en", "9:weird", "2:pick:warranty"} {
		err := e.db.Tx(ctx, func(tx bot.Tx) error {
			_, err := tx.SaveInbound(ctx, bot.Event{Channel: bot.ChannelWeb, MsgID: fmt.Sprintf("b-%d", i), ChatID: chat, UserID: "u-" + chat,
				Kind: bot.KindButton, Payload: payload, At: testNow.Add(-time.Duration(30-i) * time.Second)})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	aliceC, _ := e.signIn(t, "alice", "password-alice")
	_, body := get(t, aliceC, e.srv.URL+"/console/tickets/"+no)
	for _, want := range []string{"▸ 技术支持", "▸ 一般（咨询或建议，不着急）", "▸ 对，提交", "▸ 2 分", "▸ 跳过", "▸ English", "▸ weird", "▸ 知识库条目 warranty",
		"<td>重要（影响使用体验）</td>", "<td>创建</td>"} {
		if !strings.Contains(body, want) {
			t.Errorf("ticket page lacks %q", want)
		}
	}
	for _, raw := range []string{"6:ok", "11:rate:2", "type:tech", "<td>normal</td>", "<td>created</td>"} {
		if strings.Contains(body, raw) {
			t.Errorf("ticket page shows the key %q", raw)
		}
	}
	_, en := get(t, aliceC, e.srv.URL+"/console/tickets/"+no+"?lang=en")
	for _, want := range []string{"▸ Technical support", "▸ Yes, submit", "<td>High (affects how I use it)</td>"} {
		if !strings.Contains(en, want) {
			t.Errorf("English ticket page lacks %q", want)
		}
	}
	_, inbox := get(t, aliceC, e.srv.URL+"/console/inbox?view=all&lang=zh-CN")
	if !strings.Contains(inbox, `<option value="tech">技术支持</option>`) {
		t.Errorf("the category filter does not name the categories:\n%s", between(inbox, `id="f-category"`, "</select>"))
	}
}

func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	s = s[i:]
	if j := strings.Index(s, to); j >= 0 {
		return s[:j]
	}
	return s
}

// TestDashboardNamesCategories: the dashboard's top problems, resolution box, category filter and the
// chart labels name the categories in the page's language, and an uncategorized ticket is
// 「未分类」/"Uncategorized", never a blank cell (issue 11).
func TestDashboardNamesCategories(t *testing.T) {
	e := newInboxEnv(t, false)
	a := e.seed(t, "cli:alice", "", "冰箱漏水")
	b := e.seed(t, "cli:alice", "", "转人工")
	if err := e.db.Gorm().Exec("UPDATE tickets SET category = 'complaint' WHERE no = ?", a).Error; err != nil {
		t.Fatal(err)
	}
	if err := e.db.Gorm().Exec("UPDATE tickets SET category = '' WHERE no = ?", b).Error; err != nil {
		t.Fatal(err)
	}
	sueC, _ := e.signIn(t, "sue", "password-sue")
	_, body := get(t, sueC, e.srv.URL+"/console/?lang=zh-CN")
	top := between(body, `id="t-top5"`, "</table>")
	for _, want := range []string{"<td>投诉</td>", "<td>未分类</td>"} {
		if !strings.Contains(top, want) {
			t.Errorf("top problems lack %q:\n%s", want, top)
		}
	}
	if strings.Contains(top, "<td></td>") || strings.Contains(top, "<td>complaint</td>") {
		t.Errorf("top problems show a key or a blank category:\n%s", top)
	}
	if !strings.Contains(body, `<option value="complaint">投诉</option>`) {
		t.Errorf("the category filter does not name the categories:\n%s", between(body, `id="f-category"`, "</select>"))
	}
	if !strings.Contains(body, `&#34;cat:complaint&#34;:&#34;投诉&#34;`) && !strings.Contains(body, `"cat:complaint":"投诉"`) {
		t.Errorf("the charts get no category names:\n%s", between(body, "data-labels", ">"))
	}
	_, en := get(t, sueC, e.srv.URL+"/console/?lang=en")
	if top := between(en, `id="t-top5"`, "</table>"); !strings.Contains(top, "<td>Uncategorized</td>") || !strings.Contains(top, "<td>Complaint</td>") {
		t.Errorf("English top problems:\n%s", top)
	}
}
