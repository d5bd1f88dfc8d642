package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/pii"
)

// printComplaint prints what `kefu ticket show` adds for complaints: core points, verification,
// responsible party, proposals and return visits.
func printComplaint(out io.Writer, t bot.Ticket, cv bot.ComplaintView, loc *time.Location, m pii.Masker) {
	ts := func(x time.Time) string { return x.In(loc).Format("2006-01-02 15:04") }
	d := cv.Details
	if len(d.CorePoints) > 0 || d.Verification != "" || d.Responsible != "" {
		fmt.Fprintln(out)
		field(out, "cli.ticket.f.complaint", msg("cli.complaint.details", "points", orDash(strings.Join(d.CorePoints, ",")), "responsible", orDash(d.Responsible), "by", orDash(d.UpdatedBy)))
		if d.Verification != "" {
			field(out, "cli.ticket.f.verified", m.Text(d.Verification))
		}
	}
	for _, p := range cv.Proposals {
		fmt.Fprint(out, msg("cli.complaint.proposal", "id", p.ID, "solution", p.Solution, "amount", yuan(p.Amount), "status", p.Status, "by", p.ProposedBy))
		if p.ApprovedBy != "" {
			fmt.Fprint(out, msg("cli.complaint.approved_by", "by", p.ApprovedBy))
		}
		if p.Reason != "" {
			fmt.Fprint(out, msg("cli.complaint.reason", "reason", m.Text(p.Reason)))
		}
		fmt.Fprintln(out)
	}
	for _, v := range cv.Visits {
		state := msg("cli.complaint.visit_due", "at", ts(v.DueAt))
		if v.Done() {
			state = msg("cli.complaint.visit_done", "at", ts(*v.DoneAt), "by", v.DoneBy, "outcome", v.Outcome, "note", m.Text(v.Note))
		}
		say(out, "cli.complaint.visit", "reason", v.Reason, "state", state)
	}
	if len(cv.Tasks) > 0 {
		fmt.Fprintln(out)
		say(out, "cli.complaint.tasks", "no", t.No)
		printTasks(out, cv.Tasks, loc, time.Now(), m)
	}
}

// yuan renders an amount in fen as yuan ("200", "12.50"); "" for 0.
func yuan(fen int64) string {
	if fen == 0 {
		return ""
	}
	if fen%100 == 0 {
		return fmt.Sprintf("%d", fen/100)
	}
	return fmt.Sprintf("%d.%02d", fen/100, fen%100)
}

// housekeep runs the engine's auto-closing and return-visit pings every interval until ctx ends
// (several kefu processes may run it: each close and each ping happens once).
func housekeep(ctx context.Context, eng *bot.Engine, log *slog.Logger, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		res, err := eng.Housekeep(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.ErrorContext(ctx, "housekeeping failed", "err", err)
		case res.AutoClosed > 0 || res.VisitsPinged > 0 || res.TasksPinged > 0:
			log.InfoContext(ctx, "housekeeping", "auto_closed", res.AutoClosed, "visits_pinged", res.VisitsPinged, "tasks_pinged", res.TasksPinged)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func init() {
	commands["complaint"] = command{
		summary: "level | record | propose | approve | reject | visit | housekeep: complaints, solutions, return visits",
		run: func(ctx context.Context, args []string) error {
			return runComplaint(ctx, args, os.Stdout, os.Getenv)
		},
	}
}

const complaintUsage = `kefu complaint level GD… 1|2|3
kefu complaint record GD… [--points attitude,billing] [--responsible agent|product|logistics|other] [--verified "what was checked"]
kefu complaint propose GD… SOLUTION [AMOUNT]   (refund 200, coupon 30, exchange, reship, repair; above your limit a supervisor approves)
kefu complaint approve GD… PROPOSAL_ID         (supervisors)
kefu complaint reject GD… PROPOSAL_ID "reason" (supervisors)
kefu complaint visit GD… satisfied|not_satisfied ["note"]   (records the return visit; not_satisfied reopens)
kefu complaint housekeep                        (auto-close unconfirmed resolved tickets, ping overdue visits; kefu serve does this every minute)
Common flags: --as AGENT (or $KEFU_AGENT), --config FILE. Flags go before the ticket number.`

func runComplaint(ctx context.Context, args []string, out io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w:\n%s", errUsage, complaintUsage)
	}
	sub := args[0]
	fs := flag.NewFlagSet("complaint "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	as := fs.String("as", "", "agent acting (default $KEFU_AGENT, then $USER)")
	cfgPath := fs.String("config", "", "config file")
	points := fs.String("points", "", "record: comma-separated core points")
	responsible := fs.String("responsible", "", "record: responsible party")
	verified := fs.String("verified", "", "record: the verification done")
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("%w: %v\n%s", errUsage, err, complaintUsage)
	}
	rest := fs.Args()
	switch sub {
	case "level", "record", "propose", "approve", "reject", "visit", "housekeep":
	default:
		return fmt.Errorf("%w: unknown complaint subcommand %q\n%s", errUsage, sub, complaintUsage)
	}
	if sub != "housekeep" && len(rest) == 0 {
		return fmt.Errorf("%w: %s\n%s", errUsage, errNoTicket, complaintUsage)
	}
	a, err := openCLI(ctx, *cfgPath, getenv)
	if err != nil {
		return err
	}
	defer a.Close()
	eng := a.engine
	if sub == "housekeep" {
		res, err := eng.Housekeep(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "auto-closed %d, return visits pinged %d, late tasks pinged %d\n", res.AutoClosed, res.VisitsPinged, res.TasksPinged)
		return nil
	}
	ac, err := agentFrom(*as, getenv)
	if err != nil {
		return err
	}
	no := strings.ToUpper(strings.TrimSpace(rest[0]))
	arg := func(i int) string {
		if i < len(rest) {
			return strings.TrimSpace(rest[i])
		}
		return ""
	}
	id := func() (int64, error) {
		n, err := strconv.ParseInt(arg(1), 10, 64)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("%w: a proposal id (see kefu ticket show %s)", errUsage, no)
		}
		return n, nil
	}
	switch sub {
	case "level":
		n, err := strconv.Atoi(arg(1))
		if err != nil {
			return fmt.Errorf("%w: level must be a number like 1\n%s", errUsage, complaintUsage)
		}
		t, err := eng.SetComplaintLevel(ctx, ac, no, n)
		if err != nil {
			return explainComplaint(err, no)
		}
		fmt.Fprintf(out, "%s  %s  complaint level %d\n", t.No, t.Priority, t.ComplaintLevel)
	case "record":
		d := bot.ComplaintDetails{Verification: *verified, Responsible: *responsible}
		if *points != "" {
			for _, p := range strings.Split(*points, ",") {
				d.CorePoints = append(d.CorePoints, strings.TrimSpace(p))
			}
		}
		if len(d.CorePoints) == 0 && d.Verification == "" && d.Responsible == "" {
			return fmt.Errorf("%w: record needs --points, --responsible or --verified\n%s", errUsage, complaintUsage)
		}
		if _, err := eng.RecordComplaint(ctx, ac, no, d); err != nil {
			return explainComplaint(err, no)
		}
		fmt.Fprintf(out, "%s  complaint recorded\n", no)
	case "propose":
		var amount int64
		if arg(2) != "" {
			if amount, err = bot.ParseYuan(arg(2)); err != nil {
				return fmt.Errorf("%w: %v", errUsage, err)
			}
		}
		p, err := eng.Propose(ctx, ac, no, arg(1), amount)
		if err != nil {
			return explainComplaint(err, no)
		}
		fmt.Fprintf(out, "%s  proposal #%d %s %s  %s\n", no, p.ID, p.Solution, yuan(p.Amount), proposalNote(p))
	case "approve", "reject":
		n, err := id()
		if err != nil {
			return err
		}
		var p bot.Proposal
		if sub == "approve" {
			p, err = eng.Approve(ctx, ac, no, n)
		} else {
			if arg(2) == "" {
				return fmt.Errorf("%w: reject needs a reason", errUsage)
			}
			p, err = eng.Reject(ctx, ac, no, n, strings.Join(rest[2:], " "))
		}
		if errors.Is(err, bot.ErrNoProposal) {
			return fmt.Errorf("%s has no proposal #%d (kefu ticket show %s lists them): %w", no, n, no, err)
		}
		if err != nil {
			return explainComplaint(err, no)
		}
		fmt.Fprintf(out, "%s  proposal #%d %s %s  %s\n", no, p.ID, p.Solution, yuan(p.Amount), proposalNote(p))
	case "visit":
		v, err := eng.RecordVisit(ctx, ac, no, arg(1), strings.Join(rest[min(2, len(rest)):], " "))
		if err != nil {
			return explainComplaint(err, no)
		}
		msg := "return visit recorded"
		if v.Outcome == bot.VisitNotSatisfied {
			msg += "; the ticket is reopened"
		}
		fmt.Fprintf(out, "%s  %s: %s\n", no, msg, v.Outcome)
	}
	return nil
}

func proposalNote(p bot.Proposal) string {
	switch p.Status {
	case bot.ProposalApproval:
		return "above your limit: waiting for a supervisor (kefu complaint approve " + p.TicketNo + " " + strconv.FormatInt(p.ID, 10) + ")"
	case bot.ProposalOffered:
		return "offered to the customer"
	case bot.ProposalWithdrawn:
		return "withdrawn (the ticket was resolved or closed)"
	}
	return string(p.Status)
}

// explainComplaint adds the complaint errors to explain's sentences.
func explainComplaint(err error, no string) error {
	switch {
	case errors.Is(err, bot.ErrUnknownSolution), errors.Is(err, bot.ErrNotComplaint), errors.Is(err, bot.ErrNoVisit):
		return fmt.Errorf("%s: %w", no, err)
	case errors.Is(err, bot.ErrConflict):
		return fmt.Errorf("%s: %w", no, err)
	}
	return explain(err, no)
}

// printKnowledge prints the top-3 FAQ suggestions for the ticket (reply with `--faq ID`) and the
// customer's earlier tickets.
func printKnowledge(ctx context.Context, out io.Writer, a *app, t bot.Ticket, m pii.Masker) {
	if hits := a.engine.Suggestions(t, 3); len(hits) > 0 {
		fmt.Fprintln(out)
		say(out, "cli.ticket.faq_suggestions", "no", t.No)
		for _, h := range hits {
			fmt.Fprintf(out, "  %-14s %.2f  %s\n", h.Entry.ID, h.Score, clip(h.Entry.Question, 60))
		}
	}
	hist, err := a.engine.CustomerHistory(ctx, t, 5)
	if err != nil || len(hist) == 0 {
		return
	}
	fmt.Fprintln(out)
	say(out, "cli.ticket.history")
	for _, h := range hist {
		rating := "-"
		if h.Rating > 0 {
			rating = fmt.Sprintf("%d/5", h.Rating)
		}
		fmt.Fprintf(out, "  %s  %s  %s  %s  %s\n", h.No, h.Status, categoryOf(h.Category), msg("cli.ticket.rating", "rating", rating), clip(m.Text(h.Summary), 40))
	}
}
