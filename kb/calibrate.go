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

// selfCalibrate returns the library's calB, or the default when it cannot be estimated, and the
// answer threshold for this library (answerat.go).
func (ix *Index) selfCalibrate() (float64, float64) {
	calB, probes := ix.selfCalibrateProbes()
	return calB, ix.answerThreshold(probes, calB)
}

// selfCalibrateProbes returns the library's calB and the held-out probes it was estimated on (nil
// when it was not).
func (ix *Index) selfCalibrateProbes() (float64, []probeZ) {
	tn := ix.tn
	n := len(ix.lib.entries)
	if n > selfCalMaxEntries || tn.selfCalLoss <= 0 {
		return tn.calB, nil
	}
	var eligible []int
	for d, e := range ix.lib.entries {
		if len(e.Examples)-e.Learned >= 1 && e.Question != "" {
			eligible = append(eligible, d)
		}
	}
	// Libraries too small for the offset still get their answer threshold from the probes
	// (answerat.go); their calB stays the default.
	small := len(eligible) < selfCalMinEntries
	if small && (tn.ansWrong <= 0 || len(eligible) < ansMinEntries) {
		return tn.calB, nil
	}
	rng := rand.New(rand.NewPCG(7, 11))
	rng.Shuffle(len(eligible), func(i, j int) { eligible[i], eligible[j] = eligible[j], eligible[i] })
	// Hard negatives: a few whole entries are left out of the second index, and their texts asked
	// as queries are questions in the library's own style on a topic it lacks.
	nNeg := min(int(tn.negShare*float64(len(eligible))), negMaxEntries)
	negEntries := eligible[:nNeg]
	eligible = eligible[nNeg:min(len(eligible), nNeg+selfCalSample)]
	isNeg := map[int]bool{}
	for _, d := range negEntries {
		isNeg[d] = true
	}
	held := &Library{synonyms: ix.lib.synonyms}
	pos := make([]int32, n) // entry in the library -> entry in held
	for d, e := range ix.lib.entries {
		pos[d] = int32(len(held.entries))
		if !isNeg[d] {
			held.entries = append(held.entries, e)
		}
	}
	type probe struct {
		doc  int32 // in held; -1: a negative
		text string
		lang string
	}
	probes := make([]probe, 0, len(eligible))
	for _, d := range eligible {
		e := *ix.lib.entries[d]
		i := rng.IntN(len(e.Examples) - e.Learned)
		probes = append(probes, probe{pos[d], e.Examples[i], e.Lang})
		e.Examples = slices.Delete(slices.Clone(e.Examples), i, i+1)
		held.entries[pos[d]] = &e
	}
	for _, d := range negEntries {
		e := ix.lib.entries[d]
		texts := append([]string{e.Question}, e.Examples[:len(e.Examples)-e.Learned]...)
		rng.Shuffle(len(texts), func(i, j int) { texts[i], texts[j] = texts[j], texts[i] })
		for _, x := range texts[:min(len(texts), negPerEntry)] {
			probes = append(probes, probe{-1, x, e.Lang})
		}
	}
	// Mixed-entry negatives (fewshot.go): the first half of one entry's text joined to the second
	// half of another's is a question in the library's words that no entry answers.
	for i := 0; i < tn.mixNeg && len(eligible) > 1; i++ {
		a, b := ix.lib.entries[eligible[rng.IntN(len(eligible))]], ix.lib.entries[eligible[rng.IntN(len(eligible))]]
		if a == b || a.Lang != b.Lang {
			continue
		}
		probes = append(probes, probe{-1, recombine(a.Question, b.Examples[rng.IntN(len(b.Examples)-b.Learned)]), a.Lang})
	}
	tn2 := tn
	tn2.selfCalLoss, tn2.ansWrong = 0, 0 // no recursion
	h := newIndex(held, ix.opts, tn2)
	var zs, zneg []float64
	var all []probeZ
	for _, p := range probes {
		r := h.rank(p.text, p.lang, 2)
		if len(r) == 0 {
			continue
		}
		next := 0.0
		if len(r) > 1 {
			next = r[1].score
		}
		z := tn.calA*r[0].score + tn.calC*(r[0].score-next)
		if p.doc < 0 {
			zneg = append(zneg, z)
		} else {
			all = append(all, probeZ{z, r[0].doc == p.doc})
			if r[0].doc == p.doc {
				zs = append(zs, z)
			}
		}
	}
	if small || len(zs) < selfCalMinEntries {
		return tn.calB, all
	}
	slices.Sort(zs)
	zq := zs[int(tn.selfCalLoss*float64(len(zs)))]
	calB := (zq - math.Log(selfCalRef/(1-selfCalRef))) / tn.calA
	if len(zneg) >= negMinProbes && tn.negRecall > 0 {
		// Raise the offset until negRecall of the negatives fall below the suggest threshold, by at
		// most negMaxShift.
		slices.Sort(zneg)
		zn := zneg[min(len(zneg)-1, int(tn.negRecall*float64(len(zneg))))]
		negB := (zn - math.Log(DefaultSuggestThreshold/(1-DefaultSuggestThreshold))) / tn.calA
		calB = max(calB, min(negB, calB+tn.negMaxShift))
	}
	// Stay near the default: a small or odd sample must not move the thresholds far.
	return min(max(calB, tn.calB-selfCalRange), tn.calB+selfCalRange), all
}

// Hard negatives for the self-calibration (tuning.negShare of the eligible entries, at most
// negMaxEntries, each asked with up to negPerEntry of its texts).
var (
	negMaxEntries = 40
	negPerEntry   = 3
	negMinProbes  = 30
)

const (
	selfCalRange = 0.15
	// selfCalRef is the confidence the selfCalLoss quantile of held-out right answers is mapped to;
	// the configured thresholds are placed relative to it (the default suggest threshold is below).
	selfCalRef = 0.625
)
