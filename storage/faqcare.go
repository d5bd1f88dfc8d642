package storage

import (
	"context"
	"sort"
	"time"

	"github.com/kefu-dev/kefu/bot"
)

// FAQCareTarget is the seeds' monthly target of new or revised FAQ entries (知识库每月新增或修订 ≥ 10).
const FAQCareTarget = 10

// FAQCare is what the knowledge-base upkeep lists (`kefu kb stats`, the console's knowledge-base page):
// the entries customers marked unhelpful, worst first; the month's new or revised entries, each entry
// and language once (new wins over revised), in order of their first change; the drafts waiting for a
// supervisor.
type FAQCare struct {
	Unhelpful []FAQStat
	Changes   []FAQChange
	Drafts    int64
}

// TargetMet reports whether the month's changes reach FAQCareTarget.
func (c FAQCare) TargetMet() bool { return len(c.Changes) >= FAQCareTarget }

// FAQCare gathers the upkeep lists from the citations' stats (FAQStats of the period looked at) and the
// changes since month (the first day of the month in the operator's zone).
func (db *DB) FAQCare(ctx context.Context, stats []FAQStat, month time.Time) (FAQCare, error) {
	var c FAQCare
	for _, s := range stats {
		if s.NotHelped > 0 {
			c.Unhelpful = append(c.Unhelpful, s)
		}
	}
	sort.SliceStable(c.Unhelpful, func(i, j int) bool { return c.Unhelpful[i].NotHelped > c.Unhelpful[j].NotHelped })
	changes, err := db.FAQChanges(ctx, month)
	if err != nil {
		return FAQCare{}, err
	}
	type key struct{ id, lang string }
	at := map[key]int{}
	for _, ch := range changes {
		k := key{ch.EntryID, ch.Lang}
		if i, ok := at[k]; !ok {
			at[k] = len(c.Changes)
			c.Changes = append(c.Changes, ch)
		} else if ch.Change == "new" {
			c.Changes[i].Change = "new"
		}
	}
	if c.Drafts, err = db.CountFAQDrafts(ctx, bot.DraftOpen); err != nil {
		return FAQCare{}, err
	}
	return c, nil
}
