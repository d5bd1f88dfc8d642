package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

func init() {
	commands["api-token"] = command{
		run: func(ctx context.Context, args []string) error {
			return runAPIToken(ctx, args, os.Stdout, os.Getenv)
		},
	}
}

func runAPIToken(ctx context.Context, args []string, out io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		return usageMsg("cli.apitoken.usage")
	}
	fs := flag.NewFlagSet("api-token "+args[0], flag.ContinueOnError)
	cfgPath := fs.String("config", "", "config file")
	scope := fs.String("scope", "read", "read (list, show, reports) or write (also reply and change status)")
	as := fs.String("as", "", "write tokens: the agent id their changes are made as (cli:NAME or a configured agent)")
	sub := args[0]
	rest := args[1:]
	var name string
	if (sub == "create" || sub == "revoke") && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		name, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	a, err := openCLI(ctx, *cfgPath, getenv)
	if err != nil {
		return err
	}
	defer a.Close()
	switch sub {
	case "create":
		if name == "" || fs.NArg() > 0 {
			return usageMsg("cli.apitoken.create_usage")
		}
		if !slices.Contains([]string{"read", "write"}, *scope) {
			return usageMsg("cli.apitoken.bad_scope")
		}
		if *scope == "write" && !a.engine.IsAgent(*as) {
			return usageMsg("cli.apitoken.write_needs_as")
		}
		if *scope == "read" {
			*as = ""
		}
		tok, err := a.db.CreateAPIToken(ctx, name, *scope, *as)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, tok)
		fmt.Fprintln(os.Stderr, msg("cli.apitoken.shown_once"))
		return nil
	case "list":
		toks, err := a.db.APITokens(ctx)
		if err != nil {
			return err
		}
		var tw table
		tw.header("cli.apitoken.list_header")
		stamp := func(t *time.Time) string {
			if t == nil {
				return "-"
			}
			return t.In(a.loc).Format("2006-01-02 15:04")
		}
		for _, t := range toks {
			tw.rowf("%s\t%s\t%s\t%s\t%s\t%s\n", t.Name, t.Scope, t.ActAs, t.CreatedAt.In(a.loc).Format("2006-01-02 15:04"), stamp(t.LastUsedAt), stamp(t.RevokedAt))
		}
		tw.print(out)
		return nil
	case "revoke":
		if name == "" {
			return usageMsg("cli.apitoken.revoke_usage")
		}
		if err := a.db.RevokeAPIToken(ctx, name); err != nil {
			return err
		}
		say(out, "cli.apitoken.revoked", "name", name)
		return nil
	}
	return usageMsg("cli.apitoken.unknown_sub", "sub", sub)
}
