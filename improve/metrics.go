package improve

import (
	"context"
	"fmt"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/kefu-dev/kefu/reports"
	"github.com/kefu-dev/kefu/storage"
)

// Metric is a named number targets and thresholds refer to. Most read a field of the reports
// package's Report (the dashboard's own numbers, computed in SQL); a metric that the report does not
// carry computes itself with Live.
type Metric struct {
	Name string
	Unit string // "min", "h", "%", "" (a count), "score"
	// FromReport reads the number from a report over the period (or the window); nil = no sample.
	FromReport func(r reports.Report) *float64
	// Live, when set, computes the number over the window ending at now itself (thresholds and
	// targets both use it then); otherwise FromReport runs over a report of [now-window, now).
	Live func(ctx context.Context, db *storage.DB, window time.Duration, now time.Time) (*float64, error)
}

// Registry is a set of metrics by name, safe for concurrent use.
type Registry struct {
	mu sync.RWMutex
	m  map[string]Metric
}

// NewRegistry returns a registry holding ms.
func NewRegistry(ms ...Metric) *Registry {
	r := &Registry{m: map[string]Metric{}}
	for _, m := range ms {
		if err := r.Register(m); err != nil {
			panic(err)
		}
	}
	return r
}

// Register adds m; a name taken, or a metric with neither FromReport nor Live, is an error.
func (r *Registry) Register(m Metric) error {
	if m.Name == "" || (m.FromReport == nil && m.Live == nil) {
		return fmt.Errorf("improve: metric %q needs a name and FromReport or Live", m.Name)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.m[m.Name]; dup {
		return fmt.Errorf("improve: metric %q registered twice", m.Name)
	}
	r.m[m.Name] = m
	return nil
}

// Get returns the metric called name.
func (r *Registry) Get(name string) (Metric, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	m, ok := r.m[name]
	return m, ok
}

// Names lists the metric names, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.m))
	for n := range r.m {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Metrics is the default registry: the dashboard's numbers. Other packages add theirs with Register
// (for example in an init function).
var Metrics = NewRegistry(defaultMetrics()...)

// Register adds m to the default registry.
func Register(m Metric) error { return Metrics.Register(m) }

func scaled(v *float64, div float64) *float64 {
	if v == nil {
		return nil
	}
	x := math.Round(*v/div*100) / 100
	return &x
}

func count(n int64) *float64 { x := float64(n); return &x }

func defaultMetrics() []Metric {
	return []Metric{
		{Name: "first_response_median_min", Unit: "min", FromReport: func(r reports.Report) *float64 { return scaled(r.FirstResponse.MedianS, 60) }},
		{Name: "first_response_p90_min", Unit: "min", FromReport: func(r reports.Report) *float64 { return scaled(r.FirstResponse.P90S, 60) }},
		{Name: "resolution_median_h", Unit: "h", FromReport: func(r reports.Report) *float64 { return scaled(r.Resolution.MedianS, 3600) }},
		{Name: "resolution_p90_h", Unit: "h", FromReport: func(r reports.Report) *float64 { return scaled(r.Resolution.P90S, 3600) }},
		{Name: "backlog", Unit: "", FromReport: func(r reports.Report) *float64 { return count(r.Backlog.Total) }},
		{Name: "tickets", Unit: "", FromReport: func(r reports.Report) *float64 { return count(r.TicketsCreated) }},
		{Name: "csat", Unit: "score", FromReport: func(r reports.Report) *float64 { return r.CSAT.Avg }},
		{Name: "sla_response_met_pct", Unit: "%", FromReport: func(r reports.Report) *float64 { return r.SLAResponseMetPct }},
		{Name: "sla_resolution_met_pct", Unit: "%", FromReport: func(r reports.Report) *float64 { return r.SLAResolutionMetPct }},
		{Name: "fcr_pct", Unit: "%", FromReport: func(r reports.Report) *float64 { return r.FCRPct }},
		{Name: "bot_share_pct", Unit: "%", FromReport: func(r reports.Report) *float64 { return r.BotResolvedPct }},
		{Name: "kb_citation_pct", Unit: "%", FromReport: func(r reports.Report) *float64 { return r.KBCitationPct }},
		{Name: "repeat_complaint_pct", Unit: "%", FromReport: func(r reports.Report) *float64 { return r.RepeatComplaintPct }},
		{Name: "complaints", Unit: "", FromReport: func(r reports.Report) *float64 { return count(r.Complaints.Total) }},
		{Name: "return_visits_overdue", Unit: "", FromReport: func(r reports.Report) *float64 { return count(r.ReturnVisits.Overdue) }},
		{Name: "p0_unclaimed", Unit: "", Live: p0Unclaimed},
	}
}

// p0Unclaimed counts the open P0 tickets nobody has claimed for at least window ("a P0 unclaimed for
// 10 min" is p0_unclaimed > 0 over a 10m window).
func p0Unclaimed(ctx context.Context, db *storage.DB, window time.Duration, now time.Time) (*float64, error) {
	var n int64
	err := db.Gorm().WithContext(ctx).Table("tickets").
		Where("priority = 'P0' AND assignee = '' AND status IN ('open', 'in_progress', 'pending') AND created_at <= ?", now.UTC().Add(-window)).
		Count(&n).Error
	if err != nil {
		return nil, fmt.Errorf("improve: p0_unclaimed: %w", err)
	}
	return count(n), nil
}

// value computes metric m over [from, to) with now as the report's "now".
func value(ctx context.Context, db *storage.DB, m Metric, from, to, now time.Time, loc *time.Location) (*float64, error) {
	if m.Live != nil {
		end := to
		if now.Before(end) {
			end = now
		}
		return m.Live(ctx, db, end.Sub(from), end)
	}
	r, err := reports.Compute(ctx, db, reports.Filter{From: from, To: to, Now: now, Loc: loc, Granularity: "month"})
	if err != nil {
		return nil, fmt.Errorf("improve: metric %s: %w", m.Name, err)
	}
	return m.FromReport(r), nil
}
