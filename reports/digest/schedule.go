// Package digest posts the report to the supervisors: the daily, weekly and monthly digests at
// configured times in the service's time zone, exactly once across kefu processes and restarts, and
// the same text on demand (`/kefu report today|week|month`, as slack.Reports).
//
// The schedule is pure: Due(schedule, last, now) says which digests are due at now; Scheduler is the
// loop around it that claims each period's digest in the database (one kv row per period, taken by a
// single conditional upsert) before posting it.
package digest

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Kind is a digest's period.
type Kind string

const (
	Daily   Kind = "daily"
	Weekly  Kind = "weekly"
	Monthly Kind = "monthly"
)

// Kinds in posting order.
var Kinds = []Kind{Daily, Weekly, Monthly}

// At is when one kind of digest is posted: a time of day, plus the weekday (weekly) or day of the
// month (monthly, 1–28).
type At struct {
	Hour, Minute int
	Weekday      time.Weekday
	Day          int
}

// Schedule says which digests are posted and when; a nil entry is off.
type Schedule struct {
	Daily, Weekly, Monthly *At
	Loc                    *time.Location // the config's time zone (default UTC)
	// MaxLate is how long after its time a digest missed (kefu down) is still posted; default 6h.
	MaxLate time.Duration
}

// ErrBadSchedule is returned by Parse for a malformed time.
var ErrBadSchedule = errors.New("digest: bad schedule")

// ParseDaily parses "HH:MM"; ParseWeekly "mon HH:MM" (a weekday's English name or its first three
// letters); ParseMonthly "D HH:MM" (D = 1…28). An empty string is nil: that digest is off.
func ParseDaily(s string) (*At, error) { return parse(s, Daily) }

// ParseWeekly parses "mon 09:00".
func ParseWeekly(s string) (*At, error) { return parse(s, Weekly) }

// ParseMonthly parses "1 09:00".
func ParseMonthly(s string) (*At, error) { return parse(s, Monthly) }

var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

func parse(s string, k Kind) (*At, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || s == "off" {
		return nil, nil
	}
	bad := fmt.Errorf("%w: %s %q", ErrBadSchedule, k, s)
	var at At
	clock := s
	if k != Daily {
		first, rest, ok := strings.Cut(s, " ")
		if !ok {
			return nil, bad
		}
		clock = strings.TrimSpace(rest)
		if k == Weekly {
			if len(first) < 3 {
				return nil, bad
			}
			wd, ok := weekdays[first[:3]]
			if !ok {
				return nil, bad
			}
			at.Weekday = wd
		} else {
			d, err := strconv.Atoi(first)
			if err != nil || d < 1 || d > 28 {
				return nil, bad
			}
			at.Day = d
		}
	}
	t, err := time.Parse("15:04", clock)
	if err != nil {
		return nil, bad
	}
	at.Hour, at.Minute = t.Hour(), t.Minute()
	return &at, nil
}

// Slot is one digest to post: its kind, the reporting period [From, To) and the time it was due.
type Slot struct {
	Kind     Kind
	From, To time.Time
	DueAt    time.Time
}

// Key names the slot's claim: "digest:daily:2026-11-20" (the period's first day, local).
func (s Slot) Key() string { return "digest:" + string(s.Kind) + ":" + s.From.Format("2006-01-02") }

// Due returns the digests whose most recent posting time is at or before now and not more than
// MaxLate ago, each with the period it covers: the day, week (Monday to Monday) or month that ended
// at the start of the posting day, week or month. Whether one was already posted is the claim's
// business (Scheduler), so calling Due again at a later now returns the same slot.
func Due(s Schedule, now time.Time) []Slot {
	loc := s.Loc
	if loc == nil {
		loc = time.UTC
	}
	late := s.MaxLate
	if late <= 0 {
		late = 6 * time.Hour
	}
	n := now.In(loc)
	midnight := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, loc) }
	var out []Slot
	add := func(k Kind, at *At, periodStart func(t time.Time) (from, to time.Time)) {
		if at == nil {
			return
		}
		// The latest posting time <= now: try this period's, else the previous one.
		to, _ := periodStart(n)
		for i := 0; i < 2; i++ {
			due := time.Date(to.Year(), to.Month(), to.Day(), at.Hour, at.Minute, 0, 0, loc)
			if !due.After(n) {
				if n.Sub(due) <= late {
					from, _ := periodStart(to.Add(-time.Nanosecond))
					out = append(out, Slot{Kind: k, From: from, To: to, DueAt: due})
				}
				return
			}
			to, _ = periodStart(to.Add(-time.Nanosecond))
		}
	}
	// periodStart returns the start of the period containing t (and, unused, the next start).
	add(Daily, s.Daily, func(t time.Time) (time.Time, time.Time) {
		d := midnight(t.Year(), t.Month(), t.Day())
		return d, d.AddDate(0, 0, 1)
	})
	if s.Weekly != nil {
		wd := s.Weekly.Weekday
		add(Weekly, s.Weekly, func(t time.Time) (time.Time, time.Time) {
			d := midnight(t.Year(), t.Month(), t.Day())
			d = d.AddDate(0, 0, -((int(d.Weekday()) - int(wd) + 7) % 7))
			return d, d.AddDate(0, 0, 7)
		})
	}
	if s.Monthly != nil {
		day := s.Monthly.Day
		add(Monthly, s.Monthly, func(t time.Time) (time.Time, time.Time) {
			d := midnight(t.Year(), t.Month(), day)
			if d.After(t) {
				d = d.AddDate(0, -1, 0)
			}
			return d, d.AddDate(0, 1, 0)
		})
	}
	return out
}

// Period is the reporting range of `/kefu report today|week|month` at now: since local midnight,
// since this week's Monday, since the first of the month (To is now).
func Period(name string, now time.Time, loc *time.Location) (from, to time.Time, err error) {
	if loc == nil {
		loc = time.UTC
	}
	n := now.In(loc)
	d := time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, loc)
	switch name {
	case "today", "":
		from = d
	case "week":
		from = d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
	case "month":
		from = time.Date(n.Year(), n.Month(), 1, 0, 0, 0, 0, loc)
	default:
		return time.Time{}, time.Time{}, fmt.Errorf("digest: unknown period %q", name)
	}
	return from, now, nil
}
