package reports

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Metric is one line of a flat report: the CLI's table and CSV, digests, the export's summary sheet.
type Metric struct {
	Key   string // stable machine name, e.g. "first_response.median_s"
	Value string // "" when there is no data
}

// Flatten lists the report's headline numbers in a fixed order (tables per agent and channel,
// trend points and the low-rating list are left to their own views).
func Flatten(r Report) []Metric {
	m := []Metric{
		{"from", r.From.Format(time.RFC3339)},
		{"to", r.To.Format(time.RFC3339)},
		{"tickets_created", strconv.FormatInt(r.TicketsCreated, 10)},
		{"tickets_resolved", strconv.FormatInt(r.TicketsResolved, 10)},
		{"backlog.total", strconv.FormatInt(r.Backlog.Total, 10)},
	}
	for _, c := range r.Backlog.ByStatus {
		m = append(m, Metric{"backlog.status." + c.Key, strconv.FormatInt(c.Count, 10)})
	}
	for _, c := range r.Backlog.ByPriority {
		m = append(m, Metric{"backlog.priority." + c.Key, strconv.FormatInt(c.Count, 10)})
	}
	for _, c := range r.Backlog.ByAge {
		m = append(m, Metric{"backlog.age." + c.Key, strconv.FormatInt(c.Count, 10)})
	}
	m = append(m,
		Metric{"first_response.median_s", Num(r.FirstResponse.MedianS)},
		Metric{"first_response.p90_s", Num(r.FirstResponse.P90S)},
		Metric{"resolution.median_s", Num(r.Resolution.MedianS)},
		Metric{"resolution.p90_s", Num(r.Resolution.P90S)},
		Metric{"sla_response_met_pct", Num(r.SLAResponseMetPct)},
		Metric{"sla_resolution_met_pct", Num(r.SLAResolutionMetPct)},
		Metric{"csat.avg", Num(r.CSAT.Avg)},
		Metric{"csat.count", strconv.FormatInt(r.CSAT.Count, 10)},
		Metric{"csat.response_rate", Num(r.CSAT.ResponseRate)},
	)
	for i, n := range r.CSAT.Dist {
		m = append(m, Metric{fmt.Sprintf("csat.dist.%d", i+1), strconv.FormatInt(n, 10)})
	}
	m = append(m,
		Metric{"csat.low_ratings", strconv.Itoa(len(r.CSAT.Low))},
		Metric{"fcr_pct", Num(r.FCRPct)},
		Metric{"conversations", strconv.FormatInt(r.Conversations, 10)},
		Metric{"bot_resolved_pct", Num(r.BotResolvedPct)},
		Metric{"kb_citation_pct", Num(r.KBCitationPct)},
		Metric{"agent_replies", strconv.FormatInt(r.AgentReplies, 10)},
		Metric{"agent_kb_citation_pct", Num(r.AgentKBCitationPct)},
		Metric{"complaints", strconv.FormatInt(r.Complaints.Total, 10)},
	)
	for _, c := range r.Complaints.ByLevel {
		m = append(m, Metric{"complaints.level." + c.Key, strconv.FormatInt(c.Count, 10)})
	}
	m = append(m,
		Metric{"repeat_complaint_pct", Num(r.RepeatComplaintPct)},
		Metric{"return_visits.due", strconv.FormatInt(r.ReturnVisits.Due, 10)},
		Metric{"return_visits.done", strconv.FormatInt(r.ReturnVisits.Done, 10)},
		Metric{"return_visits.overdue", strconv.FormatInt(r.ReturnVisits.Overdue, 10)},
	)
	for i, p := range r.TopProblems {
		m = append(m, Metric{fmt.Sprintf("top_problems.%d", i+1), fmt.Sprintf("%s %d (%s%%)", p.Category, p.Count, Num(&p.Share))})
	}
	m = append(m, Metric{"response_vs_csat.spearman", Num(r.ResponseVsCSAT.Spearman)})
	for _, b := range r.ResponseVsCSAT.Buckets {
		m = append(m, Metric{"response_vs_csat.mean_csat." + b.Bucket, Num(b.MeanCSAT)})
	}
	return m
}

// Num formats an optional number without trailing zeros; "" for nil.
func Num(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}

// Dur formats optional seconds for people: "45s", "12m", "3.5h", "2.1d"; "–" for nil.
func Dur(v *float64) string {
	if v == nil {
		return "–"
	}
	s := *v
	switch {
	case s < 60:
		return fmt.Sprintf("%.0fs", s)
	case s < 3600:
		return fmt.Sprintf("%.0fm", s/60)
	case s < 86400:
		return strings.TrimSuffix(fmt.Sprintf("%.1f", s/3600), ".0") + "h"
	}
	return strings.TrimSuffix(fmt.Sprintf("%.1f", s/86400), ".0") + "d"
}

// Pct formats an optional percentage: "66.67%"; "–" for nil.
func Pct(v *float64) string {
	if v == nil {
		return "–"
	}
	return Num(v) + "%"
}
