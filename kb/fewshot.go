package kb

import (
	"math"
	"slices"
	"strings"
	"unicode/utf8"
)

// Few-shot measures (issue 18, round 4). Each is a tuning knob, off in defaultTuning unless the
// dev sets showed a gain (kb/README.md, "What helped, what did not"):
//   - bgIDF: the entries' answers count as background documents in the BM25 document
//     frequencies, so words that are rare among the questions but common in the library's language
//     (「莫名」 is rare, 「查询」 is not) stop dominating;
//   - core: terms that every text of an entry shares (an entry with 2+ texts) count more in its
//     BM25 document;
//   - genDF/genW: query terms used by more than genDF of the entries are weighed by genW;
//   - qW: weight of the canonical question against the paraphrases;
//   - augRec: recombination: for entries with at most recMax texts, the first half of one text
//     joined to the second half of another becomes a lighter training example.

// coreTerms returns the terms that every one of texts contains (nil for fewer than two texts).
func coreTerms(texts []sparseVec) []int32 {
	if len(texts) < 2 {
		return nil
	}
	var out []int32
	for _, id := range texts[0].ids {
		all := true
		for _, t := range texts[1:] {
			if _, ok := slices.BinarySearch(t.ids, id); !ok {
				all = false
				break
			}
		}
		if all {
			out = append(out, id)
		}
	}
	return out
}

// recombine returns the first half of a joined to the second half of b (split at the clause
// punctuation nearest to the middle, else at the middle rune).
func recombine(a, b string) string {
	return strings.TrimSpace(half(a, true)) + " " + strings.TrimSpace(half(b, false))
}

func half(s string, first bool) string {
	rs := []rune(strings.TrimSpace(s))
	mid := len(rs) / 2
	best := -1
	for i, r := range rs {
		switch r {
		case '，', ',', '、', '；', ';', '：', ':', '。', '？', '?', '！', '!', ' ':
			if i > 0 && i < len(rs)-1 && (best < 0 || abs(i-mid) < abs(best-mid)) {
				best = i
			}
		}
	}
	if best >= 0 && abs(best-mid) <= len(rs)/4 {
		mid = best
	}
	if first {
		return string(rs[:mid])
	}
	return string(rs[mid:])
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// recombined returns the recombination pseudo-examples of an entry's texts.
func recombined(texts []string) []string {
	var out []string
	for i, a := range texts {
		for j, b := range texts {
			if i == j || utf8.RuneCountInString(a) < 4 || utf8.RuneCountInString(b) < 4 {
				continue
			}
			out = append(out, recombine(a, b))
		}
	}
	return out
}

// bgIDFs returns BM25 IDFs with the answers' document frequencies added at weight bg.
func bgIDFs(bmDF, ansDF []int32, n int, bg float64) []float32 {
	idf := make([]float32, len(bmDF))
	N := float64(n) * (1 + bg)
	for id, df := range bmDF {
		d := float64(df) + bg*float64(ansDF[id])
		idf[id] = float32(math.Log(1 + (N-d+0.5)/(d+0.5)))
	}
	return idf
}

// rerankCoverage adds to each ranked entry how much of its best-covered text the query covers
// (IDF mass of the text's terms the query has over the text's), at weight cov, and returns the k
// best. tf is the query's own terms (before expansion).
func (ix *Index) rerankCoverage(r []scored, tf map[int32]float32, k int) []scored {
	tn := ix.tn
	norm := tn.bm25 + tn.cent + tn.knn*(1+tn.knn2) + tn.lin
	if ix.cm != nil {
		norm += tn.char2
	}
	for i, c := range r {
		best := 0.0
		for _, ids := range ix.texts[c.doc] {
			var have, all float64
			for _, id := range ids {
				w := float64(ix.bmIDF[id])
				all += w
				if _, ok := tf[id]; ok {
					have += w
				}
			}
			if all > 0 && have/all > best {
				best = have / all
			}
		}
		r[i].score = (c.score*norm + tn.cov*best) / (norm + tn.cov)
	}
	slices.SortFunc(r, func(a, b scored) int {
		if better(a, b) {
			return -1
		}
		if better(b, a) {
			return 1
		}
		return 0
	})
	return r[:min(k, len(r))]
}

// textsPerEntry is the library's mean number of texts (question and examples) per entry.
func textsPerEntry(lib *Library) float64 {
	if len(lib.entries) == 0 {
		return 0
	}
	n := 0
	for _, e := range lib.entries {
		if e.Question != "" {
			n++
		}
		n += len(e.Examples)
	}
	return float64(n) / float64(len(lib.entries))
}
