package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/storage"
)

func claimBatch(t testing.TB, db *storage.DB, owner string, now time.Time, limit int) []string {
	t.Helper()
	rs, err := db.ClaimBatch(context.Background(), owner, now, []bot.Channel{bot.ChannelTelegram, bot.ChannelDiscord}, limit)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rs {
		out = append(out, r.Text)
	}
	return out
}

// testOutboxClaimBatch: a claim takes every pending row of the oldest due conversations, in id order;
// claimed conversations are not handed out again until marked or released; a conversation whose
// oldest row waits for a retry is skipped whole; sent rows are marked in one call with their own
// platform ids.
func testOutboxClaimBatch(t *testing.T, db *storage.DB) {
	ctx := context.Background()
	for _, s := range []string{"a1", "a2", "a3"} {
		enqueue(t, db, bot.ChannelTelegram, "A", s, t0)
	}
	enqueue(t, db, bot.ChannelTelegram, "B", "b1", t0)
	enqueue(t, db, bot.ChannelDiscord, "A", "d1", t0)
	enqueue(t, db, bot.ChannelTelegram, "B", "b2", t0)
	for _, o := range []string{"w1", "w2"} {
		if err := db.Heartbeat(ctx, o, t0, t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := claimBatch(t, db, "w1", t0, 2), []string{"a1", "a2", "a3", "b1", "b2"}; !cmp.Equal(got, want) {
		t.Fatalf("first claim: %s", cmp.Diff(want, got))
	}
	if got := claimBatch(t, db, "w2", t0, 10); !cmp.Equal(got, []string{"d1"}) {
		t.Fatalf("second claimer: %q", got)
	}
	if got := claimBatch(t, db, "w2", t0, 10); len(got) != 0 {
		t.Fatalf("claimed rows handed out again: %q", got)
	}
	// A row enqueued behind a claimed conversation waits for it.
	enqueue(t, db, bot.ChannelTelegram, "A", "a4", t0)
	if got := claimBatch(t, db, "w2", t0, 10); len(got) != 0 {
		t.Fatalf("a4 overtook a claimed conversation: %q", got)
	}
	if err := db.MarkSentBatch(ctx, []bot.Sent{{OutboxID: idOf(t, db, "a1"), PlatformMsgID: "p1"}, {OutboxID: idOf(t, db, "a2"), PlatformMsgID: "p2"}}, t0); err != nil {
		t.Fatal(err)
	}
	// a3 must wait: retried later; the release of B gives its rows back untouched.
	if err := db.MarkRetry(ctx, idOf(t, db, "a3"), t0.Add(time.Minute), "429", false); err != nil {
		t.Fatal(err)
	}
	if err := db.Release(ctx, "w1", []int64{idOf(t, db, "b1"), idOf(t, db, "b2")}); err != nil {
		t.Fatal(err)
	}
	if got := claimBatch(t, db, "w2", t0, 10); !cmp.Equal(got, []string{"b1", "b2"}) {
		t.Fatalf("after release: %q (A waits for a3's retry)", got)
	}
	if got := claimBatch(t, db, "w2", t0.Add(time.Minute), 10); !cmp.Equal(got, []string{"a3", "a4"}) {
		t.Fatalf("after a3 is due: %q", got)
	}
	rows, _ := db.OutboxRows(ctx, bot.ChannelTelegram, "A")
	var st []string
	for _, r := range rows {
		st = append(st, fmt.Sprintf("%s:%s:%s:%d", r.Text, r.Status, r.PlatformMsgID, r.Attempts))
	}
	if want := []string{"a1:sent:p1:1", "a2:sent:p2:1", "a3:pending::0", "a4:pending::0"}; !cmp.Equal(st, want) {
		t.Errorf("rows: %s", cmp.Diff(want, st))
	}
}

// testOutboxDeadOwner: the claims of an owner whose heartbeat ran out are freed by another owner's
// heartbeat, and only then.
func testOutboxDeadOwner(t *testing.T, db *storage.DB) {
	ctx := context.Background()
	enqueue(t, db, bot.ChannelTelegram, "A", "a1", t0)
	enqueue(t, db, bot.ChannelTelegram, "A", "a2", t0)
	if err := db.Heartbeat(ctx, "dead", t0, t0.Add(5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := claimBatch(t, db, "dead", t0, 10); len(got) != 2 {
		t.Fatalf("claim: %q", got)
	}
	for _, at := range []time.Duration{time.Second, 4 * time.Second} {
		if err := db.Heartbeat(ctx, "live", t0.Add(at), t0.Add(at+5*time.Second)); err != nil {
			t.Fatal(err)
		}
		if got := claimBatch(t, db, "live", t0.Add(at), 10); len(got) != 0 {
			t.Fatalf("claimed at +%s while the owner is alive: %q", at, got)
		}
	}
	at := t0.Add(6 * time.Second)
	if err := db.Heartbeat(ctx, "live", at, at.Add(5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := claimBatch(t, db, "live", at, 10); !cmp.Equal(got, []string{"a1", "a2"}) {
		t.Fatalf("after the owner died: %q", got)
	}
}

// testOutboxClaimBatchConcurrent: several owners claiming at once get every row exactly once and
// each chat's rows in order.
func testOutboxClaimBatchConcurrent(t *testing.T, db *storage.DB) {
	ctx := context.Background()
	const chats, per = 8, 6
	for i := 0; i < per; i++ {
		for c := 0; c < chats; c++ {
			enqueue(t, db, bot.ChannelTelegram, fmt.Sprintf("c%d", c), fmt.Sprintf("c%d-%02d", c, i), t0)
		}
	}
	var mu sync.Mutex
	seen := map[string][]string{}
	total := 0
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		owner := fmt.Sprintf("w%d", w)
		if err := db.Heartbeat(ctx, owner, t0, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for idle := 0; idle < 50; {
				rs, err := db.ClaimBatch(ctx, owner, t0, []bot.Channel{bot.ChannelTelegram}, 2)
				if err != nil {
					t.Errorf("claim: %v", err)
					return
				}
				if len(rs) == 0 {
					mu.Lock()
					done := total == chats*per
					mu.Unlock()
					if done {
						return
					}
					idle++
					time.Sleep(2 * time.Millisecond)
					continue
				}
				var sent []bot.Sent
				mu.Lock()
				for _, r := range rs {
					seen[r.ChatID] = append(seen[r.ChatID], r.Text)
					total++
					sent = append(sent, bot.Sent{OutboxID: r.OutboxID, PlatformMsgID: "x"})
				}
				mu.Unlock()
				if err := db.MarkSentBatch(ctx, sent, t0); err != nil {
					t.Errorf("mark sent: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	for c := 0; c < chats; c++ {
		chat := fmt.Sprintf("c%d", c)
		var want []string
		for i := 0; i < per; i++ {
			want = append(want, fmt.Sprintf("%s-%02d", chat, i))
		}
		if !cmp.Equal(seen[chat], want) {
			t.Errorf("chat %s delivered: %s", chat, cmp.Diff(want, seen[chat]))
		}
	}
}
