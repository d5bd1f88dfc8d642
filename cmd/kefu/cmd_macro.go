package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/console"
	"github.com/kefu-dev/kefu/storage"
)

// Canned replies (macros) from the shell (issue 17): the table the console's ticket page picks from.

func init() {
	commands["macro"] = command{
		usage:   macroUsage,
		summary: "canned replies for the console: add NAME TEXT [--team T], list [--team T], rm ID",
		run: func(ctx context.Context, args []string) error {
			return runMacro(ctx, args, os.Stdout, os.Getenv)
		},
	}
}

const macroUsage = `kefu macro add NAME TEXT [--team TEAM]   (no --team: for every team)
kefu macro list [--team TEAM]
kefu macro rm ID
TEXT may use {{customer_name}}, {{ticket_no}}, {{agent_name}} and {{due}}.`

func runMacro(ctx context.Context, args []string, out io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("macro", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "config file")
	team := fs.String("team", "", "team the macro is for (default: every team)")
	pos, err := parseArgs(fs, args, 1, 3, "subcommand (add, list, rm)")
	if err != nil {
		return err
	}
	sub := pos[0]
	switch {
	case sub == "add" && len(pos) != 3:
		return usagef("kefu macro add NAME TEXT [--team TEAM]")
	case sub == "rm" && len(pos) != 2:
		return usagef("kefu macro rm ID")
	case (sub == "list" || sub == "ls") && len(pos) != 1:
		return usagef("unexpected argument %q", pos[1])
	case sub != "add" && sub != "rm" && sub != "list" && sub != "ls":
		return usagef("unknown subcommand %q", sub)
	}
	var id int64
	if sub == "rm" {
		if id, err = strconv.ParseInt(pos[1], 10, 64); err != nil || id <= 0 {
			return usagef("ID %q is not a macro id (see kefu macro list)", pos[1])
		}
	}
	if sub == "add" {
		if err := console.CheckMacro(pos[1], pos[2]); err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
	}
	db, err := openDB(ctx, *cfgPath)
	if err != nil {
		return err
	}
	defer db.Close()
	switch sub {
	case "add":
		m, err := db.AddMacro(ctx, storage.Macro{Team: strings.TrimSpace(*team), Name: strings.TrimSpace(pos[1]), Body: strings.TrimSpace(pos[2]), CreatedBy: cliActor(getenv)})
		if errors.Is(err, bot.ErrDuplicate) {
			return fmt.Errorf("%w: a macro %q exists already for this team", errUsage, pos[1])
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "added macro %d %q\n", m.ID, m.Name)
	case "rm":
		if err := db.DeleteMacro(ctx, id); errors.Is(err, bot.ErrNotFound) {
			return fmt.Errorf("%w: no macro %d", errUsage, id)
		} else if err != nil {
			return err
		}
		fmt.Fprintf(out, "removed macro %d\n", id)
	default:
		var teams []string
		if *team != "" {
			teams = []string{"", *team}
		}
		ms, err := db.Macros(ctx, teams...)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tTEAM\tNAME\tTEXT")
		for _, m := range ms {
			t := m.Team
			if t == "" {
				t = "*"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", m.ID, t, m.Name, strings.ReplaceAll(m.Body, "\n", " "))
		}
		tw.Flush()
	}
	return nil
}
