package kb

import (
	"bufio"
	"flag"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// TestTokenizeGolden: each line of testdata/tokenize.input becomes "> input" / "< tokens" /
// "= terms" in testdata/tokenize.golden (go test ./kb -run Golden -update rewrites it).
func TestTokenizeGolden(t *testing.T) {
	in, err := os.ReadFile("testdata/tokenize.input")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	sc := bufio.NewScanner(strings.NewReader(string(in)))
	fw := defaultFeatures
	fw.char = 0 // character n-grams make the file unreadable; TestCharGrams covers them
	for sc.Scan() {
		toks := Tokenize(sc.Text())
		var terms []string
		for _, tw := range fw.features(toks, nil) {
			terms = append(terms, tw.term)
		}
		b.WriteString("> " + sc.Text() + "\n< " + termString(toks) + "\n= " + strings.Join(terms, " | ") + "\n")
	}
	got := b.String()
	if *update {
		if err := os.WriteFile("testdata/tokenize.golden", []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("testdata/tokenize.golden")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("tokenize.golden mismatch (-want +got), run with -update after checking:\n%s", diff)
	}
}

func TestCharGrams(t *testing.T) {
	var got []string
	for _, tw := range charGrams(nil, "card", featureWeights{charMin: 3, charMax: 4}) {
		got = append(got, tw.term)
	}
	want := []string{"c^ca", "ccar", "card", "crd$", "c^car", "ccard", "card$"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestSynonyms(t *testing.T) {
	sm := compileSynonyms([][]string{{"退货", "退换", "退掉"}, {"refund", "money back", "reimburse"}})
	tests := []struct{ in, want string }{
		{"我想退换一下", "我 想 退 货 一 下"},
		{"can I get a reimbursement", "(can) (i) get (a) refund"},
		{"I want my money back", "(i) want (my) refund"},
		{"moneyback", "moneyback"},
	}
	for _, tc := range tests {
		if got := termString(tokenize(sm.apply(tc.in), sm.word)); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzTokenize(f *testing.F) {
	for _, s := range []string{"How long is the warranty?", "空调不制冷怎么办", "ｆｕｌｌ", "\xff\xfe", "can't", "a'", "'", "\uFEFFIC卡", "e\u0301"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		toks := Tokenize(s)
		for _, tk := range toks {
			if tk.Text == "" || !utf8.ValidString(tk.Text) {
				t.Fatalf("bad token %q from %q", tk.Text, s)
			}
		}
		// Tokenizing is stable under re-normalization.
		again := Tokenize(normalize(s))
		if diff := cmp.Diff(toks, again); diff != "" {
			t.Fatalf("tokens change after normalizing %q:\n%s", s, diff)
		}
		defaultFeatures.features(toks, nil)
	})
}
