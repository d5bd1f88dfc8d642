package export

import "strings"

// SafeCell neutralizes a text cell for spreadsheets (CSV/formula injection, OWASP's rule): a cell
// beginning with = + - @ tab or carriage return is prefixed with a single quote, so Excel,
// LibreOffice and Google Sheets show it as text instead of evaluating it as a formula
// (=HYPERLINK(…) that leaks other cells, =cmd|…). Hand-written: it is one rule, and no maintained Go
// library does only this. Apply it to every cell that can hold text someone else typed; numbers and
// booleans the exporter produces itself are not text and stay as they are.
func SafeCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	// Full-width variants are turned into formulas by some spreadsheet locales (＝ ＋ － ＠).
	for _, p := range []string{"＝", "＋", "－", "＠"} {
		if strings.HasPrefix(s, p) {
			return "'" + s
		}
	}
	return s
}

// safeVals applies SafeCell to the string values of a row.
func safeVals(vals []any) []any {
	out := make([]any, len(vals))
	for i, v := range vals {
		if s, ok := v.(string); ok {
			v = SafeCell(s)
		}
		out[i] = v
	}
	return out
}
