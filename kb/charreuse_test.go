package kb

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestCharScoresReusedRankTheSame: reusing the character model's scores of a query in the
// pseudo-relevance feedback pass (issue 14) ranks every query of the sample eval set, and the
// library's own questions, as scoring the text again does: same entries, same order, same scores
// (within the float32 rounding that differs between any two runs).
func TestCharScoresReusedRankTheSame(t *testing.T) {
	lib := Sample()
	ix := NewMatcher(lib, MatchOptions{})
	if ix.cm == nil || ix.prf == nil {
		t.Fatal("the sample index has no character model or no feedback: nothing is reused")
	}
	type q struct{ Text, Lang string }
	var qs []q
	f, err := os.Open("testdata/sample-eval.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var x q
		if err := json.Unmarshal(sc.Bytes(), &x); err != nil {
			t.Fatal(err)
		}
		qs = append(qs, x)
	}
	for _, e := range lib.entries {
		qs = append(qs, q{e.Question, e.Lang}, q{e.Question, ""})
	}
	rank := func(reuse bool, x q) []scored {
		reuseCharScores = reuse
		defer func() { reuseCharScores = true }()
		return ix.rank(x.Text, x.Lang, 10)
	}
	reused := 0
	for _, x := range qs {
		want, got := rank(false, x), rank(true, x)
		// Scores differ in the last float32 bits from run to run anyway (terms are summed in map
		// order): same entries, scores equal within 1e-6, order equal but for such near ties.
		for i := range min(len(want), len(got)) {
			if want[i].doc != got[i].doc && math.Abs(want[i].score-got[i].score) > 1e-6 {
				t.Errorf("%q (%s): entry %d is %d (%.6f) when the character scores are reused, %d (%.6f) when scored again",
					x.Text, x.Lang, i, got[i].doc, got[i].score, want[i].doc, want[i].score)
			}
		}
		byDoc := cmpopts.SortSlices(func(a, b scored) bool { return a.doc < b.doc })
		approx := cmp.Comparer(func(a, b scored) bool { return a.doc == b.doc && math.Abs(a.score-b.score) <= 1e-6 })
		if d := cmp.Diff(want, got, byDoc, approx); d != "" {
			t.Errorf("%q (%s): ranking differs when the character scores are reused (-scored again +reused):\n%s", x.Text, x.Lang, d)
		}
		if len(got) > 0 {
			reused++
		}
	}
	if reused < len(qs)/2 {
		t.Errorf("only %d of %d queries ranked anything", reused, len(qs))
	}
}
