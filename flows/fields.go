package flows

import (
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/kefu-dev/kefu/pii"
)

// Intake fields beyond type, description, order and urgency (the seeds' 客户身份 and 期望解决时间):
// name, phone, e-mail and expected resolution time, each off, optional or required per category
// (Config.Fields). They are asked after the urgency and before the restatement, one per message (the
// e-mail channel asks PendingFields in one message). Name, phone and e-mail are asked once per
// customer: what the customer gave is stored on the customer (bot), and a field they skipped is not
// asked again unless it is required. The expected time belongs to one request, so it is asked for each
// ticket whose category wants it. 转人工 always wins: a request for a person opens the ticket at once,
// without asking the fields (the agent can ask).

// Intake field keys, in asking order.
const (
	FieldName     = "name"
	FieldPhone    = "phone"
	FieldEmail    = "email"
	FieldExpected = "expected_time"
)

// Fields lists the intake field keys in asking order.
func Fields() []string { return []string{FieldName, FieldPhone, FieldEmail, FieldExpected} }

// Field modes.
const (
	FieldOff      = "off"
	FieldOptional = "optional"
	FieldRequired = "required"
)

// FieldRule is one intake field's mode: Mode for every category (and uncategorized requests),
// Categories overriding it by category key.
type FieldRule struct {
	Mode       string            `yaml:"mode" json:"mode"`
	Categories map[string]string `yaml:"categories,omitempty" json:"categories,omitempty"`
}

// IntakeFields configures the four intake fields (default: all off).
type IntakeFields struct {
	Name         FieldRule `yaml:"name" json:"name"`
	Phone        FieldRule `yaml:"phone" json:"phone"`
	Email        FieldRule `yaml:"email" json:"email"`
	ExpectedTime FieldRule `yaml:"expected_time" json:"expected_time"`
}

func (f IntakeFields) rule(field string) FieldRule {
	switch field {
	case FieldName:
		return f.Name
	case FieldPhone:
		return f.Phone
	case FieldEmail:
		return f.Email
	case FieldExpected:
		return f.ExpectedTime
	}
	return FieldRule{}
}

// Mode is the mode of field for a ticket of category ("" for uncategorized).
func (f IntakeFields) Mode(field, category string) string {
	r := f.rule(field)
	if m, ok := r.Categories[category]; ok && category != "" {
		return m
	}
	if r.Mode == "" {
		return FieldOff
	}
	return r.Mode
}

func (f IntakeFields) withDefaults() IntakeFields {
	for _, r := range []*FieldRule{&f.Name, &f.Phone, &f.Email, &f.ExpectedTime} {
		if r.Mode == "" {
			r.Mode = FieldOff
		}
	}
	return f
}

func (f IntakeFields) validate(cats []Category) []error {
	var errs []error
	okMode := func(m string) bool { return m == FieldOff || m == FieldOptional || m == FieldRequired }
	for _, field := range Fields() {
		r := f.rule(field)
		if !okMode(r.Mode) {
			errs = append(errs, fmt.Errorf("fields.%s.mode %q: want off, optional or required", field, r.Mode))
		}
		for key, m := range r.Categories {
			if !okMode(m) {
				errs = append(errs, fmt.Errorf("fields.%s.categories.%s %q: want off, optional or required", field, key, m))
			}
			if !slices.ContainsFunc(cats, func(c Category) bool { return c.Key == key }) {
				errs = append(errs, fmt.Errorf("fields.%s.categories: unknown category %q", field, key))
			}
		}
	}
	return errs
}

// Profile is what a customer gave at earlier intakes, stored on the customer by the engine and passed
// in Input.Profile. Asked lists the fields asked before, answered or skipped.
type Profile struct {
	Name  string   `json:"name,omitempty"`
	Phone string   `json:"phone,omitempty"`
	Email string   `json:"email,omitempty"`
	Asked []string `json:"asked,omitempty"`
}

func (p Profile) value(field string) string {
	switch field {
	case FieldName:
		return p.Name
	case FieldPhone:
		return p.Phone
	case FieldEmail:
		return p.Email
	}
	return ""
}

// FieldRequest is one intake field still to ask.
type FieldRequest struct {
	Field    string
	Required bool
}

// PendingFields lists, in asking order, the intake fields to ask for a ticket of category from a
// customer whose profile is p, with in the intake so far: a field is pending when its mode for the
// category is not off, it has no value (in the profile or the intake), and it was not asked in this
// intake; a field the customer skipped at an earlier intake is pending only when required. The
// expected time is not remembered: it is pending for every ticket that wants it.
func (m *Machine) PendingFields(category string, p Profile, in Intake) []FieldRequest {
	var out []FieldRequest
	for _, f := range Fields() {
		mode := m.cfg.Fields.Mode(f, category)
		if mode == FieldOff || in.value(f) != "" || slices.Contains(in.Asked, f) {
			continue
		}
		if f != FieldExpected {
			if p.value(f) != "" || mode == FieldOptional && slices.Contains(p.Asked, f) {
				continue
			}
		}
		out = append(out, FieldRequest{Field: f, Required: mode == FieldRequired})
	}
	return out
}

// FieldError is a value a field does not accept; Key is the locale key of the explanation
// ("intake.bad.<field>", "intake.bad.expected_past").
type FieldError struct {
	Field, Key string
	Err        error
}

func (e *FieldError) Error() string { return fmt.Sprintf("intake field %s: %v", e.Field, e.Err) }
func (e *FieldError) Unwrap() error { return e.Err }

// ErrBadField is wrapped by every FieldError.
var ErrBadField = errors.New("bad intake field value")

var (
	// Mainland mobile: 1[3-9] and nine digits, with an optional +86 / 0086 / 86 prefix.
	mobileRE = regexp.MustCompile(`^(?:\+?86|0086)?(1[3-9]\d{9})$`)
	// International, E.164-shaped: '+' or '00', a country code not starting with 0, 7–15 digits in all.
	e164RE = regexp.MustCompile(`^(?:\+|00)([1-9]\d{6,14})$`)
	// Name prefixes customers type before their name.
	namePrefixRE = regexp.MustCompile(`(?i)^(?:我叫|我是|叫我|称呼我|本人|姓名[:：]?|名字[:：]?|my name is|i am|i'm|this is|call me|name[:：]?)\s*`)
)

// ParsePhone accepts a mainland mobile number (13812345678, +86 138-1234-5678) or an international
// number in E.164 form (+44 7911 123456, 0044 …). Spaces, dashes, dots and parentheses are ignored.
// It returns the number normalized: "13812345678" or "+447911123456". (A full libphonenumber port
// would add megabytes of metadata to check a shape we define ourselves; the mainland rule is exact.)
func ParsePhone(s string) (string, bool) {
	var b strings.Builder
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9', r == '+' && b.Len() == 0:
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '\u00a0':
		default:
			return "", false
		}
	}
	d := b.String()
	if m := mobileRE.FindStringSubmatch(d); m != nil {
		return m[1], true
	}
	if m := e164RE.FindStringSubmatch(d); m != nil && !strings.HasPrefix(m[1], "86") {
		return "+" + m[1], true
	}
	return "", false
}

// ParseEmail accepts one bare address (name@example.com): net/mail's parser, with a domain that has a
// dot and no display name or comments.
func ParseEmail(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 254 || strings.ContainsAny(s, " <>\"(),;") {
		return "", false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return "", false
	}
	at := strings.LastIndexByte(s, '@')
	dom := s[at+1:]
	if at < 1 || !strings.Contains(dom, ".") || strings.HasPrefix(dom, ".") || strings.HasSuffix(dom, ".") || strings.Contains(dom, "..") {
		return "", false
	}
	return strings.ToLower(s[:at]) + "@" + strings.ToLower(dom), true // the domain is case-insensitive; local parts are in practice too
}

// ParseName accepts a name or form of address of 1–40 characters with a letter in it, after a prefix
// such as 「我叫」 or "my name is"; digits and most symbols are refused (a phone number typed at the
// name question is not a name).
func ParseName(s string) (string, bool) {
	s = strings.TrimSpace(namePrefixRE.ReplaceAllString(stripPunct(s), ""))
	s = stripPunct(s)
	if s == "" || runeLen(s) > 40 {
		return "", false
	}
	letters := 0
	for _, r := range s {
		switch {
		case unicode.IsLetter(r):
			letters++
		case r == ' ' || r == '.' || r == '·' || r == '-' || r == '\'' || r == '•':
		default:
			return "", false
		}
	}
	return s, letters > 0
}

// ParseField validates an answer to field; now is the customer's current time (expected time is
// relative to it). The value is normalized; for FieldExpected it is the deadline in RFC 3339.
func ParseField(field, text string, now time.Time) (string, error) {
	bad := func(key string, err error) error { return &FieldError{Field: field, Key: key, Err: err} }
	switch field {
	case FieldName:
		if v, ok := ParseName(text); ok {
			return v, nil
		}
	case FieldPhone:
		if v, ok := ParsePhone(text); ok {
			return v, nil
		}
	case FieldEmail:
		if v, ok := ParseEmail(text); ok {
			return v, nil
		}
	case FieldExpected:
		at, err := ParseExpected(text, now)
		if errors.Is(err, ErrExpectedPast) {
			return "", bad("intake.bad.expected_past", fmt.Errorf("%w: %w", ErrBadField, err))
		}
		if err == nil {
			return at.Format(time.RFC3339), nil
		}
	default:
		return "", bad("intake.bad."+field, fmt.Errorf("%w: unknown field", ErrBadField))
	}
	return "", bad("intake.bad."+field, ErrBadField)
}

// skipWords answer an optional field's question with "no" (besides the skip button).
var skipWords = wordList{"跳过", "不想说", "不方便", "不提供", "不留", "不用了", "不用", "没有", "无", "算了", "skip", "no", "none", "pass", "rather not", "no thanks"}

func isSkip(text string) bool {
	t := stripPunct(text)
	return t != "" && runeLen(t) <= 12 && skipWords.match(t)
}

// --- the state: one field at a time ---

func (m *Machine) askFieldSay(s Session) []Effect {
	req := m.fieldRequest(s, s.Field)
	args := map[string]any{}
	var cs []Choice
	if !req.Required {
		args["optional"] = true
		cs = append(cs, choice("btn.skip", "skip"))
	}
	return []Effect{sayArgs("intake.ask."+s.Field, args, cs...)}
}

func (m *Machine) fieldRequest(s Session, field string) FieldRequest {
	return FieldRequest{Field: field, Required: m.cfg.Fields.Mode(field, s.Intake.Category) == FieldRequired}
}

// nextField asks the first pending field, or goes on to the restatement. Phone numbers and e-mail
// addresses already in the description are taken from it (but still confirmed in the restatement).
func (m *Machine) nextField(s Session) (Session, []Effect) {
	for _, r := range m.PendingFields(s.Intake.Category, m.known, s.Intake) {
		if v := m.fromDescription(r.Field, s.Intake.Description); v != "" {
			s.Intake.set(r.Field, v)
			s.Intake.Asked = append(s.Intake.Asked, r.Field)
			continue
		}
		s.State, s.Field, s.Asked = StateAskField, r.Field, 0
		return s, m.askFieldSay(s)
	}
	s.Field = ""
	return m.nextAfter(s, StateAskField)
}

// fromDescription finds a valid phone number or e-mail address in the customer's description.
func (m *Machine) fromDescription(field, desc string) string {
	want := map[string]pii.Kind{FieldPhone: pii.Phone, FieldEmail: pii.Email}[field]
	if want == "" {
		return ""
	}
	for _, sp := range pii.Find(desc) {
		if sp.Kind != want {
			continue
		}
		if v, err := ParseField(field, desc[sp.Start:sp.End], time.Time{}); err == nil {
			return v
		}
	}
	return ""
}

func (m *Machine) stepAskField(s Session, ev event) (Session, []Effect) {
	req := m.fieldRequest(s, s.Field)
	skip := func() (Session, []Effect) {
		s.Intake.Asked = append(s.Intake.Asked, s.Field)
		next, effects := m.nextField(s)
		return next, append(say("intake.skipped"), effects...)
	}
	if ev.button {
		if ev.action != "skip" || req.Required {
			return m.stale(s)
		}
		return skip()
	}
	now := ev.in.At
	if now.IsZero() {
		now = time.Now()
	}
	v, err := ParseField(s.Field, ev.text, now)
	if err == nil {
		s.Intake.set(s.Field, v)
		s.Intake.Asked = append(s.Intake.Asked, s.Field)
		return m.nextField(s)
	}
	if isSkip(ev.text) {
		if !req.Required {
			return skip()
		}
		return s, append(say("intake.required"), m.askFieldSay(s)...)
	}
	s.Asked++
	var fe *FieldError
	key := "intake.bad." + s.Field
	if errors.As(err, &fe) {
		key = fe.Key
	}
	effects := []Effect{sayArgs(key, map[string]any{"input": clip(ev.text, 40)})}
	if m.descOK(ev.text) { // more about the problem, perhaps: keep it with the description
		s.Intake.Description = join(s.Intake.Description, ev.text)
	}
	if !req.Required && s.Asked > m.cfg.MaxReasks { // an optional field is not worth a fourth try
		return skip()
	}
	if req.Required && s.Asked > m.cfg.MaxReasks {
		effects = append(effects, say("intake.required")...)
	}
	return s, append(effects, m.askFieldSay(s)...)
}
