package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/improve"
	"github.com/kefu-dev/kefu/locales"
	"github.com/kefu-dev/kefu/pii"
	"github.com/kefu-dev/kefu/storage"
)

func init() {
	commands["ticket"] = command{
		usage:   ticketUsage,
		summary: "list | show | claim | ack | reply | note | priority | status | resolve | close | escalate tickets (agents without Slack)",
		run: func(ctx context.Context, args []string) error {
			return runTicket(ctx, args, os.Stdout, os.Getenv)
		},
	}
}

const ticketUsage = `kefu ticket list [--status S[,S]] [--mine] [--unassigned] [--overdue] [--limit N]
kefu ticket show [--reveal] GD…      (--reveal: supervisors see personal data unmasked; audited)
kefu ticket claim GD…
kefu ticket ack GD…                   (acknowledge an SLA breach: the repeated pings stop)
kefu ticket reply [--faq ID] GD… "text"   (reaches the customer through the outbox; --faq sends an FAQ answer, cited)
kefu ticket note GD… "internal text"  (never reaches the customer)
kefu ticket priority GD… P0|P1|P2
kefu ticket status GD… in_progress|pending|resolved|closed
kefu ticket resolve [--force "reason"] GD… ["summary"]   (the customer is asked to confirm, then surveyed)
kefu ticket close [--force "reason"] GD…   (only after an agent reply; --force: supervisors, reason recorded)
kefu ticket escalate GD… "reason"
kefu ticket team GD… TEAM|-           (queue for a team of agents[].team; - takes it out of any queue)
kefu ticket task add|done|cancel|reopen|list GD… …   (follow-through tasks: kefu ticket task for help)
Common flags: --as AGENT (or $KEFU_AGENT), --config FILE. Flags may stand before or after the
arguments; put text that begins with "-" after --.`

// ticketArity is how many positional arguments (after the subcommand) each subcommand takes:
// min, max (-1: the rest is text).
var ticketArity = map[string][2]int{
	"list": {0, 0}, "ls": {0, 0}, "show": {1, 1}, "claim": {1, 1}, "ack": {1, 1}, "close": {1, 1},
	"reply": {2, -1}, "note": {2, -1}, "escalate": {2, -1}, "resolve": {1, -1},
	"priority": {2, 2}, "status": {2, 2}, "assign": {2, 2}, "team": {2, 2},
}

func runTicket(ctx context.Context, args []string, out io.Writer, getenv func(string) string) error {
	if len(args) > 0 && args[0] == "task" { // cmd_ticket_task.go
		return runTicketTask(ctx, args[1:], out, getenv)
	}
	fs := flag.NewFlagSet("ticket", flag.ContinueOnError)
	as := fs.String("as", "", "agent acting (default $KEFU_AGENT, then $USER)")
	cfgPath := fs.String("config", "", "config file")
	status := fs.String("status", "", "list: comma-separated statuses (open,in_progress,pending,resolved,closed)")
	mine := fs.Bool("mine", false, "list: only tickets assigned to me")
	unassigned := fs.Bool("unassigned", false, "list: only unassigned tickets")
	overdue := fs.Bool("overdue", false, "list: only tickets past a due time")
	limit := fs.Int("limit", 50, "list: at most this many")
	reveal := fs.Bool("reveal", false, "show: personal data unmasked (supervisors only; recorded in the audit log)")
	faqID := fs.String("faq", "", "reply: send this FAQ entry's answer (recorded as a knowledge-base citation)")
	force := fs.String("force", "", "resolve/close: a supervisor's reason to resolve or close a ticket nobody answered")
	pos, err := parseArgs(fs, args, 1, -1, "subcommand (list, show, claim, reply, …)")
	if err != nil {
		return err
	}
	sub, rest := pos[0], pos[1:]
	ar, ok := ticketArity[sub]
	if sub == "reply" && *faqID != "" { // the FAQ entry is the text
		ar = [2]int{1, 1}
	}
	switch {
	case !ok:
		return usagef("unknown ticket subcommand %q", sub)
	case len(rest) < ar[0] && ar[0] == 1, len(rest) < 1 && ar[0] > 1:
		return usagef("%s needs a ticket number (GDyyyymmddNNN)", sub)
	case len(rest) < ar[0]:
		return usagef("%s needs a ticket number and %s", sub, map[string]string{"reply": "a text", "note": "a text",
			"escalate": "a reason", "priority": "P0, P1 or P2", "status": "a status", "assign": "an agent", "team": "a team (or -)"}[sub])
	case ar[1] >= 0 && len(rest) > ar[1]:
		return usagef("unexpected argument %q", rest[ar[1]])
	}

	a, err := openCLI(ctx, *cfgPath, getenv)
	if err != nil {
		return err
	}
	defer a.Close()
	desk := bot.Desk(a.engine)

	actor := func() (bot.Actor, error) { return agentFrom(*as, getenv) }
	needNo := func(n int) (string, error) {
		if len(rest) < n {
			return "", usagef("%s", errNoTicket)
		}
		return strings.ToUpper(strings.TrimSpace(rest[0])), nil
	}
	text := func() string { return strings.TrimSpace(strings.Join(rest[1:], " ")) }

	switch sub {
	case "list", "ls":
		f := bot.TicketFilter{Unassigned: *unassigned, Overdue: *overdue, Limit: *limit}
		if *status != "" {
			for _, s := range strings.Split(*status, ",") {
				st := bot.Status(strings.TrimSpace(s))
				if !validStatus(st) {
					return fmt.Errorf("%w: unknown status %q", errUsage, s)
				}
				f.Statuses = append(f.Statuses, st)
			}
		}
		if *mine {
			ac, err := actor()
			if err != nil {
				return err
			}
			f.Assignee = ac.ID
		}
		ts, err := desk.ListTickets(ctx, f)
		if err != nil {
			return err
		}
		printTickets(out, ts, a.loc, time.Now())
		return nil
	case "show":
		no, err := needNo(1)
		if err != nil {
			return err
		}
		t, evs, err := desk.Ticket(ctx, no)
		if err != nil {
			return explain(err, no)
		}
		m := t.Masker()
		if *reveal {
			ac, err := actor()
			if err != nil {
				return err
			}
			if !a.engine.IsSupervisor(ac.ID) {
				return fmt.Errorf("not allowed: only a supervisor (`supervisor: true` in agents of kefu.yaml) may --reveal personal data: %w", bot.ErrForbidden)
			}
			// Recorded before anything is shown: no record, no reveal.
			if err := a.db.LogAccess(ctx, storage.Access{Actor: ac.ID, Action: storage.AccessReveal, Via: "cli", TicketNo: t.No, CustomerID: t.CustomerID}); err != nil {
				return err
			}
			m = pii.Reveal
		}
		intake, err := intakeLines(ctx, a, t, m)
		if err != nil {
			return err
		}
		printTicket(out, t, evs, a.loc, m, intake...)
		cv, err := a.engine.Complaint(ctx, t)
		if err != nil {
			return err
		}
		printComplaint(out, t, cv, a.loc, m)
		printKnowledge(ctx, out, a, t, m)
		// 「已知问题 IMP-…」: the category has an open improvement record.
		known, err := improve.KnownIssues(ctx, a.db, t.Category)
		if err != nil {
			return err
		}
		for _, no := range known {
			fmt.Fprintf(out, "\n%s\n", a.cat.T(a.cfg.DefaultLang, "improve.known_issue", map[string]any{"no": no}))
		}
		return nil
	}

	no, err := needNo(1)
	if err != nil {
		return err
	}
	ac, err := actor()
	if err != nil {
		return err
	}
	var t bot.Ticket
	switch sub {
	case "ack":
		if err := a.ackSLA(ctx, ac, no); err != nil {
			return explain(err, no)
		}
		t, _, err = desk.Ticket(ctx, no)
		if err == nil {
			fmt.Fprintf(out, "%s  %s  %s  ack ok: SLA reminders stop\n", t.No, t.Priority, t.Status)
			return nil
		}
	case "claim":
		t, err = desk.Claim(ctx, ac, no)
	case "reply":
		if *faqID != "" {
			t, err = a.engine.ReplyFAQ(ctx, ac, no, *faqID)
			if errors.Is(err, bot.ErrNotFound) {
				return fmt.Errorf("no FAQ entry %q (see kefu kb list): %w", *faqID, err)
			}
			break
		}
		if text() == "" {
			return fmt.Errorf("%w: reply needs a text", errUsage)
		}
		t, err = desk.Reply(ctx, ac, no, text())
	case "note":
		if text() == "" {
			return fmt.Errorf("%w: note needs a text", errUsage)
		}
		t, err = desk.Note(ctx, ac, no, text())
	case "priority":
		p := bot.Priority(strings.ToUpper(text()))
		if p != bot.P0 && p != bot.P1 && p != bot.P2 {
			return fmt.Errorf("%w: priority must be P0, P1 or P2", errUsage)
		}
		t, err = desk.SetPriority(ctx, ac, no, p)
	case "status":
		st := bot.Status(text())
		if !validStatus(st) || st == bot.StatusOpen {
			return fmt.Errorf("%w: status must be in_progress, pending, resolved or closed", errUsage)
		}
		t, err = desk.SetStatus(ctx, ac, no, st)
	case "resolve":
		if *force != "" {
			t, err = a.engine.ForceResolve(ctx, ac, no, text(), *force)
		} else {
			t, err = desk.Resolve(ctx, ac, no, text())
		}
	case "close":
		if *force != "" {
			t, err = a.engine.ForceClose(ctx, ac, no, *force)
		} else {
			t, err = desk.Close(ctx, ac, no)
		}
	case "escalate":
		if text() == "" {
			return fmt.Errorf("%w: escalate needs a reason", errUsage)
		}
		t, err = desk.Escalate(ctx, ac, no, text())
	case "assign":
		if text() == "" {
			return fmt.Errorf("%w: assign needs an agent", errUsage)
		}
		assignee := text()
		if !strings.Contains(assignee, ":") {
			assignee = "cli:" + assignee
		}
		t, err = desk.Assign(ctx, ac, no, assignee)
	case "team":
		team := text()
		if team == "-" {
			team = ""
		}
		t, err = a.engine.AssignTeam(ctx, ac, no, team)
	default:
		return usagef("unknown ticket subcommand %q", sub)
	}
	var wc *bot.WindowClosedError
	if errors.As(err, &wc) { // refused at once: when the platform's window closed, and what to do instead
		return errors.New(a.cat.T(a.cfg.DefaultLang, wc.Key(), wc.Args(func(t time.Time) string {
			return t.In(a.loc).Format("2006-01-02 15:04 MST")
		})))
	}
	if err != nil {
		return explain(err, no)
	}
	fmt.Fprintf(out, "%s  %s  %s  %s  assignee=%s\n", t.No, t.Priority, t.Status, sub+" ok", orDash(t.Assignee))
	return nil
}

func validStatus(s bot.Status) bool {
	switch s {
	case bot.StatusOpen, bot.StatusInProgress, bot.StatusPending, bot.StatusResolved, bot.StatusClosed:
		return true
	}
	return false
}

// explain turns the desk's sentinel errors into plain sentences for the terminal.
func explain(err error, no string) error {
	switch {
	case errors.Is(err, bot.ErrUnknownTkt), errors.Is(err, bot.ErrNotFound):
		return fmt.Errorf("no ticket %s", no)
	case errors.Is(err, bot.ErrSupervisorOnly):
		return fmt.Errorf("not allowed: only a supervisor may (supervisor: true in `agents` of kefu.yaml): %w", err)
	case errors.Is(err, bot.ErrForbidden):
		return fmt.Errorf("not allowed: you are not a configured agent (see `agents` in kefu.yaml): %w", err)
	case errors.Is(err, bot.ErrConflict):
		return fmt.Errorf("%s is already claimed by someone else: %w", no, err)
	case errors.Is(err, bot.ErrClosed):
		return fmt.Errorf("%s is closed", no)
	case errors.Is(err, bot.ErrOpenTasks): // the message names the open tasks
		return fmt.Errorf("%s: %w; mark them done (kefu ticket task done %s ID), or a supervisor uses --force \"reason\"", no, err, no)
	case errors.Is(err, bot.ErrNoReply):
		return fmt.Errorf("%s has no agent reply yet: reply first, or a supervisor uses --force \"reason\": %w", no, err)
	}
	return err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func printTickets(out io.Writer, ts []bot.Ticket, loc *time.Location, now time.Time) {
	if len(ts) == 0 {
		fmt.Fprintln(out, "no tickets")
		return
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NUMBER\tPRI\tSTATUS\tCATEGORY\tCHANNEL\tASSIGNEE\tCREATED\tRESPONSE DUE\tRESOLUTION DUE\tSUMMARY")
	// The due times are the SLA policy's (business hours, pauses while pending, recomputed on
	// priority changes and reopenings), kept by the store with every ticket change.
	for _, t := range ts {
		due := t.FirstResponseDue.In(loc).Format("01-02 15:04")
		if t.FirstResponseAt != nil {
			due = "answered"
		} else if t.Open() && now.After(t.FirstResponseDue) {
			due += " OVERDUE"
		}
		res := t.ResolutionDue.In(loc).Format("01-02 15:04")
		if t.Open() && now.After(t.ResolutionDue) {
			res += " OVERDUE"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.No, t.Priority, t.Status, categoryOf(t.Category), t.Channel,
			orDash(t.Assignee), t.CreatedAt.In(loc).Format("01-02 15:04"), due, res, clip(t.Masker().Text(t.Summary), 40))
	}
	tw.Flush()
}

// printTicket prints a ticket and its trail with personal data masked by m (pii.Reveal: unmasked).
// extra lines (the intake details) follow the customer's.
func printTicket(out io.Writer, t bot.Ticket, evs []bot.TicketEvent, loc *time.Location, m pii.Masker, extra ...string) {
	ts := func(x time.Time) string { return x.In(loc).Format("2006-01-02 15:04") }
	fmt.Fprintf(out, "%s  %s  %s  %s\n", t.No, t.Priority, t.Status, categoryOf(t.Category))
	fmt.Fprintf(out, "customer:  %s (%s, lang %s)\n", m.Name(t.CustomerName), t.Channel, t.Lang)
	if t.CustomerPhone != "" {
		fmt.Fprintf(out, "phone:     %s\n", m.Phone(t.CustomerPhone))
	}
	for _, l := range extra {
		fmt.Fprintln(out, l)
	}
	fmt.Fprintf(out, "assignee:  %s\n", orDash(t.Assignee))
	fmt.Fprintf(out, "created:   %s\n", ts(t.CreatedAt))
	fmt.Fprintf(out, "due:       first response %s, resolution %s\n", ts(t.FirstResponseDue), ts(t.ResolutionDue))
	if t.OrderNo != "" {
		fmt.Fprintf(out, "order:     %s\n", m.Text(t.OrderNo))
	}
	if t.Complaint || t.Escalated {
		fmt.Fprintf(out, "flags:     complaint=%v escalated=%v\n", t.Complaint, t.Escalated)
	}
	if t.ComplaintLevel > 0 {
		fmt.Fprintf(out, "complaint: level %d", t.ComplaintLevel)
		if t.RepeatOf != "" {
			fmt.Fprintf(out, ", REPEAT of %s", t.RepeatOf)
		}
		fmt.Fprintln(out)
	}
	if t.Rating > 0 {
		fmt.Fprintf(out, "rating:    %d/5 %s\n", t.Rating, m.Text(t.RatingComment))
	}
	fmt.Fprintf(out, "summary:   %s\n\n", m.Text(t.Summary))
	for _, e := range evs {
		vis := ""
		if e.Internal {
			vis = " (internal)"
		}
		ch := ""
		if e.Channel != "" {
			ch = " via " + string(e.Channel)
		}
		fmt.Fprintf(out, "%s  %-16s %s%s%s: %s\n", ts(e.At), e.Kind, e.Actor, ch, vis, m.Text(e.Text))
		for _, at := range e.Attachments {
			fmt.Fprintf(out, "                    attachment: %s %s (%d bytes)\n", at.Type, m.Text(at.Name), at.Size)
		}
	}
}

func clip(s string, n int) string {
	r := []rune(strings.ReplaceAll(s, "\n", " "))
	if len(r) <= n {
		return string(r)
	}
	return string(r[:n-1]) + "…"
}

// categoryOf names a ticket's category for the terminal; an uncategorized ticket is never blank.
// The label is the catalogs' category.none in both languages: 「未分类 / Uncategorized」.
func categoryOf(c string) string {
	if c == "" {
		cat := locales.Default()
		return cat.T(locales.ZhCN, "category.none", nil) + " / " + cat.T(locales.En, "category.none", nil)
	}
	return c
}
