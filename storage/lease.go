package storage

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Lease acquires or renews the named lease for holder until now+ttl and reports whether holder has
// it. Another holder gets it only once it has run out. Several kefu processes on one database use it
// to elect the one that follows a feed (the Slack adapter's event feed), so that each post is made
// once. The lease is a kv row "lease:<name>" = "<holder> <until unix ms>", read and written under the
// row lock (PostgreSQL) or SQLite's write lock.
func (db *DB) Lease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	if holder == "" || strings.ContainsRune(holder, ' ') || ttl <= 0 {
		return false, fmt.Errorf("storage: lease %s: bad holder %q or ttl %v", name, holder, ttl)
	}
	key := "lease:" + name
	got := false
	err := db.gdb.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := time.Now()
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).
			Create(&kvRow{Key: key, Value: "", UpdatedAt: now.UTC()}).Error; err != nil {
			return err
		}
		q := tx.Where("key = ?", key)
		if db.dialect == Postgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		var m kvRow
		if err := q.Take(&m).Error; err != nil {
			return err
		}
		cur, until, _ := strings.Cut(m.Value, " ")
		ms, _ := strconv.ParseInt(until, 10, 64)
		if cur != "" && cur != holder && now.UnixMilli() < ms {
			got = false
			return nil
		}
		got = true
		return tx.Model(&kvRow{}).Where("key = ?", key).Updates(map[string]any{
			"value": holder + " " + strconv.FormatInt(now.Add(ttl).UnixMilli(), 10), "updated_at": now.UTC()}).Error
	})
	if err != nil {
		return false, fmt.Errorf("storage: lease %s: %w", name, err)
	}
	return got, nil
}
