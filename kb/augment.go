package kb

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Augmentation from the library itself (issue 18): a company FAQ often has one question and no
// paraphrases, so the matcher trains on lighter pseudo-examples made from the entry's own texts.
//   - answer sentences (tuning.augAns): the answer's wording ("手续费由发卡行收取") is often the
//     customer's;
//   - clauses (tuning.augSub): each clause of a multi-clause question or example ("你好，请问…，…")
//     on its own;
//   - question + key answer terms (tuning.augQA): the question with the answer's most distinctive
//     terms.
//
// They train the linear models and, with tuning.augBM, add to the BM25 document; they are never
// self-calibration probes.

type pseudoExample struct {
	text string // for the character model ("" with tf set directly)
	tf   sparseVec
	w    float32
}

const (
	maxAnswerSentences = 8
	minClauseRunes     = 2
)

// augmented returns the pseudo-examples of entry e.
func (ix *Index) augmented(d int, e *Entry, an *analyzer, aug *augContext) []pseudoExample {
	tn := ix.tn
	var out []pseudoExample
	add := func(text string, w float64) {
		tf := an.analyze(text, e.Lang)
		if len(tf.ids) > 0 {
			out = append(out, pseudoExample{text: text, tf: tf, w: float32(w)})
		}
	}
	if tn.augAns > 0 {
		for i, s := range splitSentences(e.Answer, true) {
			if i == maxAnswerSentences {
				break
			}
			add(s, tn.augAns)
		}
	}
	if tn.augSub > 0 {
		seen := map[string]bool{}
		for i := -1; i < len(e.Examples)-e.Learned; i++ {
			x := e.Question
			if i >= 0 {
				x = e.Examples[i]
			}
			cl := splitSentences(x, false)
			if len(cl) < 2 {
				continue
			}
			for _, c := range cl {
				if !seen[c] {
					seen[c] = true
					add(c, tn.augSub)
				}
			}
		}
	}
	if aug != nil {
		if v := aug.keyTerms[d]; len(v.ids) > 0 {
			q := an.analyze(e.Question, e.Lang)
			pairs := make([]idW, 0, len(q.ids)+len(v.ids))
			for i, id := range q.ids {
				pairs = append(pairs, idW{id, q.ws[i]})
			}
			for i, id := range v.ids {
				pairs = append(pairs, idW{id, v.ws[i]})
			}
			out = append(out, pseudoExample{text: e.Question, tf: an.m.merge(pairs), w: float32(tn.augQA)})
		}
	}
	return out
}

// augContext holds what the question + key answer terms augmentation needs from the whole library.
type augContext struct {
	keyTerms []sparseVec // entry -> its answer's key terms
}

// newAugContext picks each answer's key terms: the augQAK terms with the highest tf·idf over the
// answers that customers also use (they occur in some entry's question or examples).
func (ix *Index) newAugContext(an *analyzer) *augContext {
	ents := ix.lib.entries
	asked := map[int32]bool{}
	answers := make([]sparseVec, len(ents))
	df := map[int32]int{}
	for d, e := range ents {
		for i := -1; i < len(e.Examples); i++ {
			x := e.Question
			if i >= 0 {
				x = e.Examples[i]
			}
			for _, id := range an.analyze(x, e.Lang).ids {
				asked[id] = true
			}
		}
		answers[d] = an.analyze(e.Answer, e.Lang)
		for _, id := range answers[d].ids {
			df[id]++
		}
	}
	n := float64(len(ents))
	ctx := &augContext{keyTerms: make([]sparseVec, len(ents))}
	type tw struct {
		id int32
		s  float64
	}
	for d, a := range answers {
		var cand []tw
		for i, id := range a.ids {
			if !asked[id] || float64(df[id]) > n/10 {
				continue
			}
			cand = append(cand, tw{id, float64(a.ws[i]) * math.Log(n/float64(df[id]))})
		}
		slices.SortFunc(cand, func(x, y tw) int { return cmp.Compare(y.s, x.s) })
		cand = cand[:min(len(cand), max(ix.tn.augQAK, 1))]
		slices.SortFunc(cand, func(x, y tw) int { return cmp.Compare(x.id, y.id) })
		for _, c := range cand {
			ctx.keyTerms[d].ids = append(ctx.keyTerms[d].ids, c.id)
			ctx.keyTerms[d].ws = append(ctx.keyTerms[d].ws, 1)
		}
	}
	return ctx
}

// splitSentences splits text at sentence punctuation (and, unless sentencesOnly, at clause
// punctuation: commas, colons); parts with fewer than minClauseRunes letters are dropped, and so are
// links.
func splitSentences(text string, sentencesOnly bool) []string {
	isSep := func(r rune) bool {
		switch r {
		case '。', '！', '？', '!', '?', '；', ';', '\n', '…':
			return true
		case '，', ',', '：', ':', '、':
			return !sentencesOnly
		}
		return false
	}
	var out []string
	for _, p := range strings.FieldsFunc(text, isSep) {
		p = strings.TrimSpace(p)
		if strings.Contains(p, "http") || strings.Contains(p, "www.") {
			continue
		}
		letters := 0
		for _, r := range p {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				letters++
			}
		}
		if letters >= minClauseRunes && utf8.RuneCountInString(p) <= 200 {
			out = append(out, p)
		}
	}
	return out
}
