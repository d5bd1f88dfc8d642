package sla

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Clock names the clock a target runs on.
type Clock string

const (
	Business Clock = "business" // the Calendar's working hours
	AllDay   Clock = "24x7"     // wall time
)

// Audience is who a notification is for. The engine maps each to a destination.
type Audience string

const (
	ToAssignee    Audience = "assignee"    // DM to the ticket's assignee (the team channel when unassigned)
	ToTeam        Audience = "team"        // the team channel
	ToTeamLead    Audience = "team_lead"   // the team lead(s)
	ToSupervisors Audience = "supervisors" // the supervisors' channel
)

var audiences = map[Audience]bool{ToAssignee: true, ToTeam: true, ToTeamLead: true, ToSupervisors: true}

// Duration is a time.Duration written as a Go duration string in YAML ("30m", "2h", "1h30m"); a
// whole number of days may be written "3d".
type Duration time.Duration

// ParseDuration reads a Go duration or "<n>d".
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 || days > 3650 {
			return 0, fmt.Errorf("duration %q: want a Go duration like 30m or 4h, or whole days like 3d", s)
		}
		return Duration(time.Duration(days) * 24 * time.Hour), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("duration %q: want a Go duration like 30m or 4h, or whole days like 3d", s)
	}
	return Duration(d), nil
}

func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	v, err := ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = v
	return nil
}

func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// Lead is how long before a deadline the warning goes out: a share of the target ("25%") or an
// absolute time ("4h"). The zero Lead sends no warning.
type Lead struct {
	Percent float64       // 0 < Percent < 100, or 0
	Before  time.Duration // used when Percent is 0
}

// ParseLead reads "25%", "4h" or "0" / "off" (no warning).
func ParseLead(s string) (Lead, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "0", "off", "none":
		return Lead{}, nil
	}
	if p, ok := strings.CutSuffix(s, "%"); ok {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || !(v > 0 && v < 100) {
			return Lead{}, fmt.Errorf("warn_before %q: a percentage must lie between 0%% and 100%%", s)
		}
		return Lead{Percent: v}, nil
	}
	d, err := ParseDuration(s)
	if err != nil || d < 0 {
		return Lead{}, fmt.Errorf("warn_before %q: want a share like 25%% or a duration like 4h", s)
	}
	return Lead{Before: time.Duration(d)}, nil
}

// MustLead is ParseLead for constants; it panics on a bad string.
func MustLead(s string) *Lead {
	l, err := ParseLead(s)
	if err != nil {
		panic(err)
	}
	return &l
}

// Of returns the lead for a target of length within.
func (l Lead) Of(within time.Duration) time.Duration {
	if l.Percent > 0 {
		return time.Duration(float64(within) * l.Percent / 100)
	}
	return l.Before
}

func (l Lead) String() string {
	switch {
	case l.Percent > 0:
		return strconv.FormatFloat(l.Percent, 'f', -1, 64) + "%"
	case l.Before > 0:
		return l.Before.String()
	}
	return "off"
}

func (l *Lead) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	v, err := ParseLead(s)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*l = v
	return nil
}

func (l Lead) MarshalYAML() (any, error) { return l.String(), nil }

// Limit is one target: how long, on which clock, warned how early. In YAML it is either a duration
// ("30m") or a mapping {within: 30m, clock: 24x7, warn_before: 25%}. Unset fields inherit.
type Limit struct {
	Within     Duration `yaml:"within"`
	Clock      Clock    `yaml:"clock,omitempty"`
	WarnBefore *Lead    `yaml:"warn_before,omitempty"`
}

func (l *Limit) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		return l.Within.UnmarshalYAML(n)
	}
	type plain Limit
	return n.Decode((*plain)(l))
}

// Limits are the targets of one priority (or of a category's override of it).
type Limits struct {
	Clock         Clock `yaml:"clock,omitempty"`       // default clock of the three targets
	WarnBefore    *Lead `yaml:"warn_before,omitempty"` // default lead of the three targets
	FirstResponse Limit `yaml:"first_response"`        // from creation to the first agent reply
	NextResponse  Limit `yaml:"next_response"`         // from a customer's unanswered message to the next agent reply
	Resolution    Limit `yaml:"resolution"`            // from creation (or reopening) to resolved; pauses while pending
}

// Level is one escalation step after a breach.
type Level struct {
	Name   string     `yaml:"name"`   // "agent", "team_lead", "supervisor"
	After  Duration   `yaml:"after"`  // time after the deadline (wall time)
	Notify []Audience `yaml:"notify"` // who hears about it
}

// Config is the SLA policy as written in the config file (the `sla:` section). Every field is
// optional: New fills what is missing from DefaultConfig, field by field.
//
//	sla:
//	  calendar: {tz: Asia/Shanghai, hours: {mon-fri: ["09:00-18:00"]}, holidays: [2026-10-01..2026-10-08]}
//	  priorities:
//	    P0: {clock: 24x7, first_response: 30m, resolution: 4h}
//	    P1: {first_response: 2h, resolution: {within: 24h, warn_before: 4h}}
//	  categories:
//	    complaint: {P2: {first_response: 4h}}
//	  warn_before: 25%
//	  repeat_every: 30m
//	  escalation:
//	    - {name: agent, after: 0s, notify: [assignee, supervisors]}
//	    - {name: team_lead, after: 1h, notify: [team_lead, supervisors]}
//	  customer_update: {every: 4h}
type Config struct {
	Calendar   CalendarConfig                 `yaml:"calendar"`
	Priorities map[Priority]Limits            `yaml:"priorities"`
	Categories map[string]map[Priority]Limits `yaml:"categories,omitempty"` // category key -> priority -> overrides
	// Channels are each channel's own first-response promise (the seeds' 渠道响应时效: social media
	// within 15 minutes, e-mail within hours). A ticket opened from the channel is due for its first
	// response by the sooner of its priority's (or category's) target and its channel's: a channel
	// tightens a promise, never loosens it. Keys are channel names (wechat, wecom, email, web,
	// telegram, discord); a channel set here replaces its default entry.
	Channels map[string]ChannelLimits `yaml:"channels,omitempty"`
	// WarnBefore is the default warning lead of every target.
	WarnBefore *Lead `yaml:"warn_before,omitempty"`
	// WarnNotify is who gets the warning (default: assignee and team).
	WarnNotify []Audience `yaml:"warn_notify,omitempty"`
	// RepeatEvery is how often a breach is pinged again until acknowledged; "0s" pings once.
	RepeatEvery *Duration `yaml:"repeat_every,omitempty"`
	// Escalation lists the steps after a breach, by increasing After. The first is the breach ping.
	Escalation []Level `yaml:"escalation,omitempty"`
	// CustomerUpdate: tell the customer the ticket is still being handled when no update has reached
	// them for Every (default 4h, per the seeds; "0s" turns it off), counted on Clock (default: the
	// ticket's resolution clock).
	CustomerUpdate CustomerUpdateConfig `yaml:"customer_update"`
	// OnPriorityChange: "recompute" (default) measures the new priority's targets from the ticket's
	// original start; "restart" measures them from the change.
	OnPriorityChange string `yaml:"on_priority_change,omitempty"`
}

// ChannelLimits are one channel's targets. In YAML either a duration ("15m", the first response) or
// a mapping {first_response: {within: 4h, clock: business}}. The clock defaults to the priority's.
type ChannelLimits struct {
	FirstResponse Limit `yaml:"first_response"`
}

func (c *ChannelLimits) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		return c.FirstResponse.UnmarshalYAML(n)
	}
	type plain ChannelLimits
	return n.Decode((*plain)(c))
}

// CustomerUpdateConfig configures the "still being handled" messages.
type CustomerUpdateConfig struct {
	Every *Duration `yaml:"every,omitempty"`
	Clock Clock     `yaml:"clock,omitempty"`
}

func dur(d time.Duration) Duration   { return Duration(d) }
func durp(d time.Duration) *Duration { v := Duration(d); return &v }

// DefaultChannels are the seeds' channel response times where they promise less than a priority does:
// social media (the WeChat Official Account, WeCom customer service) within 15 minutes; e-mail within
// 2 working hours (the seeds' "相关部门同事会在2个工作小时内与您联系"). Online chat (web, Telegram,
// Discord) is answered by the bot within seconds and needs no ticket target of its own.
func DefaultChannels() map[string]ChannelLimits {
	return map[string]ChannelLimits{
		"wechat": {FirstResponse: Limit{Within: dur(15 * time.Minute)}},
		"wecom":  {FirstResponse: Limit{Within: dur(15 * time.Minute)}},
		"email":  {FirstResponse: Limit{Within: dur(2 * time.Hour)}},
	}
}

// DefaultConfig is the policy of the seeds:
//
//	       first response     next response   resolution     clock
//	P0     30m                1h              4h             24x7
//	P1     2h                 4h              24h            business hours
//	P2     24h                24h             72h            business hours
//
// The first-response times are the seeds' (紧急 30 分钟 / 重要 2 小时 / 一般 24 小时); the
// resolution and next-response times are kefu's defaults. Warnings go out at 25% of the target
// before the deadline, except P1/P2 resolution, which warns 4 hours ahead (the seeds' 提前4小时上报).
// A breach pings the assignee and the supervisors, repeats every 30m until acknowledged, reaches the
// team lead after 1h and goes to the supervisors again (level "supervisor") after 4h. Customers hear
// from the bot when no update reached them for 4 hours (每4小时同步进度).
func DefaultConfig() Config {
	return Config{
		Calendar: CalendarConfig{TZ: DefaultTZ, Hours: map[string][]string{"mon-fri": {"09:00-18:00"}}},
		Priorities: map[Priority]Limits{
			P0: {Clock: AllDay, FirstResponse: Limit{Within: dur(30 * time.Minute)},
				NextResponse: Limit{Within: dur(time.Hour)}, Resolution: Limit{Within: dur(4 * time.Hour)}},
			P1: {Clock: Business, FirstResponse: Limit{Within: dur(2 * time.Hour)},
				NextResponse: Limit{Within: dur(4 * time.Hour)},
				Resolution:   Limit{Within: dur(24 * time.Hour), WarnBefore: MustLead("4h")}},
			P2: {Clock: Business, FirstResponse: Limit{Within: dur(24 * time.Hour)},
				NextResponse: Limit{Within: dur(24 * time.Hour)},
				Resolution:   Limit{Within: dur(72 * time.Hour), WarnBefore: MustLead("4h")}},
		},
		// Complaint levels (bot.ComplaintConfig; seeds: 一级投诉 15 分钟内启动应急流程, 三级投诉 4 小时内
		// 给予标准化回复): a complaint ticket's SLA category is "complaint_l<level>".
		Categories: map[string]map[Priority]Limits{
			"complaint_l1": {P0: {FirstResponse: Limit{Within: dur(15 * time.Minute)}}},
			"complaint_l3": {P1: {FirstResponse: Limit{Within: dur(4 * time.Hour)}}},
		},
		Channels:    DefaultChannels(),
		WarnBefore:  MustLead("25%"),
		WarnNotify:  []Audience{ToAssignee, ToTeam},
		RepeatEvery: durp(30 * time.Minute),
		Escalation: []Level{
			{Name: "agent", After: 0, Notify: []Audience{ToAssignee, ToSupervisors}},
			{Name: "team_lead", After: dur(time.Hour), Notify: []Audience{ToTeamLead, ToSupervisors}},
			{Name: "supervisor", After: dur(4 * time.Hour), Notify: []Audience{ToSupervisors}},
		},
		CustomerUpdate:   CustomerUpdateConfig{Every: durp(4 * time.Hour)},
		OnPriorityChange: "recompute",
	}
}

// Priorities lists the priorities every policy covers.
var Priorities = []Priority{P0, P1, P2}

// maxTarget bounds a target: longer ones are almost certainly a typo ("720h" meant as minutes…).
const maxTarget = 365 * 24 * time.Hour

// Validate reports every problem of c (after filling defaults), joined with errors.Join.
func (c Config) Validate() error {
	_, err := New(c)
	return err
}

// merged returns c with every unset field taken from d.
func (c Config) merged(d Config) Config {
	out := d
	if len(c.Calendar.Hours) > 0 || c.Calendar.TZ != "" || len(c.Calendar.Holidays) > 0 || len(c.Calendar.Workdays) > 0 {
		out.Calendar = c.Calendar
		if out.Calendar.TZ == "" {
			out.Calendar.TZ = d.Calendar.TZ
		}
		if len(out.Calendar.Hours) == 0 {
			out.Calendar.Hours = d.Calendar.Hours
		}
	}
	out.Priorities = map[Priority]Limits{}
	for p, l := range d.Priorities {
		out.Priorities[p] = l
	}
	for p, l := range c.Priorities {
		out.Priorities[p] = l.over(out.Priorities[p])
	}
	out.Categories = map[string]map[Priority]Limits{}
	for cat, m := range d.Categories { // the defaults' categories stay unless c sets the same one
		out.Categories[cat] = m
	}
	for cat, m := range c.Categories {
		out.Categories[cat] = m
	}
	out.Channels = map[string]ChannelLimits{}
	for ch, l := range d.Channels {
		out.Channels[ch] = l
	}
	for ch, l := range c.Channels {
		out.Channels[ch] = l
	}
	if c.WarnBefore != nil {
		out.WarnBefore = c.WarnBefore
	}
	if c.WarnNotify != nil {
		out.WarnNotify = c.WarnNotify
	}
	if c.RepeatEvery != nil {
		out.RepeatEvery = c.RepeatEvery
	}
	if c.Escalation != nil {
		out.Escalation = c.Escalation
	}
	if c.CustomerUpdate.Every != nil {
		out.CustomerUpdate.Every = c.CustomerUpdate.Every
	}
	if c.CustomerUpdate.Clock != "" {
		out.CustomerUpdate.Clock = c.CustomerUpdate.Clock
	}
	if c.OnPriorityChange != "" {
		out.OnPriorityChange = c.OnPriorityChange
	}
	return out
}

// over returns l with unset fields taken from base. A target's own clock or lead wins over its
// Limits' default, which wins over base's.
func (l Limits) over(base Limits) Limits {
	out := base
	if l.Clock != "" {
		out.Clock = l.Clock
		// The new default clock replaces base's per-target clocks only where l sets none itself.
		out.FirstResponse.Clock, out.NextResponse.Clock, out.Resolution.Clock = "", "", ""
	}
	if l.WarnBefore != nil {
		out.WarnBefore = l.WarnBefore
		out.FirstResponse.WarnBefore, out.NextResponse.WarnBefore, out.Resolution.WarnBefore = nil, nil, nil
	}
	out.FirstResponse = l.FirstResponse.over(out.FirstResponse)
	out.NextResponse = l.NextResponse.over(out.NextResponse)
	out.Resolution = l.Resolution.over(out.Resolution)
	return out
}

func (l Limit) over(base Limit) Limit {
	out := base
	if l.Within != 0 {
		out.Within = l.Within
	}
	if l.Clock != "" {
		out.Clock = l.Clock
	}
	if l.WarnBefore != nil {
		out.WarnBefore = l.WarnBefore
	}
	return out
}

func validClock(c Clock) bool { return c == Business || c == AllDay }

func checkAudiences(where string, as []Audience) []error {
	var errs []error
	if len(as) == 0 {
		errs = append(errs, fmt.Errorf("%s: nobody to notify", where))
	}
	for _, a := range as {
		if !audiences[a] {
			errs = append(errs, fmt.Errorf("%s: unknown audience %q (want assignee, team, team_lead or supervisors)", where, a))
		}
	}
	return errs
}

var errNoPolicy = errors.New("no SLA targets")
