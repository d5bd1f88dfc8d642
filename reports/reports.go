// Package reports computes the service numbers the seeds run on — first response and resolution
// times, backlog, SLA compliance, CSAT, first-contact resolution, the bot's share, knowledge-base
// citation rate, the monthly top-5 problems, box plots of resolution time per category and how
// response speed relates to satisfaction — for the console, the CLI, Slack digests and exports.
//
// Every number is computed in SQL on the database server, on SQLite and PostgreSQL alike. The two
// statistics SQL lacks come from gonum/stat: box-plot quartiles (stat.Quantile over each category's
// resolution times) and Spearman's rank correlation (stat.Correlation — Pearson — over the
// tie-averaged ranks of the pairs the database returns sorted; gonum has no Spearman of its own).
// EXPLAIN.md has the plans, the indexes and the measurements on a million tickets.
//
// Definitions (all over the cohort of tickets created in [From, To) that match the filters):
//   - first response: first_response_at − created_at; resolution: resolved_at − created_at (seconds).
//   - median_s / p90_s: continuous percentiles (linear interpolation between the two nearest ranks,
//     PostgreSQL's percentile_cont). PostgreSQL runs percentile_cont itself; SQLite has no percentile
//     aggregate in its default build, so it numbers the sorted rows with ROW_NUMBER() and COUNT() window
//     functions and sums the two neighbouring rows with their interpolation weights (see pctSQLite) —
//     the same numbers, still computed in the database.
//   - sla_response_met_pct: of the tickets whose first response is decided (answered, or due time
//     passed, or stamped by the SLA clock), the share answered in time. The SLA clock's stamp
//     (sla_first_response_met, which knows about pauses) wins over first_response_at <= first_response_due.
//     sla_resolution_met_pct likewise with resolved_at / resolution_due / sla_resolution_met.
//   - csat: the ticket's current rating (tickets.rating, 1–5; the survey table keeps every answer);
//     response_rate = rated / resolved tickets. Low ratings (<= 3) are listed with their follow-up: an
//     agent reply or note after the rating ("followed_up"), none yet ("pending"), none after 24 h ("overdue").
//   - fcr_pct: resolved tickets with no reopen, no hand-off (an "assigned" event from one agent to
//     another) and at most one agent replying, over resolved tickets.
//   - bot_resolved_pct: conversations started in the range that have no ticket and got at least one
//     FAQ answer not marked unhelpful, over all conversations started in the range. kb_citation_pct:
//     conversations with at least one FAQ answer over all. Conversations have no category, priority or
//     agent, so these two are null when one of those filters is set.
//   - backlog: tickets still open now (open, in_progress, pending), created before To, by status,
//     priority and age.
package reports

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
	"gorm.io/gorm"

	"github.com/kefu-dev/kefu/storage"
)

// Filter selects the tickets a report covers.
type Filter struct {
	From, To time.Time // tickets created in [From, To)
	Channel  string    // "" any
	Category string
	Priority string
	Agent    string // assignee; "" any
	// Loc is the time zone of the trend's days, weeks and months (default UTC).
	Loc *time.Location
	// Granularity of the trend: "day", "week", "month"; "" picks by the range's length.
	Granularity string
	// Now is the time backlog ages and due SLA are measured against (zero: time.Now()).
	Now time.Time
	// ChannelTargets are the channels' own first-response targets (sla.Policy.ChannelWithin), shown
	// beside their rows (Row.FirstResponseTargetS).
	ChannelTargets map[string]time.Duration
}

// Durations are percentiles of a duration in seconds; nil when there is no sample.
type Durations struct {
	MedianS *float64 `json:"median_s"`
	P90S    *float64 `json:"p90_s"`
	Count   int64    `json:"count"`
}

// Row is one group's numbers: a per-agent or per-channel table row, or a trend point.
type Row struct {
	Key                 string    `json:"key"`
	Name                string    `json:"name,omitempty"` // agent rows: the person behind the agent id (Compute)
	Tickets             int64     `json:"tickets"`
	Resolved            int64     `json:"resolved"`
	FirstResponse       Durations `json:"first_response"`
	Resolution          Durations `json:"resolution"`
	SLAResponseMetPct   *float64  `json:"sla_response_met_pct"`
	SLAResolutionMetPct *float64  `json:"sla_resolution_met_pct"`
	FCRPct              *float64  `json:"fcr_pct"`
	CSATAvg             *float64  `json:"csat_avg"`
	CSATCount           int64     `json:"csat_count"`
	// FirstResponseTargetS is a channel row's own first-response target in seconds (nil: none).
	FirstResponseTargetS *float64 `json:"first_response_target_s,omitempty"`
}

// Count is a labelled number.
type Count struct {
	Key   string `json:"key"`
	Count int64  `json:"count"`
}

// Backlog is the open work now.
type Backlog struct {
	Total      int64   `json:"total"`
	ByStatus   []Count `json:"by_status"`
	ByPriority []Count `json:"by_priority"`
	ByAge      []Count `json:"by_age"` // AgeBuckets, in order
}

// AgeBuckets are the backlog's age classes.
var AgeBuckets = []string{"<1h", "1h-4h", "4h-24h", "1d-3d", ">3d"}

// LowRating is a rating of 3 or less and what happened after it.
type LowRating struct {
	TicketNo     string     `json:"ticket_no"`
	Score        int        `json:"score"`
	Comment      string     `json:"comment"`
	Agent        string     `json:"agent"`
	Channel      string     `json:"channel"`
	Category     string     `json:"category"`
	RatedAt      *time.Time `json:"rated_at"`
	FollowUp     string     `json:"follow_up"` // followed_up | pending | overdue
	FollowedUpAt *time.Time `json:"followed_up_at"`
}

// CSAT is customer satisfaction.
type CSAT struct {
	Avg          *float64    `json:"avg"`
	Count        int64       `json:"count"`
	Dist         [5]int64    `json:"dist"` // number of ratings 1, 2, 3, 4, 5
	ResponseRate *float64    `json:"response_rate"`
	Low          []LowRating `json:"low"`
}

// Problem is one of the top problem categories; Share is a percentage of the cohort.
type Problem struct {
	Category string  `json:"category"`
	Count    int64   `json:"count"`
	Share    float64 `json:"share"`
}

// Box is a box plot of resolution seconds for one category (quartiles by gonum stat.Quantile,
// LinInterp; whiskers are min and max).
type Box struct {
	Category string  `json:"category"`
	N        int     `json:"n"`
	Min      float64 `json:"min"`
	Q1       float64 `json:"q1"`
	Median   float64 `json:"median"`
	Q3       float64 `json:"q3"`
	Max      float64 `json:"max"`
}

// Bucket is the mean rating of tickets whose first response fell in one time class.
type Bucket struct {
	Bucket   string   `json:"bucket"`
	MeanCSAT *float64 `json:"mean_csat"`
	Count    int64    `json:"count"`
}

// ResponseBuckets are the first-response classes of ResponseVsCSAT, in order.
var ResponseBuckets = []string{"<15m", "15m-1h", "1h-4h", "4h-24h", ">=24h"}

// ResponseVsCSAT relates first-response time to the rating.
type ResponseVsCSAT struct {
	Spearman *float64     `json:"spearman"` // nil with fewer than 3 pairs or no variation
	N        int          `json:"n"`
	Buckets  []Bucket     `json:"buckets"`
	Points   [][2]float64 `json:"points"` // [first response s, rating], at most MaxPoints, for the scatter
}

// MaxPoints caps the scatter's points.
const MaxPoints = 600

// Report is every number of the dashboard.
type Report struct {
	From                time.Time      `json:"from"`
	To                  time.Time      `json:"to"`
	Granularity         string         `json:"granularity"`
	TicketsCreated      int64          `json:"tickets_created"`
	TicketsResolved     int64          `json:"tickets_resolved"`
	Backlog             Backlog        `json:"backlog"`
	FirstResponse       Durations      `json:"first_response"`
	Resolution          Durations      `json:"resolution"`
	SLAResponseMetPct   *float64       `json:"sla_response_met_pct"`
	SLAResolutionMetPct *float64       `json:"sla_resolution_met_pct"`
	CSAT                CSAT           `json:"csat"`
	FCRPct              *float64       `json:"fcr_pct"`
	Conversations       int64          `json:"conversations"`
	BotResolvedPct      *float64       `json:"bot_resolved_pct"`
	KBCitationPct       *float64       `json:"kb_citation_pct"`
	TopProblems         []Problem      `json:"top_problems"`
	ResolutionBox       []Box          `json:"resolution_box"`
	ResponseVsCSAT      ResponseVsCSAT `json:"response_vs_csat"`
	Trend               []Row          `json:"trend"`
	Agents              []Row          `json:"agents"`
	Channels            []Row          `json:"channels"`
	// Complaints by level and the repeat-complaint share; return visits due in the period (complaints.go).
	Complaints         Complaints   `json:"complaints"`
	RepeatComplaintPct *float64     `json:"repeat_complaint_pct"`
	ReturnVisits       ReturnVisits `json:"return_visits"`
	// AgentReplies counts the agents' replies on the cohort's tickets; AgentKBCitationPct is the share
	// sent as an FAQ answer (kefu ticket reply --faq, Slack's and the console's "send this answer"):
	// the seeds' 知识库引用率 (target >= 80%), measured on agent replies (complaints.go).
	AgentReplies       int64    `json:"agent_replies"`
	AgentKBCitationPct *float64 `json:"agent_kb_citation_pct"`
}

// ErrBadFilter is returned for a filter that cannot select anything sensible.
var ErrBadFilter = errors.New("reports: bad filter")

// Compute builds the report for f: one statement for every per-ticket aggregate of every grouping
// (see aggregates) and one per remaining panel, run concurrently (at most 4 at a time).
//
// Agent rows carry the person's name: the console account linked to the agent id, else the
// configured agent's (storage.AgentNames), so a console user with agent id X and Slack/CLI agent X
// are one row and one person.
func Compute(ctx context.Context, db *storage.DB, f Filter) (Report, error) {
	r, err := ComputeGorm(ctx, db.Gorm(), db.Dialect(), f)
	if err != nil || len(r.Agents) == 0 {
		return r, err
	}
	names, err := db.AgentNames(ctx)
	if err != nil {
		return Report{}, err
	}
	for i := range r.Agents {
		r.Agents[i].Name = names[r.Agents[i].Key]
	}
	return r, nil
}

// ComputeGorm is Compute on a *gorm.DB of the given dialect.
func ComputeGorm(ctx context.Context, g *gorm.DB, d storage.Dialect, f Filter) (Report, error) {
	q, err := newQuerier(g, d, f)
	if err != nil {
		return Report{}, err
	}
	r := Report{From: q.f.From, To: q.f.To, Granularity: q.gran}
	var agg map[string][]*aggRow
	dAll, dAgent, dChan, dTrend := q.dimOverall(), q.dimAgent(), q.dimChannel(), q.dimTrend()
	eg, ctx := errgroup.WithContext(ctx)
	eg.SetLimit(4)
	eg.Go(func() (err error) { agg, err = q.aggregates(ctx, dAll, dAgent, dChan, dTrend); return })
	eg.Go(func() (err error) { r.Backlog, err = q.backlog(ctx); return })
	eg.Go(func() error { return q.csat(ctx, &r.CSAT) })
	eg.Go(func() (err error) { r.TopProblems, err = q.topProblems(ctx); return })
	eg.Go(func() (err error) { r.ResolutionBox, err = q.boxes(ctx); return })
	eg.Go(func() (err error) { r.ResponseVsCSAT, err = q.responseVsCSAT(ctx); return })
	eg.Go(func() error { return q.conversations(ctx, &r) })
	eg.Go(func() error { return q.complaints(ctx, &r) })
	eg.Go(func() error { return q.agentCitations(ctx, &r) })
	if err := eg.Wait(); err != nil {
		return Report{}, err
	}
	if all := agg[dAll.name]; len(all) == 1 {
		o := all[0]
		r.TicketsCreated, r.TicketsResolved = o.Tickets, o.Resolved
		r.FirstResponse, r.Resolution = o.FirstResponse, o.Resolution
		r.SLAResponseMetPct, r.SLAResolutionMetPct, r.FCRPct = o.SLAResponseMetPct, o.SLAResolutionMetPct, o.FCRPct
		r.CSAT.Avg, r.CSAT.Count, r.CSAT.Dist = o.CSATAvg, o.CSATCount, o.dist
		r.CSAT.ResponseRate = pct(o.CSATCount, o.Resolved)
		fillBuckets(&r.ResponseVsCSAT, o)
	}
	agents, channels, trend := plain(agg[dAgent.name]), plain(agg[dChan.name]), plain(agg[dTrend.name])
	for i := range agents {
		if agents[i].Key == "" {
			agents[i].Key = Unassigned
		}
	}
	r.Agents, r.Channels, r.Trend = agents, channels, fillTrend(trend, q)
	for i, row := range r.Channels {
		if d, ok := f.ChannelTargets[row.Key]; ok {
			s := d.Seconds()
			r.Channels[i].FirstResponseTargetS = &s
		}
	}
	return r, nil
}

// Unassigned is the agent key of tickets nobody holds.
const Unassigned = "(unassigned)"

// querier holds one report's filter and dialect.
type querier struct {
	g    *gorm.DB
	pg   bool
	f    Filter
	now  time.Time
	gran string
}

var zoneName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*$`)

func newQuerier(g *gorm.DB, d storage.Dialect, f Filter) (*querier, error) {
	if f.From.IsZero() || f.To.IsZero() || !f.From.Before(f.To) {
		return nil, fmt.Errorf("%w: need From before To", ErrBadFilter)
	}
	if f.Loc == nil {
		f.Loc = time.UTC
	}
	f.From, f.To = f.From.UTC(), f.To.UTC()
	q := &querier{g: g, pg: d == storage.Postgres, f: f, now: f.Now.UTC()}
	if f.Now.IsZero() {
		q.now = time.Now().UTC()
	}
	switch f.Granularity {
	case "day", "week", "month":
		q.gran = f.Granularity
	case "":
		switch span := f.To.Sub(f.From); {
		case span <= 62*24*time.Hour:
			q.gran = "day"
		case span <= 370*24*time.Hour:
			q.gran = "week"
		default:
			q.gran = "month"
		}
	default:
		return nil, fmt.Errorf("%w: granularity %q (day, week or month)", ErrBadFilter, f.Granularity)
	}
	return q, nil
}

// where is the cohort condition; every user-supplied value is a bound parameter.
func (q *querier) where() (string, []any) {
	var b strings.Builder
	b.WriteString("t.created_at >= ? AND t.created_at < ?")
	args := []any{q.f.From, q.f.To}
	for _, c := range []struct{ col, v string }{
		{"t.channel", q.f.Channel}, {"t.category", q.f.Category}, {"t.priority", q.f.Priority}, {"t.assignee", q.f.Agent},
	} {
		if c.v != "" {
			b.WriteString(" AND " + c.col + " = ?")
			args = append(args, c.v)
		}
	}
	return b.String(), args
}

// secs is the number of seconds from the timestamp column from to the column to (NULL if either is).
func (q *querier) secs(from, to string) string {
	if q.pg {
		// date_part returns float8 directly; EXTRACT returns numeric since PostgreSQL 14 and cost
		// 0.14 s more per column over a 30-day cohort of 88k tickets.
		return "date_part('epoch', " + to + " - " + from + ")"
	}
	return "(unixepoch(" + to + ", 'subsec') - unixepoch(" + from + ", 'subsec'))"
}

func (q *querier) frExpr() string  { return q.secs("t.created_at", "t.first_response_at") }
func (q *querier) resExpr() string { return q.secs("t.created_at", "t.resolved_at") }

// bucketExpr is the trend period of a ticket, 'YYYY-MM-DD' of the day, the week's Monday or the
// month's first day in the report's time zone. PostgreSQL converts with the zone's rules (DST
// included); SQLite has no zone database, so it shifts by the zone's UTC offset at From.
func (q *querier) bucketExpr() string {
	if q.pg {
		zone := q.f.Loc.String()
		local := "(t.created_at AT TIME ZONE '" + zone + "')"
		if !zoneName.MatchString(zone) || zone == "Local" {
			_, off := q.f.From.In(q.f.Loc).Zone()
			local = fmt.Sprintf("(t.created_at AT TIME ZONE 'UTC' + interval '%d seconds')", off)
		}
		return "to_char(" + q.pgTrunc(local) + ", 'YYYY-MM-DD')"
	}
	_, off := q.f.From.In(q.f.Loc).Zone()
	shift := fmt.Sprintf("'%+d seconds'", off)
	switch q.gran {
	case "week":
		return "date(t.created_at, " + shift + ", '-6 days', 'weekday 1')"
	case "month":
		return "strftime('%Y-%m-01', t.created_at, " + shift + ")"
	}
	return "date(t.created_at, " + shift + ")"
}

// pgTrunc is the PostgreSQL period start (a timestamp) of the local time expression.
func (q *querier) pgTrunc(local string) string { return "date_trunc('" + q.gran + "', " + local + ")" }

// pgBucketTrunc is bucketExpr without the formatting: aggregates groups by the timestamp and formats
// the 30–60 groups, not the 1M rows (to_char per row cost 2 s of a year's 13 s on PostgreSQL).
func (q *querier) pgBucketTrunc() string {
	e := q.bucketExpr()
	return strings.TrimSuffix(strings.TrimPrefix(e, "to_char("), ", 'YYYY-MM-DD')")
}

// fillTrend adds the empty periods between From and To so charts have a continuous axis.
func fillTrend(rows []Row, q *querier) []Row {
	have := map[string]Row{}
	for _, r := range rows {
		have[r.Key] = r
	}
	var out []Row
	start := q.f.From.In(q.f.Loc)
	d := time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, q.f.Loc)
	switch q.gran {
	case "week":
		d = d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
	case "month":
		d = time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, q.f.Loc)
	}
	end := q.f.To.In(q.f.Loc)
	for i := 0; d.Before(end) && i < 2000; i++ {
		k := d.Format("2006-01-02")
		if r, ok := have[k]; ok {
			out = append(out, r)
			delete(have, k)
		} else {
			out = append(out, Row{Key: k})
		}
		switch q.gran {
		case "week":
			d = d.AddDate(0, 0, 7)
		case "month":
			d = d.AddDate(0, 1, 0)
		default:
			d = d.AddDate(0, 0, 1)
		}
	}
	for _, r := range rows { // periods the offset approximation put elsewhere (SQLite, DST zones)
		if _, ok := have[r.Key]; ok {
			out = append(out, r)
		}
	}
	return out
}

// pct is 100·num/den rounded to two decimals; nil when den is 0.
func pct(num, den int64) *float64 {
	if den <= 0 {
		return nil
	}
	v := math.Round(float64(num)*10000/float64(den)) / 100
	return &v
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

func ptr(v float64) *float64 { return &v }

// Where is the SQL condition (on tickets aliased t) and its bound arguments selecting f's cohort,
// for other views of the same tickets (exports).
func (f Filter) Where() (string, []any) {
	f.From, f.To = f.From.UTC(), f.To.UTC()
	return (&querier{f: f}).where()
}
