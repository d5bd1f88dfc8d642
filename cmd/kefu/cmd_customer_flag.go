package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/storage"
)

// storage.AccessFlags: a flag change is recorded in the personal-data audit log (kefu customer audit).

// runCustomerFlag is `kefu customer flag ID|PHONE [--set a,b] [--clear c]`: without --set or --clear it
// prints the customer's flags (any agent); changing them is for supervisors (a flag raises every later
// complaint's level, priority and SLA). Flags must be named by a complaint level rule (complaints.levels).
func runCustomerFlag(ctx context.Context, args []string, out io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("customer flag", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "config file")
	as := fs.String("as", "", "agent acting (default $KEFU_AGENT, then $USER)")
	set := fs.String("set", "", "flags to add, comma-separated (vip,media)")
	clr := fs.String("clear", "", "flags to remove, comma-separated")
	pos, err := parseArgs(fs, args, 1, 1, "cli.what.customer")
	if err != nil {
		return err
	}
	a, err := openCLI(ctx, *cfgPath, getenv)
	if err != nil {
		return err
	}
	defer a.Close()
	ac, err := agentFrom(*as, getenv)
	if err != nil {
		return err
	}
	if !a.engine.IsAgent(ac.ID) {
		return failMsg(bot.ErrForbidden, "cli.customer.not_agent", "actor", ac.ID)
	}
	ids, err := a.db.CustomerIDs(ctx, pos[0])
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return failOnly(bot.ErrNotFound, "cli.customer.not_found", "id", pos[0])
	}
	split := func(s string) []string {
		if strings.TrimSpace(s) == "" {
			return nil
		}
		return strings.Split(s, ",")
	}
	for _, id := range ids {
		var flags []string
		if *set == "" && *clr == "" {
			flags, err = a.engine.CustomerFlags(ctx, ac, id)
		} else {
			flags, err = a.engine.SetCustomerFlags(ctx, ac, id, split(*set), split(*clr))
			if err == nil {
				err = a.db.LogAccess(ctx, storage.Access{Actor: ac.ID, Action: storage.AccessFlags, Via: "cli", CustomerID: id,
					Detail: "flags=" + strings.Join(flags, ",")})
			}
		}
		switch {
		case errors.Is(err, bot.ErrForbidden):
			return failMsg(err, "cli.customer.flags_supervisor")
		case errors.Is(err, bot.ErrBadInput):
			return fmt.Errorf("%w: %v", errUsage, err)
		case err != nil:
			return err
		}
		say(out, "cli.customer.flags", "id", id, "flags", orDash(strings.Join(flags, ",")))
	}
	return nil
}
