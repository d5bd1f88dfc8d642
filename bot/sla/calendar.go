package sla

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	// Embedded zone database, so Asia/Shanghai resolves in a scratch container too.
	_ "time/tzdata"

	"gopkg.in/yaml.v3"
)

// DefaultTZ is the calendar's time zone when the config names none.
const DefaultTZ = "Asia/Shanghai"

// maxSpanDays caps one "from..to" date range in the config (a typo such as 2026..2062 would
// otherwise create decades of holidays).
const maxSpanDays = 366

// CalendarConfig is the business-hours calendar as written in the config file:
//
//	tz: Asia/Shanghai
//	hours:                      # weekday -> open ranges, local time; "mon-fri" names several days
//	  mon-fri: ["09:00-12:00", "13:30-18:00"]
//	  sat: ["10:00-16:00"]
//	holidays: ["2026-10-01..2026-10-08", "2026-01-01"]
//	workdays:                   # 调休: make-up working days with their hours
//	  "2026-09-27": ["09:00-18:00"]
//
// Without hours, Monday to Friday 09:00–18:00 is open. A weekday not listed is closed. Ranges do not
// cross midnight: write "22:00-24:00" on one day and "00:00-06:00" on the next.
type CalendarConfig struct {
	TZ       string              `yaml:"tz"`
	Hours    map[string][]string `yaml:"hours"`
	Holidays []string            `yaml:"holidays,omitempty"`
	Workdays map[string][]string `yaml:"workdays,omitempty"`
}

// span is an open range in minutes after local midnight, from < to <= 1440.
type span struct{ from, to int32 }

// civil is a local calendar date.
type civil struct {
	y int
	m time.Month
	d int
}

func civilOf(t time.Time) civil { y, m, d := t.Date(); return civil{y, m, d} }

// Calendar answers business-time questions: is the desk open at t, what instant is d of business
// time after t, how much business time lies between two instants. It is immutable and safe for
// concurrent use.
//
// It is hand-written rather than taken from a library: the Go business-hours packages found
// (e.g. rickar/cal) model holidays as rules for one country and have no per-date make-up working days
// with their own hours, which Chinese calendars (调休) need; the arithmetic itself is small.
type Calendar struct {
	loc     *time.Location
	always  bool
	week    [7][]span        // by time.Weekday
	special map[civil][]span // holidays (empty) and make-up working days
}

// AlwaysOpen returns the 24x7 calendar in loc (UTC when nil): business time is wall time.
func AlwaysOpen(loc *time.Location) *Calendar {
	if loc == nil {
		loc = time.UTC
	}
	return &Calendar{loc: loc, always: true}
}

// ParseCalendar reads a CalendarConfig from YAML and builds the calendar.
func ParseCalendar(data []byte) (*Calendar, error) {
	var c CalendarConfig
	if err := yaml.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("sla: parse calendar: %w", err)
	}
	return NewCalendar(c)
}

// NewCalendar validates c and builds the calendar. The error joins every problem found.
func NewCalendar(c CalendarConfig) (*Calendar, error) {
	var errs []error
	tz := c.TZ
	if tz == "" {
		tz = DefaultTZ
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		errs = append(errs, fmt.Errorf("tz %q: %w", tz, err))
		loc = time.UTC
	}
	cal := &Calendar{loc: loc, special: map[civil][]span{}}

	hours := c.Hours
	if len(hours) == 0 {
		hours = map[string][]string{"mon-fri": {"09:00-18:00"}}
	}
	var seen [7]bool
	for _, key := range sortedKeys(hours) {
		days, err := parseWeekdays(key)
		if err != nil {
			errs = append(errs, fmt.Errorf("hours %q: %w", key, err))
			continue
		}
		spans, err := parseSpans(hours[key])
		if err != nil {
			errs = append(errs, fmt.Errorf("hours %q: %w", key, err))
			continue
		}
		for _, d := range days {
			if seen[d] {
				errs = append(errs, fmt.Errorf("hours %q: %s is listed twice", key, d))
			}
			seen[d] = true
			cal.week[d] = spans
		}
	}
	open := false
	for _, s := range cal.week {
		open = open || len(s) > 0
	}
	if !open && len(errs) == 0 {
		errs = append(errs, errors.New("hours: no weekday has open hours"))
	}

	for _, h := range c.Holidays {
		days, err := parseDates(h)
		if err != nil {
			errs = append(errs, fmt.Errorf("holidays %q: %w", h, err))
			continue
		}
		for _, d := range days {
			cal.special[d] = []span{}
		}
	}
	for _, key := range sortedKeys(c.Workdays) {
		days, err := parseDates(key)
		if err != nil {
			errs = append(errs, fmt.Errorf("workdays %q: %w", key, err))
			continue
		}
		spans, err := parseSpans(c.Workdays[key])
		if err == nil && len(spans) == 0 {
			err = errors.New("a make-up working day needs its hours")
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("workdays %q: %w", key, err))
			continue
		}
		for _, d := range days {
			if s, ok := cal.special[d]; ok && len(s) == 0 {
				errs = append(errs, fmt.Errorf("workdays %q: %04d-%02d-%02d is also a holiday", key, d.y, d.m, d.d))
			}
			cal.special[d] = spans
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("sla: calendar: %w", err)
	}
	return cal, nil
}

// Location is the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// Always reports whether this is a 24x7 calendar.
func (c *Calendar) Always() bool { return c.always }

// spansOn returns the open ranges of the local date (y, m, d), whose weekday is wd.
func (c *Calendar) spansOn(day civil, wd time.Weekday) []span {
	if s, ok := c.special[day]; ok {
		return s
	}
	return c.week[wd]
}

// at is the instant min minutes after local midnight of day (1440 is the next midnight).
func (c *Calendar) at(day civil, min int32) time.Time {
	return time.Date(day.y, day.m, day.d, int(min/60), int(min%60), 0, 0, c.loc)
}

// IsOpen reports whether t lies in business hours (ranges are closed at the start, open at the end).
func (c *Calendar) IsOpen(t time.Time) bool {
	if c.always {
		return true
	}
	lt := t.In(c.loc)
	day := civilOf(lt)
	for _, s := range c.spansOn(day, lt.Weekday()) {
		if !t.Before(c.at(day, s.from)) && t.Before(c.at(day, s.to)) {
			return true
		}
	}
	return false
}

// maxDays bounds the day walk of Add and Elapsed: NewCalendar guarantees an open weekday, so only
// absurd durations (centuries) reach it.
const maxDays = 200 * 366

// Add returns the instant at which d of business time has passed since start. The result is never
// earlier than start; for d > 0 the business clock runs right up to it (it is the end of, or inside,
// an open range). d <= 0 returns start.
func (c *Calendar) Add(start time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return start
	}
	if c.always {
		return start.Add(d)
	}
	cur := start
	first := civilOf(start.In(c.loc))
	for i := range maxDays {
		// time.Date normalizes d+i across month and year ends; midnight anchors the weekday.
		dayStart := time.Date(first.y, first.m, first.d+i, 0, 0, 0, 0, c.loc)
		day := civilOf(dayStart)
		for _, s := range c.spansOn(day, dayStart.Weekday()) {
			end := c.at(day, s.to)
			if !end.After(cur) {
				continue
			}
			from := c.at(day, s.from)
			if from.After(cur) {
				cur = from
			}
			if left := end.Sub(cur); d <= left {
				return cur.Add(d)
			} else {
				d -= left
				cur = end
			}
		}
	}
	return cur.Add(d)
}

// Elapsed returns the business time between from and to (zero when to is not after from).
func (c *Calendar) Elapsed(from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	if c.always {
		return to.Sub(from)
	}
	var sum time.Duration
	first := civilOf(from.In(c.loc))
	for i := range maxDays {
		dayStart := time.Date(first.y, first.m, first.d+i, 0, 0, 0, 0, c.loc)
		if !dayStart.Before(to) {
			break
		}
		day := civilOf(dayStart)
		for _, s := range c.spansOn(day, dayStart.Weekday()) {
			a, b := c.at(day, s.from), c.at(day, s.to)
			if a.Before(from) {
				a = from
			}
			if b.After(to) {
				b = to
			}
			if b.After(a) {
				sum += b.Sub(a)
			}
		}
	}
	return sum
}

var weekdayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

// parseWeekdays reads "mon", "Monday" or a range "mon-fri" (Monday first, no wrap-around).
func parseWeekdays(key string) ([]time.Weekday, error) {
	key = strings.ToLower(strings.TrimSpace(key))
	lo, hi, isRange := strings.Cut(key, "-")
	a, ok := weekdayNames[strings.TrimSpace(lo)]
	if !ok {
		return nil, fmt.Errorf("unknown weekday %q (want mon…sun or a range like mon-fri)", lo)
	}
	if !isRange {
		return []time.Weekday{a}, nil
	}
	b, ok := weekdayNames[strings.TrimSpace(hi)]
	if !ok {
		return nil, fmt.Errorf("unknown weekday %q (want mon…sun)", hi)
	}
	// Monday-first order, so "mon-sun" is the whole week.
	ia, ib := (int(a)+6)%7, (int(b)+6)%7
	if ia > ib {
		return nil, fmt.Errorf("weekday range %q runs backwards (the week starts on Monday)", key)
	}
	var out []time.Weekday
	for i := ia; i <= ib; i++ {
		out = append(out, time.Weekday((i+1)%7))
	}
	return out, nil
}

// parseSpans reads ["09:00-12:00", "13:00-18:00"], sorts them and merges overlaps.
func parseSpans(in []string) ([]span, error) {
	out := make([]span, 0, len(in))
	var errs []error
	for _, r := range in {
		lo, hi, ok := strings.Cut(strings.TrimSpace(r), "-")
		if !ok {
			errs = append(errs, fmt.Errorf("range %q: want HH:MM-HH:MM", r))
			continue
		}
		a, err1 := parseClock(lo)
		b, err2 := parseClock(hi)
		if err := errors.Join(err1, err2); err != nil {
			errs = append(errs, fmt.Errorf("range %q: %w", r, err))
			continue
		}
		if a >= b {
			errs = append(errs, fmt.Errorf("range %q: end must be after start (split ranges that cross midnight)", r))
			continue
		}
		out = append(out, span{a, b})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(x, y span) int { return int(x.from - y.from) })
	merged := out[:0]
	for _, s := range out {
		if n := len(merged); n > 0 && s.from <= merged[n-1].to {
			merged[n-1].to = max(merged[n-1].to, s.to)
			continue
		}
		merged = append(merged, s)
	}
	return merged, nil
}

// parseClock reads "HH:MM" (00:00…24:00) as minutes after midnight.
func parseClock(s string) (int32, error) {
	s = strings.TrimSpace(s)
	hs, ms, ok := strings.Cut(s, ":")
	if !ok || len(hs) == 0 || len(hs) > 2 || len(ms) != 2 {
		return 0, fmt.Errorf("time %q: want HH:MM", s)
	}
	h, err1 := strconv.Atoi(hs)
	m, err2 := strconv.Atoi(ms)
	if err1 != nil || err2 != nil || h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("time %q: want HH:MM between 00:00 and 24:00", s)
	}
	return int32(h*60 + m), nil
}

// parseDates reads "2026-10-01" or an inclusive range "2026-10-01..2026-10-07".
func parseDates(s string) ([]civil, error) {
	lo, hi, isRange := strings.Cut(strings.TrimSpace(s), "..")
	a, err := time.Parse(time.DateOnly, strings.TrimSpace(lo))
	if err != nil {
		return nil, fmt.Errorf("date %q: want YYYY-MM-DD", lo)
	}
	if !isRange {
		return []civil{civilOf(a)}, nil
	}
	b, err := time.Parse(time.DateOnly, strings.TrimSpace(hi))
	if err != nil {
		return nil, fmt.Errorf("date %q: want YYYY-MM-DD", hi)
	}
	if b.Before(a) {
		return nil, errors.New("date range runs backwards")
	}
	if n := int(b.Sub(a)/(24*time.Hour)) + 1; n > maxSpanDays {
		return nil, fmt.Errorf("date range covers %d days (at most %d)", n, maxSpanDays)
	}
	var out []civil
	for d := a; !d.After(b); d = d.AddDate(0, 0, 1) {
		out = append(out, civilOf(d))
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
