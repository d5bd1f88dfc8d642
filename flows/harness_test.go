package flows

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kefu-dev/kefu/kb"
	"github.com/kefu-dev/kefu/locales"
)

// fakeKB is a tiny kb.Matcher: an entry matches a query holding one of its keywords, with the entry's
// fixed score. Decide answers at >= 0.8 and suggests at >= 0.3.
type fakeKB struct{ entries []fakeEntry }

type fakeEntry struct {
	kb.Entry
	score float64
}

func (f fakeKB) Match(query, lang string, k int) []kb.Hit {
	var hits []kb.Hit
	q := strings.ToLower(query)
	for i := range f.entries {
		e := &f.entries[i]
		if e.Lang != "" && e.Lang != lang {
			continue
		}
		for _, w := range e.Keywords {
			if strings.Contains(q, w) {
				hits = append(hits, kb.Hit{Entry: &e.Entry, Score: e.score})
				break
			}
		}
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].Score > hits[j].Score })
	if len(hits) > k {
		hits = hits[:k]
	}
	return hits
}

func (f fakeKB) Decide(hits []kb.Hit) kb.Decision {
	switch {
	case len(hits) == 0:
		return kb.NoMatch
	case hits[0].Score >= 0.8:
		return kb.Answer
	case hits[0].Score >= 0.3:
		return kb.Suggest
	}
	return kb.NoMatch
}

func (f fakeKB) Entry(id, lang string) *kb.Entry {
	var any *kb.Entry
	for i := range f.entries {
		if e := &f.entries[i]; e.ID == id {
			if e.Lang == lang {
				return &e.Entry
			}
			any = &e.Entry
		}
	}
	return any
}

func entry(id, lang, q string, score float64, words ...string) fakeEntry {
	return fakeEntry{Entry: kb.Entry{ID: id, Lang: lang, Question: q, Answer: "answer of " + id, Keywords: words}, score: score}
}

var testKB = fakeKB{entries: []fakeEntry{
	entry("warranty", "zh-CN", "产品保修期是多久？", 0.9, "保修"),
	entry("warranty", "en", "How long is the warranty?", 0.9, "warranty"),
	entry("install-ac", "zh-CN", "空调怎么预约安装？", 0.5, "安装"),
	entry("install-ac", "en", "How do I book air conditioner installation?", 0.5, "install"),
	entry("install-fee", "zh-CN", "安装收费吗？", 0.45, "安装"),
	entry("install-fee", "en", "Is installation free?", 0.45, "install"),
	entry("install-wifi", "zh-CN", "设备怎么连接 Wi-Fi？", 0.4, "安装", "wifi"),
	entry("install-wifi", "en", "How do I connect the appliance to Wi-Fi?", 0.4, "install", "wifi"),
	entry("install-tv", "zh-CN", "电视怎么挂墙安装？", 0.35, "安装"),
	entry("install-tv", "en", "How is a TV wall-mounted?", 0.35, "install"),
}}

func newTestMachine(t testing.TB) *Machine {
	t.Helper()
	m, err := New(Options{KB: testKB, Config: DefaultConfig()})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// convo drives a Machine like the engine does: it gives tickets numbers and remembers keyboards.
type convo struct {
	t        testing.TB
	m        *Machine
	s        Session
	keyboard []Choice   // the latest buttons offered
	old      [][]Choice // earlier keyboards
	tickets  int
	log      strings.Builder
	last     []Effect
	hint     string
	profile  Profile // what the engine remembers of the customer's intake fields
	caps     Caps    // the channel's capabilities, set on every input
}

func newConvo(t testing.TB, m *Machine, lang, hint string) *convo {
	return &convo{t: t, m: m, s: NewSession(lang), hint: hint}
}

// do runs one scripted input:
//
//	text            typed text ("/lang en" is a command like any text)
//	[action]        press the button of the latest keyboard whose payload action (and arg) is given
//	[#n]            press the n-th button of the latest keyboard
//	[old]           press the first button of the keyboard before the latest (stale)
//	!resolved       signal: the agent resolved the ticket; !closed likewise
//	<media>         an attachment without text
func (c *convo) do(line string) []Effect {
	c.t.Helper()
	p := c.profile
	in := Input{At: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), Profile: &p, Caps: c.caps}
	if c.s.State == StateNew {
		in.LangHint = c.hint
	}
	switch {
	case line == "<media>":
		in.Media = true
	case strings.HasPrefix(line, "!"):
		in.Signal = map[string]Signal{"!resolved": SignalResolved, "!closed": SignalClosed}[line]
		in.TicketNo = c.s.TicketNo
	case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
		in.Button = c.press(line[1 : len(line)-1])
	default:
		in.Text = line
	}
	next, effects, err := c.m.Step(c.s, in)
	if err != nil {
		c.t.Fatalf("step %q in %s: %v", line, c.s.State, err)
	}
	c.s = next
	c.last = effects
	if !utf8.ValidString(line) || strings.ContainsFunc(line, unicode.IsControl) {
		fmt.Fprintf(&c.log, "> %q\n", line)
	} else {
		fmt.Fprintf(&c.log, "> %s\n", line)
	}
	for _, e := range effects {
		c.render(e)
		if say, ok := e.(Say); ok && len(say.Choices) > 0 {
			if c.keyboard != nil {
				c.old = append(c.old, c.keyboard)
			}
			c.keyboard = say.Choices
		}
		if ot, ok := e.(OpenTicket); ok { // what the engine does
			c.profile = remember(c.profile, ot.Intake)
			c.tickets++
			c.s.TicketNo = fmt.Sprintf("GD20261123%03d", c.tickets)
			fmt.Fprintf(&c.log, "< ticket.opened | %s\n", locales.Default().T(c.s.Lang, "ticket.opened",
				map[string]any{"no": c.s.TicketNo, "priority": "priority." + e.(OpenTicket).Intake.Priority, "due": "2026-11-23 12:00"}))
		}
	}
	fmt.Fprintf(&c.log, "  = %s seq=%d lang=%s\n", c.s.State, c.s.Seq, c.s.Lang)
	return effects
}

func (c *convo) press(spec string) string {
	c.t.Helper()
	if spec == "old" {
		if len(c.old) == 0 {
			c.t.Fatalf("no old keyboard")
		}
		return c.old[len(c.old)-1][0].Payload
	}
	if strings.HasPrefix(spec, "#") {
		var n int
		fmt.Sscanf(spec[1:], "%d", &n)
		if n < 1 || n > len(c.keyboard) {
			c.t.Fatalf("no button %s in %v", spec, c.keyboard)
		}
		return c.keyboard[n-1].Payload
	}
	for _, ch := range c.keyboard {
		if _, action, arg, _ := ParsePayload(ch.Payload); action == spec || action+":"+arg == spec {
			return ch.Payload
		}
	}
	c.t.Fatalf("no button %q on keyboard %v (state %s)", spec, c.keyboard, c.s.State)
	return ""
}

// render writes an effect as a transcript line; Say lines carry the rendered text.
func (c *convo) render(e Effect) {
	cat := locales.Default()
	switch e := e.(type) {
	case Say:
		text := cat.T(c.s.Lang, e.Key, e.Args)
		fmt.Fprintf(&c.log, "< %s | %s", e.Key, strings.ReplaceAll(text, "\n", "⏎"))
		if len(e.Choices) > 0 {
			var bs []string
			for _, ch := range e.Choices {
				label := ch.Label
				if ch.Key != "" {
					label = cat.T(c.s.Lang, ch.Key, ch.Args)
				}
				bs = append(bs, label+"="+ch.Payload)
			}
			fmt.Fprintf(&c.log, " [%s]", strings.Join(bs, " | "))
		}
		c.log.WriteString("\n")
	case AnswerFAQ:
		fmt.Fprintf(&c.log, "! AnswerFAQ{%s} | %s\n", e.EntryID, c.m.kb.Entry(e.EntryID, c.s.Lang).Answer)
	case OpenTicket:
		in := e.Intake
		fmt.Fprintf(&c.log, "! OpenTicket{category=%s priority=%s urgency=%s order=%s complaint=%v human=%v description=%q}\n",
			in.Category, in.Priority, in.Urgency, in.OrderNo, in.Complaint, in.Human, in.Description)
		if len(in.Asked) > 0 {
			fmt.Fprintf(&c.log, "  fields{name=%q phone=%q email=%q expected=%q asked=%v}\n", in.Name, in.Phone, in.Email, in.Expected, in.Asked)
		}
	default:
		fmt.Fprintf(&c.log, "! %T %+v\n", e, e)
	}
}

// remember is what the engine stores on the customer when a ticket opens: the values given, and the
// fields asked (the expected time belongs to the ticket).
func remember(p Profile, in Intake) Profile {
	for _, f := range []string{FieldName, FieldPhone, FieldEmail} {
		if v := in.value(f); v != "" {
			switch f {
			case FieldName:
				p.Name = v
			case FieldPhone:
				p.Phone = v
			case FieldEmail:
				p.Email = v
			}
		}
	}
	for _, f := range in.Asked {
		if f != FieldExpected && !slices.Contains(p.Asked, f) {
			p.Asked = append(p.Asked, f)
		}
	}
	return p
}
