package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/kefu-dev/kefu/storage"
)

func init() {
	commands["keys"] = command{
		run: func(ctx context.Context, args []string) error {
			return runKeys(ctx, args, os.Stdout, os.Getenv)
		},
	}
}

// The usage text is cli.usage.keys in locales/*.cli.yaml.

func runKeys(ctx context.Context, args []string, out io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("keys", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "config file")
	batch := fs.Int("batch", 500, "rotate: rows per transaction")
	keepOld := fs.Bool("keep-old", false, "rotate: keep the old key in the key file")
	pos, err := parseArgs(fs, args, 1, 1, "cli.what.keys_sub")
	if err != nil {
		return err
	}
	if pos[0] == "new" {
		fmt.Fprintln(out, storage.GenerateKey())
		return nil
	}
	if pos[0] != "rotate" && pos[0] != "status" {
		return usageMsg("cli.keys.unknown_sub", "sub", pos[0])
	}
	cfg, err := loadConfig(*cfgPath, getenv)
	if err != nil {
		return err
	}
	db, err := storage.Open(ctx, cfg.DatabaseURL, storage.Options{Logger: newLogger(cfg.Log.Format, "warn")})
	if err != nil {
		return err
	}
	defer db.Close()
	if pos[0] == "status" {
		return printKeyUsage(ctx, db, out)
	}
	return rotateKeys(ctx, db, rotateOptions{Batch: *batch, KeepOld: *keepOld, Settle: 2 * storage.KeyRefresh}, out)
}

type rotateOptions struct {
	Batch   int
	KeepOld bool
	// Settle is how long a pass that found nothing to do is trusted only after: running processes
	// pick up a new key file within storage.KeyRefresh, and may seal with the old key until then.
	Settle time.Duration
}

// rotateKeys makes a new current key (key file) and re-seals every value under the current key, in
// passes until one finds nothing left and a second after Settle confirms it; then the database
// records the new key and, unless KeepOld, the key file drops the old keys.
func rotateKeys(ctx context.Context, db *storage.DB, o rotateOptions, out io.Writer) error {
	keys := db.Keys()
	file := keys.File()
	var old []string
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("keys rotate: %w", err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "#") {
				old = append(old, l)
			}
		}
		if err := storage.WriteKeyFile(file, append([]string{storage.GenerateKey()}, old...)); err != nil {
			return fmt.Errorf("keys rotate: %w", err)
		}
		if err := keys.Reload(); err != nil {
			return fmt.Errorf("keys rotate: %w", err)
		}
		say(out, "cli.keys.added", "key", keys.CurrentID(), "file", file)
	} else {
		say(out, "cli.keys.reencrypting", "key", keys.CurrentID())
	}
	total, quiet := 0, 0
	for quiet < 2 {
		st, err := db.Reseal(ctx, o.Batch, nil)
		if err != nil {
			return fmt.Errorf("keys rotate: %w", err)
		}
		total += st.Resealed
		if st.Pending == 0 {
			quiet++
			if quiet < 2 {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(o.Settle):
				}
			}
		} else {
			quiet = 0
		}
	}
	if err := db.RecordCurrentKey(ctx); err != nil {
		return fmt.Errorf("keys rotate: %w", err)
	}
	say(out, "cli.keys.reencrypted", "n", total, "key", keys.CurrentID())
	if file != "" && !o.KeepOld && len(old) > 0 {
		cur, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("keys rotate: %w", err)
		}
		parsed, _ := storage.ParseKeys(string(cur))
		if len(parsed) > 0 {
			var first string
			for _, line := range strings.Split(string(cur), "\n") {
				if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "#") {
					first = l
					break
				}
			}
			if err := storage.WriteKeyFile(file, []string{first}); err != nil {
				return fmt.Errorf("keys rotate: %w", err)
			}
			say(out, "cli.keys.old_removed", "file", file)
		}
	} else if file == "" {
		say(out, "cli.keys.remove_old")
	}
	return nil
}

func printKeyUsage(ctx context.Context, db *storage.DB, out io.Writer) error {
	usage, err := db.KeyUsage(ctx)
	if err != nil {
		return err
	}
	say(out, "cli.keys.current", "key", db.Keys().CurrentID(), "all", strings.Join(db.Keys().IDs(), ", "))
	var tw table
	tw.header("cli.keys.status_header")
	cols := make([]string, 0, len(usage))
	for c := range usage {
		cols = append(cols, c)
	}
	sort.Strings(cols)
	for _, c := range cols {
		ks := make([]string, 0, len(usage[c]))
		for k := range usage[c] {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		for _, k := range ks {
			tw.rowf("%s\t%s\t%d\n", c, k, usage[c][k])
		}
	}
	tw.print(out)
	return nil
}
