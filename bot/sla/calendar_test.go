package sla

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// testCalendarYAML: two ranges a day (lunch break), the 2026 National Day week off, and two
// make-up working days (a Sunday and a Saturday).
const testCalendarYAML = `
tz: Asia/Shanghai
hours:
  mon-fri: ["09:00-12:00", "13:00-18:00"]
holidays: ["2026-10-01..2026-10-07"]
workdays:
  "2026-09-27": ["09:00-18:00"]
  "2026-10-10": ["09:00-18:00"]
`

var shanghai = mustLoc("Asia/Shanghai")

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// sh parses "2006-01-02 15:04" in Shanghai time.
func sh(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

func testCalendar(t testing.TB) *Calendar {
	t.Helper()
	c, err := ParseCalendar([]byte(testCalendarYAML))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCalendarAdd(t *testing.T) {
	cal := testCalendar(t)
	tests := []struct {
		name  string
		start string
		d     time.Duration
		want  string
	}{
		{"inside hours", "2026-10-12 10:00", time.Hour, "2026-10-12 11:00"},
		{"over lunch", "2026-10-12 11:30", time.Hour, "2026-10-12 13:30"},
		{"during lunch", "2026-10-12 12:20", 30 * time.Minute, "2026-10-12 13:30"},
		{"overnight", "2026-10-12 17:00", 2 * time.Hour, "2026-10-13 10:00"},
		{"start at night", "2026-10-12 22:00", 30 * time.Minute, "2026-10-13 09:30"},
		{"before opening", "2026-10-13 07:00", 30 * time.Minute, "2026-10-13 09:30"},
		{"ends at closing", "2026-10-12 10:00", 7 * time.Hour, "2026-10-12 18:00"},
		{"weekend", "2026-10-16 17:00", 2 * time.Hour, "2026-10-19 10:00"},
		{"start on saturday", "2026-10-17 11:00", time.Hour, "2026-10-19 10:00"},
		{"holiday week", "2026-09-30 17:00", 2 * time.Hour, "2026-10-08 10:00"},
		{"start in holiday", "2026-10-03 10:00", time.Hour, "2026-10-08 10:00"},
		{"make-up saturday", "2026-10-09 17:00", 2 * time.Hour, "2026-10-10 10:00"},
		{"make-up sunday", "2026-09-26 10:00", time.Hour, "2026-09-27 10:00"},
		{"whole week", "2026-10-12 09:00", 40 * time.Hour, "2026-10-16 18:00"},
		{"zero at night stays", "2026-10-12 22:00", 0, "2026-10-12 22:00"},
		{"negative stays", "2026-10-12 22:00", -time.Hour, "2026-10-12 22:00"},
		{"make-up sunday and month end", "2026-09-25 17:00", 24 * time.Hour, "2026-09-29 16:00"},
		{"across the holiday week", "2026-09-29 17:00", 24 * time.Hour, "2026-10-09 17:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cal.Add(sh(tt.start), tt.d)
			if want := sh(tt.want); !got.Equal(want) {
				t.Errorf("Add(%s, %v) = %s, want %s", tt.start, tt.d, got.In(shanghai).Format("2006-01-02 15:04 Mon"), tt.want)
			}
		})
	}
}

func TestCalendarElapsed(t *testing.T) {
	cal := testCalendar(t)
	tests := []struct {
		name     string
		from, to string
		want     time.Duration
	}{
		{"same range", "2026-10-12 10:00", "2026-10-12 11:15", 75 * time.Minute},
		{"lunch excluded", "2026-10-12 11:00", "2026-10-12 14:00", 2 * time.Hour},
		{"overnight", "2026-10-12 17:00", "2026-10-13 10:00", 2 * time.Hour},
		{"weekend", "2026-10-16 17:00", "2026-10-19 10:00", 2 * time.Hour},
		{"holidays and make-up days", "2026-09-25 00:00", "2026-10-12 00:00", (8 + 9 + 8 + 8 + 8 + 8 + 8 + 9) * time.Hour},
		{"backwards is zero", "2026-10-13 10:00", "2026-10-12 10:00", 0},
		{"closed span is zero", "2026-10-17 00:00", "2026-10-18 23:00", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cal.Elapsed(sh(tt.from), sh(tt.to)); got != tt.want {
				t.Errorf("Elapsed(%s, %s) = %v, want %v", tt.from, tt.to, got, tt.want)
			}
		})
	}
}

func TestCalendarIsOpen(t *testing.T) {
	cal := testCalendar(t)
	for s, want := range map[string]bool{
		"2026-10-12 09:00": true, "2026-10-12 08:59": false, "2026-10-12 12:00": false,
		"2026-10-12 17:59": true, "2026-10-12 18:00": false, "2026-10-17 10:00": false,
		"2026-10-10 10:00": true, "2026-10-05 10:00": false,
	} {
		if got := cal.IsOpen(sh(s)); got != want {
			t.Errorf("IsOpen(%s) = %v, want %v", s, got, want)
		}
	}
}

// A day with a daylight-saving change has 23 or 25 hours; "00:00-24:00" must count them all.
func TestCalendarDST(t *testing.T) {
	cal, err := NewCalendar(CalendarConfig{TZ: "America/New_York", Hours: map[string][]string{"sun": {"00:00-24:00"}}})
	if err != nil {
		t.Fatal(err)
	}
	ny := cal.Location()
	start := time.Date(2026, 3, 8, 0, 0, 0, 0, ny) // clocks spring forward at 02:00
	if got, want := cal.Add(start, 23*time.Hour), time.Date(2026, 3, 9, 0, 0, 0, 0, ny); !got.Equal(want) {
		t.Errorf("Add over spring-forward Sunday = %v, want %v", got, want)
	}
	if got := cal.Elapsed(start, time.Date(2026, 3, 9, 0, 0, 0, 0, ny)); got != 23*time.Hour {
		t.Errorf("Elapsed over spring-forward Sunday = %v, want 23h", got)
	}
	fall := time.Date(2026, 11, 1, 0, 0, 0, 0, ny)
	if got := cal.Elapsed(fall, time.Date(2026, 11, 2, 0, 0, 0, 0, ny)); got != 25*time.Hour {
		t.Errorf("Elapsed over fall-back Sunday = %v, want 25h", got)
	}
}

func TestAlwaysOpen(t *testing.T) {
	cal := AlwaysOpen(shanghai)
	s := sh("2026-10-17 03:00") // a Saturday night
	if got := cal.Add(s, 90*time.Minute); !got.Equal(s.Add(90 * time.Minute)) {
		t.Errorf("24x7 Add = %v", got)
	}
	if got := cal.Elapsed(s, s.Add(50*time.Hour)); got != 50*time.Hour {
		t.Errorf("24x7 Elapsed = %v", got)
	}
}

func TestCalendarConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // substrings of the joined error
	}{
		{"bad tz", "tz: Mars/Base", []string{`tz "Mars/Base"`}},
		{"bad weekday", "hours: {funday: ['09:00-18:00']}", []string{`unknown weekday "funday"`}},
		{"backwards range", "hours: {mon: ['18:00-09:00']}", []string{"end must be after start"}},
		{"bad clock", "hours: {mon: ['9-18']}", []string{"want HH:MM"}},
		{"25 o'clock", "hours: {mon: ['09:00-25:00']}", []string{"between 00:00 and 24:00"}},
		{"twice", "hours: {mon: ['09:00-18:00'], mon-fri: ['09:00-18:00']}", []string{"listed twice"}},
		{"no hours", "hours: {sat: []}", []string{"no weekday has open hours"}},
		{"bad holiday", "holidays: ['2026-13-01']", []string{`date "2026-13-01"`}},
		{"long range", "holidays: ['2026-01-01..2030-01-01']", []string{"at most 366"}},
		{"workday without hours", "workdays: {'2026-09-27': []}", []string{"needs its hours"}},
		{"workday is holiday", "holidays: ['2026-09-27']\nworkdays: {'2026-09-27': ['09:00-18:00']}", []string{"also a holiday"}},
		{"every problem at once", "tz: Nowhere\nhours: {mon: ['x']}\nholidays: [bad]",
			[]string{`tz "Nowhere"`, `range "x"`, `date "bad"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCalendar([]byte(tt.yaml))
			if err == nil {
				t.Fatalf("ParseCalendar(%q) = nil error", tt.yaml)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestCalendarDefaults(t *testing.T) {
	cal, err := ParseCalendar(nil)
	if err != nil {
		t.Fatal(err)
	}
	if cal.Location().String() != DefaultTZ {
		t.Errorf("default tz = %v", cal.Location())
	}
	if !cal.IsOpen(sh("2026-10-12 09:00")) || cal.IsOpen(sh("2026-10-12 18:00")) || cal.IsOpen(sh("2026-10-17 10:00")) {
		t.Error("default hours are not Mon–Fri 09:00–18:00")
	}
}

// checkAdd asserts the properties of Add for one start and duration.
func checkAdd(t *testing.T, cal *Calendar, start time.Time, d time.Duration) {
	t.Helper()
	got := cal.Add(start, d)
	if got.Before(start) {
		t.Fatalf("Add(%v, %v) = %v is before the start", start, d, got)
	}
	if !cal.IsOpen(got.Add(-time.Nanosecond)) {
		t.Fatalf("Add(%v, %v) = %v ends in closed hours", start, d, got)
	}
	if e := cal.Elapsed(start, got); e != d {
		t.Fatalf("Elapsed(start, Add(start, %v)) = %v", d, e)
	}
}

// Properties over random starts and durations (seeded, so failures reproduce): the due time is never
// before the start, never inside closed hours, round-trips through Elapsed, and grows with d.
func TestCalendarProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cals := map[string]*Calendar{"test": testCalendar(t)}
	weekend, err := NewCalendar(CalendarConfig{TZ: "Europe/Berlin", Hours: map[string][]string{
		"sat-sun": {"00:00-03:00", "22:00-24:00"}, "wed": {"12:00-12:01"}}})
	if err != nil {
		t.Fatal(err)
	}
	cals["odd"] = weekend
	base := sh("2026-01-01 00:00")
	for name, cal := range cals {
		t.Run(name, func(t *testing.T) {
			for range 3000 {
				start := base.Add(time.Duration(rng.Int64N(int64(365 * 24 * time.Hour))))
				d1 := time.Duration(rng.Int64N(int64(100 * time.Hour)))
				d2 := d1 + time.Duration(rng.Int64N(int64(10*time.Hour)))
				if d1 > 0 {
					checkAdd(t, cal, start, d1)
				}
				if a, b := cal.Add(start, d1), cal.Add(start, d2); b.Before(a) {
					t.Fatalf("not monotonic: Add(%v,%v)=%v > Add(%v,%v)=%v", start, d1, a, start, d2, b)
				}
				later := start.Add(time.Duration(rng.Int64N(int64(30 * 24 * time.Hour))))
				if e := cal.Elapsed(start, later); cal.Add(start, e).After(later) {
					t.Fatalf("Add(start, Elapsed(start, t)) after t for %v..%v", start, later)
				}
			}
		})
	}
}

func FuzzParseCalendar(f *testing.F) {
	f.Add([]byte(testCalendarYAML))
	f.Add([]byte("tz: UTC\nhours: {mon-sun: ['00:00-24:00']}"))
	f.Add([]byte("hours: {sat: ['10:00-10:01', '10:00-11:00']}\nworkdays: {'2026-02-28..2026-03-01': ['23:00-24:00']}"))
	f.Add([]byte("hours: {mon: []}"))
	f.Add([]byte("{"))
	start := sh("2026-09-20 07:13")
	f.Fuzz(func(t *testing.T, data []byte) {
		cal, err := ParseCalendar(data)
		if err != nil {
			if cal != nil {
				t.Fatal("calendar returned with an error")
			}
			return
		}
		for _, d := range []time.Duration{time.Nanosecond, time.Minute, 90 * time.Minute, 9 * time.Hour} {
			checkAdd(t, cal, start, d)
		}
	})
}

func BenchmarkCalendarAdd(b *testing.B) {
	cal := testCalendar(b)
	start := sh("2026-09-25 17:00")
	for _, d := range []time.Duration{30 * time.Minute, 2 * time.Hour, 24 * time.Hour, 72 * time.Hour} {
		b.Run(d.String(), func(b *testing.B) {
			for b.Loop() {
				cal.Add(start, d)
			}
		})
	}
}

func BenchmarkCalendarElapsed30Days(b *testing.B) {
	cal := testCalendar(b)
	from, to := sh("2026-09-25 17:00"), sh("2026-10-25 17:00")
	for b.Loop() {
		cal.Elapsed(from, to)
	}
}
