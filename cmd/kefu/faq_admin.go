package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/kefu-dev/kefu/adapters/slack"
	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/kb"
	"github.com/kefu-dev/kefu/storage"
)

// faqAdmin lets agents search and grow the FAQ library from Slack (`/kefu faq search|add|edit`).
// Changes go to the library in the database (the one `kefu kb import` fills) and take effect at
// once in this process and within faq.reload in the others. A library kept in a file (faq.file) is
// edited in the file instead: add and edit then answer "not available".
type faqAdmin struct{ a *app }

var _ slack.FAQ = faqAdmin{}

func (f faqAdmin) Search(ctx context.Context, query, lang string, limit int) ([]slack.FAQEntry, error) {
	var out []slack.FAQEntry
	for _, h := range f.a.matcher.Match(query, lang, limit) {
		e := h.Entry
		out = append(out, slack.FAQEntry{ID: e.ID, Lang: e.Lang, Question: e.Question, Answer: e.Answer})
	}
	return out, nil
}

func (f faqAdmin) Add(ctx context.Context, actor bot.Actor, e slack.FAQEntry) (slack.FAQEntry, error) {
	if e.Question == "" || e.Answer == "" {
		return e, fmt.Errorf("faq add: question and answer are required: %w", bot.ErrBadInput)
	}
	if e.ID == "" {
		e.ID = "faq-" + strconv.FormatInt(time.Now().UnixMilli(), 36)
	}
	err := f.change(ctx, actor, "slack", func(entries []kb.Entry) ([]kb.Entry, error) {
		return []kb.Entry{{ID: e.ID, Lang: e.Lang, Question: e.Question, Answer: e.Answer, Category: "slack"}}, nil
	})
	if err == nil {
		f.a.log.Info("faq entry added", "entry_id", e.ID, "lang", e.Lang, "by", actor.ID)
	}
	return e, err
}

func (f faqAdmin) Edit(ctx context.Context, actor bot.Actor, id, answer string) (slack.FAQEntry, error) {
	if answer == "" {
		return slack.FAQEntry{}, fmt.Errorf("faq edit: answer is required: %w", bot.ErrBadInput)
	}
	var edited kb.Entry
	err := f.change(ctx, actor, "slack", func(entries []kb.Entry) ([]kb.Entry, error) {
		// Prefer the entry in the team's language; an id exists once per language.
		found := -1
		for i, e := range entries {
			if e.ID == id && (found < 0 || e.Lang == f.a.cfg.Slack.Lang) {
				found = i
			}
		}
		if found < 0 {
			return nil, fmt.Errorf("faq entry %q: %w", id, bot.ErrNotFound)
		}
		edited = entries[found]
		edited.Answer = answer
		return []kb.Entry{edited}, nil
	})
	if err != nil {
		return slack.FAQEntry{}, err
	}
	f.a.log.Info("faq entry edited", "entry_id", id, "lang", edited.Lang, "by", actor.ID)
	return slack.FAQEntry{ID: edited.ID, Lang: edited.Lang, Question: edited.Question, Answer: edited.Answer}, nil
}

// change applies an edit to the database library (seeding it with the library in use the first time,
// so adding one entry never drops the others), records the new and revised entries in the library's
// change log (kefu kb stats) and swaps the new library in; other processes reload within faq.reload.
func (f faqAdmin) change(ctx context.Context, actor bot.Actor, source string, edit func([]kb.Entry) ([]kb.Entry, error)) error {
	if f.a.cfg.FAQ.File != "" {
		return fmt.Errorf("faq: the library is the file %s; edit it there: %w", f.a.cfg.FAQ.File, errors.ErrUnsupported)
	}
	current, err := f.a.db.FAQEntries(ctx)
	if err != nil {
		return err
	}
	if len(current) == 0 {
		for _, e := range f.a.matcher.Library().Entries() {
			current = append(current, *e)
		}
		if _, err := f.a.db.ImportFAQ(ctx, current); err != nil {
			return err
		}
	}
	changed, err := edit(current)
	if err != nil {
		return err
	}
	if _, err := f.a.db.ImportFAQ(ctx, changed); err != nil {
		return err
	}
	if err := f.a.db.RecordFAQChanges(ctx, faqChanges(current, changed, source, actor.ID, time.Now())); err != nil {
		return err
	}
	if err := f.a.db.SetKV(ctx, kvFAQVersion, strconv.FormatInt(time.Now().UnixNano(), 10)); err != nil {
		return err
	}
	lib, _, err := dbLibrary(ctx, f.a.db)
	if err != nil {
		return err
	}
	f.a.swapLibrary(ctx, lib) // keeps the learned examples (kefu kb learn)
	return nil
}

// faqChanges lists the entries of changed that are new to current or differ from it in question or
// answer (an unchanged re-import is no revision).
func faqChanges(current, changed []kb.Entry, source, actor string, at time.Time) []storage.FAQChange {
	type key struct{ id, lang string }
	had := map[key]kb.Entry{}
	for _, e := range current {
		had[key{e.ID, e.Lang}] = e
	}
	var out []storage.FAQChange
	for _, e := range changed {
		c := storage.FAQChange{EntryID: e.ID, Lang: e.Lang, Source: source, Actor: actor, At: at}
		switch old, ok := had[key{e.ID, e.Lang}]; {
		case !ok:
			c.Change = "new"
		case old.Question != e.Question || old.Answer != e.Answer:
			c.Change = "revised"
		default:
			continue
		}
		out = append(out, c)
	}
	return out
}
