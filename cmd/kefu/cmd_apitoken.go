package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

func init() {
	commands["api-token"] = command{
		summary: "api-token create NAME --scope read|write [--as AGENT] | list | revoke NAME: REST API tokens for integrations",
		run: func(ctx context.Context, args []string) error {
			return runAPIToken(ctx, args, os.Stdout, os.Getenv)
		},
	}
}

func runAPIToken(ctx context.Context, args []string, out io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: kefu api-token create NAME --scope read|write [--as AGENT] | list | revoke NAME", errUsage)
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
			return fmt.Errorf("%w: kefu api-token create NAME --scope read|write [--as AGENT]", errUsage)
		}
		if !slices.Contains([]string{"read", "write"}, *scope) {
			return fmt.Errorf("%w: --scope read or write", errUsage)
		}
		if *scope == "write" && !a.engine.IsAgent(*as) {
			return fmt.Errorf("%w: a write token needs --as AGENT, an agent who may act on tickets (agents: in kefu.yaml; cli:NAME when none are configured)", errUsage)
		}
		if *scope == "read" {
			*as = ""
		}
		tok, err := a.db.CreateAPIToken(ctx, name, *scope, *as)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, tok)
		fmt.Fprintln(os.Stderr, "kefu: this token is shown once; only its hash is stored. Send it as: Authorization: Bearer <token>")
		return nil
	case "list":
		toks, err := a.db.APITokens(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tSCOPE\tAS\tCREATED\tLAST USED\tREVOKED")
		stamp := func(t *time.Time) string {
			if t == nil {
				return "-"
			}
			return t.In(a.loc).Format("2006-01-02 15:04")
		}
		for _, t := range toks {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.Name, t.Scope, t.ActAs, t.CreatedAt.In(a.loc).Format("2006-01-02 15:04"), stamp(t.LastUsedAt), stamp(t.RevokedAt))
		}
		return tw.Flush()
	case "revoke":
		if name == "" {
			return fmt.Errorf("%w: kefu api-token revoke NAME", errUsage)
		}
		if err := a.db.RevokeAPIToken(ctx, name); err != nil {
			return err
		}
		fmt.Fprintf(out, "revoked %s\n", name)
		return nil
	}
	return fmt.Errorf("%w: unknown api-token subcommand %q", errUsage, sub)
}
