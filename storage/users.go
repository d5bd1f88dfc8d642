package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/kefu-dev/kefu/bot"
)

// Console accounts and sessions (migration 0020). The console package hashes passwords and tokens;
// this file only stores them.

// User is a console account. Role is "agent", "supervisor" or "admin"; AgentID ties an agent to the
// tickets they hold (tickets.assignee).
type User struct {
	ID           int64
	Name         string
	Role         string
	AgentID      string
	Lang         string
	PasswordHash string
	CreatedAt    time.Time
	// MustChange: the password was set by someone else (the generated first admin's); the console
	// shows nothing but the change form until the user picks their own.
	MustChange bool
	// DisabledAt is when an admin disabled the account (nil: enabled). A disabled account cannot
	// sign in and its sessions are refused.
	DisabledAt *time.Time
}

// Disabled reports whether an admin disabled the account.
func (u User) Disabled() bool { return u.DisabledAt != nil }

type consoleUser struct {
	ID           int64 `gorm:"primaryKey"`
	Name         string
	Role         string
	AgentID      string
	PasswordHash string
	Lang         string
	MustChange   bool
	DisabledAt   *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

func (consoleUser) TableName() string { return "console_users" }

func (u consoleUser) toUser() User {
	return User{ID: u.ID, Name: u.Name, Role: u.Role, AgentID: u.AgentID, Lang: u.Lang, PasswordHash: u.PasswordHash, CreatedAt: u.CreatedAt.UTC(), MustChange: u.MustChange, DisabledAt: utcPtr(u.DisabledAt)}
}

type consoleSession struct {
	TokenHash string `gorm:"primaryKey"`
	UserID    int64
	CSRF      string `gorm:"column:csrf"`
	CreatedAt time.Time
	ExpiresAt time.Time
}

func (consoleSession) TableName() string { return "console_sessions" }

// CreateUser adds an account; a taken name gives bot.ErrDuplicate.
func (db *DB) CreateUser(ctx context.Context, u User) (User, error) {
	now := time.Now().UTC()
	m := consoleUser{Name: u.Name, Role: u.Role, AgentID: u.AgentID, PasswordHash: u.PasswordHash, Lang: u.Lang, MustChange: u.MustChange, CreatedAt: now, UpdatedAt: now}
	err := db.gdb.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		// names are unique regardless of case: "ADMIN" beside "admin" would be confusing at best
		if err := tx.Model(&consoleUser{}).Where("LOWER(name) = LOWER(?)", u.Name).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return bot.ErrDuplicate
		}
		if u.AgentID != "" { // one account per agent id (see SetUserAgentID)
			if err := tx.Model(&consoleUser{}).Where("agent_id = ?", u.AgentID).Count(&n).Error; err != nil {
				return err
			}
			if n > 0 {
				return ErrAgentIDTaken
			}
		}
		return tx.Create(&m).Error
	})
	if err != nil {
		if errors.Is(err, ErrAgentIDTaken) {
			return User{}, fmt.Errorf("storage: create user %q: %w", u.Name, err)
		}
		if errors.Is(err, bot.ErrDuplicate) || strings.Contains(err.Error(), "UNIQUE") || strings.Contains(err.Error(), "23505") {
			return User{}, fmt.Errorf("storage: create user %q: %w", u.Name, bot.ErrDuplicate)
		}
		return User{}, fmt.Errorf("storage: create user %q: %w", u.Name, err)
	}
	return m.toUser(), nil
}

// UserByName returns the account or bot.ErrNotFound.
func (db *DB) UserByName(ctx context.Context, name string) (User, error) {
	var m consoleUser
	if err := db.gdb.WithContext(ctx).Where("name = ?", name).Take(&m).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return User{}, bot.ErrNotFound
		}
		return User{}, fmt.Errorf("storage: user %q: %w", name, err)
	}
	return m.toUser(), nil
}

// Users lists the accounts by name.
func (db *DB) Users(ctx context.Context) ([]User, error) {
	var ms []consoleUser
	if err := db.gdb.WithContext(ctx).Order("name").Find(&ms).Error; err != nil {
		return nil, fmt.Errorf("storage: users: %w", err)
	}
	out := make([]User, len(ms))
	for i, m := range ms {
		out[i] = m.toUser()
	}
	return out, nil
}

// CountUsers counts the accounts.
func (db *DB) CountUsers(ctx context.Context) (int64, error) {
	var n int64
	if err := db.gdb.WithContext(ctx).Model(&consoleUser{}).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("storage: count users: %w", err)
	}
	return n, nil
}

// SetUserPassword replaces the password hash (the account no longer must change it) and ends the
// account's sessions.
func (db *DB) SetUserPassword(ctx context.Context, name, hash string) error {
	return db.gdb.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&consoleUser{}).Where("name = ?", name).Updates(map[string]any{"password_hash": hash, "must_change": false, "updated_at": time.Now().UTC()})
		if res.Error != nil {
			return fmt.Errorf("storage: set password of %q: %w", name, res.Error)
		}
		if res.RowsAffected == 0 {
			return bot.ErrNotFound
		}
		return tx.Exec("DELETE FROM console_sessions WHERE user_id = (SELECT id FROM console_users WHERE name = ?)", name).Error
	})
}

// CreateSession stores a session by the hash of its token.
func (db *DB) CreateSession(ctx context.Context, tokenHash string, userID int64, csrf string, expires time.Time) error {
	m := consoleSession{TokenHash: tokenHash, UserID: userID, CSRF: csrf, CreatedAt: time.Now().UTC(), ExpiresAt: expires.UTC()}
	if err := db.gdb.WithContext(ctx).Create(&m).Error; err != nil {
		return fmt.Errorf("storage: create session: %w", err)
	}
	return nil
}

// Session returns the account and CSRF token of a live session, or bot.ErrNotFound (also when the
// account has been disabled since: its sessions end at once, whatever their expiry).
func (db *DB) Session(ctx context.Context, tokenHash string, now time.Time) (User, string, error) {
	var s consoleSession
	err := db.gdb.WithContext(ctx).Where("token_hash = ? AND expires_at > ?", tokenHash, now.UTC()).Take(&s).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return User{}, "", bot.ErrNotFound
	}
	if err != nil {
		return User{}, "", fmt.Errorf("storage: session: %w", err)
	}
	var u consoleUser
	if err := db.gdb.WithContext(ctx).Where("id = ? AND disabled_at IS NULL", s.UserID).Take(&u).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return User{}, "", bot.ErrNotFound
		}
		return User{}, "", fmt.Errorf("storage: session user: %w", err)
	}
	return u.toUser(), s.CSRF, nil
}

// DeleteSession ends a session (and drops expired ones).
func (db *DB) DeleteSession(ctx context.Context, tokenHash string) error {
	if err := db.gdb.WithContext(ctx).Exec("DELETE FROM console_sessions WHERE token_hash = ? OR expires_at < ?", tokenHash, time.Now().UTC()).Error; err != nil {
		return fmt.Errorf("storage: delete session: %w", err)
	}
	return nil
}

// LoginFailures returns, for the most-failed of keys, the number of failures and the last one's time.
func (db *DB) LoginFailures(ctx context.Context, keys []string) (int, time.Time, error) {
	var rows []struct {
		Failures int
		LastAt   time.Time
	}
	if err := db.gdb.WithContext(ctx).Raw("SELECT failures, last_at FROM console_login_failures WHERE key IN ?", keys).Scan(&rows).Error; err != nil {
		return 0, time.Time{}, fmt.Errorf("storage: login failures: %w", err)
	}
	n, last := 0, time.Time{}
	for _, r := range rows {
		if r.Failures > n {
			n, last = r.Failures, r.LastAt.UTC()
		}
	}
	return n, last, nil
}

// RecordLoginFailure counts a failed sign-in for each key.
func (db *DB) RecordLoginFailure(ctx context.Context, keys []string, at time.Time) error {
	for _, k := range keys {
		err := db.gdb.WithContext(ctx).Exec(`INSERT INTO console_login_failures (key, failures, last_at) VALUES (?, 1, ?)
			ON CONFLICT (key) DO UPDATE SET failures = console_login_failures.failures + 1, last_at = excluded.last_at`, k, at.UTC()).Error
		if err != nil {
			return fmt.Errorf("storage: record login failure: %w", err)
		}
	}
	return nil
}

// ClearLoginFailures forgets the failures of keys after a successful sign-in.
func (db *DB) ClearLoginFailures(ctx context.Context, keys []string) error {
	if err := db.gdb.WithContext(ctx).Exec("DELETE FROM console_login_failures WHERE key IN ?", keys).Error; err != nil {
		return fmt.Errorf("storage: clear login failures: %w", err)
	}
	return nil
}
