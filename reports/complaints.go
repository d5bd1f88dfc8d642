package reports

import (
	"context"
	"fmt"
	"strconv"
)

// Complaints is the complaint panel (issue 11): complaints of the cohort by level, the share that
// repeats an earlier complaint of the same customer and category within 30 days (the seeds' 二次投诉率,
// target <= 5%), and the return visits due in the period.
type Complaints struct {
	Total   int64   `json:"total"`
	ByLevel []Count `json:"by_level"` // "1", "2", "3" …
	Repeats int64   `json:"repeats"`
}

// ReturnVisits counts the return visits (回访) due in the period: done (an outcome recorded) and
// overdue (not done, due time passed).
type ReturnVisits struct {
	Due     int64 `json:"due"`
	Done    int64 `json:"done"`
	Overdue int64 `json:"overdue"`
}

func (q *querier) complaints(ctx context.Context, r *Report) error {
	where, args := q.where()
	rs, err := q.query(ctx, "SELECT t.complaint_level, COUNT(*), SUM(CASE WHEN t.repeat_of <> '' THEN 1 ELSE 0 END) FROM tickets t WHERE "+
		where+" AND t.complaint = ? GROUP BY t.complaint_level ORDER BY t.complaint_level", append(args, true)...)
	if err != nil {
		return fmt.Errorf("reports: complaints: %w", err)
	}
	defer rs.Close()
	var c Complaints
	for rs.Next() {
		var level, n, rep int64
		if err := rs.Scan(&level, &n, &rep); err != nil {
			return fmt.Errorf("reports: complaints: %w", err)
		}
		c.Total += n
		c.Repeats += rep
		c.ByLevel = append(c.ByLevel, Count{Key: strconv.FormatInt(level, 10), Count: n})
	}
	if err := rs.Err(); err != nil {
		return fmt.Errorf("reports: complaints: %w", err)
	}
	r.Complaints, r.RepeatComplaintPct = c, pct(c.Repeats, c.Total)

	vs, err := q.query(ctx, `SELECT COUNT(*), SUM(CASE WHEN v.done_at IS NOT NULL THEN 1 ELSE 0 END),
		SUM(CASE WHEN v.done_at IS NULL AND v.due_at < ? THEN 1 ELSE 0 END)
		FROM return_visits v WHERE v.due_at >= ? AND v.due_at < ?`, q.now, q.f.From, q.f.To)
	if err != nil {
		return fmt.Errorf("reports: return visits: %w", err)
	}
	defer vs.Close()
	if vs.Next() {
		var due int64
		var done, overdue *int64
		if err := vs.Scan(&due, &done, &overdue); err != nil {
			return fmt.Errorf("reports: return visits: %w", err)
		}
		r.ReturnVisits.Due = due
		if done != nil {
			r.ReturnVisits.Done = *done
		}
		if overdue != nil {
			r.ReturnVisits.Overdue = *overdue
		}
	}
	return vs.Err()
}

// agentCitations counts the agents' replies on the cohort's tickets and those sent as an FAQ answer
// (each records an agent_reply and a faq_reply event; index ticket_events_ticket_kind).
func (q *querier) agentCitations(ctx context.Context, r *Report) error {
	where, args := q.where()
	rs, err := q.query(ctx, `SELECT SUM(CASE WHEN e.kind = 'agent_reply' THEN 1 ELSE 0 END), SUM(CASE WHEN e.kind = 'faq_reply' THEN 1 ELSE 0 END)
		FROM tickets t JOIN ticket_events e ON e.ticket_id = t.id AND e.kind IN ('agent_reply', 'faq_reply') WHERE `+where, args...)
	if err != nil {
		return fmt.Errorf("reports: agent citations: %w", err)
	}
	defer rs.Close()
	if rs.Next() {
		var replies, cited *int64
		if err := rs.Scan(&replies, &cited); err != nil {
			return fmt.Errorf("reports: agent citations: %w", err)
		}
		if replies != nil && cited != nil {
			r.AgentReplies, r.AgentKBCitationPct = *replies, pct(min(*cited, *replies), *replies)
		}
	}
	return rs.Err()
}
