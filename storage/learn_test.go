package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/storage"
	"github.com/kefu-dev/kefu/storage/storetest"
)

// TestLearnedExamples: helped citations become candidates; a decision is taken once (a second
// supervisor's decision on the same citation changes nothing); accepted wordings are the examples;
// rejected ones keep no text; unhelpful citations are never candidates.
func TestLearnedExamples(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		db := open(t)
		ctx := context.Background()
		now := time.Now().UTC()
		cite := func(conv int64, entry, query string, helped bool) {
			t.Helper()
			if err := db.Tx(ctx, func(tx bot.Tx) error {
				if err := tx.Cite(ctx, bot.Citation{EntryID: entry, ConversationID: conv, Lang: "zh-CN", Query: query, At: now}); err != nil {
					return err
				}
				return tx.FAQFeedback(ctx, conv, entry, helped)
			}); err != nil {
				t.Fatal(err)
			}
		}
		cite(1, "installation", "师傅来装机收钱吗", true)
		cite(2, "refund-time", "钱啥时候退回来", true)
		cite(3, "refund-time", "退款", false)

		cands, err := db.LearnCandidates(ctx, now.Add(-time.Hour), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(cands) != 2 || cands[0].Text != "师傅来装机收钱吗" || cands[1].EntryID != "refund-time" {
			t.Fatalf("candidates %+v", cands)
		}
		if n, err := db.DecideLearned(ctx, cands[:1], true, "cli:boss", now); err != nil || n != 1 {
			t.Fatalf("accept: %d %v", n, err)
		}
		if n, err := db.DecideLearned(ctx, cands[:1], false, "cli:other", now); err != nil || n != 0 {
			t.Fatalf("second decision on the same citation: %d %v", n, err)
		}
		if n, err := db.DecideLearned(ctx, cands[1:], false, "cli:boss", now); err != nil || n != 1 {
			t.Fatalf("reject: %d %v", n, err)
		}
		ex, err := db.LearnedExamples(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(ex) != 1 || ex[0].EntryID != "installation" || ex[0].Text != "师傅来装机收钱吗" || ex[0].Lang != "zh-CN" {
			t.Fatalf("examples %+v", ex)
		}
		if left, _ := db.LearnCandidates(ctx, now.Add(-time.Hour), 10); len(left) != 0 {
			t.Fatalf("decided citations still candidates: %+v", left)
		}
		if old, _ := db.LearnCandidates(ctx, now.Add(time.Hour), 10); len(old) != 0 {
			t.Fatalf("since is ignored: %+v", old)
		}
		_ = storage.LearnAccepted
	})
}
