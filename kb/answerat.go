package kb

import (
	"math"
	"slices"
)

// Per-library answer threshold (issue 18). The self-calibration (calibrate.go) places the
// confidence scale so that the thresholds give up the same share of right answers in every
// library, but how many *wrong* top hits clear the answer threshold still depends on the library:
// in a library whose entries have one or two examples, paraphrases often rank a neighbouring entry
// first with a high confidence (unionpay-dev-few: one query in five answered with the wrong
// entry). The held-out examples the self-calibration asks tell how often that happens in this
// library: the answer threshold is raised until at most tuning.ansWrong of the held-out examples
// that would be answered are answered with the wrong entry. Those queries then get the top
// candidates (suggest) instead of a wrong answer. The threshold is never lowered below the
// configured one, and never raised above ansMaxThreshold (a library still answers its best
// matches).

// probeZ is one held-out example asked of the calibration index: its logit before the offset
// (calA·top + calC·margin) and whether the top hit was its own entry.
type probeZ struct {
	z     float64
	right bool
}

// ansMaxThreshold caps the raised answer threshold (a variable for the dev-set sweeps).
var ansMaxThreshold = 0.95

const (
	// ansMinAnswered: the threshold stops rising when fewer held-out examples than this would
	// still be answered (the estimate is one or two examples there).
	ansMinAnswered = 20
	// ansMinEntries: libraries with fewer entries with examples keep the configured threshold.
	ansMinEntries = 30
)

// answerThreshold returns the answer threshold for a library whose held-out probes are ps, with
// the confidence offset calB.
func (ix *Index) answerThreshold(ps []probeZ, calB float64) float64 {
	base := ix.opts.AnswerThreshold
	if ix.tn.ansWrong <= 0 || len(ps) == 0 {
		return base
	}
	type pc struct {
		c     float64
		right bool
	}
	cs := make([]pc, 0, len(ps))
	for _, p := range ps {
		c := 1 / (1 + math.Exp(-(p.z - ix.tn.calA*calB)))
		if c >= base {
			cs = append(cs, pc{c, p.right})
		}
	}
	// From the most confident down: the lowest threshold at which the answered probes hold at most
	// ansWrong wrong ones.
	slices.SortFunc(cs, func(a, b pc) int {
		if a.c != b.c {
			if a.c > b.c {
				return -1
			}
			return 1
		}
		return 0
	})
	thr := math.Inf(1)
	wrong := 0
	for i, p := range cs {
		if !p.right {
			wrong++
		}
		if i+1 < len(cs) && cs[i+1].c == p.c {
			continue // a threshold cannot split equal confidences
		}
		if i+1 >= ansMinAnswered && float64(wrong) <= ix.tn.ansWrong*float64(i+1) {
			thr = p.c
			if i == len(cs)-1 {
				thr = base // every answered probe: the configured threshold is fine
			}
		}
	}
	if len(cs) < ansMinAnswered || thr == math.Inf(1) {
		// Too few answered probes to tell, or none reaching the target: the cap.
		if len(cs) < ansMinAnswered {
			return base
		}
		return max(base, ansMaxThreshold)
	}
	return min(max(base, thr), max(base, ansMaxThreshold))
}

// AnswerThreshold returns the confidence at which this library's top hit is answered directly: the
// configured answer threshold, raised for libraries whose held-out examples show that answers at it
// would too often be wrong (answerat.go). Decide uses it.
func (ix *Index) AnswerThreshold() float64 { return ix.answerAt }
