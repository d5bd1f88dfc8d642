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
		run: func(ctx context.Context, args []string) error {
			return runComplaint(ctx, args, os.Stdout, os.Getenv)
		},
	}
}

// complaintUsage is the usage text, cli.usage.complaint in locales/*.cli.yaml.
func complaintUsage() string { return msg("cli.usage.complaint") }

func runComplaint(ctx context.Context, args []string, out io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w:\n%s", errUsage, complaintUsage())
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
		return fmt.Errorf("%w: %v\n%s", errUsage, err, complaintUsage())
	}
	rest := fs.Args()
	switch sub {
	case "level", "record", "propose", "approve", "reject", "visit", "housekeep":
	default:
		return fmt.Errorf("%w: %s\n%s", errUsage, msg("cli.complaint.unknown_sub", "sub", sub), complaintUsage())
	}
	if sub != "housekeep" && len(rest) == 0 {
		return fmt.Errorf("%w: %s\n%s", errUsage, msg("cli.ticket.no_required"), complaintUsage())
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
		say(out, "cli.complaint.housekept", "closed", res.AutoClosed, "visits", res.VisitsPinged, "tasks", res.TasksPinged)
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
			return 0, usageMsg("cli.complaint.needs_id", "no", no)
		}
		return n, nil
	}
	switch sub {
	case "level":
		n, err := strconv.Atoi(arg(1))
		if err != nil {
			return fmt.Errorf("%w: %s\n%s", errUsage, msg("cli.complaint.bad_level"), complaintUsage())
		}
		t, err := eng.SetComplaintLevel(ctx, ac, no, n)
		if err != nil {
			return explainComplaint(err, no)
		}
		say(out, "cli.complaint.leveled", "no", t.No, "priority", t.Priority, "level", t.ComplaintLevel)
	case "record":
		d := bot.ComplaintDetails{Verification: *verified, Responsible: *responsible}
		if *points != "" {
			for _, p := range strings.Split(*points, ",") {
				d.CorePoints = append(d.CorePoints, strings.TrimSpace(p))
			}
		}
		if len(d.CorePoints) == 0 && d.Verification == "" && d.Responsible == "" {
			return fmt.Errorf("%w: %s\n%s", errUsage, msg("cli.complaint.record_needs"), complaintUsage())
		}
		if _, err := eng.RecordComplaint(ctx, ac, no, d); err != nil {
			return explainComplaint(err, no)
		}
		say(out, "cli.complaint.recorded", "no", no)
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
		say(out, "cli.complaint.proposed", "no", no, "id", p.ID, "solution", p.Solution, "amount", yuan(p.Amount), "note", proposalNote(p))
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
				return usageMsg("cli.complaint.reject_needs")
			}
			p, err = eng.Reject(ctx, ac, no, n, strings.Join(rest[2:], " "))
		}
		if errors.Is(err, bot.ErrNoProposal) {
			return failMsg(err, "cli.complaint.no_proposal", "no", no, "id", n)
		}
		if err != nil {
			return explainComplaint(err, no)
		}
		say(out, "cli.complaint.proposed", "no", no, "id", p.ID, "solution", p.Solution, "amount", yuan(p.Amount), "note", proposalNote(p))
	case "visit":
		v, err := eng.RecordVisit(ctx, ac, no, arg(1), strings.Join(rest[min(2, len(rest)):], " "))
		if err != nil {
			return explainComplaint(err, no)
		}
		say(out, "cli.complaint.visited", "no", no, "outcome", v.Outcome, "reopened", v.Outcome == bot.VisitNotSatisfied)
	}
	return nil
}

func proposalNote(p bot.Proposal) string {
	switch p.Status {
	case bot.ProposalApproval:
		return msg("cli.complaint.awaiting", "no", p.TicketNo, "id", p.ID)
	case bot.ProposalOffered:
		return msg("cli.complaint.offered")
	case bot.ProposalWithdrawn:
		return msg("cli.complaint.withdrawn")
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
