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

// Console account administration (migration 0135): disable, enable, delete, change role, agent id and
// password. Every change runs in one transaction with its console_account_audit row; changes that
// could leave no enabled admin are refused with ErrLastAdmin.

// ErrLastAdmin refuses to disable, delete or demote the last enabled admin account.
var ErrLastAdmin = errors.New("storage: the last enabled admin account cannot be disabled, deleted or demoted")

// ErrAgentIDTaken refuses to link an agent id that another account already has.
var ErrAgentIDTaken = errors.New("storage: another account already has this agent id")

// Account audit actions.
const (
	AccountAdded    = "added"
	AccountDisabled = "disabled"
	AccountEnabled  = "enabled"
	AccountDeleted  = "deleted"
	AccountRole     = "role"
	AccountAgentID  = "agent_id"
	AccountPassword = "password"
)

// AccountEvent is one line of the account audit log.
type AccountEvent struct {
	ID     int64
	At     time.Time
	Actor  string // "console:NAME", "cli:NAME"
	Action string // AccountDisabled, …
	Target string // the account's name
	Detail string // "agent->admin", "cli:alice->slack:U1"; never a password
}

type accountAudit struct {
	ID     int64 `gorm:"primaryKey"`
	At     time.Time
	Actor  string
	Action string
	Target string
	Detail string
}

func (accountAudit) TableName() string { return "console_account_audit" }

// adminRole is the role whose last enabled holder is protected (console.RoleAdmin; storage cannot
// import console).
const adminRole = "admin"

// accountTx runs fn on the locked account name (bot.ErrNotFound when there is none) and writes the
// audit row fn returns. On PostgreSQL account changes take turns (an advisory lock): two admins
// disabling each other at the same moment must not both see "another admin remains".
func (db *DB) accountTx(ctx context.Context, actor, name string, fn func(tx *gorm.DB, u consoleUser, now time.Time) (action, detail string, err error)) error {
	if strings.TrimSpace(actor) == "" {
		return fmt.Errorf("storage: account change of %q: actor is required", name)
	}
	return db.gdb.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if db.dialect == Postgres {
			if err := tx.Exec("SELECT pg_advisory_xact_lock(7340419)").Error; err != nil {
				return fmt.Errorf("storage: account lock: %w", err)
			}
		}
		var u consoleUser
		if err := tx.Where("name = ?", name).Take(&u).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return fmt.Errorf("storage: account %q: %w", name, bot.ErrNotFound)
			}
			return fmt.Errorf("storage: account %q: %w", name, err)
		}
		now := db.now()
		action, detail, err := fn(tx, u, now)
		if err != nil || action == "" {
			return err
		}
		if err := tx.Create(&accountAudit{At: now, Actor: actor, Action: action, Target: u.Name, Detail: detail}).Error; err != nil {
			return fmt.Errorf("storage: account audit: %w", err)
		}
		return nil
	})
}

// otherEnabledAdmins counts the enabled admins other than id.
func otherEnabledAdmins(tx *gorm.DB, id int64) (int64, error) {
	var n int64
	err := tx.Model(&consoleUser{}).Where("role = ? AND disabled_at IS NULL AND id <> ?", adminRole, id).Count(&n).Error
	if err != nil {
		return 0, fmt.Errorf("storage: count admins: %w", err)
	}
	return n, nil
}

// guardLastAdmin returns ErrLastAdmin when u is the only enabled admin.
func guardLastAdmin(tx *gorm.DB, u consoleUser) error {
	if u.Role != adminRole || u.DisabledAt != nil {
		return nil
	}
	n, err := otherEnabledAdmins(tx, u.ID)
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrLastAdmin
	}
	return nil
}

func endSessions(tx *gorm.DB, userID int64) error {
	if err := tx.Exec("DELETE FROM console_sessions WHERE user_id = ?", userID).Error; err != nil {
		return fmt.Errorf("storage: end sessions: %w", err)
	}
	return nil
}

// SetUserDisabled disables (its sessions end at once) or re-enables an account. Changing nothing is
// no error and writes no audit row.
func (db *DB) SetUserDisabled(ctx context.Context, actor, name string, disabled bool) error {
	return db.accountTx(ctx, actor, name, func(tx *gorm.DB, u consoleUser, now time.Time) (string, string, error) {
		if (u.DisabledAt != nil) == disabled {
			return "", "", nil
		}
		var at *time.Time
		action := AccountEnabled
		if disabled {
			if err := guardLastAdmin(tx, u); err != nil {
				return "", "", err
			}
			if err := endSessions(tx, u.ID); err != nil {
				return "", "", err
			}
			at, action = &now, AccountDisabled
		}
		if err := tx.Model(&consoleUser{}).Where("id = ?", u.ID).Updates(map[string]any{"disabled_at": at, "updated_at": now}).Error; err != nil {
			return "", "", fmt.Errorf("storage: %s %q: %w", action, name, err)
		}
		return action, "", nil
	})
}

// DeleteUser deletes an account and its sessions.
func (db *DB) DeleteUser(ctx context.Context, actor, name string) error {
	return db.accountTx(ctx, actor, name, func(tx *gorm.DB, u consoleUser, now time.Time) (string, string, error) {
		if err := guardLastAdmin(tx, u); err != nil {
			return "", "", err
		}
		if err := endSessions(tx, u.ID); err != nil {
			return "", "", err
		}
		if err := tx.Exec("DELETE FROM console_users WHERE id = ?", u.ID).Error; err != nil {
			return "", "", fmt.Errorf("storage: delete %q: %w", name, err)
		}
		return AccountDeleted, u.Role, nil
	})
}

// SetUserRole changes an account's role (the caller checks it is a valid one). Its sessions go on with
// the new role from their next request.
func (db *DB) SetUserRole(ctx context.Context, actor, name, role string) error {
	return db.accountTx(ctx, actor, name, func(tx *gorm.DB, u consoleUser, now time.Time) (string, string, error) {
		if u.Role == role {
			return "", "", nil
		}
		if err := guardLastAdmin(tx, u); err != nil {
			return "", "", err
		}
		if err := tx.Model(&consoleUser{}).Where("id = ?", u.ID).Updates(map[string]any{"role": role, "updated_at": now}).Error; err != nil {
			return "", "", fmt.Errorf("storage: role of %q: %w", name, err)
		}
		return AccountRole, u.Role + "->" + role, nil
	})
}

// SetUserAgentID links an account to an agent id (the Slack user id or CLI id its work is recorded
// under; "" unlinks). One agent id belongs to one account at most (ErrAgentIDTaken).
func (db *DB) SetUserAgentID(ctx context.Context, actor, name, agentID string) error {
	return db.accountTx(ctx, actor, name, func(tx *gorm.DB, u consoleUser, now time.Time) (string, string, error) {
		if u.AgentID == agentID {
			return "", "", nil
		}
		if agentID != "" {
			var n int64
			if err := tx.Model(&consoleUser{}).Where("agent_id = ? AND id <> ?", agentID, u.ID).Count(&n).Error; err != nil {
				return "", "", fmt.Errorf("storage: agent id of %q: %w", name, err)
			}
			if n > 0 {
				return "", "", ErrAgentIDTaken
			}
		}
		if err := tx.Model(&consoleUser{}).Where("id = ?", u.ID).Updates(map[string]any{"agent_id": agentID, "updated_at": now}).Error; err != nil {
			return "", "", fmt.Errorf("storage: agent id of %q: %w", name, err)
		}
		return AccountAgentID, u.AgentID + "->" + agentID, nil
	})
}

// ResetUserPassword sets a password chosen by someone else (an admin): the account must change it at
// its next sign-in (mustChange) and its sessions end.
func (db *DB) ResetUserPassword(ctx context.Context, actor, name, hash string, mustChange bool) error {
	return db.accountTx(ctx, actor, name, func(tx *gorm.DB, u consoleUser, now time.Time) (string, string, error) {
		if err := tx.Model(&consoleUser{}).Where("id = ?", u.ID).Updates(map[string]any{"password_hash": hash, "must_change": mustChange, "updated_at": now}).Error; err != nil {
			return "", "", fmt.Errorf("storage: password of %q: %w", name, err)
		}
		if err := endSessions(tx, u.ID); err != nil {
			return "", "", err
		}
		return AccountPassword, "", nil
	})
}

// LogAccountAdded records who added an account (CreateUser itself is also used by the first start).
func (db *DB) LogAccountAdded(ctx context.Context, actor string, u User) error {
	m := accountAudit{At: db.now(), Actor: actor, Action: AccountAdded, Target: u.Name, Detail: u.Role}
	if err := db.gdb.WithContext(ctx).Create(&m).Error; err != nil {
		return fmt.Errorf("storage: account audit: %w", err)
	}
	return nil
}

// AccountAudit lists the newest account changes first (target "": all accounts).
func (db *DB) AccountAudit(ctx context.Context, target string, limit int) ([]AccountEvent, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	g := db.gdb.WithContext(ctx).Order("id DESC").Limit(limit)
	if target != "" {
		g = g.Where("target = ?", target)
	}
	var ms []accountAudit
	if err := g.Find(&ms).Error; err != nil {
		return nil, fmt.Errorf("storage: account audit: %w", err)
	}
	out := make([]AccountEvent, len(ms))
	for i, m := range ms {
		out[i] = AccountEvent{ID: m.ID, At: m.At.UTC(), Actor: m.Actor, Action: m.Action, Target: m.Target, Detail: m.Detail}
	}
	return out, nil
}

// UserByAgentID returns the account linked to an agent id, or bot.ErrNotFound.
func (db *DB) UserByAgentID(ctx context.Context, agentID string) (User, error) {
	var m consoleUser
	if agentID == "" {
		return User{}, bot.ErrNotFound
	}
	if err := db.gdb.WithContext(ctx).Where("agent_id = ?", agentID).Order("id").Take(&m).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return User{}, bot.ErrNotFound
		}
		return User{}, fmt.Errorf("storage: user of agent %q: %w", agentID, err)
	}
	return m.toUser(), nil
}

// AgentNames maps agent ids to the people behind them, for reports: the configured agents' names
// (the agents table), overridden by the name of a console account linked to the id.
func (db *DB) AgentNames(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	var as []agent
	if err := db.gdb.WithContext(ctx).Find(&as).Error; err != nil {
		return nil, fmt.Errorf("storage: agent names: %w", err)
	}
	for _, a := range as {
		if a.Name != "" {
			out[a.ID] = a.Name
		}
	}
	var us []consoleUser
	if err := db.gdb.WithContext(ctx).Where("agent_id <> ''").Order("id").Find(&us).Error; err != nil {
		return nil, fmt.Errorf("storage: agent names: %w", err)
	}
	for _, u := range us {
		out[u.AgentID] = u.Name
	}
	return out, nil
}
