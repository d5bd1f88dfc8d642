package kb

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestWordNetTable checks the shipped table; with KB_WORDNET_GEN=/usr/share/wordnet it regenerates
// it from the WordNet database first (scripts/wordnet-table.sh).
func TestWordNetTable(t *testing.T) {
	table := wordNetTable
	if dir := os.Getenv("KB_WORDNET_GEN"); dir != "" {
		wn, err := loadWordNet(dir, wnMaxSenses)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		if err := writeWordNetTable(zw, wn); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("wordnet", "en.tsv.gz"), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		table = buf.Bytes()
		t.Logf("%d words, %d bytes", len(wn), buf.Len())
	}
	rev, err := parseWordNetTable(table)
	if err != nil {
		t.Fatal(err)
	}
	has := func(from, to string, k wnKind) bool {
		return slices.Contains(rev.sources(to), wnSrc{from, k})
	}
	for _, c := range []struct {
		from, to string
		k        wnKind
	}{
		{"went", "go", wnLemma},        // verb.exc
		{"children", "child", wnLemma}, // noun.exc
		{"automobil", "car", wnSyn},    // same synset, stemmed
		{"sedan", "car", wnHyper},      // hypernym
		{"deliv", "deliveri", wnDeriv}, // derivational form
		{"purchas", "buy", wnSyn},      // verb synonym
		{"septuagenarian", "oldster", wnHyper},
	} {
		if !has(c.from, c.to, c.k) {
			t.Errorf("table lacks %s -%d-> %s (has %v)", c.from, c.k, c.to, rev.sources(c.to))
		}
	}
	if has("car", "sedan", wnHyper) {
		t.Error("hypernym relation reversed")
	}
}

func TestWordNetTableErrors(t *testing.T) {
	gz := func(s string) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write([]byte(s))
		zw.Close()
		return buf.Bytes()
	}
	for _, bad := range [][]byte{[]byte("not gzip"), gz("word-without-tab\n"), gz("word\t9x\n"), gz("word\t0\n")} {
		if _, err := parseWordNetTable(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	if _, err := parseSynset([]byte("00000000 03 n 02 whole 0"), 0); err == nil {
		t.Error("truncated synset: no error")
	}
	if _, err := parseSynset([]byte("x"), 5); err == nil {
		t.Error("offset outside: no error")
	}
}

// A query in words the few-shot library never uses finds the entry through WordNet.
func TestWordNetExpansion(t *testing.T) {
	lib, err := New([]Entry{
		{ID: "car", Question: "can i buy a car here", Answer: "yes", Examples: []string{"do you sell cars", "i want to buy a car"}},
		{ID: "bike", Question: "can i rent a bike here", Answer: "yes", Examples: []string{"do you have bikes for rent", "i want to rent a bike"}},
		{ID: "hours", Question: "when are you open", Answer: "9 to 5", Examples: []string{"what are your opening hours", "are you open on sunday"}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	off := defaultTuning
	off.wn = 0
	for _, c := range []struct{ q, want string }{
		{"purchase an automobile", "car"},
		{"we went to hire a bicycle", "bike"},
	} {
		got := newIndex(lib, MatchOptions{WordNet: true}, defaultTuning).rank(c.q, "", 1)
		if len(got) == 0 || lib.entries[got[0].doc].ID != c.want {
			t.Errorf("%q: got %v, want %s", c.q, got, c.want)
		}
		// Without WordNet the query shares no word with the library.
		if r := newIndex(lib, MatchOptions{WordNet: true}, off).rank(c.q, "", 1); len(r) > 0 && lib.entries[r[0].doc].ID == c.want && r[0].score >= got[0].score {
			t.Errorf("%q: found as well without WordNet (%v)", c.q, r)
		}
	}
}
