package export_test

import (
	"bytes"
	"encoding/csv"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/kefu-dev/kefu/reports"
	"github.com/kefu-dev/kefu/reports/demo"
	"github.com/kefu-dev/kefu/reports/export"
	"github.com/kefu-dev/kefu/storage/storetest"
)

// rawPhone is a mainland mobile number as stored: it must never appear in an export.
var rawPhone = regexp.MustCompile(`1[3-9]\d{9}`)

// TestExportsMaskCustomers: in both exports every customer name is its first character and one
// star, every phone shows at most the first three and last four digits, and no stored name or
// phone appears anywhere in the file. The oracle is the ticket as the store returns it, so a mask
// that appends a star to the whole name, or a phone left as it is, fails here.
func TestExportsMaskCustomers(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		db := open(t)
		end := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
		if _, err := demo.Generate(t.Context(), db, demo.Options{Days: 3, TicketsPerDay: 8, End: end, Seed: 5}); err != nil {
			t.Fatal(err)
		}
		loc, _ := time.LoadLocation("Asia/Shanghai")
		f := reports.Filter{From: end.AddDate(0, 0, -3), To: end, Loc: loc, Now: end}
		nameCol := slices.Index(export.TicketColumns, "customer_name")
		phoneCol := slices.Index(export.TicketColumns, "customer_phone")
		if nameCol < 0 || phoneCol < 0 {
			t.Fatalf("TicketColumns %q lack customer_name / customer_phone", export.TicketColumns)
		}
		check := func(t *testing.T, what string, rows [][]string) {
			t.Helper()
			if len(rows) < 2 {
				t.Fatalf("%s: %d rows, want tickets", what, len(rows))
			}
			for _, row := range rows[1:] {
				tk, err := db.TicketByNo(t.Context(), row[0])
				if err != nil {
					t.Fatalf("%s: ticket %q: %v", what, row[0], err)
				}
				first, _ := utf8.DecodeRuneInString(tk.CustomerName)
				if want := string(first) + "*"; tk.CustomerName != "" && row[nameCol] != want {
					t.Errorf("%s %s: customer_name %q, want %q (from %d-character name)", what, tk.No, row[nameCol], want, utf8.RuneCountInString(tk.CustomerName))
				}
				digits := regexp.MustCompile(`\d`).FindAllString(row[phoneCol], -1)
				if p := tk.CustomerPhone; p != "" && (len(p) == 11 && row[phoneCol] != p[:3]+"****"+p[7:] || len(digits) > 7) {
					t.Errorf("%s %s: customer_phone %q is not masked", what, tk.No, row[phoneCol])
				}
				for i, cell := range row {
					if m := rawPhone.FindString(cell); m != "" {
						t.Errorf("%s %s column %d: phone number %s in %q", what, tk.No, i, m, cell)
					}
					if len([]rune(tk.CustomerName)) > 1 && strings.Contains(cell, tk.CustomerName) {
						t.Errorf("%s %s column %d: the customer's name in %q", what, tk.No, i, cell)
					}
				}
			}
		}

		var buf bytes.Buffer
		if err := export.TicketsCSV(t.Context(), db, f, loc, &buf); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(buf.String(), "\ufeff"))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		check(t, "csv", recs)

		buf.Reset()
		if err := export.TicketsXLSX(t.Context(), db, f, loc, &buf); err != nil {
			t.Fatal(err)
		}
		x, err := excelize.OpenReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		rows, _ := x.GetRows("Tickets")
		check(t, "xlsx", rows)
	})
}
