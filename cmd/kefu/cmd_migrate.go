package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/kefu-dev/kefu/storage"
)

func init() {
	commands["migrate"] = command{
		run: func(ctx context.Context, args []string) error {
			return runMigrate(ctx, args, os.Stdout, os.Getenv)
		},
	}
}

// runMigrate is `kefu migrate status|up [--config FILE]`.
//
// Who migrates: `kefu serve` (every replica; PostgreSQL's advisory lock makes one apply each migration
// once) and `kefu migrate up`. Other commands create the schema of an empty database (zero-setup) but
// refuse a database with pending migrations, saying to run `kefu migrate up`: an agent's `kefu ticket
// list` from a newer binary must not upgrade the schema under a running older server.
func runMigrate(ctx context.Context, args []string, out io.Writer, getenv func(string) string) error {
	if len(args) == 0 || (args[0] != "status" && args[0] != "up") {
		return usageMsg("cli.migrate.usage")
	}
	fs := flag.NewFlagSet("migrate "+args[0], flag.ContinueOnError)
	cfgPath := fs.String("config", "", "config file (default ./kefu.yaml when present, or $KEFU_CONFIG)")
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	cfg, err := loadConfig(*cfgPath, getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log.Format, cfg.Log.Level)
	o := cfg.storageOptions(log, nil)
	o.SkipMigrations = args[0] == "status"
	o.Migrate = storage.MigrateApply
	db, err := storage.Open(ctx, cfg.DatabaseURL, o)
	if err != nil {
		return err
	}
	defer db.Close()
	sts, err := db.MigrationStatus(ctx)
	if err != nil {
		return err
	}
	applied, pending, unknown, newest := 0, 0, 0, 0
	for _, st := range sts {
		state := msg("cli.migrate.pending")
		switch {
		case !st.Known:
			state = msg("cli.migrate.unknown", "at", st.AppliedAt.Format("2006-01-02 15:04:05Z"))
			unknown++
		case st.Applied:
			state = msg("cli.migrate.applied", "at", st.AppliedAt.Format("2006-01-02 15:04:05Z"))
			applied++
		default:
			pending++
		}
		if st.Known {
			newest = max(newest, st.Version)
		}
		fmt.Fprintf(out, "%04d_%-28s %s\n", st.Version, st.Name, state)
	}
	say(out, "cli.migrate.summary", "dialect", db.Dialect(), "applied", applied, "pending", pending, "version", buildInfo().Version,
		"newest", fmt.Sprintf("%04d", newest))
	if unknown > 0 {
		return failMsg(nil, "cli.migrate.newer")
	}
	return nil
}
