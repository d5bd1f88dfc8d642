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
		return usageMsg("cli.user.name_required")
	}
	switch {
	case sub == "role" && !console.ValidRole(role):
		return usageMsg("cli.user.role_required")
	case sub == "agent" && !agentSet:
		return usageMsg("cli.user.agent_required")
	case sub == "agent" && (len(agentID) > 100 || strings.ContainsAny(agentID, " \t\r\n")):
		return usageMsg("cli.user.bad_agent", "agent", agentID)
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
		done = msg("cli.user."+sub+"d.done", "name", name)
	case "rm":
		err = db.DeleteUser(ctx, actor, name)
		done = msg("cli.user.removed", "name", name)
	case "role":
		err = db.SetUserRole(ctx, actor, name, role)
		done = msg("cli.user.role_set", "name", name, "role", role)
	case "agent":
		err = db.SetUserAgentID(ctx, actor, name, agentID)
		done = msg("cli.user.linked", "name", name, "agent", agentID)
	}
	switch {
	case errors.Is(err, bot.ErrNotFound):
		return usageMsg("cli.user.not_found", "name", name)
	case errors.Is(err, storage.ErrLastAdmin):
		return usageMsg("cli.user.last_admin", "name", name)
	case errors.Is(err, storage.ErrAgentIDTaken):
		return usageMsg("cli.user.agent_taken", "agent", agentID)
	case err != nil:
		return err
	}
	fmt.Fprintln(out, done)
	return nil
}
