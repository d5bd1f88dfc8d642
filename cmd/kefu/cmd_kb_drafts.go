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

// kbDraftUsage is the usage text, cli.usage.kb_drafts in locales/*.cli.yaml.
func kbDraftUsage() string { return msg("cli.usage.kb_drafts") }

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
	what := "cli.what.draft_id"
	if sub == "reject" {
		what = "cli.what.draft_reason"
	}
	pos, err := parseArgs(fs, args, minPos, maxPos, what)
	if err != nil {
		return fmt.Errorf("%w\n%s", err, kbDraftUsage())
	}
	var id int64
	if sub == "publish" || sub == "reject" {
		if id, err = strconv.ParseInt(strings.TrimPrefix(pos[0], "#"), 10, 64); err != nil || id <= 0 {
			return usageMsg("cli.kb.bad_draft_id", "id", pos[0])
		}
	}
	if sub == "add" && strings.TrimSpace(*from) == "" {
		return usagef("%s\n%s", msg("cli.kb.add_needs"), kbDraftUsage())
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
		say(out, "cli.kb.drafted", "id", d.ID, "no", d.TicketNo)
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
			say(out, "cli.kb.no_drafts")
		}
		for _, d := range ds {
			printDraft(out, d, a.loc)
		}
	case "publish":
		d, err := publishDraft(ctx, a, actor, id, *entryID, *question, *answer)
		if err != nil {
			return err
		}
		say(out, "cli.kb.published", "id", d.ID, "entry", d.EntryID, "lang", d.Lang)
	case "reject":
		d, err := rejectDraft(ctx, a, actor, id, strings.Join(pos[1:], " "))
		if err != nil {
			return err
		}
		say(out, "cli.kb.rejected", "id", d.ID)
	}
	return nil
}

func printDraft(out io.Writer, d bot.FAQDraft, loc *time.Location) {
	state := string(d.Status)
	if d.Status == bot.DraftPublished {
		state += " " + msg("cli.kb.draft_as", "entry", d.EntryID)
	}
	if d.DecidedBy != "" {
		state += " " + msg("cli.kb.draft_by", "by", d.DecidedBy)
	}
	if d.Reason != "" {
		state += ": " + d.Reason
	}
	fmt.Fprintf(out, "#%d  %s  %s  %s  %s  %s  [%s]\n", d.ID, d.TicketNo, d.Lang, categoryOf(d.Category), msg("cli.kb.draft_by", "by", d.CreatedBy),
		d.CreatedAt.In(loc).Format("2006-01-02 15:04"), state)
	say(out, "cli.kb.draft_q", "q", d.Question)
	say(out, "cli.kb.draft_a", "a", strings.ReplaceAll(d.Answer, "\n", "\n     "))
}

// explainDraft turns DraftFAQ's errors into sentences.
func explainDraft(err error, no string, d bot.FAQDraft) error {
	switch {
	case errors.Is(err, bot.ErrDraftExists):
		return failMsg(err, "cli.kb.draft_exists", "no", no, "id", d.ID)
	case errors.Is(err, bot.ErrNotResolved):
		return failMsg(err, "cli.kb.not_resolved", "no", no)
	case errors.Is(err, bot.ErrNoReply):
		return failMsg(err, "cli.kb.no_reply", "no", no)
	}
	return explain(err, no)
}

// errNotSupervisor is a draft decision by somebody who is not a supervisor.
func errNotSupervisor() error { return failMsg(bot.ErrForbidden, "cli.kb.drafts_supervisor") }

// publishDraft publishes waiting draft id (question and answer optionally edited) as FAQ entry
// entryID (default faq-dN): the library in the database gains it, this process swaps it in, others
// reload within faq.reload. Supervisors only.
func publishDraft(ctx context.Context, a *app, actor bot.Actor, id int64, entryID, question, answer string) (bot.FAQDraft, error) {
	if !a.engine.IsSupervisor(actor.ID) {
		return bot.FAQDraft{}, errNotSupervisor()
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
		return d, usageMsg("cli.kb.bad_entry_id", "entry", d.EntryID)
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
		return bot.FAQDraft{}, errNotSupervisor()
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return bot.FAQDraft{}, usageMsg("cli.kb.reject_needs")
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
		return d, failMsg(err, "cli.kb.no_draft", "id", id)
	}
	if err != nil {
		return d, err
	}
	if d.Status != bot.DraftOpen {
		return d, failMsg(bot.ErrConflict, "cli.kb.decided", "id", id, "status", d.Status, "by", d.DecidedBy)
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
