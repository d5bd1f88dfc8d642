package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/kefu-dev/kefu/bot"
)

func init() {
	commands["wecom"] = command{
		run: func(ctx context.Context, args []string) error {
			return runWeCom(ctx, args, os.Stdout, os.Getenv)
		},
	}
}

// The usage text is cli.usage.wecom in locales/*.cli.yaml.

// runWeCom hands a WeCom session to a named servicer (service_state/trans): the one WeCom call an agent
// makes directly rather than through the outbox, since it is not a message and its answer (allowed or
// not) is what the agent needs to see at once.
func runWeCom(ctx context.Context, args []string, out io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("wecom", flag.ContinueOnError)
	as := fs.String("as", "", "agent acting (default $KEFU_AGENT, then $USER)")
	cfgPath := fs.String("config", "", "config file")
	to := fs.String("to", "", "the agent whose WeCom servicer takes the session (default: you)")
	pos, err := parseArgs(fs, args, 2, 2, "cli.what.wecom")
	if err != nil {
		return err
	}
	if pos[0] != "handoff" {
		return usageMsg("cli.wecom.unknown_sub", "sub", pos[0])
	}
	no := strings.ToUpper(strings.TrimSpace(pos[1]))
	ac, err := agentFrom(*as, getenv)
	if err != nil {
		return err
	}
	target := ac
	if *to != "" {
		if target, err = agentFrom(*to, getenv); err != nil {
			return err
		}
	}
	a, err := openCLI(ctx, *cfgPath, getenv)
	if err != nil {
		return err
	}
	defer a.Close()
	text, done, err := a.wecomHandOff(ctx, ac, no, target.ID, a.cfg.DefaultLang)
	if err != nil {
		return explain(err, no)
	}
	if !done {
		return errors.New(text)
	}
	fmt.Fprintln(out, text)
	return nil
}

// wecomHandOff hands ticket no's WeCom session to agent target's servicer (wecom.servicers) for actor
// (CLI, Slack): text is the recorded note when done, else the localized refusal; err is a desk error
// (unknown ticket …) or an unexpected one.
func (a *app) wecomHandOff(ctx context.Context, actor bot.Actor, no, target, lang string) (string, bool, error) {
	refuse := func(key string, args map[string]any) (string, bool, error) {
		return a.cat.T(lang, key, args), false, nil
	}
	desk := bot.Desk(a.engine)
	t, _, err := desk.Ticket(ctx, no)
	if err != nil {
		return "", false, err
	}
	if t.Channel != bot.ChannelWeCom {
		return refuse("wecom.handoff.not_wecom", map[string]any{"no": no})
	}
	servicer := a.cfg.WeCom.Servicers[target]
	if servicer == "" {
		return refuse("wecom.handoff.no_servicer", map[string]any{"agent": target})
	}
	if a.cfg.WeCom.CorpID == "" {
		return refuse("wecom.handoff.not_configured", nil)
	}
	conv, err := a.db.Conversation(ctx, t.ConversationID)
	if err != nil {
		return "", false, err
	}
	ad, err := newWeCom(a, nil)
	if err != nil {
		return "", false, err
	}
	if err := ad.HandOff(ctx, conv.ChatID, servicer); err != nil {
		a.log.WarnContext(ctx, "wecom hand-off refused", "ticket", no, "err", err)
		return refuse("wecom.handoff.refused", map[string]any{"no": no, "servicer": servicer, "err": err.Error()})
	}
	note := a.cat.T(lang, "wecom.handoff.note", map[string]any{"servicer": servicer, "agent": target})
	if _, err := desk.Note(ctx, actor, no, note); err != nil {
		return "", false, fmt.Errorf("handed off, but the note was not recorded: %w", err)
	}
	return note, true, nil
}
