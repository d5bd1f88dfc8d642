package improve

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/kefu-dev/kefu/reports"
)

// EffectSide is one side of the effect check: the record's category in a window.
type EffectSide struct {
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	Tickets int64     `json:"tickets"`
	// PerWeek is Tickets over the window's length in weeks (a window cut short by now is shorter).
	PerWeek           *float64 `json:"tickets_per_week"`
	MedianResolutionH *float64 `json:"median_resolution_h"`
	CSAT              *float64 `json:"csat"`
	CSATCount         int64    `json:"csat_count"`
}

// Effect compares a record's category in the N weeks before the first action was done with the N
// weeks after it.
type Effect struct {
	RecordNo string     `json:"record_no"`
	Category string     `json:"category"`
	Weeks    int        `json:"weeks"`
	Pivot    *time.Time `json:"first_action_done_at"` // nil: no action done yet
	Before   EffectSide `json:"before"`
	After    EffectSide `json:"after"`
}

// Effect computes the effect check of record no over weeks (1–52) weeks on each side of the moment
// its first action was done. The numbers are the dashboard's (package reports, in SQL on the
// database) for the tickets of the record's category created in each window: the number of tickets,
// the median resolution time of those resolved, and their mean rating. The window after ends at
// now when that comes first.
func (s *Service) Effect(ctx context.Context, no string, weeks int) (Effect, error) {
	if weeks < 1 || weeks > 52 {
		return Effect{}, bad("improve.err.weeks")
	}
	g := s.g.WithContext(ctx)
	rec, err := recordByNo(g, no)
	if err != nil {
		return Effect{}, err
	}
	e := Effect{RecordNo: rec.No, Category: rec.Category, Weeks: weeks}
	var first actionRow
	err = g.Where("record_id = ? AND done_at IS NOT NULL", rec.ID).Order("done_at, id").Limit(1).Find(&first).Error
	if err != nil {
		return e, wrap("effect", err)
	}
	if first.DoneAt == nil {
		return e, nil
	}
	p := first.DoneAt.UTC()
	e.Pivot = &p
	span := time.Duration(weeks) * 7 * 24 * time.Hour
	now := s.now().UTC()
	end := p.Add(span)
	if now.Before(end) {
		end = now
	}
	if e.Before, err = s.side(ctx, rec.Category, p.Add(-span), p, now); err != nil {
		return e, err
	}
	if e.After, err = s.side(ctx, rec.Category, p, end, now); err != nil {
		return e, err
	}
	return e, nil
}

func (s *Service) side(ctx context.Context, category string, from, to, now time.Time) (EffectSide, error) {
	side := EffectSide{From: from, To: to}
	if !from.Before(to) {
		return side, nil
	}
	r, err := reports.Compute(ctx, s.db, reports.Filter{From: from, To: to, Category: category, Now: now, Loc: s.loc, Granularity: "week"})
	if err != nil {
		return side, fmt.Errorf("improve: effect %s: %w", category, err)
	}
	side.Tickets = r.TicketsCreated
	w := to.Sub(from).Hours() / (7 * 24)
	pw := math.Round(float64(r.TicketsCreated)/w*100) / 100
	side.PerWeek = &pw
	side.MedianResolutionH = scaled(r.Resolution.MedianS, 3600)
	side.CSAT, side.CSATCount = r.CSAT.Avg, r.CSAT.Count
	return side, nil
}
