package export_test

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/kefu-dev/kefu/reports"
	"github.com/kefu-dev/kefu/reports/demo"
	"github.com/kefu-dev/kefu/reports/export"
	"github.com/kefu-dev/kefu/storage/storetest"
)

func TestExports(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		db := open(t)
		end := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
		if _, err := demo.Generate(t.Context(), db, demo.Options{Days: 20, TicketsPerDay: 10, End: end, Seed: 3}); err != nil {
			t.Fatal(err)
		}
		loc, _ := time.LoadLocation("Asia/Shanghai")
		f := reports.Filter{From: end.AddDate(0, 0, -10), To: end, Loc: loc, Now: end}
		r, err := reports.Compute(t.Context(), db, f)
		if err != nil {
			t.Fatal(err)
		}

		var buf bytes.Buffer
		if err := export.TicketsCSV(t.Context(), db, f, loc, &buf); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(buf.String(), "\ufeff"))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(recs)) != r.TicketsCreated+1 || recs[0][0] != "no" || recs[0][len(recs[0])-1] != "events" {
			t.Fatalf("csv: %d records, header %v; want %d tickets", len(recs), recs[0], r.TicketsCreated)
		}
		for _, rec := range recs[1:] {
			if !strings.Contains(rec[len(rec)-1], "created") {
				t.Fatalf("ticket %s: events %q lack the created event", rec[0], rec[len(rec)-1])
			}
			if name := rec[7]; !strings.HasSuffix(name, "*") {
				t.Fatalf("customer name %q is not masked", name)
			}
		}

		buf.Reset()
		if err := export.TicketsXLSX(t.Context(), db, f, loc, &buf); err != nil {
			t.Fatal(err)
		}
		x, err := excelize.OpenReader(&buf)
		if err != nil {
			t.Fatalf("xlsx does not open: %v", err)
		}
		rows, _ := x.GetRows("Tickets")
		evs, _ := x.GetRows("Events")
		if int64(len(rows)) != r.TicketsCreated+1 || len(evs) < len(rows) || rows[1][0] != recs[1][0] {
			t.Fatalf("xlsx: %d ticket rows, %d event rows; want %d tickets", len(rows), len(evs), r.TicketsCreated+1)
		}

		mf, _ := export.MonthFilter("2026-11", loc)
		mf.Now = end
		mr, err := reports.Compute(t.Context(), db, mf)
		if err != nil {
			t.Fatal(err)
		}
		buf.Reset()
		if err := export.MonthlyXLSX(mr, "2026-11", &buf); err != nil {
			t.Fatal(err)
		}
		x, err = excelize.OpenReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		top, _ := x.GetRows(export.SheetTop5)
		box, _ := x.GetRows(export.SheetHandling)
		sat, _ := x.GetRows(export.SheetSatisfied)
		if len(top) != 6 || top[1][1] != mr.TopProblems[0].Category || len(box) != len(mr.ResolutionBox)+1 || len(sat) < 7 {
			t.Fatalf("monthly: top %v, box %d rows, satisfaction %v", top, len(box), sat)
		}
		if got := sat[len(sat)-1][1]; got != reports.Num(mr.ResponseVsCSAT.Spearman) {
			t.Fatalf("spearman cell %q, want %q", got, reports.Num(mr.ResponseVsCSAT.Spearman))
		}
	})
}
