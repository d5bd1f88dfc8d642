package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/bot/sla"
)

// loadYAML loads a config file with body and no environment.
func loadYAML(t *testing.T, body string) (Config, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kefu.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return loadConfig(path, func(string) string { return "" })
}

type within struct {
	pr       sla.Priority
	category string
	target   sla.Target
	want     time.Duration
	clock    sla.Clock
}

func TestSLAConfigMapping(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		checks  []within
		tz      string // the calendar's zone
		wantErr []string
	}{
		{name: "defaults are the seeds'", yaml: "",
			checks: []within{
				{sla.P0, "", sla.FirstResponse, 30 * time.Minute, sla.AllDay},
				{sla.P1, "", sla.FirstResponse, 2 * time.Hour, sla.Business},
				{sla.P2, "", sla.FirstResponse, 24 * time.Hour, sla.Business},
				{sla.P0, "", sla.Resolution, 4 * time.Hour, sla.AllDay},
				{sla.P2, "", sla.Resolution, 72 * time.Hour, sla.Business},
			}, tz: "Asia/Shanghai"},
		{name: "flat first_response/resolution still read",
			yaml: "sla:\n  first_response: {P1: 1h}\n  resolution: {P2: 5d}\n",
			checks: []within{
				{sla.P1, "", sla.FirstResponse, time.Hour, sla.Business},
				{sla.P0, "", sla.FirstResponse, 30 * time.Minute, sla.AllDay},
				{sla.P2, "", sla.Resolution, 5 * 24 * time.Hour, sla.Business},
			}},
		{name: "per-priority targets and clocks",
			yaml: "sla:\n  priorities:\n    P1: {clock: 24x7, first_response: 45m, resolution: {within: 8h, clock: business}}\n",
			checks: []within{
				{sla.P1, "", sla.FirstResponse, 45 * time.Minute, sla.AllDay},
				{sla.P1, "", sla.Resolution, 8 * time.Hour, sla.Business},
				{sla.P1, "", sla.NextResponse, 4 * time.Hour, sla.AllDay},
			}},
		{name: "category overrides",
			yaml: "sla:\n  categories:\n    complaint: {P2: {first_response: 4h}}\n",
			checks: []within{
				{sla.P2, "complaint", sla.FirstResponse, 4 * time.Hour, sla.Business},
				{sla.P2, "order", sla.FirstResponse, 24 * time.Hour, sla.Business},
				{sla.P2, "complaint", sla.Resolution, 72 * time.Hour, sla.Business},
			}},
		{name: "calendar zone defaults to the top-level timezone",
			yaml: "timezone: Europe/Berlin\nsla:\n  calendar: {hours: {mon-sat: [\"08:00-20:00\"]}}\n", tz: "Europe/Berlin"},
		{name: "calendar zone of its own", yaml: "timezone: Europe/Berlin\nsla:\n  calendar: {tz: UTC}\n", tz: "UTC"},
		{name: "a target in both shapes", yaml: "sla:\n  first_response: {P1: 1h}\n  priorities: {P1: {first_response: 3h}}\n",
			wantErr: []string{"first_response.P1 and priorities.P1.first_response are both set"}},
		{name: "every problem at once",
			yaml:    "sla:\n  repeat_every: 10s\n  priorities: {P9: {first_response: 1h}}\n  calendar: {holidays: [\"2026-13-01\"]}\n",
			wantErr: []string{"repeat_every", "P9", "2026-13-01"}},
		{name: "scan interval", yaml: "sla:\n  scan_interval: 1ms\n", wantErr: []string{"sla.scan_interval"}},
		{name: "unknown key", yaml: "sla:\n  first_respons: {P1: 1h}\n", wantErr: []string{"first_respons"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := loadYAML(t, tc.yaml)
			if len(tc.wantErr) > 0 {
				if err == nil {
					t.Fatalf("want errors %q, got none", tc.wantErr)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			p, err := cfg.policy()
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range tc.checks {
				d, clock := p.Within(c.pr, c.category, c.target)
				if d != c.want || clock != c.clock {
					t.Errorf("%s %q %s = %v on %s, want %v on %s", c.pr, c.category, c.target, d, clock, c.want, c.clock)
				}
			}
			if tc.tz != "" {
				if got := p.Calendar().Location().String(); got != tc.tz {
					t.Errorf("calendar zone %s, want %s", got, tc.tz)
				}
			}
		})
	}
}

// The documented example is the default policy, holidays and make-up days aside.
func TestSLAExampleConfig(t *testing.T) {
	// Only the sla section (and the timezone it defaults to): the other sections have tests of their own.
	var doc map[string]yaml.Node
	if err := yaml.Unmarshal([]byte(exampleConfig), &doc); err != nil {
		t.Fatal(err)
	}
	part, err := yaml.Marshal(map[string]yaml.Node{"sla": doc["sla"], "timezone": doc["timezone"]})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := loadYAML(t, string(part))
	if err != nil {
		t.Fatal(err)
	}
	ex, err := cfg.policy()
	if err != nil {
		t.Fatal(err)
	}
	def := sla.MustNew(sla.Config{})
	for _, pr := range sla.Priorities {
		for _, tg := range []sla.Target{sla.FirstResponse, sla.NextResponse, sla.Resolution} {
			gd, gc := ex.Within(pr, "", tg)
			wd, wc := def.Within(pr, "", tg)
			if gd != wd || gc != wc {
				t.Errorf("example %s %s = %v %s, default %v %s", pr, tg, gd, gc, wd, wc)
			}
		}
	}
	if got, want := ex.Channels(), def.Channels(); !slices.Equal(got, want) {
		t.Errorf("example channels %v, default %v", got, want)
	}
	for _, ch := range def.Channels() {
		for _, pr := range sla.Priorities {
			gd, gc, _ := ex.ChannelWithin(ch, pr)
			wd, wc, _ := def.ChannelWithin(ch, pr)
			if gd != wd || gc != wc {
				t.Errorf("example channel %s %s = %v %s, default %v %s", ch, pr, gd, gc, wd, wc)
			}
		}
	}
	// 2026-10-05 (Monday) is a holiday in the example, 2026-10-10 (Saturday) a make-up working day.
	cal := ex.Calendar()
	sh := cal.Location()
	if cal.IsOpen(time.Date(2026, 10, 5, 10, 0, 0, 0, sh)) {
		t.Error("2026-10-05 10:00 open; the example lists it as a holiday")
	}
	if !cal.IsOpen(time.Date(2026, 10, 10, 10, 0, 0, 0, sh)) {
		t.Error("2026-10-10 10:00 closed; the example lists it as a make-up working day")
	}
}

// The engine's due-time hook gives business-hours deadlines, so the promised time skips nights,
// weekends and holidays; P0 runs 24x7.
func TestSLADueHook(t *testing.T) {
	cfg, err := loadYAML(t, "sla:\n  calendar: {holidays: [\"2026-10-01..2026-10-07\"], workdays: {\"2026-10-10\": [\"09:00-18:00\"]}}\n")
	if err != nil {
		t.Fatal(err)
	}
	p, err := cfg.policy()
	if err != nil {
		t.Fatal(err)
	}
	due := slaDue(p)
	sh, _ := time.LoadLocation("Asia/Shanghai")
	at := func(m time.Month, d, h, min int) time.Time { return time.Date(2026, m, d, h, min, 0, 0, sh) }
	tests := []struct {
		name      string
		pr        bot.Priority
		channel   bot.Channel
		from      time.Time
		wantFirst time.Time
	}{
		{"P1 in hours", bot.P1, bot.ChannelWeb, at(11, 24, 10, 0), at(11, 24, 12, 0)},
		{"P1 late Friday: Monday", bot.P1, bot.ChannelWeb, at(11, 27, 17, 30), at(11, 30, 10, 30)},
		{"P1 at night: next morning", bot.P1, bot.ChannelWeb, at(11, 24, 23, 0), at(11, 25, 11, 0)},
		{"P1 in the holiday: first working day", bot.P1, bot.ChannelWeb, at(10, 2, 10, 0), at(10, 8, 11, 0)},
		{"P1 Friday before a make-up Saturday", bot.P1, bot.ChannelWeb, at(10, 9, 17, 0), at(10, 10, 10, 0)},
		{"P0 runs 24x7", bot.P0, bot.ChannelWeb, at(10, 2, 23, 50), at(10, 3, 0, 20)},
		{"P1 from WeChat: social media within 15 minutes", bot.P1, bot.ChannelWeChat, at(11, 24, 10, 0), at(11, 24, 10, 15)},
		{"P2 by e-mail: 2 working hours", bot.P2, bot.ChannelEmail, at(11, 27, 17, 30), at(11, 30, 10, 30)},
		{"P0 by e-mail keeps its sooner 30 minutes", bot.P0, bot.ChannelEmail, at(10, 2, 23, 50), at(10, 3, 0, 20)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			first, res := due(tc.pr, "order", tc.channel, tc.from)
			if diff := cmp.Diff(tc.wantFirst.UTC(), first.UTC()); diff != "" {
				t.Errorf("first response due (-want +got):\n%s", diff)
			}
			if !res.After(first) {
				t.Errorf("resolution due %v not after first response due %v", res, first)
			}
		})
	}
}
