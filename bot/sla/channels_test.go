package sla

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// A channel's own first-response promise applies when it is sooner than the priority's (and the
// category's); it never loosens one. Its clock is the priority's unless it names one.
func TestChannelFirstResponse(t *testing.T) {
	custom := func(c *Config) {
		c.Channels = map[string]ChannelLimits{
			"email":  {FirstResponse: Limit{Within: Duration(4 * time.Hour)}},
			"wechat": {FirstResponse: Limit{Within: Duration(10 * time.Minute), Clock: AllDay}},
		}
	}
	tests := []struct {
		name       string
		edit       []func(*Config)
		priority   Priority
		category   string
		channel    string
		created    string
		wantFirst  string
		wantWithin time.Duration
	}{
		{name: "web has no target of its own", priority: P2, channel: "web", created: "2026-10-12 10:00",
			wantFirst: "2026-10-15 10:00", wantWithin: 24 * time.Hour},
		{name: "no channel", priority: P1, created: "2026-10-12 10:00",
			wantFirst: "2026-10-12 12:00", wantWithin: 2 * time.Hour},
		{name: "wechat P2: social media within 15 minutes", priority: P2, channel: "wechat", created: "2026-10-12 10:00",
			wantFirst: "2026-10-12 10:15", wantWithin: 15 * time.Minute},
		{name: "wecom P1 on the business clock: after lunch", priority: P1, channel: "wecom", created: "2026-10-12 11:55",
			wantFirst: "2026-10-12 13:10", wantWithin: 15 * time.Minute},
		{name: "email P2: 2 working hours", priority: P2, channel: "email", created: "2026-10-12 17:30",
			wantFirst: "2026-10-13 10:30", wantWithin: 2 * time.Hour},
		{name: "email P0 keeps its sooner 30 minutes", priority: P0, channel: "email", created: "2026-10-17 03:00",
			wantFirst: "2026-10-17 03:30", wantWithin: 30 * time.Minute},
		{name: "configured email replaces the default", edit: []func(*Config){custom}, priority: P2, channel: "email",
			created: "2026-10-12 10:00", wantFirst: "2026-10-12 15:00", wantWithin: 4 * time.Hour}, // lunch 12–13 excluded
		{name: "configured clock: 24x7 on a saturday", edit: []func(*Config){custom}, priority: P2, channel: "wechat",
			created: "2026-10-17 03:00", wantFirst: "2026-10-17 03:10", wantWithin: 10 * time.Minute},
		{name: "default wecom stays beside a configured wechat", edit: []func(*Config){custom}, priority: P2, channel: "wecom",
			created: "2026-10-12 10:00", wantFirst: "2026-10-12 10:15", wantWithin: 15 * time.Minute},
		{name: "a category's sooner target wins over the channel", priority: P2, category: "complaint", channel: "email",
			edit: []func(*Config){func(c *Config) {
				c.Categories["complaint"] = map[Priority]Limits{P2: {FirstResponse: Limit{Within: Duration(time.Hour)}}}
			}},
			created: "2026-10-12 10:00", wantFirst: "2026-10-12 11:00", wantWithin: time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := testPolicy(t, tc.edit...)
			d := p.Due(p.OpenedOn(tc.priority, tc.category, tc.channel, sh(tc.created))).FirstResponse
			if got := fmtT(d.Due); got != norm(tc.wantFirst) {
				t.Errorf("first response due %s, want %s", got, norm(tc.wantFirst))
			}
			if d.Within != tc.wantWithin {
				t.Errorf("within %v, want %v", d.Within, tc.wantWithin)
			}
			if !d.WarnAt.Before(d.Due) || d.WarnAt.Before(sh(tc.created)) {
				t.Errorf("warning at %s, not between the start and the deadline %s", fmtT(d.WarnAt), fmtT(d.Due))
			}
		})
	}
}

// The YAML forms: a bare duration, or a mapping with a clock; bad entries are named.
func TestChannelConfigYAML(t *testing.T) {
	var c Config
	if err := yaml.Unmarshal([]byte("channels:\n  email: 3h\n  wechat: {first_response: {within: 5m, clock: 24x7}}\n"), &c); err != nil {
		t.Fatal(err)
	}
	p, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		channel string
		pr      Priority
		within  time.Duration
		clock   Clock
	}{
		{"email", P1, 3 * time.Hour, Business},
		{"email", P0, 3 * time.Hour, AllDay},
		{"wechat", P2, 5 * time.Minute, AllDay},
		{"wecom", P2, 15 * time.Minute, Business},
	} {
		w, clk, ok := p.ChannelWithin(tc.channel, tc.pr)
		if !ok || w != tc.within || clk != tc.clock {
			t.Errorf("ChannelWithin(%s, %s) = %v %s %v, want %v %s", tc.channel, tc.pr, w, clk, ok, tc.within, tc.clock)
		}
	}
	if _, _, ok := p.ChannelWithin("web", P1); ok {
		t.Error("web has a target of its own; want none by default")
	}

	bad := "channels:\n  email: -1h\n  wechat: {first_response: {within: 5m, clock: sundial}}\n  \"\": 1h\n  wecom: {first_response: {within: 10m, warn_before: 20m}}\n"
	var b Config
	if err := yaml.Unmarshal([]byte(bad), &b); err != nil {
		t.Fatal(err)
	}
	err = b.Validate()
	if err == nil {
		t.Fatal("Validate() = nil for bad channel targets")
	}
	for _, w := range []string{
		"channels.email.first_response: the target must be positive",
		`channels.wechat.first_response.clock: unknown clock "sundial"`,
		"channels: empty channel name",
		"channels.wecom.first_response: warn_before 20m0s is not shorter",
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("Validate() error does not mention %q:\n%v", w, err)
		}
	}
	if n := strings.Count(err.Error(), "channels.email.first_response"); n != 1 {
		t.Errorf("the email problem is reported %d times, want once:\n%v", n, err)
	}
}
