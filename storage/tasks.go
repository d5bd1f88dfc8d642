package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/kefu-dev/kefu/bot"
)

// Follow-through tasks (migrations/0145_ticket_tasks.sql).

type taskRow struct {
	ID        int64 `gorm:"primaryKey"`
	TicketID  int64
	Kind      string
	Owner     string
	DueAt     time.Time
	State     string
	Note      string `gorm:"serializer:pii"`
	CreatedBy string
	CreatedAt time.Time
	DoneBy    string
	DoneAt    *time.Time
}

func (taskRow) TableName() string { return "ticket_tasks" }

func (r taskRow) toBot(no string) bot.Task {
	return bot.Task{ID: r.ID, TicketID: r.TicketID, TicketNo: no, Kind: r.Kind, Owner: r.Owner, DueAt: r.DueAt.UTC(),
		State: bot.TaskState(r.State), Note: r.Note, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.UTC(), DoneBy: r.DoneBy,
		DoneAt: utcPtr(r.DoneAt)}
}

// Tasks implements bot.TaskReader.
func (r reader) Tasks(ctx context.Context, ticketID int64) ([]bot.Task, error) {
	g := r.g.WithContext(ctx)
	var rows []taskRow
	if err := g.Where("ticket_id = ?", ticketID).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("storage: tasks of %d: %w", ticketID, err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	no, err := r.ticketNoOf(g, ticketID)
	if err != nil {
		return nil, err
	}
	out := make([]bot.Task, len(rows))
	for i, t := range rows {
		out[i] = t.toBot(no)
	}
	return out, nil
}

// Tasks implements bot.TaskReader on the pool.
func (db *DB) Tasks(ctx context.Context, ticketID int64) ([]bot.Task, error) {
	return db.r(ctx).Tasks(ctx, ticketID)
}

// SaveTask implements bot.TaskTx.
func (t *txStore) SaveTask(ctx context.Context, k bot.Task) (bot.Task, error) {
	g := t.g.WithContext(ctx)
	m := taskRow{ID: k.ID, TicketID: k.TicketID, Kind: k.Kind, Owner: k.Owner, DueAt: utc(k.DueAt), State: string(k.State),
		Note: k.Note, CreatedBy: k.CreatedBy, CreatedAt: utc(k.CreatedAt), DoneBy: k.DoneBy, DoneAt: utcPtr(k.DoneAt)}
	if k.ID == 0 {
		if err := g.Create(&m).Error; err != nil {
			return bot.Task{}, fmt.Errorf("storage: save task: %w", err)
		}
		k.ID = m.ID
		return k, nil
	}
	// Updates through the model so the note is sealed like on insert.
	res := g.Model(&taskRow{ID: k.ID}).Select("state", "note", "done_by", "done_at").Updates(&m)
	if res.Error != nil {
		return bot.Task{}, fmt.Errorf("storage: update task %d: %w", k.ID, res.Error)
	}
	if res.RowsAffected == 0 {
		return bot.Task{}, fmt.Errorf("storage: update task %d: %w", k.ID, bot.ErrNotFound)
	}
	return k, nil
}

// LateTasks implements bot.TaskTx.
func (t *txStore) LateTasks(ctx context.Context, now time.Time, limit int) ([]bot.Task, error) {
	g := t.g.WithContext(ctx)
	var rows []taskRow
	if err := g.Where("state = ? AND due_at <= ?", string(bot.TaskOpen), utc(now)).Order("due_at, id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("storage: late tasks: %w", err)
	}
	return withTicketNos(t.reader, g, rows, func(r taskRow) int64 { return r.TicketID }, taskRow.toBot)
}
