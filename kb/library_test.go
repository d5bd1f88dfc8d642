package kb

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func TestSample(t *testing.T) {
	lib := Sample()
	ids := map[string]map[string]bool{}
	for _, e := range lib.Entries() {
		if ids[e.Lang] == nil {
			ids[e.Lang] = map[string]bool{}
		}
		ids[e.Lang][e.ID] = true
		if e.Category == "" || len(e.Examples) < 3 {
			t.Errorf("%s/%s: want a category and at least 3 examples", e.Lang, e.ID)
		}
	}
	if len(ids["zh-CN"]) < 30 || len(ids["en"]) < 30 {
		t.Fatalf("sample has %d zh-CN and %d en entries, want >= 30 each", len(ids["zh-CN"]), len(ids["en"]))
	}
	if diff := cmp.Diff(ids["zh-CN"], ids["en"]); diff != "" {
		t.Errorf("zh-CN and en ids differ (-zh +en):\n%s", diff)
	}
	if got := lib.Entry("warranty-period", "zh-CN"); got == nil || !strings.Contains(got.Answer, "整机保修期为1年") {
		t.Errorf("warranty-period zh-CN = %+v", got)
	}
}

func TestLoadFormats(t *testing.T) {
	fsys := fstest.MapFS{
		"list.yaml": {Data: []byte("- id: a\n  question: Q a\n  answer: A a\n  examples: [x, y]\n- id: b\n  locale: en\n  question: Q b\n  answer: A b\n")},
		"doc.yml":   {Data: []byte("synonyms:\n  en:\n    - [refund, money back]\nentries:\n  - id: a\n    locale: en\n    question: Q\n    answer: A\n    keywords: [k]\n")},
		"f.jsonl":   {Data: []byte("\uFEFF{\"id\":\"a\",\"question\":\"Q\",\"answer\":\"A\",\"examples\":[\"e\"],\"category\":\"c\",\"locale\":\"zh-CN\"}\n\n{\"id\":\"a\",\"question\":\"Q\",\"answer\":\"A\",\"locale\":\"en\"}\n")},
	}
	tests := []struct {
		name     string
		wantIDs  []string
		wantSyn  [][]string
		synLang  string
		wantLang []string
	}{
		{name: "list.yaml", wantIDs: []string{"a", "b"}, wantLang: []string{"", "en"}},
		{name: "doc.yml", wantIDs: []string{"a"}, wantSyn: [][]string{{"refund", "money back"}}, synLang: "en", wantLang: []string{"en"}},
		{name: "f.jsonl", wantIDs: []string{"a", "a"}, wantLang: []string{"en", "zh-CN"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lib, err := Load(fsys, tc.name)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, e := range lib.Entries() {
				ids = append(ids, e.ID)
			}
			if diff := cmp.Diff(tc.wantIDs, ids); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantLang, lib.Langs()); diff != "" {
				t.Errorf("langs (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantSyn, lib.Synonyms(tc.synLang)); diff != "" {
				t.Errorf("synonyms (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	fsys := fstest.MapFS{
		"dup.yaml":      {Data: []byte("- id: a\n  question: Q\n  answer: A\n- id: b\n  question: Q\n  answer: A\n- id: a\n  question: Q2\n  answer: A2\n")},
		"dup-ok.yaml":   {Data: []byte("- id: a\n  locale: en\n  question: Q\n  answer: A\n- id: a\n  locale: zh-CN\n  question: Q\n  answer: A\n")},
		"noq.yaml":      {Data: []byte("entries:\n  - id: a\n    question: Q\n    answer: A\n  - id: b\n    answer: A\n")},
		"typo.yaml":     {Data: []byte("- id: a\n  question: Q\n  answer: A\n  exmaples: [x]\n")},
		"syntax.yaml":   {Data: []byte("- id: a\n  question: Q\n  answer: a: b\n")},
		"scalar.yaml":   {Data: []byte("just text\n")},
		"bad.jsonl":     {Data: []byte("{\"id\":\"a\",\"question\":\"Q\",\"answer\":\"A\"}\n{\"id\":\"b\",\"question\":\"Q\",\n")},
		"dup.jsonl":     {Data: []byte("{\"id\":\"a\",\"question\":\"Q\",\"answer\":\"A\"}\n\n{\"id\":\"a\",\"question\":\"Q\",\"answer\":\"A\"}\n")},
		"noid.jsonl":    {Data: []byte("{\"question\":\"Q\",\"answer\":\"A\"}\n")},
		"noans.jsonl":   {Data: []byte("{\"id\":\"x\",\"question\":\"Q\",\"answer\":\" \"}\n")},
		"unknown.jsonl": {Data: []byte("{\"id\":\"x\",\"question\":\"Q\",\"answer\":\"A\",\"exampels\":[]}\n")},
		"faq.txt":       {Data: []byte("x")},
	}
	tests := []struct {
		name, wantMsg string
		wantLine      int
	}{
		{"dup.yaml", `duplicate id "a"`, 7},
		{"noq.yaml", `entry "b" has no question`, 5},
		{"typo.yaml", `unknown field "exmaples"`, 1},
		{"syntax.yaml", "mapping values are not allowed", 3},
		{"scalar.yaml", "want a list of entries", 1},
		{"bad.jsonl", "unexpected EOF", 2},
		{"dup.jsonl", `duplicate id "a"`, 3},
		{"noid.jsonl", "missing id", 1},
		{"noans.jsonl", "has no answer", 1},
		{"unknown.jsonl", "exampels", 1},
		{"faq.txt", "unknown file type", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(fsys, tc.name)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want *ParseError", err)
			}
			if !errors.Is(err, ErrFormat) {
				t.Errorf("err = %v, want ErrFormat", err)
			}
			if pe.File != tc.name || pe.Line != tc.wantLine || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("err = %q (line %d), want %s:%d and %q", err, pe.Line, tc.name, tc.wantLine, tc.wantMsg)
			}
		})
	}
	if _, err := Load(fsys, "dup-ok.yaml"); err != nil {
		t.Errorf("same id in two locales: %v", err)
	}
	if _, err := Load(fsys, "missing.yaml"); err == nil || errors.Is(err, ErrFormat) {
		t.Errorf("missing file: err = %v, want a not-found error", err)
	}
}

// TestShippedSynonyms: the embedded default groups parse, and no Chinese variant is part of its
// canonical word (phrase replacement would then rewrite the canonical word itself).
func TestShippedSynonyms(t *testing.T) {
	if len(shippedSynonyms["zh-CN"]) == 0 {
		t.Fatal("no zh-CN groups in synonyms.yaml")
	}
	for lang, groups := range shippedSynonyms {
		for _, g := range groups {
			if len(g) < 2 {
				t.Errorf("%s: group %v has no variant", lang, g)
			}
			for _, v := range g[1:] {
				if strings.Contains(g[0], v) {
					t.Errorf("%s: variant %q is part of its canonical %q", lang, v, g[0])
				}
			}
		}
	}
	lib, err := New([]Entry{{ID: "a", Lang: "zh-CN", Question: "退款多久到账", Answer: "A"}, {ID: "b", Lang: "zh-CN", Question: "怎么修改登录密码", Answer: "B"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := NewMatcher(lib, MatchOptions{})
	plain := NewMatcher(lib, MatchOptions{NoDefaultSynonyms: true})
	if h := m.Match("退款几天到帐", "zh-CN", 1); len(h) == 0 || h[0].Entry.ID != "a" {
		t.Fatalf("到帐: %v", h)
	}
	if a, b := m.Match("退款几天到帐", "zh-CN", 1), plain.Match("退款几天到帐", "zh-CN", 1); len(b) > 0 && b[0].Score >= a[0].Score {
		t.Errorf("default synonym did not raise the confidence: %.3f without, %.3f with", b[0].Score, a[0].Score)
	}
}
