package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-dev/kefu/improve"
)

func init() {
	commands["improve"] = command{
		run: func(ctx context.Context, args []string) error {
			return runImprove(ctx, args, os.Stdout, os.Getenv)
		},
	}
}

// improveUsage is the usage text, cli.usage.improve in locales/*.cli.yaml.
func improveUsage() string { return msg("cli.usage.improve") }

// multi is a repeatable string flag.
type multi []string

func (m *multi) String() string     { return strings.Join(*m, ", ") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

// parseAll parses flags wherever they stand among the arguments and returns the positional ones.
// It is the shared parseArgs (cli.go): `--` ends the flags, an unknown flag is an error.
func parseAll(fs *flag.FlagSet, args []string) ([]string, error) {
	return parseArgs(fs, args, 0, -1, "")
}

// badInput is a localized validation message; it exits 2 like a usage error.
type badInput struct{ msg string }

func (b badInput) Error() string { return b.msg }
func (b badInput) Unwrap() error { return errUsage }

// agentID names an agent the way the CLI does: "alice" is "cli:alice".
func agentID(s string) string {
	s = strings.TrimSpace(s)
	if s != "" && !strings.Contains(s, ":") {
		return "cli:" + s
	}
	return s
}

func runImprove(ctx context.Context, args []string, out io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w:\n%s", errUsage, improveUsage())
	}
	sub := args[0]
	args = args[1:]
	if sub == "target" || sub == "threshold" {
		if len(args) == 0 {
			return fmt.Errorf("%w: %s\n%s", errUsage, msg("cli.improve.set_or_list", "sub", sub), improveUsage())
		}
		sub += " " + args[0]
		args = args[1:]
	}
	fs := flag.NewFlagSet("improve "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	as := fs.String("as", "", "agent acting (default $KEFU_AGENT, then $USER)")
	cfgPath := fs.String("config", "", "config file")
	format := fs.String("format", "table", "table or json")
	var whys, tickets multi
	fs.Var(&whys, "why", "a why of the 5-Why analysis (repeat, in order; 1 to 5)")
	fs.Var(&tickets, "ticket", "a ticket to link (repeatable)")
	category := fs.String("category", "", "problem category (a top-5 row)")
	phenomenon := fs.String("phenomenon", "", "what was observed (现象)")
	rootCause := fs.String("root-cause", "", "root cause (根本原因)")
	status := fs.String("status", "", "list: open or done")
	term := fs.String("term", "", "action: short or long")
	owner := fs.String("owner", "", "owner: a configured agent or supervisor")
	due := fs.String("due", "", "action due date YYYY-MM-DD")
	accept := fs.String("accept", "", "acceptance criterion (验收标准)")
	mine := fs.Bool("mine", false, "actions: only mine")
	all := fs.Bool("all", false, "actions: done ones too")
	weeks := fs.Int("weeks", 4, "effect: weeks before and after the first action done")
	metric := fs.String("metric", "", "metric name (kefu improve metrics)")
	period := fs.String("period", "", "target period: YYYY-MM, YYYY-Qn or YYYY-Www")
	op := fs.String("op", "", "comparison: <= or >= (targets), > or < (thresholds)")
	val := fs.String("value", "", "target or threshold value")
	review := fs.String("review", "", "target review date YYYY-MM-DD")
	name := fs.String("name", "", "threshold name")
	window := fs.Duration("window", 0, "threshold sliding window (e.g. 1h)")
	rest, err := parseAll(fs, args)
	if err != nil {
		return fmt.Errorf("%w: %v\n%s", errUsage, err, improveUsage())
	}
	if *format != "table" && *format != "json" {
		return usageMsg("cli.improve.bad_format", "format", *format)
	}
	a, err := openCLI(ctx, *cfgPath, getenv)
	if err != nil {
		return err
	}
	defer a.Close()
	svc := a.improveService()
	lang := cliLang()
	// explain turns a validation problem into its message in the operator's language.
	explain := func(err error) error {
		var p *improve.Problem
		if errors.As(err, &p) {
			return badInput{improve.Message(err, a.cat.T, lang)}
		}
		return err
	}
	actor := func() (string, error) {
		ac, err := agentFrom(*as, getenv)
		return ac.ID, err
	}
	arg := func(i int, what string) (string, error) {
		if len(rest) <= i {
			return "", fmt.Errorf("%w: %s\n%s", errUsage, msg("cli.improve.needs", "sub", sub, "what", what), improveUsage())
		}
		return rest[i], nil
	}
	emit := func(v any, table func()) error {
		if *format == "json" {
			enc := json.NewEncoder(out)
			enc.SetIndent("", "  ")
			return enc.Encode(v)
		}
		table()
		return nil
	}
	number := func() (float64, error) {
		v, err := strconv.ParseFloat(strings.TrimSpace(*val), 64)
		if err != nil {
			return 0, badInput{a.cat.T(lang, "improve.err.value", nil)}
		}
		return v, nil
	}

	switch sub {
	case "metrics":
		for _, n := range improve.Metrics.Names() {
			m, _ := improve.Metrics.Get(n)
			fmt.Fprintf(out, "%s\t%s\n", n, m.Unit)
		}
		return nil
	case "new":
		ac, err := actor()
		if err != nil {
			return err
		}
		r, err := svc.Create(ctx, ac, improve.NewRecord{Phenomenon: *phenomenon, Whys: whys, RootCause: *rootCause, Category: *category, Tickets: tickets})
		if err != nil {
			return explain(err)
		}
		return emit(r, func() { say(out, "cli.improve.created", "no", r.No, "category", r.Category, "status", r.Status) })
	case "list", "ls":
		rs, err := svc.List(ctx, improve.ListFilter{Status: *status, Category: *category})
		if err != nil {
			return err
		}
		return emit(rs, func() { printRecords(out, rs) })
	case "show":
		no, err := arg(0, "cli.improve.what.record_no")
		if err != nil {
			return err
		}
		r, err := svc.Record(ctx, no)
		if err != nil {
			return explain(err)
		}
		return emit(r, func() { printRecord(out, r, a.loc) })
	case "link":
		no, err := arg(0, "cli.improve.what.record")
		if err != nil {
			return err
		}
		tk, err := arg(1, "cli.improve.what.ticket")
		if err != nil {
			return err
		}
		ac, err := actor()
		if err != nil {
			return err
		}
		if err := svc.LinkTicket(ctx, ac, no, tk); err != nil {
			return explain(err)
		}
		say(out, "cli.improve.linked", "no", strings.ToUpper(no), "ticket", strings.ToUpper(tk))
		return nil
	case "action":
		no, err := arg(0, "cli.improve.what.record")
		if err != nil {
			return err
		}
		ac, err := actor()
		if err != nil {
			return err
		}
		act, err := svc.AddAction(ctx, ac, no, improve.NewAction{Term: *term, Description: strings.Join(rest[1:], " "),
			Owner: agentID(*owner), Due: *due, Acceptance: *accept})
		if err != nil {
			return explain(err)
		}
		return emit(act, func() {
			say(out, "cli.improve.action", "id", act.ID, "no", act.RecordNo, "term", act.Term, "owner", act.Owner, "due", act.Due, "state", act.State)
		})
	case "actions":
		who := ""
		if *mine {
			if who, err = actor(); err != nil {
				return err
			}
		}
		as, err := svc.Actions(ctx, who, *all)
		if err != nil {
			return err
		}
		return emit(as, func() { printActions(out, as) })
	case "state":
		idArg, err := arg(0, "cli.improve.what.action")
		if err != nil {
			return err
		}
		st, err := arg(1, "cli.improve.what.state")
		if err != nil {
			return err
		}
		id, err := strconv.ParseInt(strings.TrimPrefix(idArg, "#"), 10, 64)
		if err != nil {
			return usageMsg("cli.improve.bad_action_id", "id", idArg)
		}
		ac, err := actor()
		if err != nil {
			return err
		}
		act, err := svc.SetActionState(ctx, ac, id, st)
		if err != nil {
			return explain(err)
		}
		return emit(act, func() { say(out, "cli.improve.action_state", "id", act.ID, "no", act.RecordNo, "state", act.State) })
	case "effect":
		no, err := arg(0, "cli.improve.what.record")
		if err != nil {
			return err
		}
		e, err := svc.Effect(ctx, no, *weeks)
		if err != nil {
			return explain(err)
		}
		return emit(e, func() { printEffect(out, e, a.loc) })
	case "target set":
		ac, err := actor()
		if err != nil {
			return err
		}
		v, err := number()
		if err != nil {
			return err
		}
		t, err := svc.SetTarget(ctx, ac, improve.Target{Metric: *metric, Period: *period, Op: *op, Value: v, Owner: agentID(*owner), Review: *review})
		if err != nil {
			return explain(err)
		}
		say(out, "cli.improve.target", "metric", t.Metric, "op", t.Op, "value", fmtNum(t.Value), "period", t.Period, "owner", t.Owner, "review", t.Review)
		return nil
	case "target list":
		var from, to time.Time
		if *period != "" {
			if from, to, err = improve.PeriodRange(*period, a.loc); err != nil {
				return explain(err)
			}
		}
		ts, err := svc.Targets(ctx, from, to)
		if err != nil {
			return err
		}
		st, err := svc.Evaluate(ctx, ts)
		if err != nil {
			return err
		}
		return emit(st, func() { printTargets(out, st) })
	case "threshold set":
		ac, err := actor()
		if err != nil {
			return err
		}
		v, err := number()
		if err != nil {
			return err
		}
		th, err := svc.SetThreshold(ctx, ac, improve.Threshold{Name: *name, Metric: *metric, Op: *op, Value: v, Window: *window})
		if err != nil {
			return explain(err)
		}
		say(out, "cli.improve.threshold", "name", th.Name, "metric", th.Metric, "op", th.Op, "value", fmtNum(th.Value), "window", th.Window)
		return nil
	case "threshold list":
		ths, err := svc.Thresholds(ctx)
		if err != nil {
			return err
		}
		return emit(ths, func() {
			var tw table
			tw.header("cli.improve.thresholds_header")
			for _, th := range ths {
				last := "-"
				if th.LastValue != nil {
					last = fmtNum(*th.LastValue)
				}
				tw.rowf("%s\t%s\t%s %s\t%s\t%s\t%s\n", th.Name, th.Metric, th.Op, fmtNum(th.Value), th.Window, th.State, last)
			}
			tw.print(out)
		})
	case "alerts":
		now := improveClock()
		crossed, err := svc.ScanThresholds(ctx, now)
		if err != nil {
			return err
		}
		late, err := svc.ScanLateActions(ctx, now)
		if err != nil {
			return err
		}
		sent, err := svc.DeliverPings(ctx, now, "cli", a.logNotifier(out))
		if err != nil {
			return err
		}
		say(out, "cli.improve.alerts", "crossed", crossed, "late", late, "sent", sent)
		return nil
	}
	return fmt.Errorf("%w: %s\n%s", errUsage, msg("cli.improve.unknown_sub", "sub", sub), improveUsage())
}

// improveClock is the improvement commands' clock (tests fix it to replay the README on fixed dates).
var improveClock = time.Now

// improveService is the improvement loop on the app's database, agents and time zone.
func (a *app) improveService() *improve.Service {
	return improve.New(improve.Options{DB: a.db, Agents: a.agents, Loc: a.loc, Now: improveClock})
}

// logNotifier renders pings in the Slack language and writes them to out (no Slack: the terminal).
func (a *app) logNotifier(out io.Writer) improve.Notifier {
	t := a.localizedT()
	return func(ctx context.Context, p improve.Ping) error {
		fmt.Fprintf(out, "ping %s%s\n", mentions(p.Recipients), t(a.cfg.Slack.Lang, p.TextKey, p.Args))
		return nil
	}
}

// mentions prefixes Slack ids as mentions and names the others.
func mentions(ids []string) string {
	var b strings.Builder
	for _, id := range ids {
		if u, ok := strings.CutPrefix(id, "slack:"); ok {
			fmt.Fprintf(&b, "<@%s> ", u)
		} else {
			b.WriteString("@" + strings.TrimPrefix(id, "cli:") + " ")
		}
	}
	return b.String()
}

func fmtNum(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func printRecords(out io.Writer, rs []improve.Record) {
	if len(rs) == 0 {
		say(out, "cli.improve.no_records")
		return
	}
	var tw table
	tw.header("cli.improve.records_header")
	for _, r := range rs {
		done := 0
		for _, a := range r.Actions {
			if a.State == improve.StateDone {
				done++
			}
		}
		tw.rowf("%s\t%s\t%s\t%d/%d\t%d\t%s\n", r.No, r.Status, r.Category, done, len(r.Actions), len(r.Tickets), clip(r.Phenomenon, 40))
	}
	tw.print(out)
}

func printRecord(out io.Writer, r improve.Record, loc *time.Location) {
	fmt.Fprintf(out, "%s  %s  %s\n", r.No, r.Status, r.Category)
	improveField(out, msg("cli.improve.f.phenomenon"), r.Phenomenon)
	for i, w := range r.Whys {
		improveField(out, msg("cli.improve.f.why", "n", i+1), w)
	}
	improveField(out, msg("cli.improve.f.root_cause"), orDash(r.RootCause))
	improveField(out, msg("cli.improve.f.tickets"), orDash(strings.Join(r.Tickets, " ")))
	fmt.Fprintln(out)
	printActions(out, r.Actions)
	fmt.Fprintln(out)
	for _, e := range r.Events {
		fmt.Fprintf(out, "%s  %-14s %s: %s\n", e.At.In(loc).Format("2006-01-02 15:04"), e.Kind, e.Actor, e.Text)
	}
}

// improveField prints one "label:  value" line of a record, values aligned by display width.
func improveField(out io.Writer, label, value string) {
	fmt.Fprintf(out, "%s%s%s\n", label, strings.Repeat(" ", max(1, 13-cellWidth(label))), value)
}

func printActions(out io.Writer, as []improve.Action) {
	if len(as) == 0 {
		say(out, "cli.improve.no_actions")
		return
	}
	var tw table
	tw.header("cli.improve.actions_header")
	for _, a := range as {
		tw.rowf("#%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.RecordNo, a.Term, a.Owner, a.Due, a.State, clip(a.Acceptance, 30), clip(a.Description, 40))
	}
	tw.print(out)
}

func printTargets(out io.Writer, ts []improve.TargetStatus) {
	if len(ts) == 0 {
		say(out, "cli.improve.no_targets")
		return
	}
	var tw table
	tw.header("cli.improve.targets_header")
	for _, t := range ts {
		actual, att := "-", "-"
		if t.Actual != nil {
			actual = fmtNum(*t.Actual)
		}
		if t.Attainment != nil {
			att = fmtNum(*t.Attainment) + "%"
		}
		tw.rowf("%s\t%s\t%s %s\t%s\t%v\t%s\t%s\t%s\n", t.Period, t.Metric, t.Op, fmtNum(t.Value), actual, t.Met, att, t.Owner, t.Review)
	}
	tw.print(out)
}

func printEffect(out io.Writer, e improve.Effect, loc *time.Location) {
	if e.Pivot == nil {
		say(out, "cli.improve.effect_none", "no", e.RecordNo, "category", e.Category)
		return
	}
	say(out, "cli.improve.effect", "no", e.RecordNo, "category", e.Category, "at", e.Pivot.In(loc).Format("2006-01-02 15:04"), "weeks", e.Weeks)
	var tw table
	day := func(t time.Time) string { return t.In(loc).Format("2006-01-02") }
	num := func(v *float64) string {
		if v == nil {
			return "-"
		}
		return fmtNum(*v)
	}
	tw.header("cli.improve.effect_header")
	tw.rowf(msg("cli.improve.e.window")+"\t%s – %s\t%s – %s\n", day(e.Before.From), day(e.Before.To), day(e.After.From), day(e.After.To))
	tw.rowf(msg("cli.improve.e.tickets")+"\t%d\t%d\n", e.Before.Tickets, e.After.Tickets)
	tw.rowf(msg("cli.improve.e.per_week")+"\t%s\t%s\n", num(e.Before.PerWeek), num(e.After.PerWeek))
	tw.rowf(msg("cli.improve.e.resolution")+"\t%s\t%s\n", num(e.Before.MedianResolutionH), num(e.After.MedianResolutionH))
	tw.rowf(msg("cli.improve.e.csat")+"\t%s (%d)\t%s (%d)\n", num(e.Before.CSAT), e.Before.CSATCount, num(e.After.CSAT), e.After.CSATCount)
	tw.print(out)
}
