package digest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/locales"
	"github.com/kefu-dev/kefu/reports"
	"github.com/kefu-dev/kefu/reports/digest"
)

// TestTextNamesUncategorized: the digest's top problems name an uncategorized ticket 「未分类」/
// "Uncategorized" — never the bare key "category." — and the others by their names.
func TestTextNamesUncategorized(t *testing.T) {
	r := reports.Report{From: time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 17, 0, 0, 0, 0, time.UTC),
		TopProblems: []reports.Problem{{Category: "", Count: 3, Share: 60}, {Category: "complaint", Count: 2, Share: 40}}}
	for lang, want := range map[string][]string{"zh-CN": {"未分类 60.0%", "投诉 40.0%"}, "en": {"Uncategorized 60.0%", "Complaint 40.0%"}} {
		text := digest.Text(locales.Default().T, lang, "digest.title.daily", r, time.UTC, "")
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("%s digest lacks %q:\n%s", lang, w, text)
			}
		}
		if strings.Contains(text, "category.") {
			t.Errorf("%s digest leaks a key:\n%s", lang, text)
		}
	}
}
