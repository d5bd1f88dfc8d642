package flows

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"  你好  ", "你好"},
		{"／ｓｔａｔｕｓ", "/status"},
		{"订单号：２０２６１１２３０００１２３４", "订单号：202611230001234"},
		{"冰箱坏了，怎么办？", "冰箱坏了，怎么办？"}, // CJK punctuation kept
		{"等了好久……", "等了好久……"},
		{"a\x00b\x07c", "abc"},
		{"\xff\xfeab", "\uFFFDab"},
		{"line1\r\nline2\rline3", "line1\nline2\nline3"},
		{"tab\there", "tab here"},
		{"\u200bzero\u200bwidth\ufeff", "zerowidth"},
		{"👨\u200d👩\u200d👧", "👨\u200d👩\u200d👧"}, // emoji ZWJ sequence kept
		{"e\u0301", "é"},
		{"\u3000全角空格\u3000", "全角空格"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDetectLang(t *testing.T) {
	tests := []struct{ text, hint, want string }{
		{"你好", "", "zh-CN"},
		{"你好", "en-US", "zh-CN"}, // Chinese characters win
		{"hello", "", "en"},
		{"hello", "zh-hans", "zh-CN"}, // a known platform language wins over Latin text
		{"hello", "de", "en"},
		{"", "en", "en"},
		{"", "", "zh-CN"},
		{"123", "", "zh-CN"},
		{"👍", "fr", "zh-CN"},
		// A command's Latin name and code say nothing of the customer's language.
		{"/link ABCD-EFGH-JKLM", "", "zh-CN"},
		{"/help", "", "zh-CN"},
		{"/status", "en", "en"},
		{"/usr/bin is broken", "", "en"}, // not a command
	}
	for _, tt := range tests {
		if got := DetectLang(tt.text, tt.hint); got != tt.want {
			t.Errorf("DetectLang(%q, %q) = %q, want %q", tt.text, tt.hint, got, tt.want)
		}
	}
}

func TestParseCommand(t *testing.T) {
	tests := []struct {
		in         string
		name, args string
		ok         bool
	}{
		{"/lang en", "lang", "en", true},
		{"/start", "start", "", true},
		{"/START@kefu_bot", "start", "", true},
		{"  /link   K7P2QX  ", "link", "K7P2QX", true},
		{"/status\nmore", "status", "more", true},
		{"/", "", "", false},
		{"/ 你好", "", "", false},
		{"/usr/bin", "", "", false},
		{"/状态", "", "", false},
		{"hello /start", "", "", false},
		{"", "", "", false},
	}
	for _, tt := range tests {
		name, args, ok := ParseCommand(tt.in)
		if name != tt.name || args != tt.args || ok != tt.ok {
			t.Errorf("ParseCommand(%q) = %q, %q, %v; want %q, %q, %v", tt.in, name, args, ok, tt.name, tt.args, tt.ok)
		}
	}
}

func TestYesNo(t *testing.T) {
	tests := []struct {
		in      string
		yes, ok bool
	}{
		{"是的", true, true}, {"解决了，谢谢！", true, true}, {"没解决", false, true}, {"未解决", false, true},
		{"不是", false, true}, {"yes", true, true}, {"No.", false, true}, {"not solved", false, true},
		{"yes it's solved", true, true}, {"冰箱还是不制冷，师傅来了也没修好，怎么办", false, false}, {"maybe", false, false},
	}
	for _, tt := range tests {
		if yes, ok := yesNo(tt.in); yes != tt.yes || ok != tt.ok {
			t.Errorf("yesNo(%q) = %v, %v; want %v, %v", tt.in, yes, ok, tt.yes, tt.ok)
		}
	}
}

func TestSmallNumber(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{{"5", 5, true}, {"5分", 5, true}, {"五分", 5, true}, {"两星", 2, true}, {"★★★", 3, true}, {"4 stars", 4, true},
		{"第二个", 2, true}, {"6", 0, false}, {"0", 0, false}, {"good", 0, false}}
	for _, tt := range tests {
		if n, ok := smallNumber(tt.in, 5); n != tt.want || ok != tt.ok {
			t.Errorf("smallNumber(%q) = %d, %v; want %d, %v", tt.in, n, ok, tt.want, tt.ok)
		}
	}
}

func TestWordMatching(t *testing.T) {
	w := wordList{"agent", "is down", "人工"}
	for in, want := range map[string]bool{"Agent please": true, "agents": false, "reagent": false, "the site is down!": true,
		"转人工": true, "download": false, "": false} {
		if got := w.match(in); got != want {
			t.Errorf("match(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	c.OrderNoPattern = "("
	c.Categories = append(c.Categories, Category{Key: "order"}, Category{Key: "x", Urgency: "soon"})
	err := c.Validate()
	for _, want := range []string{"order_no_pattern", "duplicate key \"order\"", "urgency \"soon\""} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to mention %s", err, want)
		}
	}
	if _, err := New(Options{Config: c}); err == nil {
		t.Error("New with a bad config: want error")
	}
	m, err := New(Options{}) // zero config takes the defaults, nil KB means no FAQ
	if err != nil {
		t.Fatal(err)
	}
	s, effects, err := m.Step(Session{State: StateIdle, Lang: "zh-CN"}, Input{Text: "保修多久"})
	if err != nil || s.State != StateAskType || len(effects) == 0 {
		t.Errorf("nil KB: state %s effects %v err %v", s.State, effects, err)
	}
}

func TestConfiguredCategoryNames(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Categories = []Category{{Key: "vip", Names: map[string]string{"zh-CN": "会员服务", "en": "Membership"}, NeedsOrder: false}}
	m, err := New(Options{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	for lang, label := range map[string]string{"zh-CN": "会员服务", "en": "Membership"} {
		s, effects, _ := m.Step(Session{State: StateIdle, Lang: lang}, Input{Text: "xyz unknown"})
		say := effects[len(effects)-1].(Say)
		if s.State != StateAskType || len(say.Choices) != 1 || say.Choices[0].Label != label || say.Choices[0].Key != "" {
			t.Errorf("%s: choices %+v", lang, say.Choices)
		}
		s, _, _ = m.Step(s, Input{Text: label})
		if s.Intake.Category != "vip" {
			t.Errorf("%s: typed label gave category %q", lang, s.Intake.Category)
		}
	}
}

func TestGreetingArgs(t *testing.T) {
	m := newTestMachine(t)
	for lang, want := range map[string]map[string]any{"zh-CN": {"company": "云朵家电", "bot": "小云"}, "en": {"company": "Cloudy Home Appliances", "bot": "Cloudy"}} {
		_, effects, _ := m.Step(NewSession(lang), Input{})
		if say, ok := effects[0].(Say); !ok || say.Key != "greeting.hello" || say.Args["company"] != want["company"] || say.Args["bot"] != want["bot"] {
			t.Errorf("%s: %+v", lang, effects)
		}
	}
}

func TestPayloadsFitTelegram(t *testing.T) {
	// Telegram callback_data is at most 64 bytes.
	m := newTestMachine(t)
	s := Session{State: StateIdle, Lang: "zh-CN", Seq: 1 << 30}
	_, effects, _ := m.Step(s, Input{Text: "安装问题"})
	for _, e := range effects {
		if say, ok := e.(Say); ok {
			for _, c := range say.Choices {
				if len(c.Payload) > 64 || !utf8.ValidString(c.Payload) {
					t.Errorf("payload %q too long", c.Payload)
				}
			}
		}
	}
}
