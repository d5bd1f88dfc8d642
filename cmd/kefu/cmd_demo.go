package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/kefu-dev/kefu/bot/sla"
	"github.com/kefu-dev/kefu/reports/demo"
)

func init() {
	commands["demo"] = command{
		summary: "fill the configured database with realistic generated traffic (for a living dashboard)",
		run: func(ctx context.Context, args []string) error {
			return runDemo(ctx, args, os.Stdout, os.Getenv)
		},
	}
}

func runDemo(ctx context.Context, args []string, out io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(out)
	cfgPath := fs.String("config", "", "config file")
	days := fs.Int("days", 90, "days of traffic, ending now")
	perDay := fs.Int("per-day", 40, "tickets on an average weekday")
	seed := fs.Uint64("seed", uint64(time.Now().UnixNano()), "random seed (same seed, same traffic)")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if *days <= 0 || *days > 3660 || *perDay <= 0 || *perDay > 100000 {
		return fmt.Errorf("%w: --days 1…3660 and --per-day 1…100000", errUsage)
	}
	cfg, err := loadConfig(*cfgPath, getenv)
	if err != nil {
		return err
	}
	loc, err := time.LoadLocation(cfg.Timezone)
	if err != nil {
		return fmt.Errorf("timezone: %w", err)
	}
	db, err := openDB(ctx, *cfgPath)
	if err != nil {
		return err
	}
	defer db.Close()
	var cats []string
	for _, c := range cfg.Conversation.Categories {
		cats = append(cats, c.Key)
	}
	var agents []string
	for _, a := range cfg.Agents {
		agents = append(agents, a.ID)
	}
	policy, err := cfg.policy()
	if err != nil {
		return err
	}
	fr, res := map[string]time.Duration{}, map[string]time.Duration{}
	for _, p := range sla.Priorities {
		fr[string(p)], _ = policy.Within(p, "", sla.FirstResponse)
		res[string(p)], _ = policy.Within(p, "", sla.Resolution)
	}
	start := time.Now()
	st, err := demo.Generate(ctx, db, demo.Options{Days: *days, TicketsPerDay: *perDay, Loc: loc, Seed: *seed, Agents: agents,
		Categories: cats, FirstResponse: fr, Resolution: res, Logger: newLogger(cfg.Log.Format, "info")})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "demo: %d tickets, %d conversations, %d events, %d surveys, %d FAQ answers in %s\n",
		st.Tickets, st.Conversations, st.Events, st.Surveys, st.Citations, time.Since(start).Round(time.Millisecond))
	fmt.Fprintln(out, "Now run `kefu serve` and open /console/, or `kefu report`.")
	return nil
}
