// Package export writes tickets (every field and the audit trail) as CSV or Excel, and the seeds'
// monthly 服务改进分析表 (top-5 problems, handling-time distribution, satisfaction vs response speed)
// as Excel, with github.com/xuri/excelize/v2. Personal data is masked by package pii as everywhere
// outside the customer's own chat: names and phones (张*, 138****5678), and every phone, ID number,
// e-mail address, bank card and the customer's name inside the texts.
package export

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/kefu-dev/kefu/pii"
	"github.com/kefu-dev/kefu/reports"
	"github.com/kefu-dev/kefu/storage"
)

// TicketColumns are the columns of a ticket export, in order.
var TicketColumns = []string{"no", "created_at", "channel", "category", "priority", "status", "assignee", "customer_name",
	"customer_phone", "lang", "summary", "description", "order_no", "complaint", "escalated", "reopens",
	"first_response_due", "first_response_at", "first_response_s", "resolution_due", "resolved_at", "resolution_s",
	"closed_at", "rating", "rating_comment"}

// EventColumns are the columns of the events sheet.
var EventColumns = []string{"ticket_no", "at", "actor", "kind", "text", "channel", "internal"}

type ticketRow struct {
	id   int64
	vals []any
}

// tickets streams the cohort's tickets to fn, oldest first.
func tickets(ctx context.Context, db *storage.DB, f reports.Filter, loc *time.Location, fn func(ticketRow) error) error {
	where, args := f.Where()
	q := `SELECT t.id, t.no, t.created_at, t.channel, t.category, t.priority, t.status, t.assignee, t.customer_name, t.customer_phone,
 t.lang, t.summary, t.description, t.order_no, t.complaint, t.escalated, t.reopens, t.first_response_due, t.first_response_at,
 t.resolution_due, t.resolved_at, t.closed_at, t.rating, t.rating_comment FROM tickets t WHERE ` + where + ` ORDER BY t.created_at, t.id`
	rs, err := db.Gorm().WithContext(ctx).Raw(q, args...).Rows()
	if err != nil {
		return fmt.Errorf("export: tickets: %w", err)
	}
	defer rs.Close()
	ts := func(t time.Time) string { return t.In(loc).Format("2006-01-02 15:04:05") }
	nts := func(t sql.NullTime) string {
		if !t.Valid {
			return ""
		}
		return ts(t.Time)
	}
	secs := func(from time.Time, to sql.NullTime) any {
		if !to.Valid {
			return ""
		}
		return int64(to.Time.Sub(from).Seconds())
	}
	for rs.Next() {
		var (
			id, reopens                                                                int64
			rating                                                                     int
			no, ch, cat, prio, st, asg, name, phone, lang, sum, desc, order, ratingCmt string
			complaint, escalated                                                       bool
			created, frDue, resDue                                                     time.Time
			frAt, resAt, closedAt                                                      sql.NullTime
		)
		if err := rs.Scan(&id, &no, &created, &ch, &cat, &prio, &st, &asg, &name, &phone, &lang, &sum, &desc, &order,
			&complaint, &escalated, &reopens, &frDue, &frAt, &resDue, &resAt, &closedAt, &rating, &ratingCmt); err != nil {
			return fmt.Errorf("export: tickets: %w", err)
		}
		if err := openAll(db.Keys(), &name, &phone, &sum, &desc, &ratingCmt); err != nil {
			return fmt.Errorf("export: ticket %s: %w", no, err)
		}
		m := pii.Masker{Names: []string{name}}
		r := ticketRow{id: id, vals: []any{no, ts(created), ch, cat, prio, st, asg, m.Name(name), m.Phone(phone), lang,
			m.Text(sum), m.Text(desc), m.Text(order), complaint, escalated, reopens, ts(frDue), nts(frAt), secs(created, frAt), ts(resDue), nts(resAt),
			secs(created, resAt), nts(closedAt), rating, m.Text(ratingCmt)}}
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rs.Err(); err != nil {
		return fmt.Errorf("export: tickets: %w", err)
	}
	return nil
}

// events streams the audit trail of the cohort's tickets, by ticket and time.
func events(ctx context.Context, db *storage.DB, f reports.Filter, loc *time.Location, fn func(ticketID int64, vals []any) error) error {
	where, args := f.Where()
	q := `SELECT e.ticket_id, t.no, e.at, e.actor, e.kind, e.text, e.channel, e.internal, t.customer_name FROM ticket_events e
 JOIN tickets t ON t.id = e.ticket_id WHERE ` + where + ` ORDER BY t.created_at, t.id, e.id`
	rs, err := db.Gorm().WithContext(ctx).Raw(q, args...).Rows()
	if err != nil {
		return fmt.Errorf("export: events: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var (
			tid                            int64
			no, actor, kind, text, c, name string
			at                             time.Time
			internal                       bool
		)
		if err := rs.Scan(&tid, &no, &at, &actor, &kind, &text, &c, &internal, &name); err != nil {
			return fmt.Errorf("export: events: %w", err)
		}
		if err := openAll(db.Keys(), &text, &name); err != nil {
			return fmt.Errorf("export: events of %s: %w", no, err)
		}
		text = pii.Masker{Names: []string{name}}.Text(text)
		if err := fn(tid, []any{no, at.In(loc).Format("2006-01-02 15:04:05"), actor, kind, text, c, internal}); err != nil {
			return err
		}
	}
	if err := rs.Err(); err != nil {
		return fmt.Errorf("export: events: %w", err)
	}
	return nil
}

// openAll opens sealed personal data read with raw SQL, in place.
func openAll(keys *storage.Keyring, vs ...*string) error {
	for _, v := range vs {
		s, err := keys.Open(*v)
		if err != nil {
			return err
		}
		*v = s
	}
	return nil
}

// TicketsCSV writes one line per ticket; the last column, "events", holds the ticket's audit trail,
// one event per line ("2026-11-01 10:10:00 cli:alice agent_reply: text").
func TicketsCSV(ctx context.Context, db *storage.DB, f reports.Filter, loc *time.Location, w io.Writer) error {
	trail := map[int64]*strings.Builder{}
	err := events(ctx, db, f, loc, func(tid int64, v []any) error {
		b := trail[tid]
		if b == nil {
			b = &strings.Builder{}
			trail[tid] = b
		} else {
			b.WriteByte('\n')
		}
		fmt.Fprintf(b, "%s %s %s", v[1], v[2], v[3])
		if s := v[4].(string); s != "" {
			b.WriteString(": " + s)
		}
		return nil
	})
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if _, err := io.WriteString(w, "\ufeff"); err != nil { // BOM: Excel opens UTF-8 Chinese text correctly
		return fmt.Errorf("export: csv: %w", err)
	}
	cw.Write(append(append([]string{}, TicketColumns...), "events"))
	err = tickets(ctx, db, f, loc, func(r ticketRow) error {
		rec := make([]string, 0, len(r.vals)+1)
		for _, v := range safeVals(r.vals) {
			rec = append(rec, fmt.Sprint(v))
		}
		ev := ""
		if b := trail[r.id]; b != nil {
			ev = b.String()
		}
		return cw.Write(append(rec, SafeCell(ev)))
	})
	if err != nil {
		return err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("export: csv: %w", err)
	}
	return nil
}

// TicketsXLSX writes a workbook with a Tickets sheet and an Events sheet (streamed, so large ranges
// do not hold every cell in memory).
func TicketsXLSX(ctx context.Context, db *storage.DB, f reports.Filter, loc *time.Location, w io.Writer) error {
	x := excelize.NewFile()
	defer x.Close()
	if err := x.SetSheetName("Sheet1", "Tickets"); err != nil {
		return fmt.Errorf("export: xlsx: %w", err)
	}
	sw, err := x.NewStreamWriter("Tickets")
	if err != nil {
		return fmt.Errorf("export: xlsx: %w", err)
	}
	row := 1
	put := func(sw *excelize.StreamWriter, vals []any) error {
		cell, _ := excelize.CoordinatesToCellName(1, row)
		row++
		return sw.SetRow(cell, vals)
	}
	if err := put(sw, anys(TicketColumns)); err != nil {
		return fmt.Errorf("export: xlsx: %w", err)
	}
	if err := tickets(ctx, db, f, loc, func(r ticketRow) error { return put(sw, safeVals(r.vals)) }); err != nil {
		return err
	}
	if err := sw.Flush(); err != nil {
		return fmt.Errorf("export: xlsx: %w", err)
	}
	if _, err := x.NewSheet("Events"); err != nil {
		return fmt.Errorf("export: xlsx: %w", err)
	}
	if sw, err = x.NewStreamWriter("Events"); err != nil {
		return fmt.Errorf("export: xlsx: %w", err)
	}
	row = 1
	if err := put(sw, anys(EventColumns)); err != nil {
		return fmt.Errorf("export: xlsx: %w", err)
	}
	if err := events(ctx, db, f, loc, func(_ int64, v []any) error { return put(sw, safeVals(v)) }); err != nil {
		return err
	}
	if err := sw.Flush(); err != nil {
		return fmt.Errorf("export: xlsx: %w", err)
	}
	if err := x.Write(w); err != nil {
		return fmt.Errorf("export: xlsx: %w", err)
	}
	return nil
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// MonthFilter is the filter of one calendar month in loc ("2026-11").
func MonthFilter(month string, loc *time.Location) (reports.Filter, error) {
	start, err := time.ParseInLocation("2006-01", month, loc)
	if err != nil {
		return reports.Filter{}, fmt.Errorf("export: month %q: want YYYY-MM", month)
	}
	return reports.Filter{From: start, To: start.AddDate(0, 1, 0), Loc: loc, Granularity: "day"}, nil
}

// Monthly sheet names (the seeds' 服务改进分析表).
const (
	SheetSummary   = "摘要 Summary"
	SheetTop5      = "高频问题TOP5"
	SheetHandling  = "解决时效分布"
	SheetSatisfied = "满意度关联"
	SheetAgents    = "客服 Agents"
)

// Sheet is an extra sheet of the monthly workbook (the improvement records' sheet, package improve):
// a header row and rows of strings and numbers. Text cells are neutralized with SafeCell.
type Sheet struct {
	Name string
	Rows [][]any
}

// MonthlyXLSX writes the 服务改进分析表 of r (compute it with MonthFilter's filter): summary numbers,
// the top-5 problems with a bar chart, the resolution-time box plot per category (hours), and the mean
// rating per first-response class with Spearman's rho; then the extra sheets.
func MonthlyXLSX(r reports.Report, month string, w io.Writer, extra ...Sheet) error {
	x := excelize.NewFile()
	defer x.Close()
	must := func(err error) error {
		if err != nil {
			return fmt.Errorf("export: monthly: %w", err)
		}
		return nil
	}
	if err := must(x.SetSheetName("Sheet1", SheetSummary)); err != nil {
		return err
	}
	for _, s := range []string{SheetTop5, SheetHandling, SheetSatisfied, SheetAgents} {
		if _, err := x.NewSheet(s); err != nil {
			return must(err)
		}
	}
	set := func(sheet string, row int, vals ...any) error {
		cell, _ := excelize.CoordinatesToCellName(1, row)
		return x.SetSheetRow(sheet, cell, &vals)
	}
	bold, _ := x.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	hours := func(v float64) float64 { return float64(int64(v/36+0.5)) / 100 }

	if err := set(SheetSummary, 1, "服务改进分析表 "+month); err != nil {
		return must(err)
	}
	x.SetCellStyle(SheetSummary, "A1", "A1", bold)
	set(SheetSummary, 2, "指标 metric", "数值 value")
	for i, m := range reports.Flatten(r) {
		set(SheetSummary, i+3, m.Key, m.Value)
	}
	x.SetColWidth(SheetSummary, "A", "A", 36)

	set(SheetTop5, 1, "排名 rank", "问题类型 category", "数量 count", "占比 share %")
	for i, p := range r.TopProblems {
		set(SheetTop5, i+2, i+1, categoryCell(p.Category), p.Count, p.Share)
	}
	if n := len(r.TopProblems); n > 0 {
		if err := x.AddChart(SheetTop5, "F2", &excelize.Chart{
			Type:   excelize.Bar,
			Series: []excelize.ChartSeries{{Name: "'" + SheetTop5 + "'!$C$1", Categories: fmt.Sprintf("'%s'!$B$2:$B$%d", SheetTop5, n+1), Values: fmt.Sprintf("'%s'!$C$2:$C$%d", SheetTop5, n+1)}},
			Title:  excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: "高频问题TOP5"}}},
		}); err != nil {
			return must(err)
		}
	}

	set(SheetHandling, 1, "问题类型 category", "工单数 n", "最短 min h", "Q1 h", "中位数 median h", "Q3 h", "最长 max h")
	for i, b := range r.ResolutionBox {
		set(SheetHandling, i+2, categoryCell(b.Category), b.N, hours(b.Min), hours(b.Q1), hours(b.Median), hours(b.Q3), hours(b.Max))
	}

	set(SheetSatisfied, 1, "首次响应 first response", "平均评分 mean CSAT", "评分数 ratings")
	for i, b := range r.ResponseVsCSAT.Buckets {
		var m any = ""
		if b.MeanCSAT != nil {
			m = *b.MeanCSAT
		}
		set(SheetSatisfied, i+2, b.Bucket, m, b.Count)
	}
	n := len(r.ResponseVsCSAT.Buckets) + 3
	set(SheetSatisfied, n, "Spearman ρ (响应时间 vs 评分)", reports.Num(r.ResponseVsCSAT.Spearman), "n = "+strconv.Itoa(r.ResponseVsCSAT.N))

	set(SheetAgents, 1, "客服 agent", "工单 tickets", "已解决 resolved", "首响中位 first response median h", "解决中位 resolution median h",
		"响应达标 SLA response %", "一次解决 FCR %", "满意度 CSAT")
	for i, a := range r.Agents {
		h := func(v *float64) any {
			if v == nil {
				return ""
			}
			return hours(*v)
		}
		p := func(v *float64) any {
			if v == nil {
				return ""
			}
			return *v
		}
		set(SheetAgents, i+2, a.Key, a.Tickets, a.Resolved, h(a.FirstResponse.MedianS), h(a.Resolution.MedianS), p(a.SLAResponseMetPct), p(a.FCRPct), p(a.CSATAvg))
	}
	for _, sh := range extra {
		if _, err := x.NewSheet(sh.Name); err != nil {
			return must(err)
		}
		for i, row := range sh.Rows {
			if err := set(sh.Name, i+1, safeVals(row)...); err != nil {
				return must(err)
			}
		}
		if len(sh.Rows) > 0 {
			x.SetCellStyle(sh.Name, "A1", "Z1", bold)
		}
	}
	if err := x.Write(w); err != nil {
		return must(err)
	}
	return nil
}

// Uncategorized names the tickets without a category in the workbook's bilingual sheets (the
// catalogs' category.none in both languages).
const Uncategorized = "未分类 Uncategorized"

func categoryCell(c string) string {
	if c == "" {
		return Uncategorized
	}
	return c
}
