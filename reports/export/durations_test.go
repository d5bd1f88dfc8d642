package export_test

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/reports"
	"github.com/kefu-dev/kefu/reports/demo"
	"github.com/kefu-dev/kefu/reports/export"
	"github.com/kefu-dev/kefu/storage/storetest"
)

// TestExportDurations: first_response_s and resolution_s are the seconds from created_at to
// first_response_at / resolved_at, and empty (not 0, not a negative number) while the ticket has
// no response or resolution yet; both kinds of rows occur in the fixture.
func TestExportDurations(t *testing.T) {
	db := storetest.OpenSQLite(t)
	end := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	if _, err := demo.Generate(t.Context(), db, demo.Options{Days: 3, TicketsPerDay: 15, End: end, Seed: 9}); err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	var buf bytes.Buffer
	if err := export.TicketsCSV(t.Context(), db, reports.Filter{From: end.AddDate(0, 0, -3), To: end, Loc: loc, Now: end}, loc, &buf); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(buf.String(), "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := func(name string) int { return slices.Index(export.TicketColumns, name) }
	created := col("created_at")
	seen := map[string]int{}
	for _, rec := range recs[1:] {
		c, err := time.ParseInLocation("2006-01-02 15:04:05", rec[created], loc)
		if err != nil {
			t.Fatalf("%s created_at %q: %v", rec[0], rec[created], err)
		}
		for _, pair := range [][2]string{{"first_response_at", "first_response_s"}, {"resolved_at", "resolution_s"}} {
			at, secs := rec[col(pair[0])], rec[col(pair[1])]
			if at == "" {
				seen[pair[1]+" empty"]++
				if secs != "" {
					t.Errorf("%s: %s %q without %s", rec[0], pair[1], secs, pair[0])
				}
				continue
			}
			seen[pair[1]+" set"]++
			a, err := time.ParseInLocation("2006-01-02 15:04:05", at, loc)
			if err != nil {
				t.Fatalf("%s %s %q: %v", rec[0], pair[0], at, err)
			}
			if want := strconv.FormatInt(int64(a.Sub(c).Seconds()), 10); secs != want {
				t.Errorf("%s: %s = %q, want %s (from %s to %s)", rec[0], pair[1], secs, want, rec[created], at)
			}
		}
	}
	for _, k := range []string{"first_response_s empty", "first_response_s set", "resolution_s empty", "resolution_s set"} {
		if seen[k] == 0 {
			t.Errorf("no row with %s: the fixture does not test it (%v)", k, seen)
		}
	}
}
