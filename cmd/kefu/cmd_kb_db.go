package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"time"

	"github.com/kefu-dev/kefu/kb"
	"github.com/kefu-dev/kefu/storage"
)

// The database side of `kefu kb`: import a library into the database (the running server switches to
// it within faq.reload), and the knowledge-base care statistics supervisors write new entries from.

const (
	kvFAQVersion  = "faq:version"  // bumped by every import; the server reloads when it changes
	kvFAQSynonyms = "faq:synonyms" // the imported library's synonym lists (JSON)
)

func kbImport(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("kb import", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "config file")
	pos, err := parseArgs(fs, args, 1, 1, "FILE (.yaml, .yml or .jsonl)")
	if err != nil {
		return err
	}
	lib, err := kb.LoadFile(pos[0])
	if err != nil {
		return err
	}
	db, err := openDB(ctx, *cfgPath)
	if err != nil {
		return err
	}
	defer db.Close()
	entries := make([]kb.Entry, 0, lib.Len())
	for _, e := range lib.Entries() {
		entries = append(entries, *e)
	}
	before, err := db.FAQEntries(ctx)
	if err != nil {
		return err
	}
	n, err := db.ImportFAQ(ctx, entries)
	if err != nil {
		return err
	}
	if len(before) > 0 { // the first import loads a library: no change of the team's to count
		if err := db.RecordFAQChanges(ctx, faqChanges(before, entries, "import", "", time.Now())); err != nil {
			return err
		}
	}
	syn := map[string][][]string{}
	for _, l := range lib.Langs() {
		if s := lib.Synonyms(l); len(s) > 0 {
			syn[l] = s
		}
	}
	b, _ := json.Marshal(syn)
	if err := db.SetKV(ctx, kvFAQSynonyms, string(b)); err != nil {
		return err
	}
	if err := db.SetKV(ctx, kvFAQVersion, strconv.FormatInt(time.Now().UnixNano(), 10)); err != nil {
		return err
	}
	say(out, "cli.kb.imported", "n", n, "file", pos[0])
	return nil
}

func kbStats(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("kb stats", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "config file")
	days := fs.Int("days", 30, "look back this many days")
	top := fs.Int("top", 20, "show this many unanswered questions")
	if _, err := parseArgs(fs, args, 0, 0, ""); err != nil {
		return err
	}
	db, err := openDB(ctx, *cfgPath)
	if err != nil {
		return err
	}
	defer db.Close()
	since := time.Now().AddDate(0, 0, -*days)
	stats, err := db.FAQStats(ctx, since)
	if err != nil {
		return err
	}
	sort.Slice(stats, func(i, j int) bool { return stats[i].Cited > stats[j].Cited })
	say(out, "cli.kb.stats_title", "days", *days)
	var tw table
	tw.header("cli.kb.stats_header")
	for _, s := range stats {
		rate := "-"
		if judged := s.Helped + s.NotHelped; judged > 0 {
			rate = fmt.Sprintf("%.0f%%", 100*float64(s.Helped)/float64(judged))
		}
		tw.rowf("%s\t%d\t%d\t%d\t%s\n", s.EntryID, s.Cited, s.Helped, s.NotHelped, rate)
	}
	tw.print(out)

	qs, err := db.UnansweredQuestions(ctx, 5000)
	if err != nil {
		return err
	}
	type freq struct {
		text, lang string
		n          int
		last       time.Time
	}
	byText := map[string]*freq{}
	for _, q := range qs {
		if q.At.Before(since) {
			continue
		}
		f := byText[q.Text]
		if f == nil {
			f = &freq{text: q.Text, lang: q.Lang}
			byText[q.Text] = f
		}
		f.n++
		if q.At.After(f.last) {
			f.last = q.At
		}
	}
	list := make([]*freq, 0, len(byText))
	for _, f := range byText {
		list = append(list, f)
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].n != list[j].n {
			return list[i].n > list[j].n
		}
		return list[i].last.After(list[j].last)
	})
	if len(list) > *top {
		list = list[:*top]
	}
	fmt.Fprintln(out)
	say(out, "cli.kb.unanswered_title")
	tw = table{}
	tw.header("cli.kb.unanswered_header")
	for _, f := range list {
		tw.rowf("%d\t%s\t%s\t%s\n", f.n, f.lang, f.last.Format("2006-01-02 15:04"), clip(f.text, 60))
	}
	tw.print(out)
	return kbCareStats(ctx, db, out, stats, time.Now())
}

// kbCareStats prints the entries customers marked unhelpful (to revise), the month's new and revised
// entries against the seeds' target of 10, and the drafts waiting for a supervisor.
func kbCareStats(ctx context.Context, db *storage.DB, out io.Writer, stats []storage.FAQStat, now time.Time) error {
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, now.Location())
	care, err := db.FAQCare(ctx, stats, month)
	if err != nil {
		return err
	}
	fmt.Fprintln(out)
	say(out, "cli.kb.unhelpful_title")
	if len(care.Unhelpful) == 0 {
		say(out, "cli.kb.none")
	} else {
		var tw table
		tw.header("cli.kb.unhelpful_header")
		for _, s := range care.Unhelpful {
			tw.rowf("%s\t%d\t%d\t%d\n", s.EntryID, s.NotHelped, s.Helped, s.Cited)
		}
		tw.print(out)
	}
	fmt.Fprintln(out)
	say(out, "cli.kb.changes_title", "month", month.Format("2006-01"), "n", len(care.Changes), "target", storage.FAQCareTarget, "met", care.TargetMet())
	if len(care.Changes) > 0 {
		var tw table
		tw.header("cli.kb.changes_header")
		for _, c := range care.Changes {
			tw.rowf("%s\t%s\t%s\n", c.EntryID, c.Lang, c.Change)
		}
		tw.print(out)
	}
	fmt.Fprintln(out)
	say(out, "cli.kb.drafts_waiting", "n", care.Drafts)
	return nil
}

// openDB opens the configured database for a tool command.
func openDB(ctx context.Context, cfgPath string) (*storage.DB, error) {
	cfg, err := loadConfig(cfgPath, os.Getenv)
	if err != nil {
		return nil, err
	}
	return storage.Open(ctx, cfg.DatabaseURL, cfg.storageOptions(newLogger(cfg.Log.Format, "warn"), nil))
}

// dbLibrary returns the library imported into the database, or nil when none was imported.
func dbLibrary(ctx context.Context, db *storage.DB) (*kb.Library, string, error) {
	version, _, err := db.GetKV(ctx, kvFAQVersion)
	if err != nil {
		return nil, "", err
	}
	entries, err := db.FAQEntries(ctx)
	if err != nil || len(entries) == 0 {
		return nil, version, err
	}
	var syn map[string][][]string
	if s, ok, _ := db.GetKV(ctx, kvFAQSynonyms); ok {
		json.Unmarshal([]byte(s), &syn)
	}
	lib, err := kb.New(entries, syn)
	if err != nil {
		return nil, version, fmt.Errorf("faq library in the database: %w", err)
	}
	return lib, version, nil
}
