package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/pii"
)

// `kefu ticket task …`: follow-through tasks on a ticket (a finance refund, a warehouse reship) with an
// owner and a due time; `kefu complaint housekeep` (and kefu serve, every minute) pings late ones once.

// taskUsage is the usage text, cli.usage.ticket_task in locales/*.cli.yaml.
func taskUsage() string { return msg("cli.usage.ticket_task") }

func runTicketTask(ctx context.Context, args []string, out io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("ticket task", flag.ContinueOnError)
	as := fs.String("as", "", "agent acting (default $KEFU_AGENT, then $USER)")
	cfgPath := fs.String("config", "", "config file")
	kind := fs.String("kind", "", "add: the kind of task (refund, reship, …)")
	owner := fs.String("owner", "", "add: who does it (finance:li, slack:U123, cli:bob)")
	due := fs.String("due", "", "add: when it is due: a duration from now (24h, 90m, 3d) or a local time (2026-11-25 18:00)")
	pos, err := parseArgs(fs, args, 1, -1, "cli.what.task_sub")
	if err != nil {
		return fmt.Errorf("%w\n%s", err, taskUsage())
	}
	sub, rest := pos[0], pos[1:]
	switch sub {
	case "add", "done", "cancel", "reopen", "list", "ls":
	default:
		return usagef("%s\n%s", msg("cli.task.unknown_sub", "sub", sub), taskUsage())
	}
	if len(rest) == 0 {
		return usagef("%s\n%s", msg("cli.ticket.no_required"), taskUsage())
	}
	no := strings.ToUpper(strings.TrimSpace(rest[0]))
	var id int64
	if sub == "done" || sub == "cancel" || sub == "reopen" {
		if len(rest) < 2 {
			return usageMsg("cli.task.needs_id", "sub", sub, "no", no)
		}
		if id, err = strconv.ParseInt(strings.TrimPrefix(rest[1], "#"), 10, 64); err != nil || id <= 0 {
			return usageMsg("cli.task.bad_id", "id", rest[1], "no", no)
		}
		rest = rest[1:]
	}
	note := strings.TrimSpace(strings.Join(rest[1:], " "))
	switch {
	case sub == "add" && (*kind == "" || *owner == "" || *due == ""):
		return usagef("%s\n%s", msg("cli.task.add_needs"), taskUsage())
	case sub == "cancel" && note == "":
		return usageMsg("cli.task.cancel_needs")
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
	say(out, "cli.task.done", "no", no, "id", t.ID, "kind", t.Kind, "owner", t.Owner, "due", t.DueAt.In(a.loc).Format("2006-01-02 15:04"), "state", t.State)
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
	return time.Time{}, usageMsg("cli.task.bad_due", "due", s)
}

// explainTask adds the task errors to explainComplaint's sentences.
func explainTask(err error, no string) error {
	switch {
	case errors.Is(err, bot.ErrNoTask):
		return failMsg(err, "cli.task.not_found", "no", no)
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
		say(out, "cli.task.none")
		return
	}
	var tw table
	tw.row(strings.Split(msg("cli.task.list_header"), "|")...)
	for _, t := range ts {
		state := string(t.State)
		if t.Late(now) {
			state += " " + msg("cli.task.late")
		}
		tw.row(fmt.Sprintf("#%d", t.ID), t.Kind, t.Owner, t.DueAt.In(loc).Format("2006-01-02 15:04"), state,
			orDash(t.DoneBy), clip(m.Text(t.Note), 40))
	}
	tw.print(out)
}
