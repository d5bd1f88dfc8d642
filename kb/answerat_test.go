package kb

import (
	"math"
	"testing"
)

// TestAnswerThresholdFromProbes: the answer threshold rises to the lowest confidence at which at
// most ansWrong of the held-out examples that would be answered are wrong; never below the
// configured threshold, never above the cap; too few answered probes keep the configured one.
func TestAnswerThresholdFromProbes(t *testing.T) {
	const calB = 0.2
	ix := &Index{opts: MatchOptions{}.withDefaults(), tn: defaultTuning}
	ix.tn.ansWrong = 0.1
	// probes returns n probes at confidence c, wrong ones first.
	probes := func(c float64, n, wrong int) []probeZ {
		z := math.Log(c/(1-c)) + ix.tn.calA*calB
		ps := make([]probeZ, n)
		for i := range ps {
			ps[i] = probeZ{z, i >= wrong}
		}
		return ps
	}
	cat := func(pss ...[]probeZ) (out []probeZ) {
		for _, ps := range pss {
			out = append(out, ps...)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		ps   []probeZ
		want float64
	}{
		{"no probes", nil, 0.8},
		{"all right", probes(0.9, 50, 0), 0.8},
		{"few wrong", cat(probes(0.95, 40, 1), probes(0.85, 40, 3)), 0.8},
		{"wrong ones at low confidence", cat(probes(0.93, 40, 2), probes(0.85, 40, 20)), 0.93},
		{"wrong everywhere", cat(probes(0.99, 40, 20), probes(0.85, 40, 20)), ansMaxThreshold},
		{"too few answered", cat(probes(0.9, ansMinAnswered-1, 10), probes(0.5, 40, 0)), 0.8},
		{"below the threshold does not count", cat(probes(0.9, 40, 0), probes(0.7, 40, 40)), 0.8},
	} {
		if got := ix.answerThreshold(tc.ps, calB); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%s: answer threshold %.4f, want %.4f", tc.name, got, tc.want)
		}
	}
	off := &Index{opts: ix.opts, tn: defaultTuning}
	off.tn.ansWrong = 0
	if got := off.answerThreshold(probes(0.99, 40, 20), calB); got != 0.8 {
		t.Errorf("ansWrong 0: answer threshold %.4f, want 0.8", got)
	}
}

// TestAnswerThresholdPerLibrary: the sample FAQ (short entries, a few examples each, neighbours such
// as the washer's error codes and its faults) answers at a raised threshold and so gives fewer
// confident wrong answers on its evaluation set than at the default; a library whose held-out
// examples are matched right keeps the default; a configured threshold is used as it is.
func TestAnswerThresholdPerLibrary(t *testing.T) {
	auto := NewMatcher(Sample(), MatchOptions{})
	fixed := NewMatcher(Sample(), MatchOptions{AnswerThreshold: DefaultAnswerThreshold})
	if got := fixed.AnswerThreshold(); got != DefaultAnswerThreshold {
		t.Errorf("configured 0.8: answer threshold %.3f", got)
	}
	if got := auto.AnswerThreshold(); got <= DefaultAnswerThreshold || got > ansMaxThreshold {
		t.Errorf("sample FAQ: answer threshold %.3f, want raised above %.2f, at most %.2f", got, DefaultAnswerThreshold, ansMaxThreshold)
	}
	wAuto, n := confidentWrong(t, auto, "testdata/sample-eval.jsonl")
	wFixed, _ := confidentWrong(t, fixed, "testdata/sample-eval.jsonl")
	if wAuto >= wFixed || wAuto > 1 {
		t.Errorf("sample-eval confident wrong answers: %d/%d per library, %d/%d at 0.8; want fewer, at most 1", wAuto, n, wFixed, n)
	}
	// A question just above the default but below the raised threshold is suggested, not answered.
	e := &Entry{ID: "x"}
	if d := auto.Decide([]Hit{{e, DefaultAnswerThreshold}}); d != Suggest {
		t.Errorf("confidence 0.8 with the raised threshold: %v, want Suggest", d)
	}
	if d := fixed.Decide([]Hit{{e, DefaultAnswerThreshold}}); d != Answer {
		t.Errorf("confidence 0.8 with the configured threshold: %v, want Answer", d)
	}
	if got := NewMatcher(topicLibrary(150), MatchOptions{}).AnswerThreshold(); got != DefaultAnswerThreshold {
		t.Errorf("distinct-topic library: answer threshold %.3f, want the default", got)
	}
}
