package storage

import (
	"context"
	"fmt"
	"time"
)

// LoginFailure is the failure count of one sign-in backoff key and the time of its last failure.
type LoginFailure struct {
	Failures int
	LastAt   time.Time
}

// LoginFailureCounts returns the counts of those keys that have any.
func (db *DB) LoginFailureCounts(ctx context.Context, keys []string) (map[string]LoginFailure, error) {
	var rows []struct {
		Key      string
		Failures int
		LastAt   time.Time
	}
	if err := db.gdb.WithContext(ctx).Raw("SELECT key, failures, last_at FROM console_login_failures WHERE key IN ?", keys).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("storage: login failures: %w", err)
	}
	out := make(map[string]LoginFailure, len(rows))
	for _, r := range rows {
		out[r.Key] = LoginFailure{Failures: r.Failures, LastAt: r.LastAt.UTC()}
	}
	return out, nil
}

// BumpLoginFailure counts one more failure for key at at, but only while the key still holds
// expect failures (compare-and-set): of concurrent sign-in attempts that read the same count, one
// wins and the others must read again. It reports whether this call counted.
func (db *DB) BumpLoginFailure(ctx context.Context, key string, expect int, at time.Time) (bool, error) {
	g := db.gdb.WithContext(ctx)
	if expect == 0 {
		res := g.Exec(`INSERT INTO console_login_failures (key, failures, last_at) VALUES (?, 1, ?) ON CONFLICT (key) DO NOTHING`, key, at.UTC())
		if res.Error != nil {
			return false, fmt.Errorf("storage: bump login failure: %w", res.Error)
		}
		if res.RowsAffected == 1 {
			return true, nil
		}
	}
	res := g.Exec(`UPDATE console_login_failures SET failures = failures + 1, last_at = ? WHERE key = ? AND failures = ?`, at.UTC(), key, expect)
	if res.Error != nil {
		return false, fmt.Errorf("storage: bump login failure: %w", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// ForgiveLoginFailure takes back one counted failure of key (a sign-in counted before its password
// was checked turned out right).
func (db *DB) ForgiveLoginFailure(ctx context.Context, key string) error {
	if err := db.gdb.WithContext(ctx).Exec(`UPDATE console_login_failures SET failures = failures - 1 WHERE key = ? AND failures > 0`, key).Error; err != nil {
		return fmt.Errorf("storage: forgive login failure: %w", err)
	}
	return nil
}
