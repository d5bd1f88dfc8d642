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

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/console"
	"github.com/kefu-dev/kefu/storage"
)

// Canned replies (macros) from the shell (issue 17): the table the console's ticket page picks from.

func init() {
	commands["macro"] = command{
		run: func(ctx context.Context, args []string) error {
			return runMacro(ctx, args, os.Stdout, os.Getenv)
		},
	}
}

// The usage text is cli.usage.macro in locales/*.cli.yaml.

func runMacro(ctx context.Context, args []string, out io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("macro", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "config file")
	team := fs.String("team", "", "team the macro is for (default: every team)")
	pos, err := parseArgs(fs, args, 1, 3, "cli.what.macro_sub")
	if err != nil {
		return err
	}
	sub := pos[0]
	switch {
	case sub == "add" && len(pos) != 3:
		return usageMsg("cli.macro.add_usage")
	case sub == "rm" && len(pos) != 2:
		return usageMsg("cli.macro.rm_usage")
	case (sub == "list" || sub == "ls") && len(pos) != 1:
		return usageMsg("cli.args.unexpected", "arg", pos[1])
	case sub != "add" && sub != "rm" && sub != "list" && sub != "ls":
		return usageMsg("cli.unknown_sub", "sub", sub)
	}
	var id int64
	if sub == "rm" {
		if id, err = strconv.ParseInt(pos[1], 10, 64); err != nil || id <= 0 {
			return usageMsg("cli.macro.bad_id", "id", pos[1])
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
			return usageMsg("cli.macro.exists", "name", pos[1])
		}
		if err != nil {
			return err
		}
		say(out, "cli.macro.added", "id", m.ID, "name", m.Name)
	case "rm":
		if err := db.DeleteMacro(ctx, id); errors.Is(err, bot.ErrNotFound) {
			return usageMsg("cli.macro.not_found", "id", id)
		} else if err != nil {
			return err
		}
		say(out, "cli.macro.removed", "id", id)
	default:
		var teams []string
		if *team != "" {
			teams = []string{"", *team}
		}
		ms, err := db.Macros(ctx, teams...)
		if err != nil {
			return err
		}
		var tw table
		tw.row(strings.Split(msg("cli.macro.list_header"), "|")...)
		for _, m := range ms {
			t := m.Team
			if t == "" {
				t = "*"
			}
			tw.row(strconv.FormatInt(m.ID, 10), t, m.Name, strings.ReplaceAll(m.Body, "\n", " "))
		}
		tw.print(out)
	}
	return nil
}
