package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/kefu-dev/kefu/console"
	"github.com/kefu-dev/kefu/storage"
)

func init() {
	commands["user"] = command{
		run: func(ctx context.Context, args []string) error {
			return runUser(ctx, args, os.Stdin, os.Stdout, os.Getenv)
		},
	}
}

// The usage text is cli.usage.user in locales/*.cli.yaml.

func runUser(ctx context.Context, args []string, stdin io.Reader, out io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("user", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "config file")
	role := fs.String("role", "", "agent, supervisor or admin")
	agentID := fs.String("agent", "", "agent id whose tickets an agent sees (e.g. cli:alice, slack:U123); default cli:NAME for agents")
	lang := fs.String("lang", "", "console language (zh-CN or en)")
	pwStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	pos, err := parseArgs(fs, args, 1, 2, "cli.what.user_sub")
	if err != nil {
		return err
	}
	sub, name := pos[0], ""
	if len(pos) > 1 {
		name = pos[1]
	}
	agentSet := false
	fs.Visit(func(f *flag.Flag) { agentSet = agentSet || f.Name == "agent" })
	switch {
	case userAdminSubs[sub]:
		return runUserAdmin(ctx, sub, name, *cfgPath, *role, *agentID, agentSet, out, getenv)
	case sub != "add" && sub != "passwd" && sub != "list" && sub != "ls":
		return usageMsg("cli.unknown_sub", "sub", sub)
	case (sub == "list" || sub == "ls") && name != "":
		return usageMsg("cli.args.unexpected", "arg", name)
	}
	password := func() (string, bool, error) {
		if !*pwStdin {
			return console.RandomPassword(), true, nil
		}
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && line == "" {
			return "", false, fmt.Errorf("read password: %w", err)
		}
		return strings.TrimRight(line, "\r\n"), false, nil
	}
	db, err := openDB(ctx, *cfgPath)
	if err != nil {
		return err
	}
	defer db.Close()
	switch sub {
	case "add":
		if name == "" || !console.ValidRole(*role) {
			return usageMsg("cli.user.add_needs")
		}
		if *role == console.RoleAgent && *agentID == "" {
			*agentID = "cli:" + name
		}
		pw, generated, err := password()
		if err != nil {
			return err
		}
		hash, err := console.HashPassword(pw, 0)
		if err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		u, err := db.CreateUser(ctx, storage.User{Name: name, Role: *role, AgentID: *agentID, Lang: *lang, PasswordHash: hash})
		if err != nil {
			return err
		}
		if err := db.LogAccountAdded(ctx, cliActor(getenv), u); err != nil {
			return err
		}
		say(out, "cli.user.added", "name", name, "role", *role)
		if generated {
			say(out, "cli.user.password", "pw", pw)
		}
	case "passwd":
		if name == "" {
			return usageMsg("cli.user.name_required")
		}
		pw, generated, err := password()
		if err != nil {
			return err
		}
		hash, err := console.HashPassword(pw, 0)
		if err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		if err := db.ResetUserPassword(ctx, cliActor(getenv), name, hash, false); err != nil {
			return fmt.Errorf("user %s: %w", name, err)
		}
		say(out, "cli.user.passwd", "name", name)
		if generated {
			say(out, "cli.user.password", "pw", pw)
		}
	case "list", "ls":
		us, err := db.Users(ctx)
		if err != nil {
			return err
		}
		var tw table
		tw.row(strings.Split(msg("cli.user.list_header"), "|")...)
		for _, u := range us {
			state := msg("cli.user.enabled")
			if u.Disabled() {
				state = msg("cli.user.disabled")
			}
			tw.row(u.Name, u.Role, u.AgentID, state, u.CreatedAt.Format("2006-01-02"))
		}
		tw.print(out)
	default:
		return usageMsg("cli.unknown_sub", "sub", sub)
	}
	return nil
}
