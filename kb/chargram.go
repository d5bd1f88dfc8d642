package kb

import (
	"math"
	"unicode"
)

// charMaxEntries: larger libraries leave the character model out (its postings are not pruned, and
// its training would exceed the load budget); they are scored by BM25 and the word model only.
const charMaxEntries = 1000

// charModel is a second, independently featurized scorer: character n-grams over the whole
// normalized text (across word boundaries, so "log in"/"login", inflections, typos and Chinese
// compounds share grams), TF-IDF weighted, with its own linear model trained at load time on the
// library's examples the same way as the word model (centroids, then margin updates). Its score is
// added to the combined score with weight tuning.char2.
//
// Grams are hashed (FNV-1a over the runes) so that a query does not allocate a string per gram.
type charModel struct {
	vocab  map[uint64]int32
	idf    []float32
	maxIDF float32
	post   [][]posting // term -> entries: trained weights
}

// charGramRunes maps text to the runes the grams are taken from: letters, digits and Han as they
// are, every run of anything else as one space, with a space at both ends.
func charGramRunes(s string, dst []rune) []rune {
	dst = append(dst[:0], ' ')
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			dst = append(dst, r)
		} else if dst[len(dst)-1] != ' ' {
			dst = append(dst, ' ')
		}
	}
	if dst[len(dst)-1] != ' ' {
		dst = append(dst, ' ')
	}
	return dst
}

// eachGram calls fn with the hash of every n-gram (nmin ≤ n ≤ nmax) of rs. Grams made only of
// spaces are skipped (the padding makes " " the only one).
func eachGram(rs []rune, nmin, nmax int, fn func(h uint64)) {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	for i := range rs {
		h := uint64(offset)
		for n := 1; n <= nmax && i+n <= len(rs); n++ {
			h ^= uint64(rs[i+n-1])
			h *= prime
			if n >= nmin && (n > 1 || rs[i] != ' ') {
				fn(h ^ uint64(n)<<56)
			}
		}
	}
}

// charTF returns the gram frequencies of text (already normalized) as a sparse vector over vocab;
// with grow, unknown grams are added, otherwise their count is returned as unknown.
func (cm *charModel) charTF(s string, nmin, nmax int, grow bool, rs []rune, m *merger, pairs []idW) (sparseVec, float32, []idW) {
	rs = charGramRunes(s, rs)
	pairs = pairs[:0]
	var unknown float32
	eachGram(rs, nmin, nmax, func(h uint64) {
		id, ok := cm.vocab[h]
		if !ok {
			if !grow {
				unknown++
				return
			}
			id = int32(len(cm.vocab))
			cm.vocab[h] = id
		}
		pairs = append(pairs, idW{id, 1})
	})
	return m.merge(pairs), unknown, pairs
}

// weigh turns gram frequencies into an L2-normalized sublinear TF-IDF vector in place; unknown
// grams count in the norm with the highest IDF.
func (cm *charModel) weigh(v sparseVec, unknown float32) sparseVec {
	s := float64(unknown * cm.maxIDF * cm.maxIDF)
	for i, id := range v.ids {
		w := float32(1+math.Log(float64(max(v.ws[i], 1)))) * cm.idf[id]
		v.ws[i] = w
		s += float64(w * w)
	}
	if s > 0 {
		inv := float32(1 / math.Sqrt(s))
		for i := range v.ws {
			v.ws[i] *= inv
		}
	}
	return v
}

// buildCharModel trains the character model over texts (question and examples, already normalized
// with the synonyms applied) whose entries are ys.
func buildCharModel(texts []string, wts []float32, ys []int32, nDocs int, tn tuning, background []string) *charModel {
	cm := &charModel{vocab: map[uint64]int32{}}
	var m merger
	var rs []rune
	var pairs []idW
	xs := make([]sparseVec, len(texts))
	for i, t := range texts {
		xs[i], _, pairs = cm.charTF(t, tn.c2min, tn.c2max, true, rs, &m, pairs)
	}
	nt := len(cm.vocab)
	cm.idf, cm.maxIDF = smoothIDF(xs, nt)
	if len(background) > 0 && tn.bgChar > 0 {
		// Background documents (the answers, fewshot.go) count at weight bgChar in the IDF.
		df := make([]float64, nt)
		for _, x := range xs {
			for _, id := range x.ids {
				df[id]++
			}
		}
		for _, t := range background {
			var v sparseVec
			v, _, pairs = cm.charTF(t, tn.c2min, tn.c2max, false, rs, &m, pairs)
			for _, id := range v.ids {
				df[id] += tn.bgChar
			}
		}
		N := float64(len(xs)) + tn.bgChar*float64(len(background))
		for id := range df {
			cm.idf[id] = float32(math.Log((N + 1) / (df[id] + 1)))
		}
		cm.maxIDF = float32(math.Log(N + 1))
	}
	for i := range xs {
		xs[i] = cm.weigh(xs[i], 0)
		if wts[i] != 1 {
			for k := range xs[i].ws {
				xs[i].ws[k] *= wts[i]
			}
		}
	}
	// Centroids.
	cent := make([][]posting, nt)
	for i := 0; i < len(xs); {
		d := ys[i]
		pairs = pairs[:0]
		for ; i < len(xs) && ys[i] == d; i++ {
			for k, id := range xs[i].ids {
				pairs = append(pairs, idW{id, xs[i].ws[k]})
			}
		}
		c := m.merge(pairs)
		var sq float64
		for _, w := range c.ws {
			sq += float64(w * w)
		}
		inv := float32(1 / math.Sqrt(max(sq, 1e-12)))
		for k, id := range c.ids {
			cent[id] = append(cent[id], posting{d, c.ws[k] * inv})
		}
	}
	cm.post = cent
	epochs := tn.epochs
	if per := trainCost(xs, cent, 1); per > 0 {
		epochs = min(epochs, maxTrainCost/per)
	}
	if epochs >= 1 {
		l := trainLinear(nt, nDocs, cent, xs, ys, epochs, float32(tn.margin), float32(tn.rate), 0, 0, 0)
		cm.post = make([][]posting, nt)
		for t, ps := range l.post {
			cm.post[t] = make([]posting, len(ps))
			for i, p := range ps {
				cm.post[t][i] = posting{p.doc, p.w}
			}
		}
	}
	return cm
}

// score adds the character model's score of query s (normalized) to out[entry], calling touch for
// every entry it reaches.
func (cm *charModel) score(s string, tn tuning, sc *scratch, out []float32, touch func(int32)) {
	var v sparseVec
	var unknown float32
	v, unknown, sc.pairs = cm.charTF(s, tn.c2min, tn.c2max, false, sc.runes, &sc.m, sc.pairs)
	v = cm.weigh(v, unknown*float32(tn.unknownW))
	for i, id := range v.ids {
		w := v.ws[i]
		for _, p := range cm.post[id] {
			touch(p.doc)
			out[p.doc] += w * p.w
		}
	}
}
