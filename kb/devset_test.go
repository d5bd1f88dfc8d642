package kb

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// The dev sets live outside the repository (../shared/faq-devset); these tests run only when
// KB_DEVSET points at them: KB_DEVSET=/work/shared/faq-devset go test ./kb -run Devset -v

type devQuery struct {
	Text   string `json:"text"`
	Expect string `json:"expect"`
}

type devRow struct {
	top, next float64
	right     bool // top-1 is the expected entry
	in3       bool // the expected entry is among the top 3
	oos       bool
}

func devDir(t testing.TB) string {
	dir := os.Getenv("KB_DEVSET")
	if dir == "" {
		t.Skip("KB_DEVSET not set (path to the faq-devset folder)")
	}
	return dir
}

func loadDevQueries(t testing.TB, path string) []devQuery {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []devQuery
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var q devQuery
		if err := json.Unmarshal(sc.Bytes(), &q); err != nil {
			t.Fatal(err)
		}
		out = append(out, q)
	}
	return out
}

func runDevset(t testing.TB, dir string, tn tuning) (acc float64, rows []devRow) {
	acc, rows, _ = runDevsetIx(t, dir, tn)
	return acc, rows
}

func runDevsetIx(t testing.TB, dir string, tn tuning) (acc float64, rows []devRow, ix *Index) {
	if os.Getenv("KB_PRUNE") != "" { // measure the large-library pruning on the small dev sets
		defer func(v int) { pruneMinEntries = v }(pruneMinEntries)
		pruneMinEntries = 0
	}
	lib, err := LoadFile(filepath.Join(dir, "faq.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	o := MatchOptions{WordNet: os.Getenv("KB_WORDNET") != ""} // the opt-in WordNet relations (wordnet.go)
	if s := os.Getenv("KB_SYN"); s != "" {                    // extra synonym groups: "a,b,c|d,e"
		o.Synonyms = map[string][][]string{}
		for _, g := range strings.Split(s, "|") {
			o.Synonyms[""] = append(o.Synonyms[""], strings.Split(g, ","))
		}
	}
	ix = newIndex(lib, o, tn)
	qs := loadDevQueries(t, filepath.Join(dir, "queries.jsonl"))
	var ins, right int
	for _, q := range qs {
		r := ix.rank(q.Text, "", 3)
		row := devRow{oos: q.Expect == ""}
		for _, h := range r {
			row.in3 = row.in3 || lib.entries[h.doc].ID == q.Expect
		}
		if len(r) > 0 {
			row.top = r[0].score
			row.right = lib.entries[r[0].doc].ID == q.Expect
			if len(r) > 1 {
				row.next = r[1].score
			}
		}
		if !row.oos {
			ins++
			if row.right {
				right++
			}
		}
		rows = append(rows, row)
	}
	fmt.Fprintf(os.Stderr, "%s calB %.4f thesaurus %d terms\n", filepath.Base(dir), ix.calB, len(ix.thes))
	return float64(right) / float64(ins), rows, ix
}

// oosAt finds the confidence threshold reaching an out-of-scope recall of at least 0.7 and returns
// the in-scope accuracy there.
func oosAt(ix *Index, rows []devRow, recall float64) (thr, insAcc float64) {
	var oos []float64
	for _, r := range rows {
		if r.oos {
			oos = append(oos, ix.confidence(r.top, r.next))
		}
	}
	if len(oos) == 0 {
		return 0, 0
	}
	sort.Float64s(oos)
	thr = oos[int(recall*float64(len(oos)))]
	var ins, right int
	for _, r := range rows {
		if !r.oos {
			ins++
			if r.right && ix.confidence(r.top, r.next) >= thr {
				right++
			}
		}
	}
	return thr, float64(right) / float64(ins)
}

var devSets = []string{"clinc150-full-val", "clinc150-10shot-val", "unionpay-dev-full", "unionpay-dev-few"}

func TestDevsetAccuracy(t *testing.T) {
	dir := devDir(t)
	sets := devSets
	if s := os.Getenv("KB_SETS"); s != "" {
		sets = filepath.SplitList(s)
	}
	for _, s := range sets {
		tn := tuningFromEnv()
		acc, rows, ix := runDevsetIx(t, filepath.Join(dir, s), tn)
		thr, ins := oosAt(ix, rows, 0.7)
		t.Logf("%-22s in-scope top-1 %.4f  | oos recall 0.70 at conf %.3f: in-scope %.4f", s, acc, thr, ins)
		// With the default thresholds: in-scope right and not refused, out-of-scope refused,
		// confident wrong answers (over all queries).
		var nIns, nOOS, insOK, oosOK, cw, ar, sug, sug3 int
		for _, r := range rows {
			c := ix.confidence(r.top, r.next)
			if r.oos {
				nOOS++
				if c < ix.opts.SuggestThreshold {
					oosOK++
				}
			} else {
				nIns++
				if r.right && c >= ix.opts.SuggestThreshold {
					insOK++
				}
			}
			if c >= ix.answerAt && (r.oos || !r.right) {
				cw++
			}
			if c >= ix.answerAt && !r.oos && r.right {
				ar++
			}
			if c >= ix.opts.SuggestThreshold && c < ix.answerAt && !r.oos {
				sug++
				if r.in3 {
					sug3++
				}
			}
		}
		fmt.Fprintf(os.Stderr, "%s %.4f %.4f thr: %.4f %.4f cw %.4f answered-right %.4f (answer at %.3f) suggested %.4f, right one in the top 3 %.4f\n", s, acc, ins, float64(insOK)/float64(nIns), float64(oosOK)/float64(max(nOOS, 1)), float64(cw)/float64(len(rows)), float64(ar)/float64(len(rows)), ix.answerAt, float64(sug)/float64(len(rows)), float64(sug3)/float64(max(sug, 1)))
	}
}

// tuningFromEnv applies KB_TUNE="bm25=1 knn=0.5 …" to the default tuning (for sweeps).
func tuningFromEnv() tuning {
	tn := defaultTuning
	s := os.Getenv("KB_TUNE")
	if s == "" {
		return tn
	}
	fields := map[string]*float64{"bm25": &tn.bm25, "knn": &tn.knn, "cent": &tn.cent, "knn2": &tn.knn2, "answer": &tn.answerW, "lin": &tn.lin, "margin": &tn.margin, "rate": &tn.rate, "unknown": &tn.unknownW, "calA": &tn.calA, "calB": &tn.calB, "calC": &tn.calC, "selfcal": &tn.selfCalLoss, "drop": &tn.drop, "char2": &tn.char2, "prf": &tn.prf, "augAns": &tn.augAns, "augSub": &tn.augSub, "augQA": &tn.augQA, "augBM": &tn.augBM, "thes": &tn.thes, "thesMin": &tn.thesMin, "negShare": &tn.negShare, "negRecall": &tn.negRecall, "negShift": &tn.negMaxShift, "ansWrong": &tn.ansWrong, "wn": &tn.wn, "wnAll": &tn.wnAll, "wnKnown": &tn.wnKnown, "bgIDF": &tn.bgIDF, "bgEx": &tn.bgEx, "core": &tn.core, "genDF": &tn.genDF, "genW": &tn.genW, "qW": &tn.qW, "augRec": &tn.augRec, "cov": &tn.cov, "bgChar": &tn.bgChar, "thesAns": &tn.thesAns, "thesFew": &tn.thesFew}
	f32 := map[string]*float32{"word": &tn.fw.word, "bigram": &tn.fw.bigram, "han1": &tn.fw.han1, "han2": &tn.fw.han2, "char": &tn.fw.char, "stop": &tn.fw.stop, "han3": &tn.fw.han3, "skip": &tn.fw.skip, "tri": &tn.fw.tri}
	for _, kv := range filepath.SplitList(s) {
		var k string
		var v float64
		for i := range kv {
			if kv[i] == '=' {
				k = kv[:i]
				fmt.Sscan(kv[i+1:], &v)
			}
		}
		if p, ok := fields[k]; ok {
			*p = v
		} else if p, ok := f32[k]; ok {
			*p = float32(v)
		} else if k == "epochs" {
			tn.epochs = int(v)
		} else if k == "k1" {
			bm25K1 = float32(v)
		} else if k == "b" {
			bm25B = float32(v)
		} else if k == "budget" {
			maxTrainCost = int(v)
		} else if k == "soft" {
			tn.soft = int(v)
		} else if k == "temp" {
			tn.temp = v
		} else if k == "cmin" {
			tn.fw.charMin = int(v)
		} else if k == "c2min" {
			tn.c2min = int(v)
		} else if k == "c2max" {
			tn.c2max = int(v)
		} else if k == "prfmax" {
			tn.prfMax = int(v)
		} else if k == "prfpool" {
			prfPool = int(v)
		} else if k == "prfdocs" {
			prfDocs = int(v)
		} else if k == "prfterms" {
			prfTerms = int(v)
		} else if k == "augQAK" {
			tn.augQAK = int(v)
		} else if k == "negMax" {
			negMaxEntries = int(v)
		} else if k == "negPer" {
			negPerEntry = int(v)
		} else if k == "thesDoc" {
			thesDoc = v
		} else if k == "thesDF" {
			thesDFDiv = int(v)
		} else if k == "thesC" {
			thesMinCount = int(v)
		} else if k == "thesP" {
			thesMaxPairs = int(v)
		} else if k == "thesK" {
			tn.thesK = int(v)
		} else if k == "wnSenses" {
			wnMaxSenses = int(v)
		} else if k == "wnCommonSrc" {
			wnCommonSrc = v > 0
		} else if k == "wnCommon" {
			wnCommonOnly = v > 0
		} else if k == "wnRel" {
			wnMaxRel = int(v)
		} else if strings.HasPrefix(k, "wnW") { // wnW0..wnW5: weight of a relation kind
			wnWeights[k[3]-'0'] = float32(v)
		} else if k == "ansMax" {
			ansMaxThreshold = v
		} else if k == "thesFewC" {
			tn.thesFewC = int(v)
		} else if k == "mixNeg" {
			tn.mixNeg = int(v)
		} else if k == "recMax" {
			tn.recMax = int(v)
		} else if k == "cmax" {
			tn.fw.charMax = int(v)
		}
	}
	tn.useKNN, tn.useCentr = tn.knn > 0, tn.cent > 0
	return tn
}

func TestDevsetFailures(t *testing.T) {
	dir := devDir(t)
	set := os.Getenv("KB_FAIL")
	if set == "" {
		t.Skip("KB_FAIL not set")
	}
	lib, err := LoadFile(filepath.Join(dir, set, "faq.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	ix := newIndex(lib, MatchOptions{}, tuningFromEnv())
	for i, q := range loadDevQueries(t, filepath.Join(dir, set, "queries.jsonl")) {
		r := ix.rank(q.Text, "", 1)
		if len(r) > 0 && lib.entries[r[0].doc].ID != q.Expect && i%3 == 0 {
			e := lib.Entry(q.Expect, "")
			got := lib.entries[r[0].doc]
			fmt.Printf("Q %s\n  want %s %s %v\n  got  %s %s %v\n", q.Text, q.Expect, e.Question, e.Examples, got.ID, got.Question, got.Examples)
		}
	}
}

// TestDevsetCalibrate fits the confidence calibration (a logistic regression of "top-1 is right" on
// the top raw score and its margin over the runner-up) on the pooled dev sets and prints it.
func TestDevsetCalibrate(t *testing.T) {
	dir := devDir(t)
	tn := tuningFromEnv()
	var rows []devRow
	for _, s := range devSets {
		_, r := runDevset(t, filepath.Join(dir, s), tn)
		rows = append(rows, r...)
	}
	// features x1 = top, x2 = top-next; z = a*x1 + c*x2 + b0
	a, c, b0 := 1.0, 1.0, 0.0
	for it := 0; it < 20000; it++ {
		var ga, gc, gb float64
		for _, r := range rows {
			y := 0.0
			if r.right && !r.oos {
				y = 1
			}
			z := a*r.top + c*(r.top-r.next) + b0
			p := 1 / (1 + math.Exp(-z))
			ga += (p - y) * r.top
			gc += (p - y) * (r.top - r.next)
			gb += p - y
		}
		n := float64(len(rows))
		a -= 2 * ga / n * 10
		c -= 2 * gc / n * 10
		b0 -= 2 * gb / n * 10
	}
	t.Logf("calA %.3f calB %.4f calC %.3f", a, -b0/a, c)
	fmt.Fprintf(os.Stderr, "calA: %.3f, calB: %.4f, calC: %.3f\n", a, -b0/a, c)
}

// TestDevsetThresholds prints in-scope accuracy (right and above the suggest threshold) and
// out-of-scope recall for a range of thresholds: KB_SWEEP=1.
func TestDevsetThresholds(t *testing.T) {
	dir := devDir(t)
	if os.Getenv("KB_SWEEP") == "" {
		t.Skip("KB_SWEEP not set")
	}
	sets := devSets[:2]
	if s := os.Getenv("KB_SETS"); s != "" {
		sets = filepath.SplitList(s)
	}
	tn := tuningFromEnv()
	for _, s := range sets {
		_, rows, ix := runDevsetIx(t, filepath.Join(dir, s), tn)
		for thr := 0.30; thr < 0.751; thr += 0.025 {
			var ins, right, oos, none int
			for _, r := range rows {
				c := ix.confidence(r.top, r.next)
				if r.oos {
					oos++
					if c < thr {
						none++
					}
				} else {
					ins++
					if r.right && c >= thr {
						right++
					}
				}
			}
			fmt.Fprintf(os.Stderr, "%s thr %.3f in-scope %.4f oos-recall %.4f\n", s, thr, float64(right)/float64(ins), float64(none)/float64(max(oos, 1)))
		}
	}
}

// TestDevsetHeldout compares, per set, the held-out accuracy of the self-calibration probes (one
// example of each entry left out; what a library could measure on itself) with the dev-set top-1 of
// each candidate tuning in KB_CANDS ("k=v:k=v;k=v", "" is the default): could a library pick its own
// tuning (leave-one-out selection, issue 18)?
func TestDevsetHeldout(t *testing.T) {
	dir := devDir(t)
	cands, ok := os.LookupEnv("KB_CANDS")
	if !ok {
		t.Skip("KB_CANDS not set")
	}
	sets := devSets
	if s := os.Getenv("KB_SETS"); s != "" {
		sets = filepath.SplitList(s)
	}
	for _, c := range strings.Split(cands, ";") {
		t.Setenv("KB_TUNE", c)
		tn := tuningFromEnv()
		for _, s := range sets {
			acc, _, ix := runDevsetIx(t, filepath.Join(dir, s), tn)
			_, probes := ix.selfCalibrateProbes()
			right := 0
			for _, p := range probes {
				if p.right {
					right++
				}
			}
			fmt.Fprintf(os.Stderr, "HELDOUT [%s] %s dev %.4f held-out %d/%d %.4f\n", c, s, acc, right, len(probes), float64(right)/float64(max(len(probes), 1)))
		}
	}
}
