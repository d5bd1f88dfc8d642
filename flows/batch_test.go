package flows

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kefu-dev/kefu/locales"
)

// batchCaps is the e-mail channel's.
var batchCaps = Caps{Script: ScriptEmail, Batch: true}

// The intake in one message (e-mail): the first answer asks every missing item at once, the reply is
// read whether numbered, labelled or free, what is still missing is asked again in one message, and
// the ticket opens as soon as nothing is missing (or after MaxReasks rounds, with what is known).
func TestBatchIntake(t *testing.T) {
	m := newTestMachine(t)
	tests := []struct {
		name   string
		lang   string
		inputs []string
		// rounds: the items asked in each message of questions, in order
		rounds [][]string
		want   Intake // the ticket's intake (FirstText ignored)
	}{
		{name: "numbered answers", lang: "zh-CN",
			inputs: []string{"保修期内的冰箱坏了，保修怎么申请？", "[no]", "1. 3\n2. 202611200004567\n3. 3"},
			rounds: [][]string{{ItemType, ItemOrder, ItemUrgency}},
			want:   Intake{Category: "aftersale", OrderNo: "202611200004567", Urgency: UrgencyLow, Priority: P2, Description: "保修期内的冰箱坏了，保修怎么申请？"}},
		{name: "numbered answers with other punctuation, full-width digits", lang: "zh-CN",
			inputs: []string{"保修期内的冰箱坏了，保修怎么申请？", "[no]", "（１）售后退换\n2、202611200004567\n【3】紧急，冰箱里有药品"},
			rounds: [][]string{{ItemType, ItemOrder, ItemUrgency}},
			want:   Intake{Category: "aftersale", OrderNo: "202611200004567", Urgency: UrgencyUrgent, Priority: P0, Description: "保修期内的冰箱坏了，保修怎么申请？"}},
		{name: "free text", lang: "zh-CN",
			inputs: []string{"我的快递三天了还没有更新物流信息", "订单物流的问题\n订单号 202611210001111\n紧急，等着用"},
			rounds: [][]string{{ItemType, ItemOrder, ItemUrgency}},
			want:   Intake{Category: "order", OrderNo: "202611210001111", Urgency: UrgencyUrgent, Priority: P0, Description: "我的快递三天了还没有更新物流信息\n紧急，等着用"}},
		{name: "missing items asked again in one message", lang: "zh-CN",
			inputs: []string{"快递", "1. 订单物流", "无\n一般\n包裹显示已签收但是我没有收到，希望尽快查一下"},
			rounds: [][]string{{ItemType, ItemOrder, ItemUrgency, ItemDescription}, {ItemOrder, ItemUrgency, ItemDescription}},
			want:   Intake{Category: "order", Urgency: UrgencyLow, Priority: P2, Description: "快递\n包裹显示已签收但是我没有收到，希望尽快查一下"}},
		{name: "a type needing an order number asks for it once the type is known", lang: "en",
			inputs: []string{"Something is wrong", "1. 3\n3. 2\n4. The washing machine leaks water on the floor every time, it is a mess", "none"},
			rounds: [][]string{{ItemType, ItemOrder, ItemUrgency, ItemDescription}, {ItemOrder}},
			want: Intake{Category: "aftersale", Urgency: UrgencyNormal, Priority: P1,
				Description: "Something is wrong\nThe washing machine leaks water on the floor every time, it is a mess"}},
		{name: "a number under the wrong item is not taken for another item", lang: "en",
			inputs: []string{"My parcel has not moved for three days", "2. 3"},
			rounds: [][]string{{ItemType, ItemOrder, ItemUrgency}, {ItemType, ItemUrgency}}},
		{name: "labelled answers in English", lang: "en",
			inputs: []string{"My parcel has not moved for three days", "Issue type: Order & delivery\nOrder number: 202611210001111\nUrgency: 2"},
			rounds: [][]string{{ItemType, ItemOrder, ItemUrgency}},
			want:   Intake{Category: "order", OrderNo: "202611210001111", Urgency: UrgencyNormal, Priority: P1, Description: "My parcel has not moved for three days"}},
		{name: "type labels copied from the list", lang: "en",
			inputs: []string{"How long is the warranty on my fridge?", "[no]", "1. Returns & exchanges\n2. none\n3. Normal"},
			rounds: [][]string{{ItemType, ItemOrder, ItemUrgency}},
			want:   Intake{Category: "aftersale", Urgency: UrgencyLow, Priority: P2, Description: "How long is the warranty on my fridge?"}},
		{name: "a suggestion needs neither order nor urgency", lang: "en",
			inputs: []string{"It would be nice if the app had a dark mode for night use", "Q1: 6"},
			rounds: [][]string{{ItemType, ItemOrder, ItemUrgency}},
			want:   Intake{Category: "suggestion", Urgency: UrgencyLow, Priority: P2, Description: "It would be nice if the app had a dark mode for night use"}},
		{name: "giving up after MaxReasks rounds opens with what is known", lang: "zh-CN",
			inputs: []string{"有问题", "不知道", "嗯嗯", "随便", "不清楚"},
			rounds: [][]string{{ItemType, ItemOrder, ItemUrgency, ItemDescription}, {ItemType, ItemUrgency, ItemDescription}, {ItemType, ItemUrgency, ItemDescription}},
			want:   Intake{Priority: P2, Description: "有问题\n不知道\n随便\n不清楚"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newConvo(t, m, tc.lang, tc.lang)
			c.caps = batchCaps
			var rounds [][]string
			var opened *Intake
			for _, line := range tc.inputs {
				c.do(line)
				for _, e := range c.last {
					checkRendered(t, locales.Default(), e)
					if say, ok := e.(Say); ok && len(say.Choices) > 0 && c.s.State == StateAskAll {
						t.Errorf("buttons offered on a batch channel: %+v", say)
					}
					if ot, ok := e.(OpenTicket); ok {
						in := ot.Intake
						opened = &in
					}
				}
				if c.s.State == StateAskAll && c.s.Batch.Rounds > len(rounds) {
					rounds = append(rounds, c.s.Batch.Items)
				}
			}
			if diff := cmp.Diff(tc.rounds, rounds); diff != "" {
				t.Errorf("items asked per round (-want +got):\n%s\n%s", diff, c.log.String())
			}
			if reflect.DeepEqual(tc.want, Intake{}) {
				return
			}
			if opened == nil {
				t.Fatalf("no ticket opened:\n%s", c.log.String())
			}
			got := *opened
			got.FirstText = ""
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("intake (-want +got):\n%s\n%s", diff, c.log.String())
			}
		})
	}
}

// The question message is one message's worth of Says without buttons, all of whose keys exist, and
// its numbered lists match what the reply parser reads: the golden transcripts show it as sent.
func TestBatchGolden(t *testing.T) {
	m := newTestMachine(t)
	scripts := map[string][]string{
		"zh-CN": {"你好", "保修期内的冰箱坏了，保修怎么申请？", "[no]", "1. 3\n2. 无", "3", "师傅什么时候能来？"},
		"en":    {"hello", "How long is the warranty on my fridge?", "[no]", "1. 3\n2. none", "3", "When can the technician come?"},
	}
	for _, lang := range []string{"zh-CN", "en"} {
		t.Run(lang, func(t *testing.T) {
			c := newConvo(t, m, "", map[string]string{"zh-CN": "", "en": "en-US"}[lang])
			c.caps = batchCaps
			for _, line := range scripts[lang] {
				c.do(line)
			}
			if c.s.State != StateTicketOpen || c.tickets != 1 {
				t.Errorf("state %s with %d tickets, want one open ticket", c.s.State, c.tickets)
			}
			checkGolden(t, filepath.Join("testdata", "batch_intake."+lang+".txt"), c.log.String())
		})
	}
}

func TestSplitAnswers(t *testing.T) {
	items := []string{ItemType, ItemOrder, ItemUrgency}
	tests := []struct {
		text     string
		numbered map[string]string
		free     string
	}{
		{"1. 2\n2. 12345\n3. 一般", map[string]string{ItemType: "2", ItemOrder: "12345", ItemUrgency: "一般"}, ""},
		{"hello\n1) 2\ncontinues\n9. out of range", map[string]string{ItemType: "2\ncontinues\n9. out of range"}, "hello"},
		{"2026-11-20 买的冰箱", map[string]string{}, "2026-11-20 买的冰箱"},
		{"订单号：2026\n紧急程度: 1", map[string]string{ItemOrder: "2026", ItemUrgency: "1"}, ""},
		{"3天前坏了", map[string]string{}, "3天前坏了"},
	}
	for _, tc := range tests {
		numbered, free := splitAnswers(tc.text, items)
		if diff := cmp.Diff(tc.numbered, numbered); diff != "" || free != tc.free {
			t.Errorf("splitAnswers(%q): numbered (-want +got):\n%s free %q, want %q", tc.text, diff, free, tc.free)
		}
	}
}

// The configured intake fields are asked in the same message: a phone number already in the mail is
// taken from it, an optional field left unanswered is not asked again, a required one is.
func TestBatchIntakeFields(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Fields = IntakeFields{Name: FieldRule{Mode: FieldOptional}, Phone: FieldRule{Mode: FieldRequired},
		Email: FieldRule{Mode: FieldRequired}}
	m, err := New(Options{KB: testKB, Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	c := newConvo(t, m, "zh-CN", "zh-CN")
	c.caps = batchCaps
	var rounds [][]string
	var opened *Intake
	for _, line := range []string{
		"快递三天没动了，订单 202611210001111，紧急，我的手机 13812345678",
		"1. 2\n2. 王先生\n3. 不留了",
		"邮箱：wang@example.cn",
	} {
		c.do(line)
		for _, e := range c.last {
			checkRendered(t, locales.Default(), e)
			if ot, ok := e.(OpenTicket); ok {
				in := ot.Intake
				opened = &in
			}
		}
		if c.s.State == StateAskAll && c.s.Batch.Rounds > len(rounds) {
			rounds = append(rounds, c.s.Batch.Items)
		}
	}
	want := [][]string{{ItemType, FieldName, FieldEmail}, {FieldEmail}}
	if diff := cmp.Diff(want, rounds); diff != "" {
		t.Errorf("items per round (-want +got):\n%s\n%s", diff, c.log.String())
	}
	if opened == nil {
		t.Fatalf("no ticket:\n%s", c.log.String())
	}
	if opened.Category != "order" || opened.Phone != "13812345678" || opened.Name != "王先生" || opened.Email != "wang@example.cn" ||
		opened.OrderNo != "202611210001111" || opened.Urgency != UrgencyUrgent {
		t.Errorf("intake %+v\n%s", *opened, c.log.String())
	}
}
