package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/kb"
)

// The knowledge loop's drafts: `kefu kb add --from GD…` turns a resolved ticket's agent reply into a
// draft FAQ entry (personal data removed, bot.ScrubPII); a supervisor reviews it with `kefu kb drafts`
// and publishes or rejects it. Publishing writes the entry to the database library, records it in the
// change log (kefu kb stats) and bumps faq:version: this process swaps the library at once, a running
// kefu serve within faq.reload.

const kbDraftUsage = `kefu kb add --from GD… [--as AGENT]                 a draft FAQ entry from a resolved ticket's reply
kefu kb drafts [--all]                               drafts waiting for a supervisor (--all: decided ones too)
kefu kb publish [--as SUP] [--id ENTRY] [--question "…"] [--answer "…"] ID   publish a draft (supervisors)
kefu kb reject [--as SUP] ID "reason"                reject a draft (supervisors)`

// draftEntryID is the id of a published draft's entry unless the supervisor names one.
func draftEntryID(d bot.FAQDraft) string { return "faq-d" + strconv.FormatInt(d.ID, 10) }

func kbDrafts(ctx context.Context, sub string, args []string, out io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("kb "+sub, flag.ContinueOnError)
	as := fs.String("as", "", "acting agent (default $KEFU_AGENT, then $USER)")
	cfgPath := fs.String("config", "", "config file")
	from := fs.String("from", "", "add: the resolved ticket (GD…)")
	all := fs.Bool("all", false, "drafts: decided drafts too")
	entryID := fs.String("id", "", "publish: the entry id (default faq-dN)")
	question := fs.String("question", "", "publish: the question, edited")
	answer := fs.String("answer", "", "publish: the answer, edited")
	minPos, maxPos := 0, 0
	switch sub {
	case "publish":
		minPos, maxPos = 1, 1
	case "reject":
		minPos, maxPos = 2, -1
	}
	pos, err := parseArgs(fs, args, minPos, maxPos, "a draft id (see kefu kb drafts)"+map[bool]string{true: " and a reason"}[sub == "reject"])
	if err != nil {
		return fmt.Errorf("%w\n%s", err, kbDraftUsage)
	}
	var id int64
	if sub == "publish" || sub == "reject" {
		if id, err = strconv.ParseInt(strings.TrimPrefix(pos[0], "#"), 10, 64); err != nil || id <= 0 {
			return usagef("draft id %q: want a number (see kefu kb drafts)", pos[0])
		}
	}
	if sub == "add" && strings.TrimSpace(*from) == "" {
		return usagef("kb add needs --from GD… (a resolved ticket)\n%s", kbDraftUsage)
	}
	a, err := openCLI(ctx, *cfgPath, getenv)
	if err != nil {
		return err
	}
	defer a.Close()
	actor, err := agentFrom(*as, getenv)
	if sub != "drafts" && err != nil {
		return err
	}
	switch sub {
	case "add":
		no := strings.ToUpper(strings.TrimSpace(*from))
		d, err := a.engine.DraftFAQ(ctx, actor, no)
		if err != nil {
			return explainDraft(err, no, d)
		}
		fmt.Fprintf(out, "draft #%d from %s, waiting for a supervisor (kefu kb publish %d)\n", d.ID, d.TicketNo, d.ID)
		printDraft(out, d, a.loc)
	case "drafts":
		status := bot.DraftOpen
		if *all {
			status = ""
		}
		ds, err := a.db.FAQDrafts(ctx, status, 200)
		if err != nil {
			return err
		}
		if len(ds) == 0 {
			fmt.Fprintln(out, "no drafts waiting (kefu kb add --from GD… makes one from a resolved ticket)")
		}
		for _, d := range ds {
			printDraft(out, d, a.loc)
		}
	case "publish":
		d, err := publishDraft(ctx, a, actor, id, *entryID, *question, *answer)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "draft #%d published as FAQ entry %s (%s); a running server reloads the library within faq.reload\n", d.ID, d.EntryID, d.Lang)
	case "reject":
		d, err := rejectDraft(ctx, a, actor, id, strings.Join(pos[1:], " "))
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "draft #%d rejected\n", d.ID)
	}
	return nil
}

func printDraft(out io.Writer, d bot.FAQDraft, loc *time.Location) {
	state := string(d.Status)
	if d.Status == bot.DraftPublished {
		state += " as " + d.EntryID
	}
	if d.DecidedBy != "" {
		state += " by " + d.DecidedBy
	}
	if d.Reason != "" {
		state += ": " + d.Reason
	}
	fmt.Fprintf(out, "#%d  %s  %s  %s  by %s  %s  [%s]\n  Q: %s\n  A: %s\n", d.ID, d.TicketNo, d.Lang, categoryOf(d.Category), d.CreatedBy,
		d.CreatedAt.In(loc).Format("2006-01-02 15:04"), state, d.Question, strings.ReplaceAll(d.Answer, "\n", "\n     "))
}

// explainDraft turns DraftFAQ's errors into sentences.
func explainDraft(err error, no string, d bot.FAQDraft) error {
	switch {
	case errors.Is(err, bot.ErrDraftExists):
		return fmt.Errorf("%s: draft #%d from it is waiting for a supervisor (kefu kb publish %d): %w", no, d.ID, d.ID, err)
	case errors.Is(err, bot.ErrNotResolved):
		return fmt.Errorf("%s is not resolved yet: a draft is made from a resolved ticket's reply: %w", no, err)
	case errors.Is(err, bot.ErrNoReply):
		return fmt.Errorf("%s has no agent reply of its own to draft from (FAQ answers are in the library already): %w", no, err)
	}
	return explain(err, no)
}

var errNotSupervisor = fmt.Errorf("not allowed: only a supervisor (`supervisor: true` in agents of kefu.yaml) decides on drafts: %w", bot.ErrForbidden)

// publishDraft publishes waiting draft id (question and answer optionally edited) as FAQ entry
// entryID (default faq-dN): the library in the database gains it, this process swaps it in, others
// reload within faq.reload. Supervisors only.
func publishDraft(ctx context.Context, a *app, actor bot.Actor, id int64, entryID, question, answer string) (bot.FAQDraft, error) {
	if !a.engine.IsSupervisor(actor.ID) {
		return bot.FAQDraft{}, errNotSupervisor
	}
	d, err := waitingDraft(ctx, a, id)
	if err != nil {
		return d, err
	}
	if q := strings.TrimSpace(question); q != "" {
		d.Question = q
	}
	if s := strings.TrimSpace(answer); s != "" {
		d.Answer = s
	}
	d.EntryID = strings.TrimSpace(entryID)
	if d.EntryID == "" {
		d.EntryID = draftEntryID(d)
	}
	if !faqIDPattern(d.EntryID) {
		return d, usagef("--id %q: letters, digits and . _ : - only", d.EntryID)
	}
	entry := kb.Entry{ID: d.EntryID, Lang: d.Lang, Category: d.Category, Question: d.Question, Answer: d.Answer}
	// The entry first (idempotent: the same id again), then the decision: a crash between them leaves a
	// draft that can be published again, never a published draft without its entry.
	if err := (faqAdmin{a}).change(ctx, actor, "draft", func([]kb.Entry) ([]kb.Entry, error) { return []kb.Entry{entry}, nil }); err != nil {
		return d, err
	}
	now := time.Now().UTC()
	d.Status, d.DecidedBy, d.DecidedAt = bot.DraftPublished, actor.ID, &now
	if err := a.db.DecideFAQDraft(ctx, d); err != nil {
		return d, err
	}
	a.log.Info("faq draft published", "draft", d.ID, "entry_id", d.EntryID, "lang", d.Lang, "by", actor.ID)
	return d, nil
}

// rejectDraft rejects waiting draft id with a reason. Supervisors only.
func rejectDraft(ctx context.Context, a *app, actor bot.Actor, id int64, reason string) (bot.FAQDraft, error) {
	if !a.engine.IsSupervisor(actor.ID) {
		return bot.FAQDraft{}, errNotSupervisor
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return bot.FAQDraft{}, usagef("reject needs a reason")
	}
	d, err := waitingDraft(ctx, a, id)
	if err != nil {
		return d, err
	}
	now := time.Now().UTC()
	d.Status, d.DecidedBy, d.DecidedAt, d.Reason = bot.DraftRejected, actor.ID, &now, reason
	if err := a.db.DecideFAQDraft(ctx, d); err != nil {
		return d, err
	}
	a.log.Info("faq draft rejected", "draft", d.ID, "by", actor.ID)
	return d, nil
}

func waitingDraft(ctx context.Context, a *app, id int64) (bot.FAQDraft, error) {
	d, err := a.db.FAQDraft(ctx, id)
	if errors.Is(err, bot.ErrNotFound) {
		return d, fmt.Errorf("no draft #%d (see kefu kb drafts): %w", id, err)
	}
	if err != nil {
		return d, err
	}
	if d.Status != bot.DraftOpen {
		return d, fmt.Errorf("draft #%d is %s already (by %s): %w", id, d.Status, d.DecidedBy, bot.ErrConflict)
	}
	return d, nil
}

// faqIDPattern is the FAQ id syntax `/kefu faq edit` accepts.
func faqIDPattern(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_.:-", r)) {
			return false
		}
	}
	return true
}
