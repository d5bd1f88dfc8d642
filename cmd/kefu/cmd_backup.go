package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/kefu-dev/kefu/storage"
)

func init() {
	commands["backup"] = command{
		run: func(ctx context.Context, args []string) error {
			return runBackup(ctx, args, os.Stdout, os.Getenv)
		},
	}
	commands["restore"] = command{
		run: func(ctx context.Context, args []string) error {
			return runRestore(ctx, args, os.Stdout, os.Getenv)
		},
	}
}

func runBackup(ctx context.Context, args []string, out io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "config file (default ./kefu.yaml when present, or $KEFU_CONFIG)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if fs.NArg() != 1 {
		return usageMsg("cli.backup.usage")
	}
	cfg, err := loadConfig(*cfgPath, getenv)
	if err != nil {
		return err
	}
	if storage.IsPostgresDSN(cfg.DatabaseURL) {
		return storage.ErrBackupPostgres
	}
	// The database is opened as it is (no migration): a backup must copy what is there.
	o := cfg.storageOptions(newLogger(cfg.Log.Format, "warn"), nil)
	o.SkipMigrations = true
	db, err := storage.Open(ctx, cfg.DatabaseURL, o)
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	dest := fs.Arg(0)
	if err := db.Backup(ctx, dest); err != nil {
		return err
	}
	st, err := os.Stat(dest)
	if err != nil {
		return err
	}
	say(out, "cli.backup.done", "file", dest, "size", st.Size(), "took", time.Since(start).Round(time.Millisecond))
	where := "KEFU_ENCRYPTION_KEY"
	if f := db.KeyFile(); f != "" {
		where = f
	}
	say(out, "cli.backup.key", "where", where)
	return nil
}

func runRestore(ctx context.Context, args []string, out io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "config file (default ./kefu.yaml when present, or $KEFU_CONFIG)")
	force := fs.Bool("force", false, "replace an existing database (its files are kept as *.before-restore-TIME)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if fs.NArg() != 1 {
		return usageMsg("cli.restore.usage")
	}
	cfg, err := loadConfig(*cfgPath, getenv)
	if err != nil {
		return err
	}
	moved, err := storage.RestoreSQLite(ctx, fs.Arg(0), cfg.DatabaseURL, storage.RestoreOptions{Force: *force})
	for _, m := range moved {
		say(out, "cli.restore.kept", "file", m)
	}
	if err != nil {
		return err
	}
	say(out, "cli.restore.done", "file", fs.Arg(0), "db", cfg.DatabaseURL)
	return nil
}
