package bot_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/flows"
	"github.com/kefu-dev/kefu/kb"
	"github.com/kefu-dev/kefu/locales"
	"github.com/kefu-dev/kefu/storage"
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

// fieldsEngine is complaintEngine with intake fields on: name and e-mail optional, the phone required
// for complaints, the expected time optional for complaints.
func fieldsEngine(t testing.TB, db *storage.DB, now func() time.Time) *bot.Engine {
	t.Helper()
	matcher := kb.NewMatcher(kb.Sample(), kb.MatchOptions{})
	cfg := flows.DefaultConfig()
	cfg.Fields = flows.IntakeFields{
		Name:         flows.FieldRule{Mode: flows.FieldOptional},
		Phone:        flows.FieldRule{Mode: flows.FieldOptional, Categories: map[string]string{"complaint": flows.FieldRequired}},
		Email:        flows.FieldRule{Mode: flows.FieldOptional},
		ExpectedTime: flows.FieldRule{Mode: flows.FieldOff, Categories: map[string]string{"complaint": flows.FieldOptional}},
	}
	m, err := flows.New(flows.Options{KB: matcher, Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := bot.New(bot.Options{Store: db, Flows: m, KB: matcher, Catalog: locales.Default(), Now: now,
		Agents: []bot.AgentConfig{agentA, supS}})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// TestIntakeFieldsAskedOnceAndRemembered: a complaint asks name, phone (required; a bad number is
// refused with a clear message and asked again, nothing said is lost), e-mail and the expected time;
// the values are stored on the customer, encrypted (the raw columns hold no plaintext, the e-mail has a
// lookup hash), and the customer's next complaint asks only the expected time.
func TestIntakeFieldsAskedOnceAndRemembered(t *testing.T) {
	forEachDB(t, func(t *testing.T, mk envMaker) {
		ctx := context.Background()
		e := mk(t, agentA, supS)
		eng := fieldsEngine(t, e.db, e.clock.Now)
		x := &transcript{t: t, e: e, eng: eng, chat: "fields"}
		alice := bot.Actor{ID: agentA.ID}
		last := func() string {
			t.Helper()
			if len(x.last) == 0 {
				t.Fatal("no reply")
			}
			return x.last[len(x.last)-1].Text
		}
		expectAsk := func(what, want string) {
			t.Helper()
			if !strings.Contains(last(), want) {
				t.Fatalf("%s: last reply %q, want %q", what, last(), want)
			}
		}
		desc := "我要投诉，你们的安装师傅态度很差，迟到了三个小时还乱收费"
		x.say(desc)
		expectAsk("name", "请问怎么称呼您")
		x.say("我叫王小明")
		expectAsk("phone", "请留下您的手机号码")
		x.say("12345")
		if !strings.Contains(x.last[0].Text, "「12345」不是有效的手机号码") || !strings.Contains(last(), "请留下您的手机号码") {
			t.Fatalf("bad phone: %+v", x.last)
		}
		x.say("跳过")
		expectAsk("required phone cannot be skipped", "请留下您的手机号码")
		x.say("+86 138-1234-5678")
		expectAsk("email", "电子邮箱")
		x.say("wang@example")
		if !strings.Contains(x.last[0].Text, "不是有效的电子邮箱地址") {
			t.Fatalf("bad email: %+v", x.last)
		}
		x.say("Wang@Example.cn")
		expectAsk("expected", "您希望我们在什么时间之前解决")
		x.say("明天下午")
		expectAsk("confirm", desc)
		x.press("对")
		tk, _, err := eng.Ticket(ctx, "GD20261123001")
		if err != nil {
			t.Fatal(err)
		}
		wantBy := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC) // 18:00 in Shanghai
		if tk.CustomerName != "王小明" || tk.CustomerPhone != "13812345678" || tk.ExpectedBy == nil || !tk.ExpectedBy.Equal(wantBy) ||
			tk.Description != desc {
			t.Errorf("ticket name %q phone %q expected %v description %q", tk.CustomerName, tk.CustomerPhone, tk.ExpectedBy, tk.Description)
		}
		p, err := eng.CustomerProfile(ctx, tk.CustomerID)
		if err != nil || p.Name != "王小明" || p.Phone != "13812345678" || p.Email != "wang@example.cn" {
			t.Errorf("profile %+v %v", p, err)
		}
		// Encrypted at rest: the raw columns hold no plaintext; the e-mail is found by its hash.
		var raw struct{ ContactName, Phone, Email, EmailHash string }
		if err := e.db.Gorm().Raw("SELECT contact_name, phone, email, email_hash FROM customers WHERE id = ?", tk.CustomerID).Scan(&raw).Error; err != nil {
			t.Fatal(err)
		}
		for col, v := range map[string]string{"contact_name": raw.ContactName, "phone": raw.Phone, "email": raw.Email} {
			if v == "" || strings.Contains(v, "王小明") || strings.Contains(v, "13812345678") || strings.Contains(v, "example.cn") {
				t.Errorf("customers.%s stored as %q", col, v)
			}
		}
		if d, err := e.db.ExportCustomer(ctx, tk.CustomerID); err != nil || d.Customer.ContactName != "王小明" || d.Customer.Email != "wang@example.cn" || d.Customer.Phone != "13812345678" {
			t.Errorf("export (right of access) %+v %v", d.Customer, err)
		}
		if ids, err := e.db.CustomerIDs(ctx, "WANG@example.cn"); err != nil || len(ids) != 1 || ids[0] != tk.CustomerID || raw.EmailHash == "" {
			t.Errorf("lookup by e-mail: %v %v (hash %q)", ids, err, raw.EmailHash)
		}
		// The next complaint asks only the expected time.
		if _, err := eng.Reply(ctx, alice, tk.No, "您好"); err != nil {
			t.Fatal(err)
		}
		if _, err := eng.Close(ctx, alice, tk.No); err != nil {
			t.Fatal(err)
		}
		x.say("我要投诉，师傅又迟到了，而且态度还是很差，希望换个师傅")
		expectAsk("only the expected time", "您希望我们在什么时间之前解决")
		x.press("跳过")
		expectAsk("confirm", "师傅又迟到了")
		x.press("对")
		tk2, _, err := eng.Ticket(ctx, "GD20261123002")
		if err != nil {
			t.Fatal(err)
		}
		if tk2.CustomerName != "王小明" || tk2.CustomerPhone != "13812345678" || tk2.ExpectedBy != nil {
			t.Errorf("second ticket name %q phone %q expected %v", tk2.CustomerName, tk2.CustomerPhone, tk2.ExpectedBy)
		}
	})
}

// TestIntakeSkippedFieldsNotAskedAgain: optional fields skipped (button or word) are remembered as
// asked; the next ticket of the customer does not ask them; erasing the customer removes the details.
func TestIntakeSkippedFieldsNotAskedAgain(t *testing.T) {
	forEachDB(t, func(t *testing.T, mk envMaker) {
		ctx := context.Background()
		e := mk(t, agentA, supS)
		eng := fieldsEngine(t, e.db, e.clock.Now)
		x := &transcript{t: t, e: e, eng: eng, chat: "skips"}
		x.say("The app crashes on login since yesterday, I cannot use it at all, please help")
		x.press("Technical support")
		x.press("Skip") // name
		x.say("skip")   // phone (optional for tech)
		x.say("bob@example.com")
		x.press("Yes")
		tk, _, err := eng.Ticket(ctx, "GD20261123001")
		if err != nil {
			t.Fatalf("%v\n%s", err, x.b.String())
		}
		p, _ := eng.CustomerProfile(ctx, tk.CustomerID)
		if p.Name != "" || p.Phone != "" || p.Email != "bob@example.com" || !slices.Equal(p.Asked, []string{"name", "phone", "email"}) {
			t.Errorf("profile %+v", p)
		}
		if _, err := eng.Reply(ctx, bot.Actor{ID: agentA.ID}, tk.No, "hi"); err != nil {
			t.Fatal(err)
		}
		if _, err := eng.Close(ctx, bot.Actor{ID: agentA.ID}, tk.No); err != nil {
			t.Fatal(err)
		}
		x.say("The app crashes again when I open the settings page, nothing works there")
		x.press("Technical support")
		x.press("Normal")
		// Not asked again; the restatement repeats the remembered e-mail, masked (the phone was skipped).
		if rest := x.b.String()[strings.LastIndex(x.b.String(), "[Technical support]"):]; !strings.Contains(rest, "Just to confirm") ||
			strings.Contains(rest, "address you") || strings.Contains(rest, "phone") || strings.Contains(rest, "leave your e-mail") ||
			!strings.Contains(rest, "e-mail b***@example.com") || strings.Contains(rest, "bob@example.com") {
			t.Errorf("fields asked again, or the restatement does not repeat the e-mail masked:\n%s", x.b.String())
		}
		if _, err := e.db.EraseCustomer(ctx, tk.CustomerID, e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		if p, _ := eng.CustomerProfile(ctx, tk.CustomerID); p.Email != "" || len(p.Asked) != 0 {
			t.Errorf("erased customer keeps %+v", p)
		}
	})
}
