package storage

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestSLAClaimUsesPartialIndex: the claim production runs (slaClaimSQLite) range-scans the partial
// index tickets_sla_next_at of the migrated schema, without sorting, so its cost is the due
// tickets' and not the table's (bot/sla/doc.go explains the design).
func TestSLAClaimUsesPartialIndex(t *testing.T) {
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "kefu.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	inner := slaClaimSQLite[strings.Index(slaClaimSQLite, "SELECT"):strings.LastIndex(slaClaimSQLite, ")")]
	var plan []struct {
		ID, Parent, Notused int
		Detail              string
	}
	if err := db.gdb.Raw("EXPLAIN QUERY PLAN "+inner, 1, 2).Scan(&plan).Error; err != nil {
		t.Fatal(err)
	}
	var details []string
	for _, p := range plan {
		details = append(details, p.Detail)
	}
	joined := strings.Join(details, "; ")
	if !strings.Contains(joined, "tickets_sla_next_at") || strings.Contains(joined, "TEMP B-TREE") {
		t.Errorf("claim plan %q does not range-scan tickets_sla_next_at (or sorts)", joined)
	}
}
