package improve

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm/clause"

	"github.com/kefu-dev/kefu/reports"
)

// Target is a SMART goal: metric op value over a period, owned by someone and reviewed on a date.
type Target struct {
	ID        int64   `json:"-"`
	Metric    string  `json:"metric"`
	Period    string  `json:"period"` // YYYY-MM, YYYY-Qn or YYYY-Www (ISO week)
	Op        string  `json:"op"`     // <= or >=
	Value     float64 `json:"target"`
	Owner     string  `json:"owner"`
	Review    string  `json:"review_date"` // YYYY-MM-DD
	CreatedBy string  `json:"created_by"`
}

// TargetStatus is a target with its actual number.
type TargetStatus struct {
	Target
	Actual *float64 `json:"actual"`
	Met    bool     `json:"met"`
	// Attainment is the seeds' 达标率: actual/target for ≥ goals, target/actual for ≤ goals, in
	// percent, capped at 100; nil without an actual.
	Attainment *float64 `json:"attainment_pct"`
}

var (
	monthRe   = regexp.MustCompile(`^(\d{4})-(\d{2})$`)
	quarterRe = regexp.MustCompile(`^(\d{4})-Q([1-4])$`)
	weekRe    = regexp.MustCompile(`^(\d{4})-W(\d{2})$`)
)

// PeriodRange is the half-open range [from, to) of period in loc.
func PeriodRange(period string, loc *time.Location) (time.Time, time.Time, error) {
	p := strings.ToUpper(strings.TrimSpace(period))
	atoi := func(s string) int { n, _ := strconv.Atoi(s); return n }
	switch {
	case monthRe.MatchString(p):
		m := monthRe.FindStringSubmatch(p)
		mo := atoi(m[2])
		if mo < 1 || mo > 12 {
			break
		}
		from := time.Date(atoi(m[1]), time.Month(mo), 1, 0, 0, 0, 0, loc)
		return from, from.AddDate(0, 1, 0), nil
	case quarterRe.MatchString(p):
		m := quarterRe.FindStringSubmatch(p)
		from := time.Date(atoi(m[1]), time.Month(3*(atoi(m[2])-1)+1), 1, 0, 0, 0, 0, loc)
		return from, from.AddDate(0, 3, 0), nil
	case weekRe.MatchString(p):
		m := weekRe.FindStringSubmatch(p)
		y, w := atoi(m[1]), atoi(m[2])
		// ISO week 1 holds January 4th; weeks start on Monday.
		jan4 := time.Date(y, 1, 4, 0, 0, 0, 0, loc)
		mon := jan4.AddDate(0, 0, -((int(jan4.Weekday()) + 6) % 7))
		from := mon.AddDate(0, 0, 7*(w-1))
		if yy, ww := from.ISOWeek(); w < 1 || yy != y || ww != w {
			break
		}
		return from, from.AddDate(0, 0, 7), nil
	}
	return time.Time{}, time.Time{}, bad("improve.err.period", "period", period)
}

// normPeriod is the canonical spelling of a period (upper-case Q and W).
func normPeriod(p string) string { return strings.ToUpper(strings.TrimSpace(p)) }

func (s *Service) validateTarget(actor string, t Target) (Target, error) {
	if !s.IsSupervisor(actor) {
		return t, forbidden("improve.err.supervisor_only", "actor", actor)
	}
	t.Metric = strings.TrimSpace(t.Metric)
	if _, ok := s.metrics.Get(t.Metric); !ok {
		return t, bad("improve.err.unknown_metric", "metric", t.Metric, "known", strings.Join(s.metrics.Names(), ", "))
	}
	t.Period = normPeriod(t.Period)
	if _, _, err := PeriodRange(t.Period, s.loc); err != nil {
		return t, err
	}
	if t.Op = strings.TrimSpace(t.Op); t.Op != "<=" && t.Op != ">=" {
		return t, bad("improve.err.target_op", "op", t.Op)
	}
	if math.IsNaN(t.Value) || math.IsInf(t.Value, 0) {
		return t, bad("improve.err.value")
	}
	if t.Owner = strings.TrimSpace(t.Owner); t.Owner == "" {
		return t, bad("improve.err.owner_missing")
	}
	if !s.IsAgent(t.Owner) {
		return t, bad("improve.err.owner_unknown", "owner", t.Owner)
	}
	if t.Review = strings.TrimSpace(t.Review); !validDate(t.Review) {
		return t, bad("improve.err.review", "date", t.Review)
	}
	return t, nil
}

// SetTarget validates t and stores it, replacing the target of the same metric and period.
// Supervisors only.
func (s *Service) SetTarget(ctx context.Context, actor string, t Target) (Target, error) {
	t, err := s.validateTarget(actor, t)
	if err != nil {
		return t, err
	}
	now := s.now().UTC()
	m := targetRow{Metric: t.Metric, Period: t.Period, Op: t.Op, Value: t.Value, Owner: t.Owner, ReviewDate: t.Review,
		CreatedBy: actor, CreatedAt: now, UpdatedAt: now}
	err = s.g.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "metric"}, {Name: "period"}},
		DoUpdates: clause.AssignmentColumns([]string{"op", "value", "owner", "review_date", "created_by", "updated_at"}),
	}).Create(&m).Error
	if err != nil {
		return t, wrap("set target", err)
	}
	t.CreatedBy = actor
	return t, nil
}

// DeleteTarget removes the target of metric and period. Supervisors only.
func (s *Service) DeleteTarget(ctx context.Context, actor, metric, period string) error {
	if !s.IsSupervisor(actor) {
		return forbidden("improve.err.supervisor_only", "actor", actor)
	}
	res := s.g.WithContext(ctx).Where("metric = ? AND period = ?", metric, normPeriod(period)).Delete(&targetRow{})
	if res.Error != nil {
		return wrap("delete target", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// Targets lists the targets whose period overlaps [from, to) (zero times: all), by period and metric.
func (s *Service) Targets(ctx context.Context, from, to time.Time) ([]Target, error) {
	var rows []targetRow
	if err := s.g.WithContext(ctx).Order("period, metric").Find(&rows).Error; err != nil {
		return nil, wrap("targets", err)
	}
	var out []Target
	for _, r := range rows {
		pf, pt, err := PeriodRange(r.Period, s.loc)
		if err != nil {
			continue
		}
		if !from.IsZero() && !(pf.Before(to) && pt.After(from)) {
			continue
		}
		out = append(out, r.toTarget())
	}
	return out, nil
}

// Evaluate computes each target's actual over its whole period (up to now for the running period),
// whether it is met and the attainment. One report per distinct period.
func (s *Service) Evaluate(ctx context.Context, ts []Target) ([]TargetStatus, error) {
	now := s.now().UTC()
	cache := map[string]reports.Report{}
	out := make([]TargetStatus, 0, len(ts))
	for _, t := range ts {
		st := TargetStatus{Target: t}
		m, ok := s.metrics.Get(t.Metric)
		from, to, err := PeriodRange(t.Period, s.loc)
		if !ok || err != nil {
			out = append(out, st)
			continue
		}
		if from.After(now) { // not started
			out = append(out, st)
			continue
		}
		if m.Live != nil {
			st.Actual, err = value(ctx, s.db, m, from, to, now, s.loc)
		} else {
			r, hit := cache[t.Period]
			if !hit {
				r, err = reports.Compute(ctx, s.db, reports.Filter{From: from, To: to, Now: now, Loc: s.loc, Granularity: "month"})
				cache[t.Period] = r
			}
			if err == nil {
				st.Actual = m.FromReport(r)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("improve: target %s %s: %w", t.Metric, t.Period, err)
		}
		st.Met, st.Attainment = judge(t.Op, t.Value, st.Actual)
		out = append(out, st)
	}
	return out, nil
}

// judge decides a target: met, and the attainment percent (capped at 100).
func judge(op string, target float64, actual *float64) (bool, *float64) {
	if actual == nil {
		return false, nil
	}
	a := *actual
	met := (op == "<=" && a <= target) || (op == ">=" && a >= target)
	var ratio float64
	switch {
	case met:
		ratio = 1
	case op == ">=" && target != 0:
		ratio = a / target
	case op == "<=" && a != 0:
		ratio = target / a
	}
	if ratio < 0 {
		ratio = 0
	}
	p := math.Round(ratio*10000) / 100
	return met, &p
}

// TargetRow is the JSON shape `kefu report` prints under targets.
type TargetRow struct {
	Metric string   `json:"metric"`
	Period string   `json:"period"`
	Op     string   `json:"op"`
	Target float64  `json:"target"`
	Actual *float64 `json:"actual"`
	Met    bool     `json:"met"`
}

// Rows is ts in the report's shape.
func Rows(ts []TargetStatus) []TargetRow {
	out := make([]TargetRow, len(ts))
	for i, t := range ts {
		out[i] = TargetRow{Metric: t.Metric, Period: t.Period, Op: t.Op, Target: t.Value, Actual: t.Actual, Met: t.Met}
	}
	return out
}

type targetRow struct {
	ID         int64 `gorm:"primaryKey"`
	Metric     string
	Period     string
	Op         string
	Value      float64
	Owner      string
	ReviewDate string
	CreatedBy  string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

func (targetRow) TableName() string { return "improve_targets" }

func (r targetRow) toTarget() Target {
	return Target{ID: r.ID, Metric: r.Metric, Period: r.Period, Op: r.Op, Value: r.Value, Owner: r.Owner, Review: r.ReviewDate, CreatedBy: r.CreatedBy}
}
