package sla

import "time"

// AddWorkdays returns the close of business of the n-th working day after start's day (a working day
// has open hours in the calendar, holidays and make-up workdays included): the seeds' "解决后 3 个工作日
// 内回访". A 24x7 calendar counts every day; n <= 0 returns start.
func (c *Calendar) AddWorkdays(start time.Time, n int) time.Time {
	if n <= 0 {
		return start
	}
	lt := start.In(c.loc)
	first := civilOf(lt)
	for i := 1; i < maxDays; i++ {
		dayStart := time.Date(first.y, first.m, first.d+i, 0, 0, 0, 0, c.loc)
		day := civilOf(dayStart)
		spans := c.spansOn(day, dayStart.Weekday())
		if c.always {
			spans = []span{{from: 0, to: 1440}}
		}
		if len(spans) == 0 {
			continue
		}
		if n--; n == 0 {
			return c.at(day, spans[len(spans)-1].to)
		}
	}
	return start.AddDate(0, 0, n)
}
