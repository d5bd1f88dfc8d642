package storage_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/pii"
	"github.com/kefu-dev/kefu/reports"
	"github.com/kefu-dev/kefu/storage"
	"github.com/kefu-dev/kefu/storage/storetest"
)

// reportNumbers is a report without the texts retention blanks (low ratings' comments).
func reportNumbers(t *testing.T, db *storage.DB, now time.Time) string {
	t.Helper()
	r, err := reports.Compute(context.Background(), db, reports.Filter{From: now.AddDate(0, 0, -30), To: now.AddDate(0, 0, 1), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	for i := range r.CSAT.Low {
		r.CSAT.Low[i].Comment = ""
	}
	b, _ := json.Marshal(r)
	return string(b)
}

// TestPurgeOnceAcrossProcesses: three processes run the retention at the same moment; exactly one
// runs it; afterwards no personal data of the closed, old ticket is left anywhere, and the report on
// its period has the same numbers as before.
func TestPurgeOnceAcrossProcesses(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		db := open(t)
		ctx := context.Background()
		phone := "13612345678"
		tk := storetest.Journey(t, db, phone)
		closed := time.Now().UTC()
		if err := db.Gorm().Exec("UPDATE tickets SET status = 'closed', closed_at = ?, resolved_at = ? WHERE id = ?", closed, closed, tk.ID).Error; err != nil {
			t.Fatal(err)
		}
		before := reportNumbers(t, db, closed)
		dsn := storetest.DSN(t, db)
		dbs := []*storage.DB{db, storetest.Reopen(t, dsn), storetest.Reopen(t, dsn)}
		later := closed.Add(3*365*24*time.Hour + 48*time.Hour)
		var wg sync.WaitGroup
		ran := make([]bool, len(dbs))
		errs := make([]error, len(dbs))
		for i, d := range dbs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ran[i], _, errs[i] = d.PurgePersonalData(ctx, later, time.Hour, storage.PrivacyRetention{})
			}()
		}
		wg.Wait()
		n := 0
		for i := range dbs {
			if errs[i] != nil {
				t.Fatalf("process %d: %v", i, errs[i])
			}
			if ran[i] {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d processes ran the retention, want exactly 1", n)
		}
		if pii.Leaks(storetest.DumpTables(t, db), append([]string{phone}, storetest.JourneySecrets...)) {
			t.Error("personal data left after the retention run")
		}
		got, err := db.TicketByNo(ctx, tk.No)
		if err != nil || got.CustomerName != "" || got.Summary != "" || got.Status != "closed" || got.Rating != 1 {
			t.Errorf("ticket after retention: %+v, %v", got, err)
		}
		if after := reportNumbers(t, db, closed); after != before {
			t.Errorf("the report changed:\nbefore %s\nafter  %s", before, after)
		}
		log, _ := db.AccessLog(ctx, 0, 10)
		if len(log) != 1 || log[0].Action != storage.AccessPurge || !strings.Contains(log[0].Detail, "tickets=1") {
			t.Errorf("audit log %+v", log)
		}
		// Within the period nobody runs it again.
		if again, _, err := dbs[1].PurgePersonalData(ctx, later.Add(time.Minute), time.Hour, storage.PrivacyRetention{}); err != nil || again {
			t.Errorf("second run within the hour: ran=%v, %v", again, err)
		}
	})
}

// TestRetentionKeepsRecentData: a run now removes nothing of a fresh journey.
func TestRetentionKeepsRecentData(t *testing.T) {
	db := storetest.OpenSQLite(t)
	tk := storetest.Journey(t, db, "13612345678")
	if _, st, err := db.PurgePersonalData(context.Background(), time.Now(), time.Hour, storage.PrivacyRetention{}); err != nil || st != (storage.PurgeStats{}) {
		t.Fatalf("purge of fresh data: %+v, %v", st, err)
	}
	got, _ := db.TicketByNo(context.Background(), tk.No)
	if got.CustomerPhone != "13612345678" {
		t.Errorf("fresh ticket lost its phone: %+v", got)
	}
}

// TestExportAndEraseCustomer: the export holds the customer's data (found by phone in any notation);
// after erasure nothing readable is left, the ticket stays as a number for the reports.
func TestExportAndEraseCustomer(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		db := open(t)
		ctx := context.Background()
		phone := "13512345678"
		tk := storetest.Journey(t, db, phone)
		ids, err := db.CustomerIDs(ctx, "+86 135-1234-5678")
		if err != nil || len(ids) != 1 || ids[0] != tk.CustomerID {
			t.Fatalf("customer by phone: %v, %v; want [%d]", ids, err, tk.CustomerID)
		}
		d, err := db.ExportCustomer(ctx, tk.CustomerID)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := storage.MarshalCustomerData(d)
		for _, want := range []string{phone, "王小明", "110101199003074514", "u-pii", tk.No, "一点也不满意"} {
			if !strings.Contains(string(b), want) {
				t.Errorf("export lacks %q", want)
			}
		}
		if strings.Contains(string(b), "客户身份证") {
			t.Error("the export holds the team's internal note")
		}
		n, err := db.EraseCustomer(ctx, tk.CustomerID, time.Now())
		if err != nil || n != 1 {
			t.Fatalf("erase: %d, %v", n, err)
		}
		if pii.Leaks(storetest.DumpTables(t, db), append([]string{phone}, storetest.JourneySecrets...)) {
			t.Error("personal data left after erasure")
		}
		if ids, _ := db.CustomerIDs(ctx, phone); len(ids) != 0 {
			t.Errorf("the erased customer is still found by phone: %v", ids)
		}
		var tickets int64
		db.Gorm().Raw("SELECT COUNT(*) FROM tickets").Scan(&tickets)
		if tickets != 1 {
			t.Errorf("%d tickets after erasure, want the anonymous 1", tickets)
		}
		var drafts, notes int64
		db.Gorm().Raw("SELECT COUNT(*) FROM faq_drafts").Scan(&drafts)
		db.Gorm().Raw("SELECT COUNT(*) FROM ticket_tasks WHERE note <> ''").Scan(&notes)
		if drafts != 0 || notes != 0 {
			t.Errorf("after erasure: %d unpublished drafts, %d task notes left", drafts, notes)
		}
	})
}
