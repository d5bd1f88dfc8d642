package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/kefu-dev/kefu/improve"
	"github.com/kefu-dev/kefu/reports"
	"github.com/kefu-dev/kefu/reports/export"
	"github.com/kefu-dev/kefu/storage"
)

func init() {
	commands["export"] = command{
		run: func(ctx context.Context, args []string) error {
			return runExport(ctx, args, os.Stdout, os.Getenv)
		},
	}
}

// The usage text is cli.usage.export in locales/*.cli.yaml.

func runExport(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "config file")
	format := fs.String("format", "", "tickets: csv or xlsx (default from the file name, else csv)")
	month := fs.String("month", "", "monthly: YYYY-MM (default last month)")
	outPath := fs.String("o", "", "output file (- for stdout)")
	rf := addReportFlags(fs)
	pos, err := parseArgs(fs, args, 1, 1, "cli.what.export")
	if err != nil {
		return err
	}
	sub := pos[0]
	if sub != "tickets" && sub != "monthly" {
		return usageMsg("cli.export.unknown", "what", sub)
	}
	if *outPath == "" {
		return usageMsg("cli.export.needs_o")
	}
	if *format == "" {
		*format = "csv"
		if len(*outPath) > 5 && (*outPath)[len(*outPath)-5:] == ".xlsx" {
			*format = "xlsx"
		}
	}
	if sub == "tickets" && *format != "csv" && *format != "xlsx" {
		return usageMsg("cli.export.bad_format", "format", *format)
	}
	cfg, err := loadConfig(*cfgPath, getenv)
	if err != nil {
		return err
	}
	loc, err := time.LoadLocation(cfg.Timezone)
	if err != nil {
		return fmt.Errorf("timezone: %w", err)
	}
	var f reports.Filter
	if sub == "tickets" {
		if f, err = rf.filter(loc, time.Now()); err != nil {
			return err
		}
	} else {
		if *month == "" {
			*month = time.Now().In(loc).AddDate(0, -1, 0).Format("2006-01")
		}
		if f, err = export.MonthFilter(*month, loc); err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
	}
	// the configuration already loaded (with getenv), not a second read of the process environment
	db, err := storage.Open(ctx, cfg.DatabaseURL, cfg.storageOptions(newLogger(cfg.Log.Format, "warn"), nil))
	if err != nil {
		return err
	}
	defer db.Close()

	var w io.Writer = stdout
	var file *os.File
	if *outPath != "-" {
		// Exports hold customers' (masked) data: readable by the owner only, also when replacing a file.
		if file, err = os.OpenFile(*outPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600); err != nil {
			return err
		}
		if err := file.Chmod(0o600); err != nil {
			file.Close()
			return err
		}
		w = file
	}
	switch {
	case sub == "monthly":
		var r reports.Report
		var sh export.Sheet
		if r, err = reports.Compute(ctx, db, f); err == nil {
			sh, err = improve.New(improve.Options{DB: db, Loc: loc}).MonthlySheet(ctx, f.From, f.To)
		}
		if err == nil {
			err = export.MonthlyXLSX(r, *month, w, sh)
		}
	case *format == "xlsx":
		err = export.TicketsXLSX(ctx, db, f, loc, w)
	default:
		err = export.TicketsCSV(ctx, db, f, loc, w)
	}
	if file != nil {
		if cerr := file.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(*outPath)
		} else {
			say(stdout, "cli.export.wrote", "file", *outPath)
		}
	}
	return err
}
