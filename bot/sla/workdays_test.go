package sla

import (
	"testing"
	"time"
)

func TestAddWorkdays(t *testing.T) {
	cal, err := NewCalendar(CalendarConfig{TZ: "Asia/Shanghai", Hours: map[string][]string{"mon-fri": {"09:00-12:00", "13:00-18:00"}},
		Holidays: []string{"2026-10-01..2026-10-07"}, Workdays: map[string][]string{"2026-10-10": {"09:00-17:00"}}})
	if err != nil {
		t.Fatal(err)
	}
	loc := cal.Location()
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		name  string
		start string
		n     int
		want  string
	}{
		{"monday", "2026-11-23 10:00", 3, "2026-11-26 18:00"},
		{"friday skips the weekend", "2026-11-27 15:00", 3, "2026-12-02 18:00"},
		{"saturday counts from monday", "2026-11-28 11:00", 1, "2026-11-30 18:00"},
		{"after hours", "2026-11-23 23:00", 1, "2026-11-24 18:00"},
		{"national day holiday, make-up saturday", "2026-09-30 16:00", 3, "2026-10-10 17:00"},
		{"zero", "2026-11-23 10:00", 0, "2026-11-23 10:00"},
	}
	for _, tt := range tests {
		if got := cal.AddWorkdays(at(tt.start), tt.n); !got.Equal(at(tt.want)) {
			t.Errorf("%s: %s + %d working days = %s, want %s", tt.name, tt.start, tt.n, got.In(loc).Format("2006-01-02 15:04 Mon"), tt.want)
		}
	}
	always := AlwaysOpen(loc)
	if got := always.AddWorkdays(at("2026-11-28 11:00"), 2); !got.Equal(at("2026-11-30 00:00").Add(24 * time.Hour)) {
		t.Errorf("24x7: %s", got)
	}
}
