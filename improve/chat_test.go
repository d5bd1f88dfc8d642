package improve_test

import (
	"context"
	"strings"
	"testing"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/improve"
	"github.com/kefu-dev/kefu/locales"
	"github.com/kefu-dev/kefu/storage/storetest"
)

// TestChat: the Slack command lines, from a new record to its effect check, with bad input answered
// in the language asked and nothing stored.
func TestChat(t *testing.T) {
	ctx := context.Background()
	db := storetest.OpenSQLite(t)
	addTickets(t, db, effectTickets...)
	c := &clock{t: dec(3, 10)}
	s := improve.New(improve.Options{DB: db, Now: c.Now, Agents: append(agents, bot.AgentConfig{ID: "slack:U1", Name: "U1"})})
	chat := improve.Chat{S: s, T: locales.Default().T}
	steps := []struct{ actor, text, lang, want string }{
		{"slack:U1", "new invoice | 客户投诉发票未收到", "zh-CN", "请至少填写一个"},
		{"slack:U1", "new invoice | 客户投诉发票未收到 | 财务部未及时开具 | 订单状态未同步", "zh-CN", "已创建改进记录 IMP-202612-001"},
		{"slack:U1", "link IMP-202612-001 GD20261201001", "en", "Ticket GD20261201001 linked to IMP-202612-001"},
		{"slack:U1", "action IMP-202612-001 short <@U1|u1> 2026-12-15 优化接口程序 | 同步成功率 100%", "zh-CN", "添加措施 #1"},
		{"slack:U1", "action IMP-202612-001 short <@U9> 2026-12-15 x | y", "en", "not a configured agent"},
		{"slack:U1", "show IMP-202612-001", "zh-CN", "#1 [open] 优化接口程序 — <@U1>, 2026-12-15, 同步成功率 100%"},
		{"cli:bob", "state 1 in_progress", "en", "Only the owner"},
		{"slack:U1", "state 1 in_progress", "en", "is now in_progress"},
		{"slack:U1", "state 1 verifying", "en", "is now verifying"},
		{"slack:U1", "state #1 done", "en", "is now done"},
		{"slack:U1", "effect IMP-202612-001 2", "zh-CN", "满意度"},
		{"slack:U1", "list", "en", "None."},
		{"slack:U1", "frobnicate", "en", "Usage:"},
	}
	for i, st := range steps {
		if i == 9 {
			c.Set(dec(10, 12))
		}
		if i == 10 {
			c.Set(dec(31, 0))
		}
		if got := chat.Run(ctx, st.actor, st.text, st.lang); !strings.Contains(got, st.want) {
			t.Errorf("%s %q: %q lacks %q", st.actor, st.text, got, st.want)
		}
	}
	var n int64
	db.Gorm().Table("improve_actions").Count(&n)
	if n != 1 {
		t.Errorf("%d actions stored", n)
	}
}
