package kb

import (
	"math"
	"math/rand/v2"
	"slices"
)

// Self-calibration: the same raw score means different things in different libraries (an entry
// with 100 examples matches a paraphrase more strongly than one with 2), so one threshold cannot
// serve them all. At load time the matcher holds out one example from each of up to
// selfCalSample entries, builds a second index without them, and asks it the held-out examples as
// queries. The confidence offset (calB) is then set so that a fixed share (selfCalLoss) of the
// correctly matched held-out examples gets a confidence below selfCalRef: the thresholds mean the
// same trade-off in every library ("give up about this share of right answers to refuse
// out-of-scope questions"), whatever its size and wording.
//
// It costs a second build, so it runs only for libraries with at least selfCalMinEntries entries
// with two or more texts, and at most selfCalMaxEntries entries (larger ones keep the default).
const (
	selfCalSample     = 400
	selfCalMinEntries = 100 // fewer probes make the low quantile one unlucky example
	selfCalMaxEntries = 3000
)

// selfCalibrate returns the library's calB, or the default when it cannot be estimated.
func (ix *Index) selfCalibrate() float64 {
	tn := ix.tn
	n := len(ix.lib.entries)
	if n > selfCalMaxEntries || tn.selfCalLoss <= 0 {
		return tn.calB
	}
	var eligible []int
	for d, e := range ix.lib.entries {
		if len(e.Examples)-e.Learned >= 1 && e.Question != "" {
			eligible = append(eligible, d)
		}
	}
	if len(eligible) < selfCalMinEntries {
		return tn.calB
	}
	rng := rand.New(rand.NewPCG(7, 11))
	rng.Shuffle(len(eligible), func(i, j int) { eligible[i], eligible[j] = eligible[j], eligible[i] })
	eligible = eligible[:min(len(eligible), selfCalSample)]
	held := &Library{entries: make([]*Entry, n), synonyms: ix.lib.synonyms}
	copy(held.entries, ix.lib.entries)
	type probe struct {
		doc  int32
		text string
	}
	probes := make([]probe, 0, len(eligible))
	for _, d := range eligible {
		e := *ix.lib.entries[d]
		i := rng.IntN(len(e.Examples) - e.Learned)
		probes = append(probes, probe{int32(d), e.Examples[i]})
		e.Examples = slices.Delete(slices.Clone(e.Examples), i, i+1)
		held.entries[d] = &e
	}
	tn2 := tn
	tn2.selfCalLoss = 0 // no recursion
	h := newIndex(held, ix.opts, tn2)
	var zs []float64
	for _, p := range probes {
		r := h.rank(p.text, held.entries[p.doc].Lang, 2)
		if len(r) == 0 || r[0].doc != p.doc {
			continue
		}
		next := 0.0
		if len(r) > 1 {
			next = r[1].score
		}
		zs = append(zs, tn.calA*r[0].score+tn.calC*(r[0].score-next))
	}
	if len(zs) < selfCalMinEntries {
		return tn.calB
	}
	slices.Sort(zs)
	zq := zs[int(tn.selfCalLoss*float64(len(zs)))]
	calB := (zq - math.Log(selfCalRef/(1-selfCalRef))) / tn.calA
	// Stay near the default: a small or odd sample must not move the thresholds far.
	return min(max(calB, tn.calB-selfCalRange), tn.calB+selfCalRange)
}

const (
	selfCalRange = 0.15
	// selfCalRef is the confidence the selfCalLoss quantile of held-out right answers is mapped to;
	// the configured thresholds are placed relative to it (the default suggest threshold is below).
	selfCalRef = 0.625
)
