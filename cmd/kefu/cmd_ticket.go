package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/improve"
	"github.com/kefu-dev/kefu/locales"
	"github.com/kefu-dev/kefu/pii"
	"github.com/kefu-dev/kefu/storage"
)

func init() {
	commands["ticket"] = command{
		run: func(ctx context.Context, args []string) error {
			return runTicket(ctx, args, os.Stdout, os.Getenv)
		},
	}
}

// The usage text is cli.usage.ticket in locales/*.cli.yaml.

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
	pos, err := parseArgs(fs, args, 1, -1, "cli.what.ticket_sub")
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
		return usageMsg("cli.ticket.unknown_sub", "sub", sub)
	case len(rest) < ar[0] && ar[0] == 1, len(rest) < 1 && ar[0] > 1:
		return usageMsg("cli.ticket.needs_no", "sub", sub)
	case len(rest) < ar[0]:
		return usageMsg("cli.ticket.needs_no_and", "sub", sub, "what", "cli.ticket.what."+sub)
	case ar[1] >= 0 && len(rest) > ar[1]:
		return usageMsg("cli.args.unexpected", "arg", rest[ar[1]])
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
			return "", usageMsg("cli.ticket.no_required")
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
					return usageMsg("cli.ticket.unknown_status", "status", s)
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
				return failMsg(bot.ErrForbidden, "cli.ticket.reveal_forbidden")
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
			fmt.Fprintf(out, "\n%s\n", msg("improve.known_issue", "no", no))
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
			say(out, "cli.ticket.acked", "no", t.No, "priority", t.Priority, "status", t.Status)
			return nil
		}
	case "claim":
		t, err = desk.Claim(ctx, ac, no)
	case "reply":
		if *faqID != "" {
			t, err = a.engine.ReplyFAQ(ctx, ac, no, *faqID)
			if errors.Is(err, bot.ErrNotFound) {
				return failMsg(err, "cli.ticket.no_faq", "id", *faqID)
			}
			break
		}
		if text() == "" {
			return usageMsg("cli.ticket.needs_text", "sub", sub)
		}
		t, err = desk.Reply(ctx, ac, no, text())
	case "note":
		if text() == "" {
			return usageMsg("cli.ticket.needs_text", "sub", sub)
		}
		t, err = desk.Note(ctx, ac, no, text())
	case "priority":
		p := bot.Priority(strings.ToUpper(text()))
		if p != bot.P0 && p != bot.P1 && p != bot.P2 {
			return usageMsg("cli.ticket.bad_priority")
		}
		t, err = desk.SetPriority(ctx, ac, no, p)
	case "status":
		st := bot.Status(text())
		if !validStatus(st) || st == bot.StatusOpen {
			return usageMsg("cli.ticket.bad_status")
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
			return usageMsg("cli.ticket.needs_reason")
		}
		t, err = desk.Escalate(ctx, ac, no, text())
	case "assign":
		if text() == "" {
			return usageMsg("cli.ticket.needs_agent")
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
		return usageMsg("cli.ticket.unknown_sub", "sub", sub)
	}
	var wc *bot.WindowClosedError
	if errors.As(err, &wc) { // refused at once: when the platform's window closed, and what to do instead
		return errors.New(a.cat.T(cliLang(), wc.Key(), wc.Args(func(t time.Time) string {
			return t.In(a.loc).Format("2006-01-02 15:04 MST")
		})))
	}
	if err != nil {
		return explain(err, no)
	}
	say(out, "cli.ticket.done", "no", t.No, "priority", t.Priority, "status", t.Status, "op", sub, "assignee", orDash(t.Assignee))
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
		return failMsg(nil, "cli.ticket.not_found", "no", no)
	case errors.Is(err, bot.ErrSupervisorOnly):
		return failMsg(err, "cli.err.supervisor_only")
	case errors.Is(err, bot.ErrForbidden):
		return failMsg(err, "cli.err.not_agent")
	case errors.Is(err, bot.ErrConflict):
		return failMsg(err, "cli.ticket.conflict", "no", no)
	case errors.Is(err, bot.ErrClosed):
		return failMsg(nil, "cli.ticket.closed", "no", no)
	case errors.Is(err, bot.ErrOpenTasks): // the message names the open tasks
		return failOnly(err, "cli.ticket.open_tasks", "no", no, "err", err)
	case errors.Is(err, bot.ErrNoReply):
		return failMsg(err, "cli.ticket.no_reply", "no", no)
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
		say(out, "cli.ticket.none")
		return
	}
	var tw table
	tw.row(strings.Split(msg("cli.ticket.list_header"), "|")...)
	// The due times are the SLA policy's (business hours, pauses while pending, recomputed on
	// priority changes and reopenings), kept by the store with every ticket change.
	for _, t := range ts {
		due := t.FirstResponseDue.In(loc).Format("01-02 15:04")
		if t.FirstResponseAt != nil {
			due = msg("cli.ticket.answered")
		} else if t.Open() && now.After(t.FirstResponseDue) {
			due += " " + msg("cli.ticket.overdue")
		}
		res := t.ResolutionDue.In(loc).Format("01-02 15:04")
		if t.Open() && now.After(t.ResolutionDue) {
			res += " " + msg("cli.ticket.overdue")
		}
		tw.row(t.No, string(t.Priority), string(t.Status), categoryOf(t.Category), string(t.Channel),
			orDash(t.Assignee), t.CreatedAt.In(loc).Format("01-02 15:04"), due, res, clip(t.Masker().Text(t.Summary), 40))
	}
	tw.print(out)
}

// printTicket prints a ticket and its trail with personal data masked by m (pii.Reveal: unmasked).
// extra lines (the intake details) follow the customer's.
func printTicket(out io.Writer, t bot.Ticket, evs []bot.TicketEvent, loc *time.Location, m pii.Masker, extra ...string) {
	ts := func(x time.Time) string { return x.In(loc).Format("2006-01-02 15:04") }
	fmt.Fprintf(out, "%s  %s  %s  %s\n", t.No, t.Priority, t.Status, categoryOf(t.Category))
	field(out, "cli.ticket.f.customer", msg("cli.ticket.customer", "name", m.Name(t.CustomerName), "channel", t.Channel, "lang", t.Lang))
	if t.CustomerPhone != "" {
		field(out, "cli.ticket.f.phone", m.Phone(t.CustomerPhone))
	}
	for _, l := range extra {
		fmt.Fprintln(out, l)
	}
	field(out, "cli.ticket.f.assignee", orDash(t.Assignee))
	field(out, "cli.ticket.f.created", ts(t.CreatedAt))
	field(out, "cli.ticket.f.due", msg("cli.ticket.due", "first", ts(t.FirstResponseDue), "resolution", ts(t.ResolutionDue)))
	if t.OrderNo != "" {
		field(out, "cli.ticket.f.order", m.Text(t.OrderNo))
	}
	if t.Complaint || t.Escalated {
		field(out, "cli.ticket.f.flags", fmt.Sprintf("complaint=%v escalated=%v", t.Complaint, t.Escalated))
	}
	if t.ComplaintLevel > 0 {
		field(out, "cli.ticket.f.complaint", msg("cli.ticket.complaint_level", "level", t.ComplaintLevel, "repeat", t.RepeatOf))
	}
	if t.Rating > 0 {
		field(out, "cli.ticket.f.rating", fmt.Sprintf("%d/5 %s", t.Rating, m.Text(t.RatingComment)))
	}
	field(out, "cli.ticket.f.summary", m.Text(t.Summary))
	fmt.Fprintln(out)
	for _, e := range evs {
		vis := ""
		if e.Internal {
			vis = " " + msg("cli.ticket.internal")
		}
		ch := ""
		if e.Channel != "" {
			ch = " " + msg("cli.ticket.via", "channel", e.Channel)
		}
		fmt.Fprintf(out, "%s  %-16s %s%s%s: %s\n", ts(e.At), e.Kind, e.Actor, ch, vis, m.Text(e.Text))
		for _, at := range e.Attachments {
			fmt.Fprintf(out, "                    %s\n", msg("cli.ticket.attachment", "type", at.Type, "name", m.Text(at.Name), "size", at.Size))
		}
	}
}

// field prints one "label:  value" line of a record, the values aligned by display width (a label in
// Chinese is as wide as its English one needs).
func field(out io.Writer, key, value string) {
	fmt.Fprintln(out, fieldLine(key, value))
}

func fieldLine(key, value string) string {
	l := msg(key)
	return l + strings.Repeat(" ", max(1, 11-cellWidth(l))) + value
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
