package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/kefu-dev/kefu/improve"
	"github.com/kefu-dev/kefu/reports"
	"github.com/kefu-dev/kefu/reports/export"
)

func init() {
	commands["report"] = command{
		run: func(ctx context.Context, args []string) error {
			return runReport(ctx, args, os.Stdout, os.Getenv)
		},
	}
}

// The usage text is cli.usage.report in locales/*.cli.yaml.

// reportFlags are the filter flags shared by report and export.
type reportFlags struct {
	from, to, channel, category, priority, agent, gran *string
}

func addReportFlags(fs *flag.FlagSet) reportFlags {
	return reportFlags{
		from:     fs.String("from", "", "first day, YYYY-MM-DD (default 30 days before --to)"),
		to:       fs.String("to", "", "last day, YYYY-MM-DD, inclusive (default today)"),
		channel:  fs.String("channel", "", "only this channel (web, telegram, discord)"),
		category: fs.String("category", "", "only this category"),
		priority: fs.String("priority", "", "only this priority (P0, P1, P2)"),
		agent:    fs.String("agent", "", "only tickets held by this agent id"),
		gran:     fs.String("granularity", "", "trend per day, week or month (default by range)"),
	}
}

// filter turns the flags into a reports.Filter in loc; now is today.
func (rf reportFlags) filter(loc *time.Location, now time.Time) (reports.Filter, error) {
	parse := func(s string) (time.Time, error) {
		t, err := time.ParseInLocation("2006-01-02", s, loc)
		if err != nil {
			return t, usageMsg("cli.report.bad_date", "date", s)
		}
		return t, nil
	}
	today := now.In(loc)
	to := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, loc).AddDate(0, 0, 1)
	if *rf.to != "" {
		t, err := parse(*rf.to)
		if err != nil {
			return reports.Filter{}, err
		}
		to = t.AddDate(0, 0, 1)
	}
	from := to.AddDate(0, 0, -30)
	if *rf.from != "" {
		t, err := parse(*rf.from)
		if err != nil {
			return reports.Filter{}, err
		}
		from = t
	}
	if !from.Before(to) {
		return reports.Filter{}, usageMsg("cli.report.from_after_to")
	}
	return reports.Filter{From: from, To: to, Channel: *rf.channel, Category: *rf.category, Priority: *rf.priority,
		Agent: *rf.agent, Granularity: *rf.gran, Loc: loc, Now: now}, nil
}

func runReport(ctx context.Context, args []string, out io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "config file")
	format := fs.String("format", "table", "table, json or csv")
	rf := addReportFlags(fs)
	if _, err := parseArgs(fs, args, 0, 0, ""); err != nil {
		return err
	}
	switch *format {
	case "table", "json", "csv":
	default:
		return usageMsg("cli.report.bad_format", "format", *format)
	}
	cfg, err := loadConfig(*cfgPath, getenv)
	if err != nil {
		return err
	}
	loc, err := time.LoadLocation(cfg.Timezone)
	if err != nil {
		return fmt.Errorf("timezone: %w", err)
	}
	f, err := rf.filter(loc, improveClock())
	if err != nil {
		return err
	}
	if p, err := cfg.policy(); err == nil {
		f.ChannelTargets = channelTargets(p)
	}
	db, err := openDB(ctx, *cfgPath)
	if err != nil {
		return err
	}
	defer db.Close()
	r, err := reports.Compute(ctx, db, f)
	if err != nil {
		return err
	}
	// The SMART targets whose period overlaps the report's range, each judged over its own period.
	svc := improve.New(improve.Options{DB: db, Loc: loc, Now: func() time.Time { return f.Now }})
	ts, err := svc.Targets(ctx, f.From, f.To)
	if err != nil {
		return err
	}
	st, err := svc.Evaluate(ctx, ts)
	if err != nil {
		return err
	}
	if *format == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			reports.Report
			Targets []improve.TargetRow `json:"targets"`
		}{r, improve.Rows(st)})
	}
	if err := writeReport(out, *format, r, loc); err != nil {
		return err
	}
	if *format == "table" && len(st) > 0 {
		fmt.Fprintln(out)
		say(out, "cli.report.targets")
		printTargets(out, st)
	}
	return nil
}

func writeReport(out io.Writer, format string, r reports.Report, loc *time.Location) error {
	switch format {
	case "json":
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case "csv":
		w := csv.NewWriter(out)
		w.Write([]string{"metric", "value"})
		for _, m := range reports.Flatten(r) {
			w.Write([]string{export.SafeCell(m.Key), m.Value})
		}
		w.Write(nil)
		writeRowsCSV(w, "agent", r.Agents)
		w.Write(nil)
		writeRowsCSV(w, "channel", r.Channels)
		w.Flush()
		return w.Error()
	}
	var tw table
	tw.row(msg("cli.report.period"), fmt.Sprintf("%s – %s", r.From.In(loc).Format("2006-01-02"), r.To.In(loc).Add(-time.Second).Format("2006-01-02")))
	tw.row(msg("cli.report.tickets"), fmt.Sprintf("%d / %d", r.TicketsCreated, r.TicketsResolved))
	backlog := fmt.Sprint(r.Backlog.Total)
	for _, c := range r.Backlog.ByStatus {
		backlog += fmt.Sprintf("  %s %d", c.Key, c.Count)
	}
	tw.row(msg("cli.report.backlog"), backlog)
	tw.row(msg("cli.report.first_response"), reports.Dur(r.FirstResponse.MedianS)+" / "+reports.Dur(r.FirstResponse.P90S))
	tw.row(msg("cli.report.resolution"), reports.Dur(r.Resolution.MedianS)+" / "+reports.Dur(r.Resolution.P90S))
	tw.row(msg("cli.report.sla"), reports.Pct(r.SLAResponseMetPct)+" / "+reports.Pct(r.SLAResolutionMetPct))
	tw.row(msg("cli.report.csat"), fmt.Sprintf("%s (%d, %s)  1–5: %v", reports.Num(r.CSAT.Avg), r.CSAT.Count, reports.Pct(r.CSAT.ResponseRate), r.CSAT.Dist))
	tw.row(msg("cli.report.fcr"), reports.Pct(r.FCRPct))
	tw.row(msg("cli.report.bot", "n", r.Conversations), reports.Pct(r.BotResolvedPct)+" / "+reports.Pct(r.KBCitationPct))
	tw.row(msg("cli.report.kb_agents"), msg("cli.report.of", "pct", reports.Pct(r.AgentKBCitationPct), "n", r.AgentReplies))
	tw.row(msg("cli.report.spearman"), reports.Num(r.ResponseVsCSAT.Spearman))
	complaints := fmt.Sprintf("%d ", r.Complaints.Total)
	for _, c := range r.Complaints.ByLevel {
		complaints += fmt.Sprintf(" L%s %d", c.Key, c.Count)
	}
	tw.row(msg("cli.report.complaints"), complaints+" / "+reports.Pct(r.RepeatComplaintPct))
	tw.row(msg("cli.report.visits"), fmt.Sprintf("%d / %d / %d", r.ReturnVisits.Due, r.ReturnVisits.Done, r.ReturnVisits.Overdue))
	tw.print(out)
	fmt.Fprintln(out)
	say(out, "cli.report.top")
	tw = table{}
	for i, p := range r.TopProblems {
		tw.row(fmt.Sprint(i+1), categoryOf(p.Category), fmt.Sprint(p.Count), reports.Num(&p.Share)+"%")
	}
	tw.print(out)
	for _, t := range []struct {
		title string
		rows  []reports.Row
	}{{"cli.report.agents", r.Agents}, {"cli.report.channels", r.Channels}} {
		fmt.Fprintln(out)
		say(out, t.title)
		tw = table{}
		tw.row(strings.Split(msg("cli.report.rows_header"), "|")...)
		for _, row := range t.rows {
			first := reports.Dur(row.FirstResponse.MedianS)
			if row.FirstResponseTargetS != nil { // the channel's own target
				first += " (≤" + reports.Dur(row.FirstResponseTargetS) + ")"
			}
			tw.row(row.Key, fmt.Sprint(row.Tickets), fmt.Sprint(row.Resolved), first,
				reports.Dur(row.Resolution.MedianS), reports.Pct(row.SLAResponseMetPct), reports.Pct(row.FCRPct), reports.Num(row.CSATAvg))
		}
		tw.print(out)
	}
	return nil
}

func writeRowsCSV(w *csv.Writer, kind string, rows []reports.Row) {
	w.Write([]string{kind, "tickets", "resolved", "first_response_median_s", "first_response_p90_s", "resolution_median_s",
		"resolution_p90_s", "sla_response_met_pct", "sla_resolution_met_pct", "fcr_pct", "csat_avg", "csat_count"})
	for _, r := range rows {
		w.Write([]string{export.SafeCell(r.Key), fmt.Sprint(r.Tickets), fmt.Sprint(r.Resolved), reports.Num(r.FirstResponse.MedianS), reports.Num(r.FirstResponse.P90S),
			reports.Num(r.Resolution.MedianS), reports.Num(r.Resolution.P90S), reports.Num(r.SLAResponseMetPct), reports.Num(r.SLAResolutionMetPct),
			reports.Num(r.FCRPct), reports.Num(r.CSATAvg), fmt.Sprint(r.CSATCount)})
	}
}
