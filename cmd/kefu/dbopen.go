package main

import (
	"log/slog"

	"github.com/kefu-dev/kefu/bot/sla"
	"github.com/kefu-dev/kefu/storage"
)

// storageOptions are the storage.Options every command opens the database with. The server applies
// pending migrations; other commands only create an empty database's schema and otherwise ask for
// `kefu migrate up` (see cmd_migrate.go for why).
func (c Config) storageOptions(log *slog.Logger, policy *sla.Policy) storage.Options {
	mode := storage.MigrateIfEmpty
	if c.serving {
		mode = storage.MigrateApply
	}
	return storage.Options{
		Migrate:         mode,
		Logger:          log,
		SLA:             policy,
		MaxOpenConns:    c.Database.MaxOpenConns,
		MaxIdleConns:    c.Database.MaxIdleConns,
		ConnMaxLifetime: c.Database.ConnMaxLifetime,
		GroupCommit:     c.Database.GroupCommit,
	}
}
