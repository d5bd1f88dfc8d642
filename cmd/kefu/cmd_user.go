package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/kefu-dev/kefu/console"
	"github.com/kefu-dev/kefu/storage"
)

func init() {
	commands["user"] = command{
		usage:   userUsage,
		summary: "console accounts: add, passwd, list, disable, enable, rm, role, agent",
		run: func(ctx context.Context, args []string) error {
			return runUser(ctx, args, os.Stdin, os.Stdout, os.Getenv)
		},
	}
}

const userUsage = `kefu user add NAME --role agent|supervisor|admin [--agent ID] [--lang zh-CN|en] [--password-stdin]
kefu user passwd NAME [--password-stdin]
kefu user list
kefu user disable|enable|rm NAME
kefu user role NAME --role agent|supervisor|admin
kefu user agent NAME --agent ID   (link the account to a Slack/CLI agent id; --agent "" unlinks)
Without --password-stdin a random password is generated and printed once. The last enabled admin
cannot be disabled, removed or demoted; every change is audited as cli:$KEFU_AGENT (or cli:$USER).`

func runUser(ctx context.Context, args []string, stdin io.Reader, out io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("user", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "config file")
	role := fs.String("role", "", "agent, supervisor or admin")
	agentID := fs.String("agent", "", "agent id whose tickets an agent sees (e.g. cli:alice, slack:U123); default cli:NAME for agents")
	lang := fs.String("lang", "", "console language (zh-CN or en)")
	pwStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	pos, err := parseArgs(fs, args, 1, 2, "subcommand (add, passwd, list, disable, enable, rm, role, agent)")
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
		return usagef("unknown subcommand %q", sub)
	case (sub == "list" || sub == "ls") && name != "":
		return usagef("unexpected argument %q", name)
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
			return usagef("NAME and --role agent|supervisor|admin are required")
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
		fmt.Fprintf(out, "added %s (%s)\n", name, *role)
		if generated {
			fmt.Fprintf(out, "password: %s\n", pw)
		}
	case "passwd":
		if name == "" {
			return usagef("NAME is required")
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
		fmt.Fprintf(out, "password of %s changed; their sessions ended\n", name)
		if generated {
			fmt.Fprintf(out, "password: %s\n", pw)
		}
	case "list", "ls":
		us, err := db.Users(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tAGENT\tSTATE\tCREATED")
		for _, u := range us {
			state := "enabled"
			if u.Disabled() {
				state = "disabled"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Name, u.Role, u.AgentID, state, u.CreatedAt.Format("2006-01-02"))
		}
		tw.Flush()
	default:
		return usagef("unknown subcommand %q", sub)
	}
	return nil
}
