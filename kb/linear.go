package kb

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
)

type scoredF struct {
	d int32
	s float32
}

// linear is a sparse multiclass linear model over the TF-IDF example vectors, trained at load time
// on the library's own examples: it starts from the entry centroids and runs a few epochs of
// margin-based (passive-aggressive style) updates against the best-scoring wrong entry, with
// averaged weights. Weights live in per-term postings so scoring is an inverted-index walk.
//
// Hand-written: the candidate libraries (golearn, goml) train dense models over all classes, which
// at 10,000 entries would need gigabytes; this keeps weights only where a term meets an entry.
type linear struct {
	post [][]linW         // term -> entries
	pos  map[uint64]int32 // (term, entry) -> index in post[term], while training
}

// maxTrainCost bounds the posting visits of training (about a second on one core: clinc150-full,
// 15,000 examples, needs 207M for 5 epochs); larger libraries train fewer epochs or, when even one
// is too expensive, use the untrained centroids.
var maxTrainCost = 250_000_000

// trainCost estimates the posting visits of training: each epoch scores every example.
func trainCost(xs []sparseVec, cent [][]posting, epochs int) int {
	var c int
	for _, x := range xs {
		for _, t := range x.ids {
			c += len(cent[t])
		}
		if c > maxTrainCost {
			break
		}
	}
	return c * epochs
}

type linW struct {
	doc  int32
	w, u float32 // current weight; accumulated step-weighted updates for averaging
}

type sparseVec struct {
	ids []int32
	ws  []float32
}

func (l *linear) add(term, doc int32, v, c float32) {
	ps := l.post[term]
	for i := range ps { // postings are short for the terms that matter; a map was 3x slower
		if ps[i].doc == doc {
			ps[i].w += v
			ps[i].u += c * v
			return
		}
	}
	l.post[term] = append(ps, linW{doc: doc, w: v, u: c * v})
}

// trainLinear trains on examples (vector, entry) for epochs passes.
func trainLinear(nTerms, nDocs int, cent [][]posting, xs []sparseVec, ys []int32, epochs int, margin, rate float32, soft int, temp float32, drop float32) *linear {
	var comp []scoredF
	var dx sparseVec
	l := &linear{post: make([][]linW, nTerms)}
	for t, ps := range cent {
		for _, p := range ps {
			l.post[t] = append(l.post[t], linW{doc: p.doc, w: p.w})
		}
	}
	score := make([]float32, nDocs)
	var touched []int32
	order := make([]int, len(xs))
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(1, 2))
	c := float32(1)
	for ep := 0; ep < epochs; ep++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			x, y := xs[i], ys[i]
			if drop > 0 {
				// Dropout: train on the example with a random share of its terms left out, as a
				// paraphrase that shares only part of the wording would be.
				dx.ids, dx.ws = dx.ids[:0], dx.ws[:0]
				for k, t := range x.ids {
					if rng.Float32() >= drop {
						dx.ids = append(dx.ids, t)
						dx.ws = append(dx.ws, x.ws[k])
					}
				}
				if len(dx.ids) > 0 {
					x = dx
				}
			}
			for k, t := range x.ids {
				for _, p := range l.post[t] {
					if score[p.doc] == 0 {
						touched = append(touched, p.doc)
					}
					score[p.doc] += x.ws[k] * p.w
				}
			}
			best, bestS := int32(-1), float32(-1e9)
			for _, d := range touched {
				if d != y && score[d] > bestS {
					best, bestS = d, score[d]
				}
			}
			sy := score[y]
			if soft > 0 {
				// Softmax over the entry and its strongest competitors (a sampled multinomial
				// logistic regression): every competitor is pushed down by its probability.
				comp = comp[:0]
				for _, d := range touched {
					if d != y {
						comp = append(comp, scoredF{d, score[d]})
					}
				}
				slices.SortFunc(comp, func(a, b scoredF) int { return cmp.Compare(b.s, a.s) })
				if len(comp) > soft {
					comp = comp[:soft]
				}
				z := math.Exp(float64(temp * sy))
				for _, cd := range comp {
					z += math.Exp(float64(temp * cd.s))
				}
				py := float32(math.Exp(float64(temp*sy)) / z)
				for _, d := range touched {
					score[d] = 0
				}
				touched = touched[:0]
				for k, t := range x.ids {
					v := rate * x.ws[k]
					l.add(t, y, v*(1-py), c)
					for _, cd := range comp {
						pd := float32(math.Exp(float64(temp*cd.s)) / z)
						if pd > 1e-3 {
							l.add(t, cd.d, -v*pd, c)
						}
					}
				}
				c++
				continue
			}
			for _, d := range touched {
				score[d] = 0
			}
			touched = touched[:0]
			if best >= 0 && sy-bestS < margin {
				for k, t := range x.ids {
					v := rate * x.ws[k]
					l.add(t, y, v, c)
					l.add(t, best, -v, c)
				}
			}
			c++
		}
	}
	// averaged weights: w - u/c
	for t := range l.post {
		for i := range l.post[t] {
			l.post[t][i].w -= l.post[t][i].u / c
			l.post[t][i].u = 0
		}
	}
	return l
}
