package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/console"
	"github.com/kefu-dev/kefu/storage"
)

// Account administration from the shell (issue 17): the same storage calls, last-admin guard and
// audit log as the console's users page.

var userAdminSubs = map[string]bool{"disable": true, "enable": true, "rm": true, "role": true, "agent": true}

// cliActor names whoever runs a CLI account change in the audit log: cli:$KEFU_AGENT, else cli:$USER.
func cliActor(getenv func(string) string) string {
	name := getenv("KEFU_AGENT")
	if name == "" {
		name = getenv("USER")
	}
	if name == "" {
		name = "unknown"
	}
	if !strings.Contains(name, ":") {
		name = "cli:" + name
	}
	return name
}

func runUserAdmin(ctx context.Context, sub, name, cfgPath, role, agentID string, agentSet bool, out io.Writer, getenv func(string) string) error {
	if name == "" {
		return usagef("NAME is required")
	}
	switch {
	case sub == "role" && !console.ValidRole(role):
		return usagef("--role agent|supervisor|admin is required")
	case sub == "agent" && !agentSet:
		return usagef("--agent ID is required (--agent \"\" unlinks)")
	case sub == "agent" && (len(agentID) > 100 || strings.ContainsAny(agentID, " \t\r\n")):
		return usagef("--agent %q: an agent id has no spaces and at most 100 characters", agentID)
	}
	db, err := openDB(ctx, cfgPath)
	if err != nil {
		return err
	}
	defer db.Close()
	actor := cliActor(getenv)
	var done string
	switch sub {
	case "disable", "enable":
		err = db.SetUserDisabled(ctx, actor, name, sub == "disable")
		done = fmt.Sprintf("%sd %s", sub, name)
		if sub == "disable" {
			done += "; their sessions ended"
		}
	case "rm":
		err = db.DeleteUser(ctx, actor, name)
		done = "removed " + name
	case "role":
		err = db.SetUserRole(ctx, actor, name, role)
		done = fmt.Sprintf("%s is now %s", name, role)
	case "agent":
		err = db.SetUserAgentID(ctx, actor, name, agentID)
		done = fmt.Sprintf("%s is linked to agent id %q", name, agentID)
		if agentID == "" {
			done = name + " is linked to no agent id"
		}
	}
	switch {
	case errors.Is(err, bot.ErrNotFound):
		return fmt.Errorf("%w: no account %q", errUsage, name)
	case errors.Is(err, storage.ErrLastAdmin):
		return fmt.Errorf("%w: %s is the last enabled admin; enable or add another admin first", errUsage, name)
	case errors.Is(err, storage.ErrAgentIDTaken):
		return fmt.Errorf("%w: another account already has agent id %q", errUsage, agentID)
	case err != nil:
		return err
	}
	fmt.Fprintln(out, done)
	return nil
}
