package main

import (
	"log/slog"

	"github.com/kefu-dev/kefu/bot/sla"
	"github.com/kefu-dev/kefu/storage"
)

// storageOptions are the storage.Options every command opens the database with.
func (c Config) storageOptions(log *slog.Logger, policy *sla.Policy) storage.Options {
	return storage.Options{
		Logger:          log,
		SLA:             policy,
		MaxOpenConns:    c.Database.MaxOpenConns,
		MaxIdleConns:    c.Database.MaxIdleConns,
		ConnMaxLifetime: c.Database.ConnMaxLifetime,
	}
}
