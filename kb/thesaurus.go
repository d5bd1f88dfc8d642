package kb

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
)

// A domain thesaurus mined from the library (issue 18): two terms that occur in different
// examples of the same entry ("手续费" in one, "付费" in another; "reservation" and "booking") are
// likely said for the same thing. Over the whole library a pair's similarity is the number of
// entries that pair them that way over the geometric mean of the terms' entry counts. At query time
// every content term (English word, Chinese character bigram) brings its most similar terms at
// weight thes × similarity. Like the character model and the feedback, it is built for libraries
// under charMaxEntries entries only (the few-shot case it is for; the load budget of larger ones).

var (
	thesMaxPairs = 200     // example pairs looked at per entry (sampled beyond that)
	thesMinCount = 2       // entries that must pair two terms
	thesDFDiv    = 20      // terms in more than 1/thesDFDiv of the entries are left out
	thesDoc      = 0.0     // weight of related terms added to the BM25 documents (0: off)
	thesMaxMap   = 1 << 21 // distinct pairs counted at most (about 40 MiB while building)
)

func (ix *Index) buildThesaurus(examples []sparseVec, exEntry []int32, exW []float32) {
	nt := len(ix.vocab)
	content := make([]bool, nt)
	for t, id := range ix.vocab {
		content[id] = t[0] == kHan2[0] || t[0] == kWord[0]
	}
	n := len(ix.lib.entries)
	// Entry frequency of each term; very common terms are left out.
	edf := make([]int32, nt)
	last := make([]int32, nt)
	for i := range last {
		last[i] = -1
	}
	for i, x := range examples {
		for _, id := range x.ids {
			if last[id] != exEntry[i] {
				last[id] = exEntry[i]
				edf[id]++
			}
		}
	}
	maxDF := int32(max(2, n/thesDFDiv))
	pair := map[uint64]int32{}
	seen := map[uint64]bool{}
	rng := rand.New(rand.NewPCG(3, 5))
	for i := 0; i < len(examples); {
		j := i
		for j < len(examples) && exEntry[j] == exEntry[i] {
			j++
		}
		var texts []int
		for k := i; k < j; k++ {
			if exW[k] == 1 {
				texts = append(texts, k)
			}
		}
		i = j
		clear(seen)
		np := len(texts) * (len(texts) - 1) / 2
		for a := 0; a < len(texts); a++ {
			for b := a + 1; b < len(texts); b++ {
				if np > thesMaxPairs && rng.IntN(np) >= thesMaxPairs {
					continue
				}
				x, y := examples[texts[a]], examples[texts[b]]
				for _, s := range x.ids {
					if !content[s] || edf[s] > maxDF || slices.Contains(y.ids, s) {
						continue
					}
					for _, t := range y.ids {
						if !content[t] || edf[t] > maxDF || slices.Contains(x.ids, t) {
							continue
						}
						k1, k2 := uint64(s)<<32|uint64(t), uint64(t)<<32|uint64(s)
						if _, ok := pair[k1]; !ok && len(pair) >= thesMaxMap {
							continue // bounded build memory: new pairs stop counting
						}
						if !seen[k1] {
							seen[k1], seen[k2] = true, true
							pair[k1]++
							pair[k2]++
						}
					}
				}
			}
		}
	}
	minCount := thesMinCount
	if ix.tn.thesFewC > 0 {
		minCount = ix.tn.thesFewC
	}
	rel := map[int32][]idW{}
	for k, c := range pair {
		s, t := int32(k>>32), int32(uint32(k))
		sim := float64(c) / math.Sqrt(float64(edf[s])*float64(edf[t]))
		if c >= int32(minCount) && sim >= ix.tn.thesMin {
			rel[s] = append(rel[s], idW{t, float32(sim)})
		}
	}
	for s, r := range rel {
		slices.SortFunc(r, func(a, b idW) int {
			if c := cmp.Compare(b.w, a.w); c != 0 {
				return c
			}
			return cmp.Compare(a.id, b.id)
		})
		rel[s] = r[:min(len(r), max(ix.tn.thesK, 1))]
	}
	ix.thes = rel
}

// expand adds the related terms of the query's terms (not already in it) to tf.
func (ix *Index) expand(tf map[int32]float32) map[int32]float32 {
	var out map[int32]float32
	for id, f := range tf {
		for _, r := range ix.thes[id] {
			if _, ok := tf[r.id]; ok {
				continue
			}
			if out == nil {
				out = make(map[int32]float32, len(tf)+8)
				for k, v := range tf {
					out[k] = v
				}
			}
			out[r.id] += float32(ix.tn.thes) * r.w * f
		}
	}
	if out == nil {
		return tf
	}
	return out
}
