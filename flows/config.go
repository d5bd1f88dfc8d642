package flows

import (
	"errors"
	"fmt"
	"regexp"
)

// Category is one issue type offered in clarification.
type Category struct {
	Key string `yaml:"key" json:"key"`
	// Names are literal labels by language. When the session's language has none, the label is the
	// locales key "category.<Key>" (the default categories are labelled that way).
	Names      map[string]string `yaml:"names,omitempty" json:"names,omitempty"`
	NeedsOrder bool              `yaml:"needs_order,omitempty" json:"needs_order,omitempty"` // ask for an order number
	Complaint  bool              `yaml:"complaint,omitempty" json:"complaint,omitempty"`     // soothe first; priority at least P1
	// Urgency, when set ("urgent" | "normal" | "low"), is used instead of asking when no keyword gives it.
	Urgency string `yaml:"urgency,omitempty" json:"urgency,omitempty"`
	// Words typed by a customer that pick this category at the type question (any language).
	Words []string `yaml:"words,omitempty" json:"words,omitempty"`
}

// Config is the configurable part of the conversation. Word lists are keyed by language ("zh-CN",
// "en"); every list is matched whatever the session language (customers mix languages). Chinese
// words match as substrings, words without Chinese characters match whole words, case-insensitively.
type Config struct {
	Company map[string]string `yaml:"company,omitempty"`  // by language, for the greeting
	BotName map[string]string `yaml:"bot_name,omitempty"` // by language, for the greeting

	Categories []Category `yaml:"categories,omitempty"`

	// OrderNoPattern is the regular expression an order number must match (found anywhere in the
	// text); OrderNoExample is shown to customers.
	OrderNoPattern string `yaml:"order_no_pattern,omitempty"`
	OrderNoExample string `yaml:"order_no_example,omitempty"`

	UrgentWords    map[string][]string `yaml:"urgent_words,omitempty"`    // => urgency "urgent" => P0
	LowWords       map[string][]string `yaml:"low_words,omitempty"`       // => urgency "low" (checked first: 不着急)
	ComplaintWords map[string][]string `yaml:"complaint_words,omitempty"` // => soothing script, complaint ticket
	HumanWords     map[string][]string `yaml:"human_words,omitempty"`     // => straight to a person (short messages only)
	StatusWords    map[string][]string `yaml:"status_words,omitempty"`    // => list my tickets

	// MinDescriptionRunes is the shortest description accepted without asking for 现象+影响+期望.
	// Chinese characters count 1 each, other letters and digits 1/3 each (an English word is ~3 Chinese
	// characters of meaning).
	MinDescriptionRunes int `yaml:"min_description_runes,omitempty"`
	MaxReasks           int `yaml:"max_reasks,omitempty"`         // re-asks of one question before moving on
	MaxOrderAttempts    int `yaml:"max_order_attempts,omitempty"` // bad order numbers before going on without one
	MaxHumanRunes       int `yaml:"max_human_runes,omitempty"`    // a human request is a short message
	MaxInputBytes       int `yaml:"max_input_bytes,omitempty"`    // longer text is refused (default 4096)

	// Fields: name, phone, e-mail and expected resolution time, each off / optional / required, for
	// every category or per category (fields.go). Default: all off.
	Fields IntakeFields `yaml:"fields"`
}

// DefaultConfig is the configuration of the seeds: six categories, order numbers of 12–20 digits.
func DefaultConfig() Config {
	return Config{
		Company: map[string]string{"zh-CN": "云朵家电", "en": "Cloudy Home Appliances"},
		BotName: map[string]string{"zh-CN": "小云", "en": "Cloudy"},
		Categories: []Category{
			{Key: "product", Words: []string{"产品", "咨询", "功能", "价格", "product", "price", "feature"}},
			{Key: "order", NeedsOrder: true, Words: []string{"订单", "物流", "快递", "发货", "配送", "order", "delivery", "shipping", "package"}},
			{Key: "aftersale", NeedsOrder: true, Words: []string{"售后", "退货", "换货", "退款", "退换", "维修", "保修", "return", "refund", "exchange", "repair", "warranty"}},
			{Key: "tech", Words: []string{"技术", "故障", "无法登录", "报错", "bug", "technical", "error", "login"}},
			{Key: "complaint", Complaint: true, Urgency: "normal", Words: []string{"投诉", "complaint", "complain"}},
			{Key: "suggestion", Urgency: "low", Words: []string{"建议", "意见", "suggestion", "idea", "feedback"}},
		},
		OrderNoPattern: `\b\d{12,20}\b`,
		OrderNoExample: "202611230001234",
		UrgentWords: map[string][]string{
			"zh-CN": {"紧急", "加急", "十万火急", "安全", "危险", "起火", "着火", "冒烟", "漏电", "触电", "爆炸", "受伤", "无法使用", "不能用", "用不了", "瘫痪", "停机", "宕机", "崩溃"},
			"en":    {"urgent", "emergency", "safety", "dangerous", "danger", "fire", "smoke", "electric shock", "injured", "injury", "can't use", "cannot use", "unusable", "outage", "is down"},
		},
		LowWords: map[string][]string{
			"zh-CN": {"不急", "不着急", "不紧急", "有空", "随便问问"},
			"en":    {"not urgent", "no rush", "no hurry", "whenever"},
		},
		ComplaintWords: map[string][]string{
			"zh-CN": {"投诉", "差评", "太差", "垃圾", "骗子", "欺骗", "举报", "气死", "态度恶劣", "态度差", "曝光", "消协", "12315"},
			"en":    {"complaint", "complain", "terrible", "awful", "scam", "unacceptable", "rude", "disgusting", "ripoff", "rip-off"},
		},
		HumanWords: map[string][]string{
			"zh-CN": {"人工", "转人工", "人工客服", "真人", "找客服", "活人"},
			"en":    {"agent", "human", "real person", "a person", "operator", "representative", "live chat"},
		},
		StatusWords: map[string][]string{
			"zh-CN": {"我的工单", "查询进度", "查进度", "工单进度", "处理进度", "工单状态", "查工单", "查询工单"},
			"en":    {"my ticket", "my tickets", "ticket status", "status of my ticket", "check status", "check progress", "my request status"},
		},
		MinDescriptionRunes: 10,
		MaxReasks:           2,
		MaxOrderAttempts:    3,
		MaxHumanRunes:       20,
		MaxInputBytes:       4096,
		Fields:              IntakeFields{}.withDefaults(),
	}
}

// withDefaults fills zero fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Company == nil {
		c.Company = d.Company
	}
	if c.BotName == nil {
		c.BotName = d.BotName
	}
	if len(c.Categories) == 0 {
		c.Categories = d.Categories
	}
	if c.OrderNoPattern == "" {
		c.OrderNoPattern, c.OrderNoExample = d.OrderNoPattern, d.OrderNoExample
	}
	if c.UrgentWords == nil {
		c.UrgentWords = d.UrgentWords
	}
	if c.LowWords == nil {
		c.LowWords = d.LowWords
	}
	if c.ComplaintWords == nil {
		c.ComplaintWords = d.ComplaintWords
	}
	if c.HumanWords == nil {
		c.HumanWords = d.HumanWords
	}
	if c.StatusWords == nil {
		c.StatusWords = d.StatusWords
	}
	if c.MinDescriptionRunes == 0 {
		c.MinDescriptionRunes = d.MinDescriptionRunes
	}
	if c.MaxReasks == 0 {
		c.MaxReasks = d.MaxReasks
	}
	if c.MaxOrderAttempts == 0 {
		c.MaxOrderAttempts = d.MaxOrderAttempts
	}
	if c.MaxHumanRunes == 0 {
		c.MaxHumanRunes = d.MaxHumanRunes
	}
	if c.MaxInputBytes == 0 {
		c.MaxInputBytes = d.MaxInputBytes
	}
	c.Fields = c.Fields.withDefaults()
	return c
}

// Validate reports every problem of c (after defaults are applied), joined.
func (c Config) Validate() error {
	var errs []error
	if _, err := regexp.Compile(c.OrderNoPattern); err != nil {
		errs = append(errs, fmt.Errorf("order_no_pattern: %w", err))
	}
	seen := map[string]bool{}
	for i, cat := range c.Categories {
		if cat.Key == "" {
			errs = append(errs, fmt.Errorf("categories[%d]: empty key", i))
		}
		if seen[cat.Key] {
			errs = append(errs, fmt.Errorf("categories[%d]: duplicate key %q", i, cat.Key))
		}
		seen[cat.Key] = true
		switch cat.Urgency {
		case "", UrgencyUrgent, UrgencyNormal, UrgencyLow:
		default:
			errs = append(errs, fmt.Errorf("categories[%d]: urgency %q: want urgent, normal or low", i, cat.Urgency))
		}
	}
	errs = append(errs, c.Fields.validate(c.Categories)...)
	if len(c.Categories) > 20 {
		errs = append(errs, errors.New("categories: more than 20"))
	}
	for name, v := range map[string]int{"min_description_runes": c.MinDescriptionRunes, "max_reasks": c.MaxReasks,
		"max_order_attempts": c.MaxOrderAttempts, "max_human_runes": c.MaxHumanRunes, "max_input_bytes": c.MaxInputBytes} {
		if v < 0 {
			errs = append(errs, fmt.Errorf("%s: negative", name))
		}
	}
	return errors.Join(errs...)
}
