package storage

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/kefu-dev/kefu/bot"
)

// headsQuery finds up to ? conversations whose oldest pending row is unclaimed, due and not leased
// (ClaimOutbox's lease), oldest first. "Oldest" is a correlated MIN over the per-chat index, which
// every planner runs as one index probe per candidate, even on a table it has no statistics for yet
// (a NOT EXISTS anti-join was planned as a nested loop over every pending row there: quadratic). It walks the partial index of unclaimed pending rows in id
// order; a claimed conversation's rows are out of that index, so the cost of a pass does not grow
// with the rows already handed out.
const headsQuery = `SELECT o.channel, o.chat_id FROM outbox o {{indexed}}
WHERE o.status = 'pending' AND o.claimed_by IS NULL AND o.channel IN ? AND o.next_attempt_at <= ?
  AND (o.lease_until IS NULL OR o.lease_until <= ?)
  AND o.id = (SELECT MIN(p.id) FROM outbox p
      WHERE p.status = 'pending' AND p.channel = o.channel AND p.chat_id = o.chat_id)
ORDER BY o.id LIMIT ?`

// ClaimBatch implements bot.Outbox: one UPDATE … RETURNING claims every unclaimed pending row of up to
// limit conversations for owner. A cheap read goes first, so an idle poll takes no write lock.
func (db *DB) ClaimBatch(ctx context.Context, owner string, now time.Time, channels []bot.Channel, limit int) ([]bot.Reply, error) {
	if len(channels) == 0 || limit <= 0 || owner == "" {
		return nil, nil
	}
	now = now.UTC()
	chs := make([]string, len(channels))
	for i, c := range channels {
		chs[i] = string(c)
	}
	g := db.gdb.WithContext(ctx)
	headsQuery := db.headsQuery()
	var probe []struct{ Channel, ChatID string }
	if err := g.Raw(headsQuery, chs, now, now, 1).Scan(&probe).Error; err != nil {
		return nil, fmt.Errorf("storage: claim outbox: %w", err)
	}
	if len(probe) == 0 {
		return nil, nil
	}
	q := `UPDATE outbox SET claimed_by = ?
WHERE status = 'pending' AND claimed_by IS NULL AND (lease_until IS NULL OR lease_until <= ?)
  AND (channel, chat_id) IN (` + headsQuery + `)
RETURNING *`
	args := []any{owner, now, chs, now, now, limit}
	if db.dialect == Postgres {
		// The heads are picked once, in a CTE (a sub-select with a locking clause would be run again
		// for each row and see the rows this statement already claimed), and two dispatchers skip
		// each other's heads instead of queueing behind them. The rows to claim are collected from
		// the heads through the per-chat index (ARRAY(…) runs once), then updated by primary key
		// ("NOT IN ('sent', 'failed')" keeps the planner off the partial pending index, which
		// would visit every pending row).
		q = `WITH heads AS (` + headsQuery + ` FOR UPDATE OF o SKIP LOCKED)
UPDATE outbox SET claimed_by = ?
WHERE id = ANY(ARRAY(SELECT p.id FROM heads h
    JOIN outbox p ON p.channel = h.channel AND p.chat_id = h.chat_id AND p.status = 'pending'))
  AND status NOT IN ('sent', 'failed') AND claimed_by IS NULL AND (lease_until IS NULL OR lease_until <= ?)
RETURNING *`
		args = []any{chs, now, now, limit, owner, now}
	}
	var rows []outboxRow
	if err := g.Raw(q, args...).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("storage: claim outbox: %w", err)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].ID < rows[j].ID })
	out := make([]bot.Reply, len(rows))
	for i, r := range rows {
		out[i] = r.toReply()
	}
	return out, nil
}

// headsQuery renders headsQuery for the dialect. SQLite's planner prefers the per-chat index for
// "channel IN (…)" and then sorts every pending row of the channel: it is told to walk the unclaimed
// rows in id order instead, which stops after limit heads.
func (db *DB) headsQuery() string {
	if db.dialect == SQLite {
		return strings.Replace(headsQuery, "{{indexed}}", "INDEXED BY outbox_unclaimed", 1)
	}
	return strings.Replace(headsQuery, "{{indexed}}", "", 1)
}

// markBatch is the most rows one MarkSentBatch or Release statement names.
const markBatch = 500

// MarkSentBatch implements bot.Outbox: one UPDATE per up to markBatch rows.
func (db *DB) MarkSentBatch(ctx context.Context, sent []bot.Sent, at time.Time) error {
	at = utc(at)
	for len(sent) > 0 {
		n := min(len(sent), markBatch)
		part := sent[:n]
		sent = sent[n:]
		ids := make([]int64, n)
		var caseSQL strings.Builder
		args := make([]any, 0, 2*n)
		caseSQL.WriteString("CASE id")
		for i, s := range part {
			ids[i] = s.OutboxID
			caseSQL.WriteString(" WHEN ? THEN ?")
			args = append(args, s.OutboxID, s.PlatformMsgID)
		}
		caseSQL.WriteString(" END")
		// Marked sent whoever holds the claim now: the message went out.
		err := db.gdb.WithContext(ctx).Model(&outboxRow{}).Where("id IN ? AND status = ?", ids, outboxPending).Updates(map[string]any{
			"status": outboxSent, "platform_msg_id": gorm.Expr(caseSQL.String(), args...), "sent_at": at,
			"lease_until": nil, "claimed_by": nil, "attempts": gorm.Expr("attempts + 1"),
		}).Error
		if err != nil {
			return fmt.Errorf("storage: mark %d outbox rows sent: %w", n, err)
		}
	}
	return nil
}

// Release implements bot.Outbox: the rows go back unclaimed, untouched otherwise.
func (db *DB) Release(ctx context.Context, owner string, ids []int64) error {
	for len(ids) > 0 {
		n := min(len(ids), markBatch)
		err := db.gdb.WithContext(ctx).Model(&outboxRow{}).Where("id IN ? AND claimed_by = ?", ids[:n], owner).
			Update("claimed_by", nil).Error
		if err != nil {
			return fmt.Errorf("storage: release outbox rows: %w", err)
		}
		ids = ids[n:]
	}
	return nil
}

// Heartbeat implements bot.Outbox: owner is alive until until; then the claims of owners that are not
// alive at now any more (a killed process) are freed. (The retention job forgets long-dead owners.)
func (db *DB) Heartbeat(ctx context.Context, owner string, now, until time.Time) error {
	now, until = now.UTC(), until.UTC()
	g := db.gdb.WithContext(ctx)
	err := g.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "id"}}, DoUpdates: clause.AssignmentColumns([]string{"alive_until"})}).
		Create(&outboxOwner{ID: owner, AliveUntil: until}).Error
	if err != nil {
		return fmt.Errorf("storage: outbox heartbeat: %w", err)
	}
	const orphaned = `status = 'pending' AND claimed_by IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM outbox_owners w WHERE w.id = outbox.claimed_by AND w.alive_until > ?)`
	var any []int64
	if err := g.Model(&outboxRow{}).Select("id").Where(orphaned, now).Limit(1).Scan(&any).Error; err != nil {
		return fmt.Errorf("storage: outbox heartbeat: %w", err)
	}
	if len(any) > 0 {
		res := g.Model(&outboxRow{}).Where(orphaned, now).Update("claimed_by", nil)
		if res.Error != nil {
			return fmt.Errorf("storage: free dead dispatchers' claims: %w", res.Error)
		}
		db.log.WarnContext(ctx, "freed the outbox claims of a dispatcher that stopped", "rows", res.RowsAffected)
	}
	return nil
}
