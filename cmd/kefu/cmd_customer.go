package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/storage"
)

// PrivacyConfig says how long personal data is kept (个人信息保护法). Zero: the defaults, 180 days of
// transcripts and 3 years after a ticket closed.
type PrivacyConfig struct {
	MessagesDays     int `yaml:"messages_days"`
	ClosedTicketDays int `yaml:"closed_ticket_days"`
}

func (c PrivacyConfig) retention() storage.PrivacyRetention {
	day := 24 * time.Hour
	return storage.PrivacyRetention{Messages: time.Duration(c.MessagesDays) * day, ClosedTickets: time.Duration(c.ClosedTicketDays) * day}
}

// privacyEvery is the personal-data retention's period; every process checks four times as often and
// the first to claim a period runs it (storage.DB.PurgePersonalData).
const privacyEvery = time.Hour

func privacyWorker(db *storage.DB, r storage.PrivacyRetention, log *slog.Logger) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		t := time.NewTicker(privacyEvery / 4)
		defer t.Stop()
		for {
			if _, _, err := db.PurgePersonalData(ctx, time.Now(), privacyEvery, r); err != nil && ctx.Err() == nil {
				log.ErrorContext(ctx, "personal data retention failed", "err", err)
			}
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
			}
		}
	}
}

func init() {
	commands["customer"] = command{
		run: func(ctx context.Context, args []string) error {
			return runCustomer(ctx, args, os.Stdout, os.Getenv)
		},
	}
}

// The usage text is cli.usage.customer in locales/*.cli.yaml.

func runCustomer(ctx context.Context, args []string, out io.Writer, getenv func(string) string) error {
	if len(args) > 0 && args[0] == "flag" {
		return runCustomerFlag(ctx, args[1:], out, getenv)
	}
	fs := flag.NewFlagSet("customer", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "config file")
	as := fs.String("as", "", "supervisor acting (default $KEFU_AGENT, then $USER)")
	outPath := fs.String("o", "", "export: write to FILE (mode 0600) instead of stdout")
	yes := fs.Bool("yes", false, "erase: confirm")
	pos, err := parseArgs(fs, args, 1, 2, "cli.what.customer_sub")
	if err != nil {
		return err
	}
	sub := pos[0]
	if sub != "export" && sub != "erase" && sub != "audit" {
		return usageMsg("cli.customer.unknown_sub", "sub", sub)
	}
	if sub != "audit" && len(pos) < 2 {
		return usageMsg("cli.customer.needs_id", "sub", sub)
	}
	if sub == "erase" && !*yes {
		return usageMsg("cli.customer.erase_yes")
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
	if !a.engine.IsSupervisor(ac.ID) {
		return failMsg(bot.ErrForbidden, "cli.customer.supervisor_only")
	}
	if sub == "audit" {
		var id int64
		if len(pos) == 2 {
			ids, err := a.db.CustomerIDs(ctx, pos[1])
			if err != nil || len(ids) == 0 {
				return errors.Join(failMsg(nil, "cli.customer.not_found", "id", pos[1]), err)
			}
			id = ids[0]
		}
		log, err := a.db.AccessLog(ctx, id, 200)
		if err != nil {
			return err
		}
		for _, e := range log {
			fmt.Fprintf(out, "%s  %-7s %s via %-9s ticket=%s customer=%d %s\n", e.At.In(a.loc).Format("2006-01-02 15:04:05"),
				e.Action, padCells(e.Actor, 14), e.Via, orDash(e.TicketNo), e.CustomerID, e.Detail)
		}
		return nil
	}
	ids, err := a.db.CustomerIDs(ctx, pos[1])
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return failMsg(nil, "cli.customer.not_found", "id", pos[1])
	}
	switch sub {
	case "export":
		w := out
		if *outPath != "" {
			f, err := os.OpenFile(*outPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
			if err != nil {
				return err
			}
			defer f.Close()
			if err := f.Chmod(0o600); err != nil {
				return err
			}
			w = f
		}
		for _, id := range ids {
			// Recorded before anything is written: no record, no export.
			if err := a.db.LogAccess(ctx, storage.Access{Actor: ac.ID, Action: storage.AccessExport, Via: "cli", CustomerID: id}); err != nil {
				return err
			}
			d, err := a.db.ExportCustomer(ctx, id)
			if err != nil {
				return err
			}
			b, err := storage.MarshalCustomerData(d)
			if err != nil {
				return err
			}
			if _, err := fmt.Fprintf(w, "%s\n", b); err != nil {
				return err
			}
		}
		return nil
	default: // erase
		for _, id := range ids {
			n, err := a.db.EraseCustomer(ctx, id, time.Now())
			if err != nil {
				return err
			}
			if err := a.db.LogAccess(ctx, storage.Access{Actor: ac.ID, Action: storage.AccessErase, Via: "cli", CustomerID: id,
				Detail: fmt.Sprintf("tickets anonymized: %d", n)}); err != nil {
				return err
			}
			say(out, "cli.customer.erased", "id", id, "n", n)
		}
		return nil
	}
}
