package export

import "testing"

func TestSafeCell(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"洗衣机坏了", "洗衣机坏了"},
		{`=HYPERLINK("http://x","y")`, `'=HYPERLINK("http://x","y")`},
		{"+1+1", "'+1+1"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{"＝1+1", "'＝1+1"},
		{"a=1", "a=1"},
	} {
		if got := SafeCell(c.in); got != c.want {
			t.Errorf("SafeCell(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	vals := safeVals([]any{"=1", int64(-5), true, "ok"})
	if vals[0] != "'=1" || vals[1] != int64(-5) || vals[2] != true || vals[3] != "ok" {
		t.Errorf("safeVals: %v (numbers and booleans must stay as they are)", vals)
	}
}
