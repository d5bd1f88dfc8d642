package kb

import (
	"cmp"
	"log/slog"
	"math"
	"slices"
	"sync"
)

// MatchOptions configure a matcher. Zero thresholds take the defaults tuned on the dev sets.
type MatchOptions struct {
	// AnswerThreshold: a top hit with at least this confidence is answered directly. Zero: the
	// default, raised per library when its own held-out examples show that answers at the default
	// would too often be wrong (answerat.go); a configured value is used as it is.
	AnswerThreshold float64
	// SuggestThreshold: below it the query is out of scope (no match); between the two the bot offers
	// the top candidates.
	SuggestThreshold float64
	// Synonyms add groups per locale to the library's own (see Library.Synonyms).
	Synonyms map[string][][]string
	// NoDefaultSynonyms leaves out the synonyms shipped with kefu (synonyms.yaml in this package).
	NoDefaultSynonyms bool
	// NoVagueCheck answers vague problem statements (「我的洗衣机坏了」) like any other query instead of
	// capping their confidence below the answer threshold (vague.yaml in this package).
	NoVagueCheck bool
	// VagueSymptoms and VagueFiller extend the shipped lists of vague.yaml.
	VagueSymptoms, VagueFiller []string
	// WordNet relates English query words the library never uses to its own words (wordnet.go) in
	// libraries under 1,000 entries. Off by default: measured +0.5 pt top-1 on clinc150-10shot-val and
	// +0.3 pt on clinc150-full-val, but 0.6 pt fewer right answers above the thresholds on full-val,
	// one fewer on the sample eval, and about 12 MiB more memory per process (the parsed table).
	WordNet bool
}

// Default thresholds on the calibrated confidence (see calibrate.go).
const (
	DefaultAnswerThreshold  = 0.8
	DefaultSuggestThreshold = 0.55
)

func (o MatchOptions) withDefaults() MatchOptions {
	if o.AnswerThreshold <= 0 {
		o.AnswerThreshold = DefaultAnswerThreshold
	}
	if o.SuggestThreshold <= 0 {
		o.SuggestThreshold = DefaultSuggestThreshold
	}
	if o.SuggestThreshold > o.AnswerThreshold {
		o.SuggestThreshold = o.AnswerThreshold
	}
	return o
}

// tuning holds the scorer's internal weights, chosen on the dev sets (see tune_test.go).
type tuning struct {
	fw               featureWeights
	bm25, knn, cent  float64 // weights of the three scorers in the combined score
	knn2             float64 // weight of the second-nearest example of the same entry
	answerW          float64 // weight of the answer text in an entry's BM25 document
	calA, calB, calC float64 // confidence = sigmoid(calA*(top-calB) + calC*(top-second))
	useKNN, useCentr bool
	lin              float64 // weight of the trained linear model
	unknownW         float64 // how much query terms unknown to the library count against a match
	epochs           int
	margin, rate     float64
	selfCalLoss      float64 // share of held-out right answers put below the suggest threshold (0: off)
	drop             float64 // share of an example's terms dropped in each training pass
	soft             int     // >0: softmax training against this many competitors
	temp             float64 // softmax temperature (scores are cosine-like, in [0,1])
	char2            float64 // weight of the character n-gram model (chargram.go; 0: off)
	c2min, c2max     int     // its gram lengths
	prf              float64 // weight of the feedback terms of the top entries (0: off)
	prfMax           int     // queries with at most this many distinct terms get feedback
	augAns           float64 // weight of the answer's sentences as extra training examples (augment.go; 0: off)
	augSub           float64 // weight of the clauses of multi-clause questions and examples (0: off)
	augQA            float64 // weight of question + the answer's key terms as an extra example (0: off)
	augBM            float64 // share of the augmented examples' weight that goes into BM25 (0: none)
	augQAK           int     // key terms taken from the answer
	thes             float64 // weight of the mined thesaurus' related terms added to a query (thesaurus.go; 0: off)
	thesMin          float64 // least similarity of a related term
	thesK            int     // related terms kept per term
	negShare         float64 // share of entries left out whole as self-calibration negatives (0: off)
	negRecall        float64 // share of those negatives the offset puts below the suggest threshold
	negMaxShift      float64 // most the negatives may raise the offset
	wn               float64 // weight of WordNet's related library words added to a query (wordnet.go; 0: off)
	wnAll            float64 // >0: also expand query words the library knows
	wnKnown          float64 // share of an unknown query word WordNet relates to library words that no longer counts as unknown
	ansWrong         float64 // share of wrong answers among answered held-out examples the answer threshold allows (answerat.go; 0: off)
	bgIDF            float64 // weight of the answers as background documents in the BM25 IDF (fewshot.go; 0: off)
	bgEx             float64 // the same for the example TF-IDF (linear model) IDF
	bgChar           float64 // the same for the character model's IDF
	thesAns          float64 // >0: answers take part in the thesaurus mining (0: off)
	mixNeg           int     // mixed-entry negatives asked in the self-calibration (calibrate.go; 0: off)
	thesFew          float64 // libraries with at most this many texts per entry (question + examples) on average … (0: off; -1: decided)
	thesFewC         int     // … relate thesaurus terms paired in this many entries (0: thesMinCount)
	core             float64 // extra tf of terms every text of an entry shares (0: off)
	genDF, genW      float64 // query terms in more than genDF of the entries weigh genW (genDF 0: off)
	qW               float64 // weight of the question in the BM25 document and training (0 = 1)
	augRec           float64 // weight of recombined examples (0: off)
	recMax           int     // entries with at most this many texts are recombined
	cov              float64 // weight of the coverage of an entry's best-covered text by the query (0: off)
}

var defaultTuning = tuning{
	fw:   defaultFeatures,
	bm25: 1, knn: 0, cent: 0, knn2: 0.3, answerW: 0.2,
	calA: 10, calB: 0.22, calC: 5, selfCalLoss: 0.01,
	useKNN: false, useCentr: false,
	unknownW: 1, lin: 1, epochs: 5, margin: 0.3, rate: 0.5,
	char2: 0.3, c2min: 1, c2max: 3,
	prf: 0.1, prfMax: 1 << 30,
	thes: 0.3, thesMin: 0.3, thesK: 3,
	wn: 0.6, wnAll: 1,
	ansWrong: 0.1,
	recMax:   3,
	thesFew:  3, thesFewC: 1,
}

type posting struct {
	doc int32
	w   float32
}

// Index is the FAQ matcher. It is immutable after NewMatcher and safe for concurrent use.
//
// It combines three scores over the same analysis (stemmed English words and word bigrams, character
// n-grams inside English words, Chinese characters and character bigrams):
//   - BM25 over each entry's question, examples and keywords (and, lightly, its answer);
//   - the cosine similarity with the entry's nearest examples (TF-IDF), which keeps separate
//     phrasings separate;
//   - the cosine similarity with the entry's centroid, the normalized sum of its example vectors.
//
// The combined score goes through a logistic calibration into a confidence in [0,1].
type Index struct {
	lib  *Library
	opts MatchOptions
	tn   tuning
	syn  map[string]synonymMap // by query locale

	vocab map[string]int32

	// BM25 over entry documents
	bmPost             [][]posting
	bmIDF              []float32
	maxBMIDF, maxExIDF float32 // IDF of a term no entry has
	docLen             []float32
	avgLen             float32

	// TF-IDF vectors of examples (nearest-example scorer) and entry centroids
	exIDF   []float32
	exPost  [][]posting // term -> examples
	exEntry []int32     // example -> entry
	ctPost  [][]posting // term -> entries (centroid weights)
	lin     *linear
	linPost [][]posting // term -> entries: the trained linear model's weights (or the centroids)
	fwd     [][]fwdTerm // entry -> its terms sorted, for pruned scoring of large libraries

	cm      *charModel       // second scorer over character n-grams (nil: off)
	thes    map[int32][]idW  // term -> related terms mined from the library (thesaurus.go; nil: off)
	wn      map[string][]idW // English word term -> related library terms from WordNet (wordnet.go; nil: off)
	prf     [][]int32        // entry -> its feedback terms (pseudo-relevance feedback; nil: off)
	calB    float64          // confidence offset, calibrated on the library itself (see calibrate.go)
	generic []bool           // term -> used by more than tuning.genDF of the entries (fewshot.go; nil: off)
	texts   [][][]int32      // entry -> its texts' terms (coverage, fewshot.go; nil: off)
	// answerAt is the answer threshold of this library: opts.AnswerThreshold or higher (answerat.go)
	answerAt float64
	scratch  sync.Pool // *scratch

	vague      *vagueLexicon     // nil: the vague-statement check is off (vague.go)
	vagueEntry []map[string]bool // entry -> residues of its own vague question or examples (vague.go)
}

type scratch struct {
	bm, cent, best, second []float32
	ex, lin, lin2          []float32
	runes                  []rune
	pairs                  []idW
	m                      merger
	touched, exTouched     []int32
	terms                  []queryTerm
	part                   []scored
}

type queryTerm struct {
	id      int32
	bm, lin float32 // query-side weights of the term in the BM25 and linear scores
	n       int     // length of its longest posting list
}

// Pruning for large libraries (see rank).
var pruneMinEntries = 1000 // libraries with fewer entries are scored exhaustively (a var for tests)

const (
	pruneLen   = 256 // postings longer than this are not walked once …
	pruneCands = 64  // … this many entries have been found
	pruneKeep  = 256 // candidates kept when the long postings start
)

// fwdTerm is one term of an entry's forward list: its BM25 and linear weights.
type fwdTerm struct {
	term    int32
	bm, lin float32
}

// scoreRest adds the common query terms rest to the best candidates found so far: it keeps the
// pruneKeep best by their partial score (the others cannot catch up on common terms) and merges
// each one's forward list with rest.
func (ix *Index) scoreRest(sc *scratch, rest []queryTerm, self float32) {
	if len(sc.touched) > pruneKeep {
		part := sc.part[:0]
		for _, d := range sc.touched {
			part = append(part, scored{d, ix.tn.bm25*float64(sc.bm[d]/max(self, 1e-9)) + ix.tn.lin*float64(sc.lin[d])})
		}
		slices.SortFunc(part, func(a, b scored) int { return cmp.Compare(b.score, a.score) })
		for _, p := range part[pruneKeep:] {
			sc.bm[p.doc], sc.lin[p.doc] = 0, 0
		}
		sc.touched = sc.touched[:0]
		for _, p := range part[:pruneKeep] {
			sc.touched = append(sc.touched, p.doc)
		}
		sc.part = part
	}
	slices.SortFunc(rest, func(a, b queryTerm) int { return int(a.id - b.id) })
	for _, d := range sc.touched {
		f := ix.fwd[d]
		i, j := 0, 0
		for i < len(f) && j < len(rest) {
			switch {
			case f[i].term < rest[j].id:
				i++
			case f[i].term > rest[j].id:
				j++
			default:
				sc.bm[d] += rest[j].bm * f[i].bm
				sc.lin[d] += rest[j].lin * f[i].lin
				i++
				j++
			}
		}
	}
}

var _ Matcher = (*Index)(nil)

// BM25 parameters (vars so that the dev-set sweeps can change them).
var (
	bm25K1 float32 = 1.2
	bm25B  float32 = 0.75
)

// NewMatcher builds the matcher over lib.
func NewMatcher(lib *Library, o MatchOptions) *Index {
	return newIndex(lib, o, defaultTuning)
}

func newIndex(lib *Library, o MatchOptions, tn tuning) *Index {
	fixedAnswer := o.AnswerThreshold > 0
	o = o.withDefaults()
	switch {
	case tn.thesFew > 0:
		// Decided on the library as given: the self-calibration's held-out index (one text fewer
		// per entry) inherits the decision (thesFew -1) instead of making its own (fewshot.go).
		if textsPerEntry(lib) > tn.thesFew {
			tn.thesFewC = 0
		}
		tn.thesFew = -1
	case tn.thesFew == 0:
		tn.thesFewC = 0
	}
	ix := &Index{lib: lib, opts: o, tn: tn, vocab: map[string]int32{}, syn: map[string]synonymMap{}}
	ix.answerAt = o.AnswerThreshold
	if fixedAnswer {
		ix.tn.ansWrong = 0 // a configured answer threshold is used as it is
	}
	for _, lang := range append(lib.Langs(), "") {
		var groups [][]string
		if !o.NoDefaultSynonyms {
			groups = defaultSynonyms(lang)
		}
		groups = append(groups, lib.Synonyms(lang)...)
		if lang == "" {
			for l := range lib.synonyms {
				if l != "" {
					groups = append(groups, lib.synonyms[l]...)
				}
			}
		}
		groups = append(groups, o.Synonyms[""]...)
		if lang != "" {
			groups = append(groups, o.Synonyms[lang]...)
		}
		ix.syn[lang] = compileSynonyms(groups)
	}

	if !o.NoVagueCheck {
		v := defaultVagueLexicon()
		if len(o.VagueSymptoms)+len(o.VagueFiller) > 0 {
			v = newVagueLexicon(append(append([]string(nil), v.symptoms...), o.VagueSymptoms...),
				append(append([]string(nil), v.filler...), o.VagueFiller...))
		}
		ix.vague = v
		ix.vagueEntry = make([]map[string]bool, len(lib.entries))
		for i, e := range lib.entries {
			for _, t := range append([]string{e.Question}, e.Examples...) {
				if rest, ok := v.residue(t); ok {
					if ix.vagueEntry[i] == nil {
						ix.vagueEntry[i] = map[string]bool{}
					}
					ix.vagueEntry[i][rest] = true
				}
			}
		}
	}

	// The self-calibration builds a second index; it runs on another core meanwhile.
	calB := make(chan [2]float64, 1)
	go func() {
		b, a := ix.selfCalibrate()
		calB <- [2]float64{b, a}
	}()
	n := len(lib.entries)
	// Analyze every text once.
	an := newAnalyzer(ix)
	var examples []sparseVec
	var exEntry []int32
	var exTexts []string
	var exW []float32 // weight of each example in training (augmented examples are lighter)
	var aug *augContext
	if tn.augQA > 0 {
		aug = ix.newAugContext(an)
	}
	useChar := tn.char2 > 0 && n < charMaxEntries
	bmDocs := make([]sparseVec, n)
	ix.docLen = make([]float32, n)
	var total float32
	var pairs []idW
	var ansIDs [][]int32 // entry -> its answer's terms (background documents; fewshot.go)
	var ansVecs []sparseVec
	if tn.cov > 0 && n < charMaxEntries {
		ix.texts = make([][][]int32, n)
	}
	for d, e := range lib.entries {
		pairs = pairs[:0]
		addBM := func(tf sparseVec, w float32) {
			for i, id := range tf.ids {
				pairs = append(pairs, idW{id, tf.ws[i] * w})
				ix.docLen[d] += tf.ws[i] * w
			}
		}
		var own []sparseVec
		var ownTexts []string
		for i := -1; i < len(e.Examples); i++ {
			x := e.Question
			if i >= 0 {
				x = e.Examples[i]
			}
			tf := an.analyze(x, e.Lang)
			if len(tf.ids) == 0 {
				continue
			}
			w := float32(1)
			if i < 0 && tn.qW > 0 {
				w = float32(tn.qW)
			}
			addBM(tf, w)
			if i < len(e.Examples)-e.Learned {
				own = append(own, tf)
				ownTexts = append(ownTexts, x)
			}
			if tn.cov > 0 && n < charMaxEntries {
				ix.texts[d] = append(ix.texts[d], tf.ids)
			}
			if useChar {
				exTexts = append(exTexts, ix.normText(x, e.Lang))
			}
			examples = append(examples, tf)
			exEntry = append(exEntry, int32(d))
			exW = append(exW, 1)
		}
		if tn.core > 0 {
			for _, id := range coreTerms(own) {
				pairs = append(pairs, idW{id, float32(tn.core)})
				ix.docLen[d] += float32(tn.core)
			}
		}
		if tn.augRec > 0 && len(own) <= tn.recMax {
			for _, x := range recombined(ownTexts) {
				tf := an.analyze(x, e.Lang)
				if len(tf.ids) == 0 {
					continue
				}
				if useChar {
					exTexts = append(exTexts, ix.normText(x, e.Lang))
				}
				examples = append(examples, tf)
				exEntry = append(exEntry, int32(d))
				exW = append(exW, float32(tn.augRec))
			}
		}
		for _, p := range ix.augmented(d, e, an, aug) {
			if tn.augBM > 0 {
				addBM(p.tf, float32(tn.augBM)*p.w)
			}
			if useChar {
				exTexts = append(exTexts, ix.normText(p.text, e.Lang))
			}
			examples = append(examples, p.tf)
			exEntry = append(exEntry, int32(d))
			exW = append(exW, p.w)
		}
		for _, k := range e.Keywords {
			addBM(an.analyze(k, e.Lang), 2)
		}
		if tn.answerW > 0 || tn.bgIDF > 0 || tn.bgEx > 0 || tn.thesAns > 0 {
			a := an.analyze(e.Answer, e.Lang)
			if tn.answerW > 0 {
				addBM(a, float32(tn.answerW))
			}
			if tn.bgIDF > 0 || tn.bgEx > 0 {
				ansIDs = append(ansIDs, a.ids)
			}
			if tn.thesAns > 0 {
				ansVecs = append(ansVecs, a)
			}
		}
		bmDocs[d] = an.m.merge(pairs)
		total += ix.docLen[d]
	}
	nt := len(ix.vocab)
	if (tn.thes > 0 || thesDoc > 0) && n < charMaxEntries {
		if tn.thesAns > 0 && len(ansVecs) == n {
			// The answers take part in the pairing (fewshot.go): a question's word and its answer's
			// word in two or more entries are related.
			var ex2 []sparseVec
			var ent2 []int32
			var w2 []float32
			for i := 0; i < len(examples); {
				d := exEntry[i]
				for ; i < len(examples) && exEntry[i] == d; i++ {
					ex2, ent2, w2 = append(ex2, examples[i]), append(ent2, d), append(w2, exW[i])
				}
				ex2, ent2, w2 = append(ex2, ansVecs[d]), append(ent2, d), append(w2, 1)
			}
			ix.buildThesaurus(ex2, ent2, w2)
		} else {
			ix.buildThesaurus(examples, exEntry, exW)
		}
		if thesDoc > 0 {
			for d, bm := range bmDocs {
				tf := map[int32]float32{}
				for i, id := range bm.ids {
					tf[id] = bm.ws[i]
				}
				pairs = pairs[:0]
				for id, w := range tf {
					for _, r := range ix.thes[id] {
						if _, ok := tf[r.id]; !ok {
							pairs = append(pairs, idW{r.id, float32(thesDoc) * r.w * w})
						}
					}
				}
				if len(pairs) > 0 {
					for i, id := range bm.ids {
						pairs = append(pairs, idW{id, bm.ws[i]})
					}
					bmDocs[d] = an.m.merge(pairs)
				}
			}
		}
		if tn.thes == 0 {
			ix.thes = nil
		}
	}
	if n > 0 {
		ix.avgLen = total / float32(n)
	}
	// BM25 postings, with the length normalization folded into the stored weight.
	bmDF := make([]int32, nt)
	for _, bm := range bmDocs {
		for _, id := range bm.ids {
			bmDF[id]++
		}
	}
	ix.bmPost = make([][]posting, nt)
	for id, df := range bmDF {
		ix.bmPost[id] = make([]posting, 0, df)
	}
	for d, bm := range bmDocs {
		norm := bm25K1 * (1 - bm25B + bm25B*ix.docLen[d]/max(ix.avgLen, 1e-6))
		for i, id := range bm.ids {
			f := bm.ws[i]
			ix.bmPost[id] = append(ix.bmPost[id], posting{int32(d), f * (bm25K1 + 1) / (f + norm)})
		}
	}
	if o.WordNet && tn.wn > 0 && n < charMaxEntries {
		if rev, err := wnRev(); err == nil {
			ix.buildWordNet(rev, bmDF)
		} else {
			slog.Error("kb: WordNet table", "err", err) // cannot happen with the embedded table (TestWordNetTable)
		}
	}
	ix.bmIDF = make([]float32, nt)
	for id, df := range bmDF {
		ix.bmIDF[id] = float32(math.Log(1 + (float64(n)-float64(df)+0.5)/(float64(df)+0.5)))
	}
	ix.maxBMIDF = float32(math.Log(1 + (float64(n)+0.5)/0.5))
	var ansDF []int32
	if len(ansIDs) > 0 {
		ansDF = make([]int32, nt)
		for _, ids := range ansIDs {
			for _, id := range ids {
				ansDF[id]++
			}
		}
	}
	if tn.bgIDF > 0 {
		ix.bmIDF = bgIDFs(bmDF, ansDF, n, tn.bgIDF)
		ix.maxBMIDF = float32(math.Log(1 + (float64(n)*(1+tn.bgIDF)+0.5)/0.5))
	}
	if tn.genDF > 0 && n > 0 {
		ix.generic = make([]bool, nt)
		for id, df := range bmDF {
			ix.generic[id] = float64(df) > tn.genDF*float64(n)
		}
	}
	// Example TF-IDF vectors.
	ix.exIDF, ix.maxExIDF = smoothIDF(examples, nt)
	if tn.bgEx > 0 {
		ne := float64(len(examples))
		df := make([]float64, nt)
		for _, x := range examples {
			for _, id := range x.ids {
				df[id]++
			}
		}
		N := ne + tn.bgEx*float64(n)
		for id := range df {
			ix.exIDF[id] = float32(math.Log((N + 1) / (df[id] + tn.bgEx*float64(ansDF[id]) + 1)))
		}
		ix.maxExIDF = float32(math.Log(N + 1))
	}
	ix.exEntry = exEntry
	xs := make([]sparseVec, len(examples))
	for i, x := range examples {
		xs[i] = ix.weighVec(x)
		if exW[i] != 1 {
			for k := range xs[i].ws {
				xs[i].ws[k] *= exW[i]
			}
		}
	}
	if tn.useKNN {
		ix.exPost = make([][]posting, nt)
		for i, x := range xs {
			for k, id := range x.ids {
				ix.exPost[id] = append(ix.exPost[id], posting{int32(i), x.ws[k]})
			}
		}
	}
	// Entry centroids: the normalized sum of their example vectors.
	ix.ctPost = make([][]posting, nt)
	for i := 0; i < len(xs); {
		d := exEntry[i]
		pairs = pairs[:0]
		for ; i < len(xs) && exEntry[i] == d; i++ {
			for k, id := range xs[i].ids {
				pairs = append(pairs, idW{id, xs[i].ws[k]})
			}
		}
		c := an.m.merge(pairs)
		var sq float64
		for _, w := range c.ws {
			sq += float64(w * w)
		}
		inv := float32(1 / math.Sqrt(max(sq, 1e-12)))
		for k, id := range c.ids {
			ix.ctPost[id] = append(ix.ctPost[id], posting{d, c.ws[k] * inv})
		}
	}
	// Train within the load budget: fewer epochs for larger libraries, none (centroids) when even
	// one epoch costs too much.
	epochs := tn.epochs
	if per := trainCost(xs, ix.ctPost, 1); per > 0 {
		epochs = min(epochs, maxTrainCost/per)
	}
	if tn.lin > 0 && epochs >= 1 {
		ix.lin = trainLinear(nt, n, ix.ctPost, xs, exEntry, epochs, float32(tn.margin), float32(tn.rate), tn.soft, float32(tn.temp), float32(tn.drop))
	}
	ix.linPost = ix.ctPost
	if ix.lin != nil {
		ix.linPost = make([][]posting, nt)
		for t, ps := range ix.lin.post {
			ix.linPost[t] = make([]posting, len(ps))
			for i, p := range ps {
				ix.linPost[t][i] = posting{p.doc, p.w}
			}
		}
		ix.lin = nil
	}
	if useChar {
		var bg []string
		if tn.bgChar > 0 {
			for _, e := range lib.entries {
				bg = append(bg, ix.normText(e.Answer, e.Lang))
			}
		}
		ix.cm = buildCharModel(exTexts, exW, exEntry, n, tn, bg)
	}
	if n >= pruneMinEntries && pruneMinEntries >= 0 {
		ix.buildForward(nt)
	}
	if tn.prf > 0 && n < charMaxEntries {
		ix.buildPRF(nt)
	}
	cal := <-calB
	ix.calB, ix.answerAt = cal[0], cal[1]
	ne := len(examples)
	ix.scratch.New = func() any {
		return &scratch{bm: make([]float32, n), cent: make([]float32, n), best: make([]float32, n), second: make([]float32, n), lin: make([]float32, n), lin2: make([]float32, n), ex: make([]float32, ne)}
	}
	return ix
}

// analyze returns the term frequencies of text. With grow, unknown terms are added to the vocabulary
// (building); without, they are left out (querying).
func (ix *Index) analyze(text, lang string, grow bool) map[int32]float32 {
	tf, _ := ix.analyzeQuery(text, lang, grow)
	return tf
}

// analyzeQuery is analyze that also returns the total weight of the terms the library does not know.
// Unknown words count against a match: a query that is mostly about something else is out of scope.
func (ix *Index) analyzeQuery(text, lang string, grow bool) (map[int32]float32, float32) {
	tf := map[int32]float32{}
	var unknown float32
	for _, t := range ix.terms(text, lang) {
		id, ok := ix.vocab[t.term]
		if !ok {
			if !grow {
				unknown += t.w
				continue
			}
			id = int32(len(ix.vocab))
			ix.vocab[t.term] = id
		}
		tf[id] += t.w
	}
	return tf, unknown
}

// weigh turns term frequencies into an L2-normalized TF-IDF vector (sublinear tf). unknown is the
// weight of terms outside the vocabulary: they get the highest IDF and count in the norm only.
func (ix *Index) weigh(tf map[int32]float32, unknown float32) map[int32]float32 {
	out := make(map[int32]float32, len(tf))
	s := float64(unknown * ix.maxExIDF * ix.maxExIDF)
	for id, f := range tf {
		if int(id) >= len(ix.exIDF) {
			continue
		}
		w := float32(1+math.Log(float64(max(f, 1)))) * ix.exIDF[id]
		if f < 1 {
			w = f * ix.exIDF[id]
		}
		out[id] = w
		s += float64(w * w)
	}
	if s > 0 {
		inv := float32(1 / math.Sqrt(s))
		for id := range out {
			out[id] *= inv
		}
	}
	return out
}

// buildForward transposes the BM25 and linear postings into per-entry term lists.
func (ix *Index) buildForward(nt int) {
	ix.fwd = make([][]fwdTerm, len(ix.lib.entries))
	for t := 0; t < nt; t++ {
		for _, p := range ix.bmPost[t] {
			ix.fwd[p.doc] = append(ix.fwd[p.doc], fwdTerm{term: int32(t), bm: p.w})
		}
		for _, p := range ix.linPost[t] {
			f := ix.fwd[p.doc]
			if n := len(f); n > 0 && f[n-1].term == int32(t) {
				f[n-1].lin = p.w
				continue
			}
			ix.fwd[p.doc] = append(f, fwdTerm{term: int32(t), lin: p.w})
		}
	}
}

// weighVec is weigh for a sorted sparse vector of term frequencies (building).
func (ix *Index) weighVec(tf sparseVec) sparseVec {
	out := sparseVec{ids: tf.ids, ws: make([]float32, len(tf.ws))}
	var s float64
	for i, id := range tf.ids {
		f := tf.ws[i]
		w := float32(1+math.Log(float64(max(f, 1)))) * ix.exIDF[id]
		if f < 1 {
			w = f * ix.exIDF[id]
		}
		out.ws[i] = w
		s += float64(w * w)
	}
	if s > 0 {
		inv := float32(1 / math.Sqrt(s))
		for i := range out.ws {
			out.ws[i] *= inv
		}
	}
	return out
}

// normText is text normalized with the synonyms of lang (the character model's input).
func (ix *Index) normText(text, lang string) string {
	sm, ok := ix.syn[lang]
	if !ok {
		sm = ix.syn[""]
	}
	return sm.apply(text)
}

// terms analyzes text in lang with the synonyms of that locale.
func (ix *Index) terms(text, lang string) []termW {
	sm, ok := ix.syn[lang]
	if !ok {
		sm = ix.syn[""]
	}
	s := sm.apply(text)
	return ix.tn.fw.features(tokenize(s, sm.word), nil)
}

func langOK(entryLang, lang string) bool {
	return lang == "" || entryLang == "" || entryLang == lang
}

// scored is an entry with its raw combined score.
type scored struct {
	doc   int32
	score float64
}

// rank returns the entries for query with their combined raw scores, best first (at most k).
func (ix *Index) rank(query, lang string, k int) []scored {
	tf, unknown := ix.analyzeQuery(query, lang, false)
	if ix.wn != nil { // before the check: a query of words unknown to the library may be related to some
		tf, unknown = ix.expandWordNet(query, lang, tf, unknown)
	}
	if len(tf) == 0 {
		return nil
	}
	if ix.generic != nil {
		for id := range tf {
			if ix.generic[id] {
				tf[id] *= float32(ix.tn.genW)
			}
		}
	}
	if ix.thes != nil {
		tf = ix.expand(tf)
	}
	if ix.texts != nil {
		r := ix.rankPRF(tf, unknown, query, lang, max(k, prfPool))
		return ix.rerankCoverage(r, tf, k)
	}
	return ix.rankPRF(tf, unknown, query, lang, k)
}

// rankPRF is rank after the query's analysis and expansion: with feedback when it is on.
func (ix *Index) rankPRF(tf map[int32]float32, unknown float32, query, lang string, k int) []scored {
	if ix.prf == nil || len(tf) > ix.tn.prfMax {
		return ix.rankTF(tf, unknown, query, lang, k, nil, nil)
	}
	// Pseudo-relevance feedback for short queries: add the most discriminative terms of the
	// best prfDocs entries, weighted by their score, and rank again.
	// The feedback only re-ranks the entries the query itself reaches (the best prfPool): an
	// entry must never be found through another entry's words alone.
	// The character model scores the query's text, which the feedback does not change: scored once,
	// its scores are reused by the second pass (it was a third of a lookup's CPU, issue 14).
	var chars *charScores
	if reuseCharScores {
		chars = &charScores{}
	}
	pool := ix.rankTF(tf, unknown, query, lang, max(k, prfPool), nil, chars)
	if len(pool) == 0 {
		return pool
	}
	top := pool[:min(len(pool), prfDocs)]
	tf2 := make(map[int32]float32, len(tf)+prfDocs*prfTerms)
	for id, f := range tf {
		tf2[id] = f
	}
	for _, r := range top {
		w := float32(ix.tn.prf * r.score / max(top[0].score, 1e-9))
		for _, t := range ix.prf[r.doc] {
			tf2[t] += w
		}
	}
	return ix.rankTF(tf2, unknown, query, lang, min(k, len(pool)), pool, chars)
}

// reuseCharScores is off only in the test that checks that reusing them changes no ranking.
var reuseCharScores = true

// charScores are the character model's scores of one query, per entry in the order the model
// reached them, kept from one rankTF call for the next.
type charScores struct {
	done bool
	hits []scored32
}

type scored32 struct {
	doc int32
	w   float32
}

// Pseudo-relevance feedback sizes: entries fed back and terms taken from each.
var (
	prfDocs  = 3
	prfPool  = 20
	prfTerms = 10
)

// buildPRF keeps, per entry, the prfTerms terms with the highest weight in its trained linear
// model (the terms that tell it apart from the other entries).
func (ix *Index) buildPRF(nt int) {
	type tw struct {
		t int32
		w float32
	}
	per := make([][]tw, len(ix.lib.entries))
	for t := 0; t < nt; t++ {
		for _, p := range ix.linPost[t] {
			if p.w > 0 {
				per[p.doc] = append(per[p.doc], tw{int32(t), p.w})
			}
		}
	}
	ix.prf = make([][]int32, len(per))
	for d, ts := range per {
		slices.SortFunc(ts, func(a, b tw) int { return cmp.Compare(b.w, a.w) })
		for _, x := range ts[:min(len(ts), prfTerms)] {
			ix.prf[d] = append(ix.prf[d], x.t)
		}
	}
}

// rankTF is rank for analyzed query terms; with only, just those entries are ranked. chars, when not
// nil, carries the character model's scores of the query from one call to the next.
func (ix *Index) rankTF(tf map[int32]float32, unknown float32, query, lang string, k int, only []scored, chars *charScores) []scored {
	sc := ix.scratch.Get().(*scratch)
	defer func() {
		for _, d := range sc.touched {
			sc.bm[d], sc.cent[d], sc.best[d], sc.second[d], sc.lin[d], sc.lin2[d] = 0, 0, 0, 0, 0, 0
		}
		for _, e := range sc.exTouched {
			sc.ex[e] = 0
		}
		sc.touched, sc.exTouched = sc.touched[:0], sc.exTouched[:0]
		ix.scratch.Put(sc)
	}()
	touch := func(d int32) {
		if sc.bm[d] == 0 && sc.cent[d] == 0 && sc.best[d] == 0 && sc.lin[d] == 0 && sc.lin2[d] == 0 {
			sc.touched = append(sc.touched, d)
		}
	}
	// BM25, normalized by the query's own best possible score so that it lies in [0,1].
	self := unknown * ix.maxBMIDF * (bm25K1 + 1) * float32(ix.tn.unknownW)
	q := ix.weigh(tf, unknown*float32(ix.tn.unknownW))
	qt := sc.terms[:0]
	for id, f := range tf {
		w := ix.bmIDF[id] * f
		self += w * (bm25K1 + 1)
		qt = append(qt, queryTerm{id: id, bm: w, lin: q[id], n: max(len(ix.bmPost[id]), len(ix.linPost[id]))})
	}
	sc.terms = qt
	if ix.fwd != nil {
		// Large library: rare terms first; a term whose postings are long only adds to the
		// entries already found (looked up in their forward lists), so a query costs about the
		// same at 10,000 entries as at 1,000 (term-at-a-time with "continue" pruning).
		slices.SortFunc(qt, func(a, b queryTerm) int { return a.n - b.n })
	}
	for j, t := range qt {
		if ix.fwd != nil && t.n > pruneLen && len(sc.touched) >= pruneCands {
			ix.scoreRest(sc, qt[j:], self)
			break
		}
		for _, p := range ix.bmPost[t.id] {
			touch(p.doc)
			sc.bm[p.doc] += t.bm * p.w
		}
		for _, p := range ix.linPost[t.id] {
			touch(p.doc)
			sc.lin[p.doc] += t.lin * p.w
		}
	}
	if ix.tn.useCentr {
		for id, w := range q {
			for _, p := range ix.ctPost[id] {
				touch(p.doc)
				sc.cent[p.doc] += w * p.w
			}
		}
	}
	switch {
	case ix.cm == nil:
	case chars == nil:
		ix.cm.score(ix.normText(query, lang), ix.tn, sc, sc.lin2, touch)
	case chars.done:
		for _, h := range chars.hits {
			touch(h.doc)
			sc.lin2[h.doc] += h.w
		}
	default:
		var reached []int32
		ix.cm.score(ix.normText(query, lang), ix.tn, sc, sc.lin2, func(d int32) {
			if sc.lin2[d] == 0 {
				reached = append(reached, d)
			}
			touch(d)
		})
		// An entry is reached twice when its score was exactly 0 in between: it is kept once, marked
		// by a NaN meanwhile (the model's weights may be negative, so no sign is free).
		nan := float32(math.NaN())
		chars.done, chars.hits = true, make([]scored32, 0, len(reached))
		for _, d := range reached {
			if w := sc.lin2[d]; !math.IsNaN(float64(w)) {
				chars.hits = append(chars.hits, scored32{d, w})
				sc.lin2[d] = nan
			}
		}
		for _, h := range chars.hits {
			sc.lin2[h.doc] = h.w
		}
	}
	if ix.tn.useKNN {
		for id, w := range q {
			for _, p := range ix.exPost[id] {
				if sc.ex[p.doc] == 0 {
					sc.exTouched = append(sc.exTouched, p.doc)
				}
				sc.ex[p.doc] += w * p.w
			}
		}
		for _, e := range sc.exTouched {
			d, s := ix.exEntry[e], sc.ex[e]
			touch(d)
			if s > sc.best[d] {
				sc.best[d], sc.second[d] = s, sc.best[d]
			} else if s > sc.second[d] {
				sc.second[d] = s
			}
		}
	}
	// Keep the k best in a small sorted slice: sorting every touched entry costs more than the
	// scoring itself in a 10,000-entry library.
	out := make([]scored, 0, k+1)
	tn := ix.tn
	norm := tn.bm25 + tn.cent + tn.knn*(1+tn.knn2) + tn.lin
	if ix.cm != nil {
		norm += tn.char2
	}
	for _, d := range sc.touched {
		if !langOK(ix.lib.entries[d].Lang, lang) || only != nil && !slices.ContainsFunc(only, func(o scored) bool { return o.doc == d }) {
			continue
		}
		bm := 0.0
		if self > 0 {
			bm = float64(sc.bm[d] / self)
		}
		s := tn.bm25*bm + tn.cent*float64(sc.cent[d]) + tn.knn*(float64(sc.best[d])+tn.knn2*float64(sc.second[d])) + tn.lin*float64(sc.lin[d]) + tn.char2*float64(sc.lin2[d])
		s /= norm
		if len(out) == k && !better(scored{d, s}, out[k-1]) {
			continue
		}
		i := len(out)
		if i < k {
			out = append(out, scored{})
		} else {
			i = k - 1
		}
		for i > 0 && better(scored{d, s}, out[i-1]) {
			out[i] = out[i-1]
			i--
		}
		out[i] = scored{d, s}
	}
	return out
}

func better(a, b scored) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	return a.doc < b.doc
}

// Match ranks the entries for query in lang and returns at most k hits, best first. Hit.Score is the
// calibrated confidence that the entry answers the query.
func (ix *Index) Match(query, lang string, k int) []Hit {
	if k <= 0 || len(ix.lib.entries) == 0 {
		return nil
	}
	r := ix.rank(query, lang, max(k, 2))
	if len(r) == 0 {
		return nil
	}
	hits := make([]Hit, 0, min(k, len(r)))
	for i := 0; i < len(r) && i < k; i++ {
		// The margin is over the best other entry: the runner-up for the top hit, the top hit for
		// the others (so confidences never increase down the list).
		other := r[0].score
		if i == 0 {
			other = 0
			if len(r) > 1 {
				other = r[1].score
			}
		}
		hits = append(hits, Hit{Entry: ix.lib.entries[r[i].doc], Score: ix.confidence(r[i].score, other)})
	}
	if rest, vague := ix.vagueQuery(query, hits[0].Score); vague && !ix.vagueEntry[r[0].doc][rest] {
		// A vague statement is not answered directly unless the entry was written for exactly that
		// statement: the bot offers its candidates instead (the order is kept; confidences still
		// never increase down the list).
		limit := max(ix.opts.SuggestThreshold, ix.answerAt-0.05)
		for i := range hits {
			hits[i].Score = min(hits[i].Score, limit)
		}
	}
	return hits
}

// vagueQuery reports whether a query whose best confidence is top would be answered although it is a
// vague statement, and its residue (vague.go).
func (ix *Index) vagueQuery(query string, top float64) (string, bool) {
	if ix.vague == nil || top < ix.answerAt {
		return "", false
	}
	return ix.vague.residue(query)
}

// confidence maps a raw score and the runner-up's raw score to [0,1] with the logistic calibration
// fitted on the dev sets (correct top-1 versus wrong or out-of-scope).
func (ix *Index) confidence(top, next float64) float64 {
	z := ix.tn.calA*(top-ix.calB) + ix.tn.calC*(top-next)
	return 1 / (1 + math.Exp(-z))
}

// Decide turns hits into a decision with the configured thresholds.
func (ix *Index) Decide(hits []Hit) Decision {
	if len(hits) == 0 {
		return NoMatch
	}
	switch s := hits[0].Score; {
	case s >= ix.answerAt:
		return Answer
	case s >= ix.opts.SuggestThreshold:
		return Suggest
	default:
		return NoMatch
	}
}

// Entry returns the entry with id in lang (falling back to any language), or nil.
func (ix *Index) Entry(id, lang string) *Entry { return ix.lib.Entry(id, lang) }

// Library returns the library the index was built from.
func (ix *Index) Library() *Library { return ix.lib }

// Options returns the effective options (defaults filled in).
func (ix *Index) Options() MatchOptions { return ix.opts }

// smoothIDF is the smoothed inverse document frequency log((N+1)/(df+1)) of each of nt terms over the
// vectors xs, and the largest possible value (a term in no vector).
func smoothIDF(xs []sparseVec, nt int) (idf []float32, maxIDF float32) {
	df := make([]int32, nt)
	for _, x := range xs {
		for _, id := range x.ids {
			df[id]++
		}
	}
	idf = make([]float32, nt)
	for id, f := range df {
		idf[id] = float32(math.Log(float64(len(xs)+1) / float64(f+1)))
	}
	return idf, float32(math.Log(float64(len(xs) + 1)))
}
