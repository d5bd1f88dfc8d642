package textsplit

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSplit(t *testing.T) {
	zh := strings.Repeat("冰箱不制冷了，", 200) // 200 × 21 bytes
	tests := []struct {
		name   string
		text   string
		limit  int
		parts  int
		suffix string // what the first part ends with
	}{
		{name: "short stays whole", text: "您好", limit: 2048, parts: 1},
		{name: "empty gives nothing", text: "  \n ", limit: 2048, parts: 0},
		{name: "chinese at a comma or full stop, never inside a character", text: zh, limit: 2048, parts: 3, suffix: "，"},
		{name: "paragraphs first", text: strings.Repeat("a", 1500) + "\n\n" + strings.Repeat("b", 1500), limit: 2048, parts: 2, suffix: "a"},
		{name: "sentence end", text: strings.Repeat("word ", 300) + "End. " + strings.Repeat("more ", 300), limit: 2048, parts: 2, suffix: "End."},
		{name: "no break at all", text: strings.Repeat("x", 5000), limit: 2048, parts: 3},
		{name: "emoji are not cut", text: strings.Repeat("😀", 1000), limit: 2047, parts: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ps := Split(tc.text, tc.limit)
			if len(ps) != tc.parts {
				t.Fatalf("%d parts, want %d", len(ps), tc.parts)
			}
			var all strings.Builder
			for _, p := range ps {
				if len(p) > tc.limit || !utf8.ValidString(p) || p == "" {
					t.Errorf("part of %d bytes (limit %d), valid %v", len(p), tc.limit, utf8.ValidString(p))
				}
				all.WriteString(p)
			}
			strip := func(s string) string { return strings.Join(strings.Fields(s), "") }
			if strip(all.String()) != strip(tc.text) {
				t.Error("the parts do not hold the whole text")
			}
			if tc.suffix != "" && !strings.HasSuffix(ps[0], tc.suffix) {
				t.Errorf("first part ends %q, want a break after %q", ps[0][len(ps[0])-10:], tc.suffix)
			}
		})
	}
}
