package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/pii"
)

// `kefu ticket task …`: follow-through tasks on a ticket (a finance refund, a warehouse reship) with an
// owner and a due time; `kefu complaint housekeep` (and kefu serve, every minute) pings late ones once.

const taskUsage = `kefu ticket task add GD… --kind KIND --owner OWNER --due 24h|3d|"2026-11-25 18:00" ["note"]
kefu ticket task done GD… ID ["note"]
kefu ticket task cancel GD… ID "reason"
kefu ticket task reopen GD… ID ["note"]
kefu ticket task list GD…
Kinds: complaints.task_kinds in kefu.yaml (default refund, reship, exchange, repair, coupon, callback, other).
An open task holds back resolving or closing a complaint; a supervisor may --force "reason" on resolve.
Common flags: --as AGENT (or $KEFU_AGENT), --config FILE.`

func runTicketTask(ctx context.Context, args []string, out io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("ticket task", flag.ContinueOnError)
	as := fs.String("as", "", "agent acting (default $KEFU_AGENT, then $USER)")
	cfgPath := fs.String("config", "", "config file")
	kind := fs.String("kind", "", "add: the kind of task (refund, reship, …)")
	owner := fs.String("owner", "", "add: who does it (finance:li, slack:U123, cli:bob)")
	due := fs.String("due", "", "add: when it is due: a duration from now (24h, 90m, 3d) or a local time (2026-11-25 18:00)")
	pos, err := parseArgs(fs, args, 1, -1, "task subcommand (add, done, cancel, reopen, list)")
	if err != nil {
		return fmt.Errorf("%w\n%s", err, taskUsage)
	}
	sub, rest := pos[0], pos[1:]
	switch sub {
	case "add", "done", "cancel", "reopen", "list", "ls":
	default:
		return usagef("unknown task subcommand %q\n%s", sub, taskUsage)
	}
	if len(rest) == 0 {
		return usagef("%s\n%s", errNoTicket, taskUsage)
	}
	no := strings.ToUpper(strings.TrimSpace(rest[0]))
	var id int64
	if sub == "done" || sub == "cancel" || sub == "reopen" {
		if len(rest) < 2 {
			return usagef("%s needs a task id (see kefu ticket task list %s)", sub, no)
		}
		if id, err = strconv.ParseInt(strings.TrimPrefix(rest[1], "#"), 10, 64); err != nil || id <= 0 {
			return usagef("task id %q: want a number like 1 (see kefu ticket task list %s)", rest[1], no)
		}
		rest = rest[1:]
	}
	note := strings.TrimSpace(strings.Join(rest[1:], " "))
	switch {
	case sub == "add" && (*kind == "" || *owner == "" || *due == ""):
		return usagef("task add needs --kind, --owner and --due\n%s", taskUsage)
	case sub == "cancel" && note == "":
		return usagef("task cancel needs a reason")
	}

	a, err := openCLI(ctx, *cfgPath, getenv)
	if err != nil {
		return err
	}
	defer a.Close()
	eng := a.engine
	if sub == "list" || sub == "ls" {
		tk, _, err := eng.Ticket(ctx, no)
		if err != nil {
			return explain(err, no)
		}
		ts, err := eng.Tasks(ctx, no)
		if err != nil {
			return err
		}
		printTasks(out, ts, a.loc, time.Now(), tk.Masker())
		return nil
	}
	ac, err := agentFrom(*as, getenv)
	if err != nil {
		return err
	}
	var t bot.Task
	switch sub {
	case "add":
		at, err := parseDue(*due, time.Now(), a.loc)
		if err != nil {
			return err
		}
		t, err = eng.AddTask(ctx, ac, no, bot.NewTask{Kind: *kind, Owner: *owner, Due: at, Note: note})
		if err != nil {
			return explainTask(err, no)
		}
	case "done":
		t, err = eng.DoneTask(ctx, ac, no, id, note)
	case "cancel":
		t, err = eng.SetTaskState(ctx, ac, no, id, bot.TaskCancelled, note)
	case "reopen":
		t, err = eng.SetTaskState(ctx, ac, no, id, bot.TaskOpen, note)
	}
	if err != nil {
		return explainTask(err, no)
	}
	fmt.Fprintf(out, "%s  task #%d %s  owner %s  due %s  %s\n", no, t.ID, t.Kind, t.Owner, t.DueAt.In(a.loc).Format("2006-01-02 15:04"), t.State)
	return nil
}

// parseDue reads a due time: a duration from now ("24h", "90m", "3d") or a local date and time
// ("2026-11-25 18:00", "2026-11-25T18:00", RFC 3339).
func parseDue(s string, now time.Time, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		if d, err := strconv.Atoi(n); err == nil && d > 0 && d <= 365 {
			return now.Add(time.Duration(d) * 24 * time.Hour), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			if layout == "2006-01-02" {
				t = t.Add(18 * time.Hour) // a day: its end of business
			}
			return t, nil
		}
	}
	return time.Time{}, usagef("--due %q: want a duration (24h, 90m, 3d) or a time like \"2026-11-25 18:00\"", s)
}

// explainTask adds the task errors to explainComplaint's sentences.
func explainTask(err error, no string) error {
	switch {
	case errors.Is(err, bot.ErrNoTask):
		return fmt.Errorf("%s has no such task (see kefu ticket task list %s): %w", no, no, err)
	case errors.Is(err, bot.ErrBadInput), errors.Is(err, bot.ErrOpenTasks):
		return fmt.Errorf("%s: %w", no, err)
	case errors.Is(err, bot.ErrConflict):
		return fmt.Errorf("%s: %w", no, err)
	}
	return explainComplaint(err, no)
}

// printTasks lists follow-through tasks; LATE marks open tasks past their due time.
func printTasks(out io.Writer, ts []bot.Task, loc *time.Location, now time.Time, m pii.Masker) {
	if len(ts) == 0 {
		fmt.Fprintln(out, "no tasks")
		return
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tOWNER\tDUE\tSTATE\tBY\tNOTE")
	for _, t := range ts {
		state := string(t.State)
		if t.Late(now) {
			state += " LATE"
		}
		fmt.Fprintf(tw, "#%d\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Kind, t.Owner, t.DueAt.In(loc).Format("2006-01-02 15:04"), state,
			orDash(t.DoneBy), clip(m.Text(t.Note), 40))
	}
	tw.Flush()
}
