package slack

import (
	"errors"
	"regexp"
	"strings"
	"unicode"

	"github.com/kefu-dev/kefu/bot"
)

// Command is one parsed `/kefu` invocation.
type Command struct {
	Verb   string // list show claim ack reply status priority assign note escalate faq report handoff help
	Ticket string // GD… (upper case) for ticket verbs
	Arg    string // list filter, status, priority, assignee user id, faq sub-command, report period
	Text   string // reply/note text, escalation reason, faq query/question|answer
	FAQID  string // faq edit
}

// ParseError says which usage line the caller needs. Key is a locale key (see KEYS.md).
type ParseError struct {
	Key  string // "slack.usage.<verb>" or "slack.usage.unknown"
	Verb string
}

func (e *ParseError) Error() string { return "slack: parse: " + e.Key }

// ErrSyntax is matched (errors.Is) by every *ParseError.
var ErrSyntax = bot.ErrBadInput

func (e *ParseError) Unwrap() error { return ErrSyntax }

var (
	ticketRe = regexp.MustCompile(`^GD[0-9]{3,24}$`)
	// <@U123> or <@U123|name> (slash commands with escaping on), or a bare user id.
	userRe  = regexp.MustCompile(`^(?:<@([UW][A-Z0-9]{2,20})(?:\|[^>]*)?>|([UW][A-Z0-9]{2,20}))$`)
	faqIDRe = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,64}$`)
)

var (
	listFilters = []string{"mine", "open", "overdue", "unassigned"}
	statuses    = []string{"in_progress", "pending", "resolved", "closed"}
	priorities  = []string{"P0", "P1", "P2"}
	periods     = []string{"today", "week", "month"}
)

// Parse reads the text after `/kefu`. Verbs and keywords are case-insensitive; ticket numbers are
// normalized to upper case. Free text keeps its inner spacing but is trimmed.
func Parse(text string) (Command, error) {
	text = strings.TrimSpace(strings.ToValidUTF8(text, "\uFFFD"))
	verb, rest := cut(text)
	verb = strings.ToLower(verb)
	bad := func() (Command, error) { return Command{}, &ParseError{Key: "slack.usage." + verb, Verb: verb} }
	switch verb {
	case "", "help":
		return Command{Verb: "help"}, nil
	case "list":
		f, more := cut(rest)
		f = strings.ToLower(f)
		if f == "" {
			f = "open"
		}
		if more != "" || !oneOf(f, listFilters) {
			return bad()
		}
		return Command{Verb: verb, Arg: f}, nil
	case "show", "claim", "ack", "handoff":
		no, more := cut(rest)
		no, ok := ticketNo(no)
		if !ok || more != "" {
			return bad()
		}
		return Command{Verb: verb, Ticket: no}, nil
	case "reply", "note", "escalate":
		no, more := cut(rest)
		no, ok := ticketNo(no)
		if !ok || more == "" {
			return bad()
		}
		return Command{Verb: verb, Ticket: no, Text: more}, nil
	case "status", "priority":
		no, more := cut(rest)
		arg, extra := cut(more)
		no, ok := ticketNo(no)
		if verb == "status" {
			arg = strings.ToLower(arg)
			ok = ok && oneOf(arg, statuses)
		} else {
			arg = strings.ToUpper(arg)
			ok = ok && oneOf(arg, priorities)
		}
		if !ok || extra != "" {
			return bad()
		}
		return Command{Verb: verb, Ticket: no, Arg: arg}, nil
	case "assign":
		no, more := cut(rest)
		user, extra := cut(more)
		no, ok := ticketNo(no)
		m := userRe.FindStringSubmatch(user)
		if !ok || m == nil || extra != "" {
			return bad()
		}
		return Command{Verb: verb, Ticket: no, Arg: m[1] + m[2]}, nil
	case "team": // "-" takes the ticket out of any team's queue
		no, more := cut(rest)
		team, extra := cut(more)
		no, ok := ticketNo(no)
		if !ok || team == "" || extra != "" || len(team) > 64 {
			return bad()
		}
		return Command{Verb: verb, Ticket: no, Arg: team}, nil
	case "faq":
		sub, more := cut(rest)
		sub = strings.ToLower(sub)
		switch sub {
		case "search":
			if more == "" {
				return bad()
			}
			return Command{Verb: verb, Arg: sub, Text: more}, nil
		case "add":
			q, a, ok := strings.Cut(more, "|")
			if !ok || strings.TrimSpace(q) == "" || strings.TrimSpace(a) == "" {
				return bad()
			}
			return Command{Verb: verb, Arg: sub, Text: strings.TrimSpace(q) + " | " + strings.TrimSpace(a)}, nil
		case "edit":
			id, answer := cut(more)
			if !faqIDRe.MatchString(id) || answer == "" {
				return bad()
			}
			return Command{Verb: verb, Arg: sub, FAQID: id, Text: answer}, nil
		}
		return bad()
	case "improve":
		return Command{Verb: verb, Text: rest}, nil
	case "propose", "approve", "reject", "visit": // complaints.go reads the text
		no, more := cut(rest)
		no, ok := ticketNo(no)
		if !ok || more == "" {
			return Command{}, &ParseError{Key: "slack.usage.complaint", Verb: verb}
		}
		return Command{Verb: verb, Ticket: no, Text: more}, nil
	case "task": // followup.go reads the text; without one it lists
		no, more := cut(rest)
		no, ok := ticketNo(no)
		if !ok {
			return bad()
		}
		return Command{Verb: verb, Ticket: no, Text: more}, nil
	case "report":
		p, more := cut(rest)
		p = strings.ToLower(p)
		if p == "" {
			p = "today"
		}
		if more != "" || !oneOf(p, periods) {
			return bad()
		}
		return Command{Verb: verb, Arg: p}, nil
	}
	return Command{}, &ParseError{Key: "slack.usage.unknown", Verb: verb}
}

// String formats c so that Parse(c.String()) gives c back.
func (c Command) String() string {
	parts := []string{c.Verb}
	add := func(s string) {
		if s != "" {
			parts = append(parts, s)
		}
	}
	switch c.Verb {
	case "faq":
		add(c.Arg)
		add(c.FAQID)
		add(c.Text)
	case "assign":
		add(c.Ticket)
		if c.Arg != "" {
			add("<@" + c.Arg + ">")
		}
	default:
		add(c.Ticket)
		add(c.Arg)
		add(c.Text)
	}
	return strings.Join(parts, " ")
}

// FAQQA splits the text of `faq add` into question and answer.
func (c Command) FAQQA() (question, answer string) {
	q, a, _ := strings.Cut(c.Text, " | ")
	return q, a
}

// cut splits off the first whitespace-separated word; rest is trimmed.
func cut(s string) (word, rest string) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, unicode.IsSpace)
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimSpace(s[i:])
}

func ticketNo(s string) (string, bool) {
	s = strings.ToUpper(s)
	return s, ticketRe.MatchString(s)
}

func oneOf(s string, set []string) bool {
	for _, v := range set {
		if s == v {
			return true
		}
	}
	return false
}

// errorsAsParse is a small helper for callers.
func asParseError(err error) (*ParseError, bool) {
	var pe *ParseError
	ok := errors.As(err, &pe)
	return pe, ok
}
