package bot_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/kefu-dev/kefu/bot"
)

// TestHumanTransferSummaryIsTheDescription: 转人工, a type tapped, then the description as the next
// message: the ticket's summary is that description (it used to stay empty), in both languages.
func TestHumanTransferSummaryIsTheDescription(t *testing.T) {
	forEachDB(t, func(t *testing.T, mk envMaker) {
		for _, tc := range []struct{ lang, human, typ, desc string }{
			{"zh-CN", "转人工", "订单物流", "快递三天没有更新物流了，订单号 202611230001234"},
			{"en", "I want a human agent", "Order & delivery", "My parcel has not moved for three days"},
		} {
			t.Run(tc.lang, func(t *testing.T) {
				e := mk(t, agentA, supS)
				x := &transcript{t: t, e: e, eng: complaintEngine(t, e.db, e.clock.Now), chat: "human-" + tc.lang}
				x.say(tc.human)
				x.press(tc.typ)
				x.say(tc.desc)
				tk, _, err := x.eng.Ticket(context.Background(), "GD20261123001")
				if err != nil {
					t.Fatal(err)
				}
				if tk.Summary != tc.desc || tk.Description != tc.desc || tk.Category != "order" {
					t.Errorf("summary %q description %q category %q, want the description and order", tk.Summary, tk.Description, tk.Category)
				}
				x.say(map[string]string{"zh-CN": "还有，收件电话换了", "en": "Also, my phone number changed"}[tc.lang])
				if tk2, _, _ := x.eng.Ticket(context.Background(), tk.No); tk2.Summary != tc.desc {
					t.Errorf("a later message replaced the summary: %q", tk2.Summary)
				}
			})
		}
	})
}

// TestCustomerFlags: supervisors set and clear flags the level rules name; agents may only look; an
// unknown flag is refused and changes nothing; the flag raises the next complaint's level.
func TestCustomerFlags(t *testing.T) {
	forEachDB(t, func(t *testing.T, mk envMaker) {
		ctx := context.Background()
		e := mk(t, agentA, supS)
		eng := complaintEngine(t, e.db, e.clock.Now)
		x := &transcript{t: t, e: e, eng: eng, chat: "flags"}
		x.say("转人工")
		x.press("跳过")
		tk, _, err := eng.Ticket(ctx, "GD20261123001")
		if err != nil {
			t.Fatal(err)
		}
		alice, sue := bot.Actor{ID: agentA.ID}, bot.Actor{ID: supS.ID}
		id := tk.CustomerID
		tests := []struct {
			name       string
			actor      bot.Actor
			set, clear []string
			want       []string
			err        error
		}{
			{"agent may not set", alice, []string{"vip"}, nil, nil, bot.ErrForbidden},
			{"stranger may not set", bot.Actor{ID: "cli:mallory"}, []string{"vip"}, nil, nil, bot.ErrForbidden},
			{"unknown flag", sue, []string{"vpi"}, nil, nil, bot.ErrBadInput},
			{"nothing to do", sue, nil, []string{" "}, nil, bot.ErrBadInput},
			{"set two", sue, []string{"VIP", "media"}, nil, []string{"media", "vip"}, nil},
			{"set again is idempotent", sue, []string{"vip"}, nil, []string{"media", "vip"}, nil},
			{"clear one", sue, nil, []string{"media"}, []string{"vip"}, nil},
			{"clear absent", sue, nil, []string{"media"}, []string{"vip"}, nil},
		}
		for _, tc := range tests {
			got, err := eng.SetCustomerFlags(ctx, tc.actor, id, tc.set, tc.clear)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Errorf("%s: err %v, want %v", tc.name, err, tc.err)
				}
				continue
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("%s: %v %v, want %v", tc.name, got, err, tc.want)
			}
			stored, err := eng.CustomerFlags(ctx, alice, id)
			if err != nil || !slices.Equal(stored, tc.want) {
				t.Errorf("%s: stored %v %v, want %v", tc.name, stored, err, tc.want)
			}
		}
		if _, err := eng.CustomerFlags(ctx, bot.Actor{ID: "cli:mallory"}, id); !errors.Is(err, bot.ErrForbidden) {
			t.Errorf("a stranger read flags: %v", err)
		}
		if _, err := eng.SetCustomerFlags(ctx, sue, 99999, []string{"vip"}, nil); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("unknown customer: %v, want ErrNotFound", err)
		}
		// vip gives level 2 to a complaint that would be level 3.
		if _, err := eng.Reply(ctx, alice, tk.No, "您好"); err != nil {
			t.Fatal(err)
		}
		if _, err := eng.Close(ctx, alice, tk.No); err != nil {
			t.Fatal(err)
		}
		x.say("我要投诉，产品质量太差了，用了一周就坏了，希望给个说法")
		x.press("对")
		c, _, err := eng.Ticket(ctx, "GD20261123002")
		if err != nil {
			t.Fatal(err)
		}
		if !c.Complaint || c.ComplaintLevel != 2 {
			t.Errorf("complaint of a vip: complaint=%v level %d, want level 2", c.Complaint, c.ComplaintLevel)
		}
	})
}
