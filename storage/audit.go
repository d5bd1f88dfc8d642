package storage

import (
	"context"
	"fmt"
	"time"
)

// Access is one entry of the personal-data audit log (migration 0041): who saw or handled a
// customer's data unmasked, when, and which ticket or customer.
type Access struct {
	ID         int64
	At         time.Time
	Actor      string // "cli:alice", "console:bob", "system"
	Action     string // AccessReveal, AccessExport, AccessErase, AccessPurge
	Via        string // "cli", "console", "scheduler"
	TicketNo   string
	CustomerID int64
	Detail     string // never personal data
}

// Audit actions.
const (
	AccessReveal = "reveal"
	AccessExport = "export"
	AccessErase  = "erase"
	AccessPurge  = "purge"
	AccessFlags  = "flags" // a supervisor set or cleared customer flags (kefu customer flag)
)

type piiAudit struct {
	ID         int64 `gorm:"primaryKey"`
	At         time.Time
	Actor      string
	Action     string
	Via        string
	TicketNo   string
	CustomerID int64
	Detail     string
}

func (piiAudit) TableName() string { return "pii_audit" }

// LogAccess records an access; callers record it before they show the data.
func (db *DB) LogAccess(ctx context.Context, a Access) error {
	m := piiAudit{At: utc(a.At), Actor: a.Actor, Action: a.Action, Via: a.Via, TicketNo: a.TicketNo, CustomerID: a.CustomerID, Detail: a.Detail}
	if m.Actor == "" || m.Action == "" {
		return fmt.Errorf("storage: log access: actor and action are required")
	}
	if err := db.gdb.WithContext(ctx).Create(&m).Error; err != nil {
		return fmt.Errorf("storage: log access: %w", err)
	}
	return nil
}

// AccessLog lists the newest entries first (customerID 0: all customers).
func (db *DB) AccessLog(ctx context.Context, customerID int64, limit int) ([]Access, error) {
	if limit <= 0 || limit > 10000 {
		limit = 100
	}
	g := db.gdb.WithContext(ctx).Order("id DESC").Limit(limit)
	if customerID != 0 {
		g = g.Where("customer_id = ?", customerID)
	}
	var ms []piiAudit
	if err := g.Find(&ms).Error; err != nil {
		return nil, fmt.Errorf("storage: access log: %w", err)
	}
	out := make([]Access, len(ms))
	for i, m := range ms {
		out[i] = Access{ID: m.ID, At: m.At.UTC(), Actor: m.Actor, Action: m.Action, Via: m.Via, TicketNo: m.TicketNo, CustomerID: m.CustomerID, Detail: m.Detail}
	}
	return out, nil
}
