package digest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		f    func(string) (*At, error)
		want *At
		bad  bool
	}{
		{"09:00", ParseDaily, &At{Hour: 9}, false},
		{"", ParseDaily, nil, false},
		{"off", ParseWeekly, nil, false},
		{"Mon 08:30", ParseWeekly, &At{Hour: 8, Minute: 30, Weekday: time.Monday}, false},
		{"friday 17:45", ParseWeekly, &At{Hour: 17, Minute: 45, Weekday: time.Friday}, false},
		{"1 09:00", ParseMonthly, &At{Hour: 9, Day: 1}, false},
		{"25:00", ParseDaily, nil, true},
		{"xx 09:00", ParseWeekly, nil, true},
		{"mon", ParseWeekly, nil, true},
		{"29 09:00", ParseMonthly, nil, true},
		{"0 09:00", ParseMonthly, nil, true},
	} {
		got, err := tc.f(tc.in)
		if (err != nil) != tc.bad {
			t.Errorf("%q: err %v, want bad=%v", tc.in, err, tc.bad)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestDue(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	at := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, sh) } // 2026-11-16 is a Monday
	day := func(d int) time.Time { return at(d, 0, 0) }
	s := Schedule{Daily: &At{Hour: 9}, Weekly: &At{Hour: 9, Minute: 30, Weekday: time.Monday}, Monthly: &At{Hour: 10, Day: 1}, Loc: sh}
	for _, tc := range []struct {
		name string
		now  time.Time
		want []Slot
	}{
		{"before the daily time", at(17, 8, 59), nil},
		{"daily time: yesterday's digest", at(17, 9, 0), []Slot{{Daily, day(16), day(17), at(17, 9, 0)}}},
		{"still due 5 hours late (kefu was down)", at(17, 14, 0), []Slot{{Daily, day(16), day(17), at(17, 9, 0)}}},
		{"more than 6 hours late: skipped", at(17, 15, 1), nil},
		{"Monday 09:30: daily and last week", at(16, 9, 30), []Slot{
			{Daily, day(15), day(16), at(16, 9, 0)},
			{Weekly, day(9), day(16), at(16, 9, 30)}}},
		{"Monday 09:10: weekly not yet", at(16, 9, 10), []Slot{{Daily, day(15), day(16), at(16, 9, 0)}}},
		{"December 1st 10:00: November", time.Date(2026, 12, 1, 10, 0, 0, 0, sh), []Slot{
			{Daily, day(30), time.Date(2026, 12, 1, 0, 0, 0, 0, sh), time.Date(2026, 12, 1, 9, 0, 0, 0, sh)},
			{Monthly, day(1), time.Date(2026, 12, 1, 0, 0, 0, 0, sh), time.Date(2026, 12, 1, 10, 0, 0, 0, sh)}}},
		{"the zone decides the day: 01:00 UTC is 09:00 in Shanghai", time.Date(2026, 11, 17, 1, 0, 0, 0, time.UTC),
			[]Slot{{Daily, day(16), day(17), at(17, 9, 0)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Due(s, tc.now)
			if diff := cmp.Diff(tc.want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
				t.Errorf("Due(%s) (-want +got):\n%s", tc.now, diff)
			}
		})
	}
	if got := Due(s, at(17, 9, 0))[0].Key(); got != "digest:daily:2026-11-16" {
		t.Errorf("key %q", got)
	}
}

func TestDueAcrossDST(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no zone database:", err)
	}
	// 2026-11-01: clocks go back at 02:00; the day is 25 hours long.
	s := Schedule{Daily: &At{Hour: 8}, Loc: ny}
	got := Due(s, time.Date(2026, 11, 2, 8, 0, 0, 0, ny))
	if len(got) != 1 || got[0].To.Sub(got[0].From) != 25*time.Hour {
		t.Fatalf("Due = %+v; want the 25-hour 1 November", got)
	}
}

func TestPeriod(t *testing.T) {
	now := time.Date(2026, 11, 19, 15, 0, 0, 0, time.UTC) // Thursday
	for _, tc := range []struct {
		p    string
		from time.Time
	}{
		{"today", time.Date(2026, 11, 19, 0, 0, 0, 0, time.UTC)},
		{"week", time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)},
		{"month", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)},
	} {
		from, to, err := Period(tc.p, now, time.UTC)
		if err != nil || !from.Equal(tc.from) || !to.Equal(now) {
			t.Errorf("%s: %s–%s %v; want from %s", tc.p, from, to, err, tc.from)
		}
	}
	if _, _, err := Period("year", now, time.UTC); err == nil {
		t.Error("year: no error")
	}
}
