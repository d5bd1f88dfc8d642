package reports

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"gonum.org/v1/gonum/stat"
)

// Conditions shared by the per-group aggregates. Each "?" is the report's Now.
const (
	frDecided  = "(t.sla_first_response_met IS NOT NULL OR t.first_response_at IS NOT NULL OR t.first_response_due < ?)"
	frMet      = "COALESCE(t.sla_first_response_met, t.first_response_at <= t.first_response_due)"
	resDecided = "(t.sla_resolution_met IS NOT NULL OR t.resolved_at IS NOT NULL OR t.resolution_due < ?)"
	resMet     = "COALESCE(t.sla_resolution_met, t.resolved_at <= t.resolution_due)"
	// fcr: resolved, never reopened, never handed from one agent to another ("a->b" with a set;
	// "->b" is the first assignment), and at most one agent replied.
	fcrCond = `t.resolved_at IS NOT NULL AND t.reopens = 0
 AND NOT EXISTS (SELECT 1 FROM ticket_events e WHERE e.ticket_id = t.id AND (e.kind = 'reopened' OR (e.kind = 'assigned' AND e.text NOT LIKE '->%')))
 AND (SELECT COUNT(DISTINCT e.actor) FROM ticket_events e WHERE e.ticket_id = t.id AND e.kind = 'agent_reply') <= 1`
)

// rows computes Row per value of group ("" = one row for the whole cohort): one aggregate query and
// one percentile query.
func (q *querier) rows(ctx context.Context, group string) ([]Row, error) {
	where, wargs := q.where()
	gsel, gby := "''", ""
	if group != "" {
		gsel, gby = group, " GROUP BY 1"
	}
	aggSQL := `SELECT ` + gsel + ` AS g, COUNT(*),
 SUM(CASE WHEN t.resolved_at IS NOT NULL THEN 1 ELSE 0 END),
 SUM(CASE WHEN ` + frDecided + ` THEN 1 ELSE 0 END),
 SUM(CASE WHEN ` + frDecided + ` AND ` + frMet + ` THEN 1 ELSE 0 END),
 SUM(CASE WHEN ` + resDecided + ` THEN 1 ELSE 0 END),
 SUM(CASE WHEN ` + resDecided + ` AND ` + resMet + ` THEN 1 ELSE 0 END),
 SUM(CASE WHEN ` + fcrCond + ` THEN 1 ELSE 0 END),
 SUM(CASE WHEN t.rating BETWEEN 1 AND 5 THEN 1 ELSE 0 END),
 AVG(CASE WHEN t.rating BETWEEN 1 AND 5 THEN CAST(t.rating AS DOUBLE PRECISION) END)
FROM tickets t WHERE ` + where + gby
	args := append([]any{q.now, q.now, q.now, q.now}, wargs...)
	rs, err := q.g.WithContext(ctx).Raw(aggSQL, args...).Rows()
	if err != nil {
		return nil, fmt.Errorf("reports: aggregates by %q: %w", group, err)
	}
	defer rs.Close()
	byKey := map[string]*Row{}
	var out []*Row
	for rs.Next() {
		var (
			key                                      sql.NullString
			n, res, frD, frM, resD, resM, fcr, rated sql.NullInt64
			avg                                      sql.NullFloat64
		)
		if err := rs.Scan(&key, &n, &res, &frD, &frM, &resD, &resM, &fcr, &rated, &avg); err != nil {
			return nil, fmt.Errorf("reports: aggregates by %q: %w", group, err)
		}
		r := &Row{Key: key.String, Tickets: n.Int64, Resolved: res.Int64, CSATCount: rated.Int64,
			SLAResponseMetPct: pct(frM.Int64, frD.Int64), SLAResolutionMetPct: pct(resM.Int64, resD.Int64),
			FCRPct: pct(fcr.Int64, res.Int64)}
		if avg.Valid {
			r.CSATAvg = ptr(round2(avg.Float64))
		}
		byKey[r.Key] = r
		out = append(out, r)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("reports: aggregates by %q: %w", group, err)
	}
	rs.Close()
	if err := q.percentiles(ctx, group, byKey); err != nil {
		return nil, err
	}
	rows := make([]Row, 0, len(out))
	for _, r := range out {
		if group == "" && r.Tickets == 0 {
			r.Key = ""
		}
		rows = append(rows, *r)
	}
	if group != "" {
		sort.Slice(rows, func(i, j int) bool {
			if group == q.bucketExpr() || rows[i].Tickets == rows[j].Tickets {
				return rows[i].Key < rows[j].Key
			}
			return rows[i].Tickets > rows[j].Tickets
		})
	}
	return rows, nil
}

// percentiles fills the median and p90 of first response and resolution per group.
func (q *querier) percentiles(ctx context.Context, group string, byKey map[string]*Row) error {
	where, args := q.where()
	gsel := "''"
	if group != "" {
		gsel = group
	}
	var query string
	if q.pg {
		gcol, gby := "''", ""
		if group != "" {
			gcol, gby = "g", " GROUP BY 1"
		}
		query = `SELECT ` + gcol + `,
 percentile_cont(0.5) WITHIN GROUP (ORDER BY a), percentile_cont(0.9) WITHIN GROUP (ORDER BY a), COUNT(a),
 percentile_cont(0.5) WITHIN GROUP (ORDER BY b), percentile_cont(0.9) WITHIN GROUP (ORDER BY b), COUNT(b)
FROM (SELECT ` + gsel + ` AS g, ` + q.frExpr() + ` AS a, ` + q.resExpr() + ` AS b FROM tickets t WHERE ` + where + `) s` + gby
	} else {
		query = `WITH s AS (SELECT ` + gsel + ` AS g, ` + q.frExpr() + ` AS a, ` + q.resExpr() + ` AS b FROM tickets t WHERE ` + where + `),
r AS (SELECT g, a, b,
 ROW_NUMBER() OVER (PARTITION BY g ORDER BY a NULLS LAST) - 1 AS ia, COUNT(a) OVER (PARTITION BY g) AS na,
 ROW_NUMBER() OVER (PARTITION BY g ORDER BY b NULLS LAST) - 1 AS ib, COUNT(b) OVER (PARTITION BY g) AS nb
 FROM s)
SELECT g, ` + pctSQLite("a", "ia", "na", 0.5) + `, ` + pctSQLite("a", "ia", "na", 0.9) + `, MAX(na),
 ` + pctSQLite("b", "ib", "nb", 0.5) + `, ` + pctSQLite("b", "ib", "nb", 0.9) + `, MAX(nb)
FROM r GROUP BY g`
	}
	rs, err := q.g.WithContext(ctx).Raw(query, args...).Rows()
	if err != nil {
		return fmt.Errorf("reports: percentiles by %q: %w", group, err)
	}
	defer rs.Close()
	for rs.Next() {
		var (
			key                sql.NullString
			a50, a90, b50, b90 sql.NullFloat64
			na, nb             sql.NullInt64
		)
		if err := rs.Scan(&key, &a50, &a90, &na, &b50, &b90, &nb); err != nil {
			return fmt.Errorf("reports: percentiles by %q: %w", group, err)
		}
		r := byKey[key.String]
		if r == nil {
			continue
		}
		r.FirstResponse = durations(a50, a90, na.Int64)
		r.Resolution = durations(b50, b90, nb.Int64)
	}
	if err := rs.Err(); err != nil {
		return fmt.Errorf("reports: percentiles by %q: %w", group, err)
	}
	return nil
}

// pctSQLite is the continuous percentile p of column v in SQL for SQLite: over rows numbered
// 0…n−1 in ascending order of v (i = ROW_NUMBER()−1, n = COUNT(v), NULLs last), the value at position
// h = p·(n−1) is v[⌊h⌋]·(1−frac(h)) + v[⌊h⌋+1]·frac(h) — PostgreSQL's percentile_cont. Every other
// row adds 0; rows whose v is NULL add NULL, which SUM skips.
func pctSQLite(v, i, n string, p float64) string {
	h := fmt.Sprintf("(%g * (%s - 1))", p, n)
	lo := "CAST(" + h + " AS INTEGER)"
	frac := "(" + h + " - " + lo + ")"
	return "SUM(CASE WHEN " + n + " = 0 THEN NULL WHEN " + i + " = " + lo + " THEN " + v + " * (1 - " + frac + ") WHEN " +
		i + " = " + lo + " + 1 THEN " + v + " * " + frac + " ELSE 0 END)"
}

func durations(m, p90 sql.NullFloat64, n int64) Durations {
	d := Durations{Count: n}
	if n > 0 && m.Valid {
		d.MedianS = ptr(round2(m.Float64))
	}
	if n > 0 && p90.Valid {
		d.P90S = ptr(round2(p90.Float64))
	}
	return d
}

// backlog counts the tickets open now by status, priority and age.
func (q *querier) backlog(ctx context.Context) (Backlog, error) {
	var b strings.Builder
	b.WriteString("t.status IN ('open', 'in_progress', 'pending') AND t.created_at < ?")
	args := []any{q.f.To}
	for _, c := range []struct{ col, v string }{
		{"t.channel", q.f.Channel}, {"t.category", q.f.Category}, {"t.priority", q.f.Priority}, {"t.assignee", q.f.Agent},
	} {
		if c.v != "" {
			b.WriteString(" AND " + c.col + " = ?")
			args = append(args, c.v)
		}
	}
	age := "CASE WHEN t.created_at >= ? THEN 0 WHEN t.created_at >= ? THEN 1 WHEN t.created_at >= ? THEN 2 WHEN t.created_at >= ? THEN 3 ELSE 4 END"
	ageArgs := []any{q.now.Add(-time.Hour), q.now.Add(-4 * time.Hour), q.now.Add(-24 * time.Hour), q.now.Add(-72 * time.Hour)}
	query := "SELECT t.status, t.priority, " + age + ", COUNT(*) FROM tickets t WHERE " + b.String() + " GROUP BY 1, 2, 3"
	rs, err := q.g.WithContext(ctx).Raw(query, append(ageArgs, args...)...).Rows()
	if err != nil {
		return Backlog{}, fmt.Errorf("reports: backlog: %w", err)
	}
	defer rs.Close()
	status, prio := map[string]int64{}, map[string]int64{}
	ages := make([]int64, len(AgeBuckets))
	var out Backlog
	for rs.Next() {
		var s, p string
		var a int
		var n int64
		if err := rs.Scan(&s, &p, &a, &n); err != nil {
			return Backlog{}, fmt.Errorf("reports: backlog: %w", err)
		}
		status[s] += n
		prio[p] += n
		if a >= 0 && a < len(ages) {
			ages[a] += n
		}
		out.Total += n
	}
	if err := rs.Err(); err != nil {
		return Backlog{}, fmt.Errorf("reports: backlog: %w", err)
	}
	for _, s := range []string{"open", "in_progress", "pending"} {
		out.ByStatus = append(out.ByStatus, Count{s, status[s]})
	}
	out.ByPriority = sortedCounts(prio)
	for i, k := range AgeBuckets {
		out.ByAge = append(out.ByAge, Count{k, ages[i]})
	}
	return out, nil
}

func sortedCounts(m map[string]int64) []Count {
	out := make([]Count, 0, len(m))
	for k, v := range m {
		out = append(out, Count{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// csat fills the rating distribution and the low ratings with their follow-up.
func (q *querier) csat(ctx context.Context, c *CSAT) error {
	where, args := q.where()
	rs, err := q.g.WithContext(ctx).Raw("SELECT t.rating, COUNT(*) FROM tickets t WHERE "+where+" AND t.rating BETWEEN 1 AND 5 GROUP BY 1", args...).Rows()
	if err != nil {
		return fmt.Errorf("reports: csat: %w", err)
	}
	for rs.Next() {
		var s int
		var n int64
		if err := rs.Scan(&s, &n); err != nil {
			rs.Close()
			return fmt.Errorf("reports: csat: %w", err)
		}
		c.Dist[s-1] = n
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return fmt.Errorf("reports: csat: %w", err)
	}

	rated := "(SELECT MAX(s.at) FROM surveys s WHERE s.ticket_id = t.id)"
	query := `SELECT t.no, t.rating, t.rating_comment, t.assignee, t.channel, t.category, ` + rated + `,
 (SELECT MIN(e.at) FROM ticket_events e WHERE e.ticket_id = t.id AND e.kind IN ('agent_reply', 'note')
   AND e.actor NOT IN ('customer', 'bot', 'system') AND e.at > ` + rated + `)
FROM tickets t WHERE ` + where + ` AND t.rating BETWEEN 1 AND 3 ORDER BY t.created_at DESC, t.id DESC LIMIT 100`
	rs, err = q.g.WithContext(ctx).Raw(query, args...).Rows()
	if err != nil {
		return fmt.Errorf("reports: low ratings: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var l LowRating
		var ratedAt, followed any
		if err := rs.Scan(&l.TicketNo, &l.Score, &l.Comment, &l.Agent, &l.Channel, &l.Category, &ratedAt, &followed); err != nil {
			return fmt.Errorf("reports: low ratings: %w", err)
		}
		l.RatedAt, l.FollowedUpAt = asTime(ratedAt), asTime(followed)
		switch {
		case l.FollowedUpAt != nil:
			l.FollowUp = "followed_up"
		case l.RatedAt != nil && q.now.Sub(*l.RatedAt) > 24*time.Hour:
			l.FollowUp = "overdue"
		default:
			l.FollowUp = "pending"
		}
		c.Low = append(c.Low, l)
	}
	if err := rs.Err(); err != nil {
		return fmt.Errorf("reports: low ratings: %w", err)
	}
	return nil
}

// asTime reads a timestamp from an expression column: PostgreSQL gives time.Time, SQLite gives the
// stored text when the column type is lost (MAX, MIN).
func asTime(v any) *time.Time {
	switch x := v.(type) {
	case time.Time:
		u := x.UTC()
		return &u
	case string:
		return parseSQLiteTime(x)
	case []byte:
		return parseSQLiteTime(string(x))
	}
	return nil
}

func parseSQLiteTime(s string) *time.Time {
	for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			u := t.UTC()
			return &u
		}
	}
	return nil
}

// topProblems returns the five categories with the most tickets and their share of the cohort.
func (q *querier) topProblems(ctx context.Context) ([]Problem, error) {
	where, args := q.where()
	query := `SELECT t.category, COUNT(*), (SELECT COUNT(*) FROM tickets t WHERE ` + where + `)
FROM tickets t WHERE ` + where + ` GROUP BY t.category ORDER BY 2 DESC, 1 LIMIT 5`
	rs, err := q.g.WithContext(ctx).Raw(query, append(append([]any{}, args...), args...)...).Rows()
	if err != nil {
		return nil, fmt.Errorf("reports: top problems: %w", err)
	}
	defer rs.Close()
	out := []Problem{}
	for rs.Next() {
		var p Problem
		var total int64
		if err := rs.Scan(&p.Category, &p.Count, &total); err != nil {
			return nil, fmt.Errorf("reports: top problems: %w", err)
		}
		if s := pct(p.Count, total); s != nil {
			p.Share = *s
		}
		out = append(out, p)
	}
	return out, rs.Err()
}

// boxes reads the resolution times per category, sorted by the database, and takes the quartiles
// with gonum's stat.Quantile (LinInterp).
func (q *querier) boxes(ctx context.Context) ([]Box, error) {
	where, args := q.where()
	query := "SELECT t.category, " + q.resExpr() + " AS r FROM tickets t WHERE " + where + " AND t.resolved_at IS NOT NULL ORDER BY 1, 2"
	rs, err := q.g.WithContext(ctx).Raw(query, args...).Rows()
	if err != nil {
		return nil, fmt.Errorf("reports: box plot: %w", err)
	}
	defer rs.Close()
	out := []Box{}
	var cat string
	var xs []float64
	flush := func() {
		if len(xs) == 0 {
			return
		}
		out = append(out, Box{Category: cat, N: len(xs), Min: round2(xs[0]), Max: round2(xs[len(xs)-1]),
			Q1:     round2(stat.Quantile(0.25, stat.LinInterp, xs, nil)),
			Median: round2(stat.Quantile(0.5, stat.LinInterp, xs, nil)),
			Q3:     round2(stat.Quantile(0.75, stat.LinInterp, xs, nil))})
		xs = xs[:0]
	}
	for rs.Next() {
		var c string
		var v float64
		if err := rs.Scan(&c, &v); err != nil {
			return nil, fmt.Errorf("reports: box plot: %w", err)
		}
		if c != cat {
			flush()
			cat = c
		}
		xs = append(xs, v)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("reports: box plot: %w", err)
	}
	flush()
	return out, nil
}

// responseVsCSAT: mean rating per first-response class (SQL), and Spearman's rho — the ranks (ties
// get their average rank) come from SQL window functions, their Pearson correlation from gonum.
func (q *querier) responseVsCSAT(ctx context.Context) (ResponseVsCSAT, error) {
	where, args := q.where()
	pairs := "SELECT " + q.frExpr() + " AS fr, t.rating AS score FROM tickets t WHERE " + where +
		" AND t.rating BETWEEN 1 AND 5 AND t.first_response_at IS NOT NULL"
	out := ResponseVsCSAT{Buckets: make([]Bucket, len(ResponseBuckets))}
	for i, b := range ResponseBuckets {
		out.Buckets[i].Bucket = b
	}
	bq := `SELECT CASE WHEN fr < 900 THEN 0 WHEN fr < 3600 THEN 1 WHEN fr < 14400 THEN 2 WHEN fr < 86400 THEN 3 ELSE 4 END,
 AVG(CAST(score AS DOUBLE PRECISION)), COUNT(*) FROM (` + pairs + `) p GROUP BY 1`
	rs, err := q.g.WithContext(ctx).Raw(bq, args...).Rows()
	if err != nil {
		return out, fmt.Errorf("reports: response vs csat: %w", err)
	}
	for rs.Next() {
		var i int
		var m float64
		var n int64
		if err := rs.Scan(&i, &m, &n); err != nil {
			rs.Close()
			return out, fmt.Errorf("reports: response vs csat: %w", err)
		}
		if i >= 0 && i < len(out.Buckets) {
			out.Buckets[i].MeanCSAT, out.Buckets[i].Count = ptr(round2(m)), n
		}
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return out, fmt.Errorf("reports: response vs csat: %w", err)
	}

	rq := `SELECT fr, score,
 CAST(RANK() OVER (ORDER BY fr) + (COUNT(*) OVER (PARTITION BY fr) - 1) / 2.0 AS DOUBLE PRECISION),
 CAST(RANK() OVER (ORDER BY score) + (COUNT(*) OVER (PARTITION BY score) - 1) / 2.0 AS DOUBLE PRECISION)
FROM (` + pairs + `) p ORDER BY 1, 2`
	rs, err = q.g.WithContext(ctx).Raw(rq, args...).Rows()
	if err != nil {
		return out, fmt.Errorf("reports: spearman: %w", err)
	}
	defer rs.Close()
	var rx, ry []float64
	var pts [][2]float64
	for rs.Next() {
		var fr, rkx, rky float64
		var score int
		if err := rs.Scan(&fr, &score, &rkx, &rky); err != nil {
			return out, fmt.Errorf("reports: spearman: %w", err)
		}
		rx, ry = append(rx, rkx), append(ry, rky)
		pts = append(pts, [2]float64{round2(fr), float64(score)})
	}
	if err := rs.Err(); err != nil {
		return out, fmt.Errorf("reports: spearman: %w", err)
	}
	out.N = len(rx)
	if len(rx) >= 3 {
		if rho := stat.Correlation(rx, ry, nil); rho == rho { // NaN when either side is constant
			out.Spearman = ptr(math.Round(rho*10000) / 10000)
		}
	}
	// An even sample of the pairs for the scatter.
	step := 1
	if len(pts) > MaxPoints {
		step = (len(pts) + MaxPoints - 1) / MaxPoints
	}
	out.Points = [][2]float64{}
	for i := 0; i < len(pts); i += step {
		out.Points = append(out.Points, pts[i])
	}
	return out, nil
}

// conversations computes the bot's share and the knowledge-base citation rate.
func (q *querier) conversations(ctx context.Context, r *Report) error {
	if q.f.Category != "" || q.f.Priority != "" || q.f.Agent != "" {
		return nil
	}
	where := "c.created_at >= ? AND c.created_at < ?"
	args := []any{q.f.From, q.f.To}
	if q.f.Channel != "" {
		where += " AND c.channel = ?"
		args = append(args, q.f.Channel)
	}
	query := `SELECT COUNT(*),
 SUM(CASE WHEN NOT EXISTS (SELECT 1 FROM tickets t WHERE t.conversation_id = c.id)
   AND EXISTS (SELECT 1 FROM faq_citations f WHERE f.conversation_id = c.id AND (f.helped IS NULL OR f.helped = TRUE)) THEN 1 ELSE 0 END),
 SUM(CASE WHEN EXISTS (SELECT 1 FROM faq_citations f WHERE f.conversation_id = c.id) THEN 1 ELSE 0 END)
FROM conversations c WHERE ` + where
	var n, bot, cited sql.NullInt64
	if err := q.g.WithContext(ctx).Raw(query, args...).Row().Scan(&n, &bot, &cited); err != nil {
		return fmt.Errorf("reports: conversations: %w", err)
	}
	r.Conversations = n.Int64
	r.BotResolvedPct = pct(bot.Int64, n.Int64)
	r.KBCitationPct = pct(cited.Int64, n.Int64)
	return nil
}
