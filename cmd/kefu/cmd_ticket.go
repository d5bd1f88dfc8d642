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
	"github.com/kefu-dev/kefu/pii"
	"github.com/kefu-dev/kefu/storage"
)

func init() {
	commands["ticket"] = command{
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
kefu ticket reply GD… "text"          (reaches the customer through the outbox)
kefu ticket note GD… "internal text"  (never reaches the customer)
kefu ticket priority GD… P0|P1|P2
kefu ticket status GD… in_progress|pending|resolved|closed
kefu ticket resolve GD… ["summary"]   (the customer is asked to confirm, then surveyed)
kefu ticket close GD…
kefu ticket escalate GD… "reason"
Common flags: --as AGENT (or $KEFU_AGENT), --config FILE. Flags go before the ticket number.`

func runTicket(ctx context.Context, args []string, out io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w:\n%s", errUsage, ticketUsage)
	}
	sub := args[0]
	fs := flag.NewFlagSet("ticket "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	as := fs.String("as", "", "agent acting (default $KEFU_AGENT, then $USER)")
	cfgPath := fs.String("config", "", "config file")
	status := fs.String("status", "", "list: comma-separated statuses (open,in_progress,pending,resolved,closed)")
	mine := fs.Bool("mine", false, "list: only tickets assigned to me")
	unassigned := fs.Bool("unassigned", false, "list: only unassigned tickets")
	overdue := fs.Bool("overdue", false, "list: only tickets past a due time")
	limit := fs.Int("limit", 50, "list: at most this many")
	reveal := fs.Bool("reveal", false, "show: personal data unmasked (supervisors only; recorded in the audit log)")
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("%w: %v\n%s", errUsage, err, ticketUsage)
	}
	rest := fs.Args()

	cfg, err := loadConfig(*cfgPath, getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log.Format, "warn")
	a, err := openApp(ctx, cfg, log, nil)
	if err != nil {
		return err
	}
	defer a.Close()
	desk := bot.Desk(a.engine)

	actor := func() (bot.Actor, error) { return agentFrom(*as, getenv) }
	needNo := func(n int) (string, error) {
		if len(rest) < n {
			return "", fmt.Errorf("%w: %s\n%s", errUsage, errNoTicket, ticketUsage)
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
		printTicket(out, t, evs, a.loc, m)
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
		t, err = desk.Resolve(ctx, ac, no, text())
	case "close":
		t, err = desk.Close(ctx, ac, no)
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
	default:
		return fmt.Errorf("%w: unknown ticket subcommand %q\n%s", errUsage, sub, ticketUsage)
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
	case errors.Is(err, bot.ErrForbidden):
		return fmt.Errorf("not allowed: you are not a configured agent (see `agents` in kefu.yaml): %w", err)
	case errors.Is(err, bot.ErrConflict):
		return fmt.Errorf("%s is already claimed by someone else: %w", no, err)
	case errors.Is(err, bot.ErrClosed):
		return fmt.Errorf("%s is closed", no)
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
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.No, t.Priority, t.Status, t.Category, t.Channel,
			orDash(t.Assignee), t.CreatedAt.In(loc).Format("01-02 15:04"), due, res, clip(t.Masker().Text(t.Summary), 40))
	}
	tw.Flush()
}

// printTicket prints a ticket and its trail with personal data masked by m (pii.Reveal: unmasked).
func printTicket(out io.Writer, t bot.Ticket, evs []bot.TicketEvent, loc *time.Location, m pii.Masker) {
	ts := func(x time.Time) string { return x.In(loc).Format("2006-01-02 15:04") }
	fmt.Fprintf(out, "%s  %s  %s  %s\n", t.No, t.Priority, t.Status, t.Category)
	fmt.Fprintf(out, "customer:  %s (%s, lang %s)\n", m.Name(t.CustomerName), t.Channel, t.Lang)
	if t.CustomerPhone != "" {
		fmt.Fprintf(out, "phone:     %s\n", m.Phone(t.CustomerPhone))
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
