package sla

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Target names a promise measured on a ticket.
type Target string

const (
	FirstResponse Target = "first_response"
	NextResponse  Target = "next_response"
	Resolution    Target = "resolution"
)

// goal is one compiled target.
type goal struct {
	within time.Duration
	clock  Clock
	lead   time.Duration // how long before the deadline to warn; 0: no warning
}

type rule struct{ first, next, resolution goal }

func (r rule) goal(t Target) goal {
	switch t {
	case FirstResponse:
		return r.first
	case NextResponse:
		return r.next
	}
	return r.resolution
}

type chanKey struct {
	channel  string
	priority Priority
}

type ruleKey struct {
	category string
	priority Priority
}

// Policy is a compiled, validated SLA policy. It is immutable and safe for concurrent use; all its
// methods are pure functions of their arguments.
type Policy struct {
	business   *Calendar
	always     *Calendar
	rules      map[ruleKey]rule // category "" is the per-priority base
	channels   map[chanKey]goal // each channel's first-response promise, per priority
	warnNotify []Audience
	repeat     time.Duration
	levels     []Level
	custEvery  time.Duration
	custClock  Clock // "" = the ticket's resolution clock
	restart    bool  // OnPriorityChange == "restart"
}

// New fills c's unset fields from DefaultConfig, validates it and compiles the policy. The error
// joins every problem found, each prefixed with where it is ("priorities.P1.resolution: …").
func New(c Config) (*Policy, error) {
	c = c.merged(DefaultConfig())
	var errs []error
	cal, err := NewCalendar(c.Calendar)
	if err != nil {
		errs = append(errs, err)
		cal = AlwaysOpen(time.UTC)
	}
	p := &Policy{
		business:   cal,
		always:     AlwaysOpen(cal.Location()),
		rules:      map[ruleKey]rule{},
		channels:   map[chanKey]goal{},
		warnNotify: c.WarnNotify,
		levels:     c.Escalation,
		custClock:  c.CustomerUpdate.Clock,
	}
	for pr := range c.Priorities {
		if !slices.Contains(Priorities, pr) {
			errs = append(errs, fmt.Errorf("priorities: unknown priority %q (want P0, P1 or P2)", pr))
		}
	}
	for _, pr := range Priorities {
		r, err := compile(fmt.Sprintf("priorities.%s", pr), pr, c.Priorities[pr], c.WarnBefore)
		errs = append(errs, err)
		p.rules[ruleKey{"", pr}] = r
	}
	for _, cat := range sortedKeys(c.Categories) {
		if cat == "" {
			errs = append(errs, errors.New("categories: empty category key"))
			continue
		}
		for pr, over := range c.Categories[cat] {
			where := fmt.Sprintf("categories.%s.%s", cat, pr)
			if !slices.Contains(Priorities, pr) {
				errs = append(errs, fmt.Errorf("%s: unknown priority %q (want P0, P1 or P2)", where, pr))
				continue
			}
			r, err := compile(where, pr, over.over(c.Priorities[pr]), c.WarnBefore)
			errs = append(errs, err)
			p.rules[ruleKey{cat, pr}] = r
		}
	}
	errs = append(errs, p.compileChannels(c)...)
	errs = append(errs, checkAudiences("warn_notify", c.WarnNotify)...)
	if c.RepeatEvery != nil {
		p.repeat = time.Duration(*c.RepeatEvery)
	}
	if p.repeat < 0 {
		errs = append(errs, fmt.Errorf("repeat_every: %v is negative", p.repeat))
	} else if p.repeat > 0 && p.repeat < time.Minute {
		errs = append(errs, fmt.Errorf("repeat_every: %v is shorter than a minute", p.repeat))
	}
	if len(c.Escalation) == 0 {
		errs = append(errs, errors.New("escalation: at least one level (the breach ping) is needed"))
	}
	for i, l := range c.Escalation {
		where := fmt.Sprintf("escalation[%d]", i)
		if l.Name == "" {
			p.levels[i].Name = fmt.Sprintf("level%d", i+1)
		}
		if l.After < 0 {
			errs = append(errs, fmt.Errorf("%s: after %v is negative", where, time.Duration(l.After)))
		}
		if i > 0 && l.After <= c.Escalation[i-1].After {
			errs = append(errs, fmt.Errorf("%s: after %v must be later than the previous level's %v",
				where, time.Duration(l.After), time.Duration(c.Escalation[i-1].After)))
		}
		errs = append(errs, checkAudiences(where+".notify", l.Notify)...)
	}
	if c.CustomerUpdate.Every != nil {
		p.custEvery = time.Duration(*c.CustomerUpdate.Every)
	}
	if p.custEvery < 0 || (p.custEvery > 0 && p.custEvery < time.Minute) {
		errs = append(errs, fmt.Errorf("customer_update.every: %v must be 0 (off) or at least a minute", p.custEvery))
	}
	if p.custClock != "" && !validClock(p.custClock) {
		errs = append(errs, fmt.Errorf("customer_update.clock: unknown clock %q (want business or 24x7)", p.custClock))
	}
	switch c.OnPriorityChange {
	case "recompute":
	case "restart":
		p.restart = true
	default:
		errs = append(errs, fmt.Errorf("on_priority_change: %q (want recompute or restart)", c.OnPriorityChange))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("sla: policy: %w", err)
	}
	return p, nil
}

// MustNew is New for tests and constants; it panics on a bad config.
func MustNew(c Config) *Policy {
	p, err := New(c)
	if err != nil {
		panic(err)
	}
	return p
}

func compile(where string, pr Priority, l Limits, warn *Lead) (rule, error) {
	defClock := defaultClock(pr, l)
	var errs []error
	if !validClock(defClock) {
		errs = append(errs, fmt.Errorf("%s.clock: unknown clock %q (want business or 24x7)", where, defClock))
	}
	one := func(name string, lim Limit) goal {
		g, err := compileGoal(where+"."+name, defClock, lim, l.WarnBefore, warn)
		errs = append(errs, err)
		return g
	}
	r := rule{
		first:      one("first_response", l.FirstResponse),
		next:       one("next_response", l.NextResponse),
		resolution: one("resolution", l.Resolution),
	}
	return r, errors.Join(errs...)
}

// defaultClock is the clock of a priority's targets: P0 runs on wall time, the others on business
// hours, unless l says otherwise.
func defaultClock(pr Priority, l Limits) Clock {
	if l.Clock != "" {
		return l.Clock
	}
	if pr == P0 {
		return AllDay
	}
	return Business
}

// compileGoal compiles one target: its own clock and lead win over the Limits' (limitsWarn), which win
// over the policy's (warn).
func compileGoal(where string, defClock Clock, lim Limit, limitsWarn, warn *Lead) (goal, error) {
	var errs []error
	g := goal{within: time.Duration(lim.Within), clock: defClock}
	if lim.Clock != "" {
		g.clock = lim.Clock
		if !validClock(lim.Clock) {
			errs = append(errs, fmt.Errorf("%s.clock: unknown clock %q (want business or 24x7)", where, lim.Clock))
		}
	}
	switch {
	case g.within <= 0:
		errs = append(errs, fmt.Errorf("%s: the target must be positive, got %v", where, g.within))
	case g.within > maxTarget:
		errs = append(errs, fmt.Errorf("%s: the target %v is longer than a year", where, g.within))
	}
	lead := warn
	if limitsWarn != nil {
		lead = limitsWarn
	}
	if lim.WarnBefore != nil {
		lead = lim.WarnBefore
	}
	if lead != nil {
		g.lead = lead.Of(g.within)
		if g.within > 0 && g.lead >= g.within {
			errs = append(errs, fmt.Errorf("%s: warn_before %v is not shorter than the target %v (the warning would go out at once)",
				where, lead, g.within))
		}
	}
	return g, errors.Join(errs...)
}

// compileChannels compiles each channel's first-response target for each priority: the channel's
// clock and lead where it sets them, else those of the priority's first response.
func (p *Policy) compileChannels(c Config) []error {
	var errs []error
	for _, ch := range sortedKeys(c.Channels) {
		if ch == "" {
			errs = append(errs, errors.New("channels: empty channel name"))
			continue
		}
		lim := c.Channels[ch].FirstResponse
		for _, pr := range Priorities {
			base := c.Priorities[pr]
			l := lim
			if l.Clock == "" {
				l.Clock = base.FirstResponse.Clock
			}
			if l.WarnBefore == nil {
				l.WarnBefore = base.FirstResponse.WarnBefore
			}
			g, err := compileGoal(fmt.Sprintf("channels.%s.first_response", ch), defaultClock(pr, base), l, base.WarnBefore, c.WarnBefore)
			if err != nil {
				errs = append(errs, err)
				break // the same problem for every priority: say it once
			}
			p.channels[chanKey{ch, pr}] = g
		}
	}
	return errs
}

// Calendar returns the business-hours calendar.
func (p *Policy) Calendar() *Calendar { return p.business }

func (p *Policy) cal(c Clock) *Calendar {
	if c == AllDay {
		return p.always
	}
	return p.business
}

// rule returns the targets of a priority and category; an unknown priority counts as P2 (一般).
func (p *Policy) rule(pr Priority, category string) rule {
	if !slices.Contains(Priorities, pr) {
		pr = P2
	}
	if r, ok := p.rules[ruleKey{category, pr}]; ok {
		return r
	}
	return p.rules[ruleKey{"", pr}]
}

// Within returns the target of t for a priority and category, and the clock it runs on: what the
// bot promises the customer when it opens a ticket.
func (p *Policy) Within(pr Priority, category string, t Target) (time.Duration, Clock) {
	g := p.rule(pr, category).goal(t)
	return g.within, g.clock
}

// firstGoal is the first-response target of a ticket of priority pr and category from channel, and
// whether the channel's promise (sooner than the priority's) applies. from is the clock's start.
func (p *Policy) firstGoal(pr Priority, category, channel string, from time.Time) (goal, bool) {
	g := p.rule(pr, category).first
	if !slices.Contains(Priorities, pr) {
		pr = P2
	}
	cg, ok := p.channels[chanKey{channel, pr}]
	if !ok || channel == "" {
		return g, false
	}
	if p.cal(cg.clock).Add(from, cg.within).Before(p.cal(g.clock).Add(from, g.within)) {
		return cg, true
	}
	return g, false
}

// ChannelWithin returns channel's own first-response target and clock for priority pr (ok false when
// the channel has none): what reports show beside the channel's measured first responses.
func (p *Policy) ChannelWithin(channel string, pr Priority) (time.Duration, Clock, bool) {
	g, ok := p.channels[chanKey{channel, pr}]
	return g.within, g.clock, ok
}

// Channels lists the channels that have a first-response target of their own, sorted.
func (p *Policy) Channels() []string {
	seen := map[string]bool{}
	var out []string
	for k := range p.channels {
		if !seen[k.channel] {
			seen[k.channel] = true
			out = append(out, k.channel)
		}
	}
	slices.Sort(out)
	return out
}
