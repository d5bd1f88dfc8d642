package storage

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// APIToken is one integration's REST API credential (the token itself is shown once, never stored).
type APIToken struct {
	ID         int64
	Name       string
	Scope      string // "read" or "write" (write includes read)
	ActAs      string // write tokens: the agent id their changes are made as
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

type apiTokenRow struct {
	ID         int64 `gorm:"primaryKey"`
	Name       string
	TokenHash  string
	Scope      string
	ActAs      string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

func (apiTokenRow) TableName() string { return "api_tokens" }

// ErrTokenNotFound means no valid (unrevoked) token matches.
var ErrTokenNotFound = errors.New("storage: API token not found or revoked")

// apiTokenPrefix makes kefu tokens recognisable (secret scanners, logs).
const apiTokenPrefix = "kefu_"

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// CreateAPIToken makes a token for an integration and returns it; only its hash is stored.
func (db *DB) CreateAPIToken(ctx context.Context, name, scope, actAs string) (string, error) {
	if name == "" || (scope != "read" && scope != "write") {
		return "", fmt.Errorf("storage: API token: want a name and scope read or write")
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("storage: API token: %w", err)
	}
	token := apiTokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	row := apiTokenRow{Name: name, TokenHash: hashToken(token), Scope: scope, ActAs: actAs, CreatedAt: db.now()}
	if err := db.gdb.WithContext(ctx).Create(&row).Error; err != nil {
		return "", fmt.Errorf("storage: create API token %q: %w", name, err)
	}
	return token, nil
}

// APITokenByToken finds the unrevoked token and stamps its last use (at most once a minute).
func (db *DB) APITokenByToken(ctx context.Context, token string) (APIToken, error) {
	if !strings.HasPrefix(token, apiTokenPrefix) {
		return APIToken{}, ErrTokenNotFound
	}
	var row apiTokenRow
	err := db.gdb.WithContext(ctx).Where("token_hash = ? AND revoked_at IS NULL", hashToken(token)).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return APIToken{}, ErrTokenNotFound
	}
	if err != nil {
		return APIToken{}, fmt.Errorf("storage: API token: %w", err)
	}
	now := db.now()
	if row.LastUsedAt == nil || now.Sub(*row.LastUsedAt) > time.Minute {
		db.gdb.WithContext(ctx).Model(&apiTokenRow{}).Where("id = ?", row.ID).Update("last_used_at", now)
	}
	return row2token(row), nil
}

func row2token(r apiTokenRow) APIToken {
	return APIToken{ID: r.ID, Name: r.Name, Scope: r.Scope, ActAs: r.ActAs, CreatedAt: r.CreatedAt, LastUsedAt: r.LastUsedAt, RevokedAt: r.RevokedAt}
}

// APITokens lists every token, revoked ones too, by name.
func (db *DB) APITokens(ctx context.Context) ([]APIToken, error) {
	var rows []apiTokenRow
	if err := db.gdb.WithContext(ctx).Order("name").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("storage: API tokens: %w", err)
	}
	out := make([]APIToken, len(rows))
	for i, r := range rows {
		out[i] = row2token(r)
	}
	return out, nil
}

// RevokeAPIToken revokes the token called name.
func (db *DB) RevokeAPIToken(ctx context.Context, name string) error {
	res := db.gdb.WithContext(ctx).Model(&apiTokenRow{}).Where("name = ? AND revoked_at IS NULL", name).Update("revoked_at", db.now())
	if res.Error != nil {
		return fmt.Errorf("storage: revoke API token: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrTokenNotFound
	}
	return nil
}
