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
	"github.com/kefu-dev/kefu/storage"
)

func init() {
	commands["demo"] = command{
		run: func(ctx context.Context, args []string) error {
			return runDemo(ctx, args, os.Stdout, os.Getenv)
		},
	}
}

// The usage text is cli.usage.demo in locales/*.cli.yaml.

func runDemo(ctx context.Context, args []string, out io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	force := fs.Bool("force", false, "add to a database that already holds tickets")
	cfgPath := fs.String("config", "", "config file")
	days := fs.Int("days", 90, "days of traffic, ending now")
	perDay := fs.Int("per-day", 40, "tickets on an average weekday")
	seed := fs.Uint64("seed", uint64(time.Now().UnixNano()), "random seed (same seed, same traffic)")
	if _, err := parseArgs(fs, args, 0, 0, ""); err != nil {
		return err
	}
	if *days <= 0 || *days > 3660 || *perDay <= 0 || *perDay > 100000 {
		return usageMsg("cli.demo.bad_range")
	}
	cfg, err := loadConfig(*cfgPath, getenv)
	if err != nil {
		return err
	}
	loc, err := time.LoadLocation(cfg.Timezone)
	if err != nil {
		return fmt.Errorf("timezone: %w", err)
	}
	db, err := storage.Open(ctx, cfg.DatabaseURL, cfg.storageOptions(newLogger(cfg.Log.Format, "warn"), nil))
	if err != nil {
		return err
	}
	defer db.Close()
	// Generated traffic mixed into real tickets would falsify every report: refuse unless asked.
	var n int64
	if err := db.Gorm().WithContext(ctx).Raw("SELECT COUNT(*) FROM tickets").Scan(&n).Error; err != nil {
		return fmt.Errorf("demo: count tickets: %w", err)
	}
	if n > 0 && !*force {
		return usageMsg("cli.demo.not_empty", "n", n)
	}
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
	say(out, "cli.demo.done", "tickets", st.Tickets, "conversations", st.Conversations, "events", st.Events, "surveys", st.Surveys,
		"citations", st.Citations, "took", time.Since(start).Round(time.Millisecond))
	say(out, "cli.demo.next")
	return nil
}
