package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/kefu-dev/kefu/bot"
)

// ComplaintTickets returns complaint tickets that are still open or were created at or after since,
// newest first (at most limit): the supervisors' complaints page (console/complaints.go).
func (db *DB) ComplaintTickets(ctx context.Context, since time.Time, limit int) ([]bot.Ticket, error) {
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	var ms []ticket
	err := db.gdb.WithContext(ctx).Model(&ticket{}).Where("complaint = ? AND (status IN ? OR created_at >= ?)", true, openStatuses, utc(since)).
		Order("id DESC").Limit(limit).Find(&ms).Error
	if err != nil {
		return nil, fmt.Errorf("storage: complaint tickets: %w", err)
	}
	out := make([]bot.Ticket, len(ms))
	for i, m := range ms {
		out[i] = m.toBot()
	}
	return out, nil
}
