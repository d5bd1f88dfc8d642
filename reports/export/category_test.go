package export_test

import (
	"bytes"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/kefu-dev/kefu/reports"
	"github.com/kefu-dev/kefu/reports/export"
)

// TestMonthlyNamesUncategorized: the monthly workbook's top-5 and handling sheets name uncategorized
// tickets (转人工 with the type skipped) instead of leaving the category cell blank.
func TestMonthlyNamesUncategorized(t *testing.T) {
	r := reports.Report{TopProblems: []reports.Problem{{Category: "", Count: 2, Share: 50}, {Category: "order", Count: 2, Share: 50}},
		ResolutionBox: []reports.Box{{Category: "", N: 2}}}
	var buf bytes.Buffer
	if err := export.MonthlyXLSX(r, "2026-11", &buf); err != nil {
		t.Fatal(err)
	}
	x, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	top, _ := x.GetRows(export.SheetTop5)
	box, _ := x.GetRows(export.SheetHandling)
	if len(top) < 3 || top[1][1] != export.Uncategorized || top[2][1] != "order" || len(box) < 2 || box[1][0] != export.Uncategorized {
		t.Errorf("top %q, handling %q", top, box)
	}
}
