package slack

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/flows"
	"github.com/kefu-dev/kefu/locales"
)

type fakeCustomers struct {
	p    flows.Profile
	hist []bot.Ticket
}

func (f fakeCustomers) CustomerProfile(context.Context, int64) (flows.Profile, error) {
	return f.p, nil
}
func (f fakeCustomers) CustomerHistory(_ context.Context, _ bot.Ticket, limit int) ([]bot.Ticket, error) {
	return f.hist[:min(limit, len(f.hist))], nil
}

// A new card's thread tells agents who the customer is: the intake details, masked, and the earlier
// tickets with status, category (「未分类」 when none) and rating; a first-time customer gets no line.
func TestCardThreadShowsTheCustomer(t *testing.T) {
	expected := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		c     fakeCustomers
		wants []string
		not   []string
	}{
		{"intake and history", fakeCustomers{
			p: flows.Profile{Name: "张三", Phone: "13812345678", Email: "wang@example.cn"},
			hist: []bot.Ticket{
				{No: "GD20261120001", Status: bot.StatusClosed, Category: "", Rating: 2},
				{No: "GD20261118002", Status: bot.StatusResolved, Category: "order"},
			}},
			[]string{"客户登记信息", "称呼: 张*", "电话: 138****5678", "邮箱: w***@example.cn", "期望解决时间: <!date^1795514400^",
				"该客户的历史工单", "GD20261120001 · 已关闭 · 未分类 · 评分 2/5", "GD20261118002 · 待确认 · 订单物流 · 评分 —"},
			[]string{"13812345678", "wang@example.cn", "张三"}},
		{"a first-time customer without details", fakeCustomers{}, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(o *Options) { o.Customers = tc.c; o.T = locales.Default().T; o.Lang = "zh-CN" })
			tk := ticketGD1()
			if tc.wants != nil {
				tk.ExpectedBy = &expected
			}
			e.desk.create(tk)
			e.sync(t)
			var thread []string
			for _, c := range e.slack.Called("chat.postMessage") {
				if c.Form.Get("thread_ts") != "" {
					thread = append(thread, c.Form.Get("text"))
				}
			}
			if tc.wants == nil {
				if len(thread) != 0 {
					t.Errorf("thread messages for a customer with nothing to tell: %q", thread)
				}
				return
			}
			if len(thread) != 1 {
				t.Fatalf("thread messages %q, want one", thread)
			}
			for _, w := range tc.wants {
				if !strings.Contains(thread[0], w) {
					t.Errorf("thread lacks %q:\n%s", w, thread[0])
				}
			}
			for _, n := range tc.not {
				if strings.Contains(thread[0], n) {
					t.Errorf("thread leaks %q:\n%s", n, thread[0])
				}
			}
		})
	}
}

// /kefu show repeats the customer's details under the card.
func TestShowIncludesTheCustomer(t *testing.T) {
	c := fakeCustomers{p: flows.Profile{Phone: "13812345678"}, hist: []bot.Ticket{{No: "GD20261120001", Status: bot.StatusClosed, Rating: 5}}}
	e := newEnv(t, func(o *Options) { o.Customers = c; o.T = locales.Default().T; o.Lang = "en" })
	e.desk.create(ticketGD1())
	m := e.app.show(t.Context(), "GD20261123001")
	b, err := json.Marshal(m.Blocks)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"kefu_customer", "Phone: 138****5678", "GD20261120001 · Closed · Uncategorized · rating 5/5"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("show lacks %q: %s", want, b)
		}
	}
	if strings.Contains(string(b), "13812345678") {
		t.Errorf("show leaks the phone number: %s", b)
	}
}
