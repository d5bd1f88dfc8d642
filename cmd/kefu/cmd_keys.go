package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kefu-dev/kefu/storage"
)

func init() {
	commands["keys"] = command{
		usage:   keysUsage,
		summary: "encryption keys of personal data: rotate (re-encrypt everything, server running), status, new",
		run: func(ctx context.Context, args []string) error {
			return runKeys(ctx, args, os.Stdout, os.Getenv)
		},
	}
}

const keysUsage = `kefu keys rotate [--batch N] [--keep-old]   (new key; re-encrypts every value in batches while kefu runs)
kefu keys status                            (which key encrypts how many values)
kefu keys new                               (print a new random key, for KEFU_ENCRYPTION_KEY)
With a key file (data/kefu.key or KEFU_ENCRYPTION_KEY_FILE) rotate adds the new key to it and removes the
old one when everything is re-encrypted (--keep-old keeps it). With KEFU_ENCRYPTION_KEY put the new key
first ("NEW,OLD"), restart kefu, then run rotate; afterwards drop OLD.`

func runKeys(ctx context.Context, args []string, out io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("keys", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "config file")
	batch := fs.Int("batch", 500, "rotate: rows per transaction")
	keepOld := fs.Bool("keep-old", false, "rotate: keep the old key in the key file")
	pos, err := parseArgs(fs, args, 1, 1, "subcommand (rotate, status, new)")
	if err != nil {
		return err
	}
	if pos[0] == "new" {
		fmt.Fprintln(out, storage.GenerateKey())
		return nil
	}
	if pos[0] != "rotate" && pos[0] != "status" {
		return usagef("unknown keys subcommand %q", pos[0])
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
		fmt.Fprintf(out, "new key %s added to %s (old keys stay readable until the rotation finishes)\n", keys.CurrentID(), file)
	} else {
		fmt.Fprintf(out, "re-encrypting under key %s, the first of KEFU_ENCRYPTION_KEY\n", keys.CurrentID())
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
	fmt.Fprintf(out, "re-encrypted %d values; everything is under key %s\n", total, keys.CurrentID())
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
			fmt.Fprintf(out, "old keys removed from %s (backups of the database made before now need them)\n", file)
		}
	} else if file == "" {
		fmt.Fprintln(out, "now remove the old keys from KEFU_ENCRYPTION_KEY")
	}
	return nil
}

func printKeyUsage(ctx context.Context, db *storage.DB, out io.Writer) error {
	usage, err := db.KeyUsage(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "current key: %s (all keys: %s)\n", db.Keys().CurrentID(), strings.Join(db.Keys().IDs(), ", "))
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COLUMN\tKEY\tVALUES")
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
			fmt.Fprintf(tw, "%s\t%s\t%d\n", c, k, usage[c][k])
		}
	}
	return tw.Flush()
}
