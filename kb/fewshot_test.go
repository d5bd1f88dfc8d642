package kb

import (
	"slices"
	"testing"
)

func TestCoreTerms(t *testing.T) {
	texts := []sparseVec{{ids: []int32{1, 3, 5, 7}}, {ids: []int32{3, 4, 7}}, {ids: []int32{0, 3, 7, 9}}}
	if got := coreTerms(texts); !slices.Equal(got, []int32{3, 7}) {
		t.Errorf("coreTerms = %v, want [3 7]", got)
	}
	if got := coreTerms(texts[:1]); got != nil {
		t.Errorf("one text: %v, want nil", got)
	}
}

func TestRecombine(t *testing.T) {
	for _, tc := range []struct{ a, b, want string }{
		{"你好，请问怎么开通网上支付", "在线支付收手续费吗", "你好，请问怎 收手续费吗"},                         // the comma is too far from the middle
		{"how do i freeze my card", "is my account frozen", "how do i frozen"}, // at the space nearest the middle
		{"闪付", "带闪付标志的卡", "闪 标志的卡"},
	} {
		if got := recombine(tc.a, tc.b); got != tc.want {
			t.Errorf("recombine(%q, %q) = %q, want %q", tc.a, tc.b, got, tc.want)
		}
	}
	// Every ordered pair of texts with four or more runes, never a text with itself.
	if got := recombined([]string{"怎么开通网上支付", "网上支付怎么开", "闪付"}); len(got) != 2 {
		t.Errorf("recombined: %q, want 2", got)
	}
}

func TestBackgroundIDF(t *testing.T) {
	// Term 0 is in one entry's texts but in every answer: with the answers as background it is
	// no longer as rare as term 1, which is in one entry's texts and no answer.
	bmDF, ansDF := []int32{1, 1}, []int32{10, 0}
	idf := bgIDFs(bmDF, ansDF, 10, 1)
	if !(idf[0] < idf[1]) {
		t.Errorf("idf %v: the term common in the answers should weigh less", idf)
	}
	if plain := bgIDFs(bmDF, ansDF, 10, 0); plain[0] != plain[1] {
		t.Errorf("without background: %v, want equal", plain)
	}
}

// The experiment knobs of fewshot.go build and answer (each is off by default).
func TestFewshotKnobsBuild(t *testing.T) {
	lib := Sample()
	for _, tn := range []tuning{
		func() tuning { x := defaultTuning; x.bgIDF, x.bgEx, x.bgChar = 1, 1, 1; return x }(),
		func() tuning { x := defaultTuning; x.core, x.qW, x.augRec = 1, 2, 0.3; return x }(),
		func() tuning { x := defaultTuning; x.genDF, x.genW, x.cov, x.thesAns = 0.05, 0.5, 0.3, 1; return x }(),
		func() tuning { x := defaultTuning; x.fw.tri, x.mixNeg = 0.5, 50; return x }(),
	} {
		ix := newIndex(lib, MatchOptions{}, tn)
		hits := ix.Match("洗衣机显示E1是什么意思", "zh-CN", 3)
		if len(hits) == 0 || hits[0].Score < 0 || hits[0].Score > 1 {
			t.Fatalf("hits %v", hits)
		}
	}
}

// In a library of one question and at most two paraphrases per entry, two words said for the same
// thing in one entry are already related in the thesaurus; with more texts per entry a pair must be
// seen in two entries. The self-calibration's held-out index (one text fewer) keeps the decision.
func TestThesaurusFewShot(t *testing.T) {
	few := &Library{}
	for i, e := range []struct{ q, x string }{
		{"怎么开通网上支付", "在线付款怎么办理"},
		{"信用卡年费多少", "信用卡每年收费吗"},
		{"忘记密码怎么办", "密码想不起来了"},
		{"转账多久到账", "汇款几天能到"},
		{"积分怎么兑换", "积分可以换礼品吗"},
	} {
		few.entries = append(few.entries, &Entry{ID: string(rune('a' + i)), Question: e.q, Examples: []string{e.x}, Answer: "好的"})
	}
	related := func(ix *Index, a, b string) bool {
		for _, r := range ix.thes[ix.vocab[kHan2+a]] {
			if r.id == ix.vocab[kHan2+b] {
				return true
			}
		}
		return false
	}
	if ix := newIndex(few, MatchOptions{}, defaultTuning); !related(ix, "网上", "在线") || ix.tn.thesFewC != 1 {
		t.Errorf("few-shot library (%.1f texts per entry): 网上 and 在线 not related (thesFewC %d)", textsPerEntry(few), ix.tn.thesFewC)
	}
	off := defaultTuning
	off.thesFew = 0
	if ix := newIndex(few, MatchOptions{}, off); related(ix, "网上", "在线") {
		t.Error("with the rule off, a pair seen in one entry is related")
	}
	more := &Library{}
	for _, e := range few.entries {
		c := *e
		c.Examples = append(c.Examples, c.Question+"？", "请问"+c.Question, c.Question+"呢")
		more.entries = append(more.entries, &c)
	}
	if ix := newIndex(more, MatchOptions{}, defaultTuning); ix.tn.thesFewC != 0 || related(ix, "网上", "在线") {
		t.Errorf("library of %.1f texts per entry: the rule applies", textsPerEntry(more))
	}
	held := defaultTuning
	held.thesFew = -1 // decided on the full library: the held-out index keeps it
	if ix := newIndex(more, MatchOptions{}, held); ix.tn.thesFewC != 1 {
		t.Errorf("decided rule not kept: thesFewC %d", ix.tn.thesFewC)
	}
}
