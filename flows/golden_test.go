package flows

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kefu-dev/kefu/locales"
)

var update = flag.Bool("update", false, "rewrite the golden transcripts in testdata/")

// scenario is one journey of the seeds, scripted in each language (see convo.do for the notation).
type scenario struct {
	name   string
	hint   string // platform language hint of the first message
	inputs map[string][]string
	config func() Config // nil: DefaultConfig
}

var scenarios = []scenario{
	{name: "faq_solved", inputs: map[string][]string{
		"zh-CN": {"你好", "请问产品保修期多久？", "[yes]", "[done]"},
		"en":    {"hello", "How long is the warranty on a fridge?", "[yes]", "[done]"},
	}},
	{name: "faq_not_helped_ticket", inputs: map[string][]string{
		"zh-CN": {"保修期内的冰箱坏了，保修怎么申请？", "[no]", "[type:aftersale]", "冰箱不制冷了，已经三天，食物都坏了，希望上门维修", "202611200004567", "[urg:normal]", "[ok]", "师傅什么时候能来？"},
		"en": {"My fridge broke under warranty, how do I claim it?", "[no]", "[type:aftersale]",
			"The fridge stopped cooling three days ago, all our food spoiled, please send a technician", "202611200004567", "[urg:normal]", "[ok]", "When can the technician come?"},
	}},
	{name: "suggest_pick", inputs: map[string][]string{
		"zh-CN": {"安装的问题", "[#2]", "[yes]", "[more]", "安装的问题", "[none]", "[type:product]", "想了解空调安装需要准备什么，下周要装，希望提前告知", "[urg:low]", "[redo]", "/cancel"},
		"en": {"question about install", "[#2]", "[yes]", "[more]", "question about install", "[none]", "[type:product]",
			"What do I need to prepare for the air conditioner installation next week? Please let me know in advance", "[urg:low]", "[redo]", "/cancel"},
	}},
	{name: "clarify_order_ticket", inputs: map[string][]string{
		"zh-CN": {"您好", "我的快递到哪了", "订单物流", "没动", "一直显示已发货但三天没有更新物流，很着急用", "12345", "订单号是 abc", "202611210001111", "对", "我再补充一下：收件电话换了", "/status", "GD20261123001", "<media>"},
		"en":    {"hi", "where is my parcel", "2", "stuck", "It shows shipped but tracking has not updated for three days and I need it urgently", "12345", "it is abc", "202611210001111", "yes", "One more thing: my phone number changed", "/status", "GD20261123001", "<media>"},
	}},
	{name: "complaint", inputs: map[string][]string{
		"zh-CN": {"我要投诉你们的安装师傅，态度恶劣，还多收了 200 元安装费，希望退还", "[ok]"},
		"en":    {"I want to file a complaint: your installer was rude and charged me 200 extra, I want it refunded", "[ok]"},
	}},
	{name: "urgent_safety", inputs: map[string][]string{
		"zh-CN": {"热水器漏电了，很危险，家里有小孩，请马上派人来处理", "[type:tech]", "[ok]"},
		"en":    {"The water heater gives an electric shock, it is dangerous, please send someone immediately", "[type:tech]", "[ok]"},
	}},
	{name: "human", inputs: map[string][]string{
		"zh-CN": {"你好", "洗衣机有异响", "[type:tech]", "转人工", "我的工单", "人工"},
		"en":    {"hello", "washing machine makes noise", "[type:tech]", "I want a human agent", "status of my ticket", "agent"},
	}},
	{name: "resolve_survey", inputs: map[string][]string{
		"zh-CN": {"人工客服", "电视没有声音", "!resolved", "[unsolved]", "还是没有声音，换了遥控器也不行", "!resolved", "[solved]", "[rate:4]", "师傅很专业，就是来得有点晚"},
		"en":    {"talk to a human", "The TV has no sound", "!resolved", "[unsolved]", "Still no sound, even with a new remote", "!resolved", "[solved]", "[rate:4]", "The technician was great but a bit late"},
	}},
	{name: "survey_text_and_skip", inputs: map[string][]string{
		"zh-CN": {"转人工", "[skip]", "!resolved", "解决了，谢谢", "很好", "五分", "[skip]", "你好"},
		"en":    {"human please", "[skip]", "!resolved", "yes thanks", "great", "5 stars", "[skip]", "hello"},
	}},
	{name: "bad_input", inputs: map[string][]string{
		"zh-CN": {"", "你好", "", "😀👍", "   ", "/foo", "请问保修多久", "/lang", "[old]", "/lang", "[lang:en]", "[yes]", "[old]", "/lang fr", "/lang zh", "/help", "/link", "/link K7P2QX", "<media>", "\x00\x01\xff\xfe"},
		"en":    {"", "hello", "", "😀👍", "   ", "/foo", "how long is the warranty", "/lang", "[old]", "/lang", "[lang:zh-CN]", "[yes]", "[old]", "/lang fr", "/lang en", "/help", "/link", "/link K7P2QX", "<media>", "\x00\x01\xff\xfe"},
	}},
	// Intake fields (fieldsConfig): a complaint asks the name (skipped), the phone (required: a skip
	// word and a bad number are refused, nothing is lost) and the expected time; the customer's second
	// complaint asks only the expected time (the name was skipped, the phone is remembered).
	{name: "intake_fields", config: fieldsConfig, inputs: map[string][]string{
		"zh-CN": {"我要投诉，你们的安装师傅态度很差，迟到了三个小时还乱收费", "[skip]", "跳过", "1234", "138 1234 5678", "明天下午", "[ok]", "!closed",
			"我要投诉，师傅又迟到了，而且态度还是很差，希望换个师傅", "尽快", "3天内", "[ok]"},
		"en": {"I want to complain, your installer was rude, three hours late and overcharged me", "[skip]", "skip", "1234", "+44 7911 123456", "tomorrow afternoon", "[ok]", "!closed",
			"I want to complain again, the technician was late and rude again, please send someone else", "asap", "within 3 days", "[ok]"},
	}},
	{name: "closed_by_agent", inputs: map[string][]string{
		"zh-CN": {"/start", "找人工", "[type:aftersale]", "!closed", "你好"},
		"en":    {"/start", "I need an operator", "2", "!closed", "hi"},
	}},
}

func TestGoldenTranscripts(t *testing.T) {
	cat := locales.Default()
	for _, sc := range scenarios {
		m := newTestMachine(t)
		if sc.config != nil {
			var err error
			if m, err = New(Options{KB: testKB, Config: sc.config()}); err != nil {
				t.Fatal(err)
			}
		}
		for _, lang := range []string{"zh-CN", "en"} {
			t.Run(sc.name+"/"+lang, func(t *testing.T) {
				c := newConvo(t, m, "", firstNonEmpty(sc.hint, map[string]string{"zh-CN": "", "en": "en-US"}[lang]))
				for _, line := range sc.inputs[lang] {
					c.do(line)
					for _, e := range c.last {
						checkRendered(t, cat, e)
					}
				}
				if c.s.Lang != lang {
					t.Errorf("session language %s, want %s", c.s.Lang, lang)
				}
				checkGolden(t, filepath.Join("testdata", sc.name+"."+lang+".txt"), c.log.String())
			})
		}
	}
}

// checkRendered fails when a Say or button names a key missing from a catalog.
func checkRendered(t *testing.T, cat *locales.Catalog, e Effect) {
	t.Helper()
	say, ok := e.(Say)
	if !ok {
		return
	}
	keys := []string{say.Key}
	for _, c := range say.Choices {
		if c.Key != "" {
			keys = append(keys, c.Key)
		} else if strings.TrimSpace(c.Label) == "" {
			t.Errorf("choice %+v has neither key nor label", c)
		}
	}
	for _, k := range keys {
		for _, lang := range cat.Langs() {
			if !cat.Has(lang, k) {
				t.Errorf("key %q missing in %s", k, lang)
			}
		}
	}
}

// checkGolden compares got with the golden file at path (-update rewrites it).
func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./flows -update)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, diff)
	}
}
