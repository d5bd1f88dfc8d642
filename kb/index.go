package kb

import (
	"math"
	"sort"
	"sync"
)

// MatchOptions configure a matcher. Zero thresholds take the defaults tuned on the dev sets.
type MatchOptions struct {
	// AnswerThreshold: a top hit with at least this confidence is answered directly.
	AnswerThreshold float64
	// SuggestThreshold: below it the query is out of scope (no match); between the two the bot offers
	// the top candidates.
	SuggestThreshold float64
	// Synonyms add groups per locale to the library's own (see Library.Synonyms).
	Synonyms map[string][][]string
}

// Default thresholds (confidence is calibrated, see calibrate.go).
const (
	DefaultAnswerThreshold  = 0.6
	DefaultSuggestThreshold = 0.35
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

type posting struct {
	doc int32
	tf  float32
}

// Index is the FAQ matcher. It is immutable after NewMatcher and safe for concurrent use.
type Index struct {
	lib  *Library
	opts MatchOptions
	fw   featureWeights
	syn  map[string]synonymMap // by query locale

	vocab  map[string]int32
	post   [][]posting // BM25 postings per term over entry documents
	idf    []float32
	docLen []float32
	avgLen float32

	scratch sync.Pool // *[]float32 accumulators
}

var _ Matcher = (*Index)(nil)

const (
	bm25K1 = 1.2
	bm25B  = 0.75
)

// NewMatcher builds the matcher over lib.
func NewMatcher(lib *Library, o MatchOptions) *Index {
	o = o.withDefaults()
	ix := &Index{lib: lib, opts: o, fw: defaultFeatures, vocab: map[string]int32{}, syn: map[string]synonymMap{}}
	for _, lang := range append(lib.Langs(), "") {
		groups := lib.Synonyms(lang)
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
	n := len(lib.entries)
	ix.docLen = make([]float32, n)
	var total float32
	for d, e := range lib.entries {
		tf := map[int32]float32{}
		add := func(text string, w float32) {
			for _, t := range ix.terms(text, e.Lang) {
				tf[ix.intern(t.term)] += t.w * w
				ix.docLen[d] += t.w * w
			}
		}
		add(e.Question, 1)
		for _, x := range e.Examples {
			add(x, 1)
		}
		for _, k := range e.Keywords {
			add(k, 2)
		}
		total += ix.docLen[d]
		for id, f := range tf {
			ix.post[id] = append(ix.post[id], posting{int32(d), f})
		}
	}
	if n > 0 {
		ix.avgLen = total / float32(n)
	}
	ix.idf = make([]float32, len(ix.post))
	for id, p := range ix.post {
		df := float64(len(p))
		ix.idf[id] = float32(math.Log(1 + (float64(n)-df+0.5)/(df+0.5)))
	}
	ix.scratch.New = func() any { s := make([]float32, n); return &s }
	return ix
}

func (ix *Index) intern(t string) int32 {
	id, ok := ix.vocab[t]
	if !ok {
		id = int32(len(ix.post))
		ix.vocab[t] = id
		ix.post = append(ix.post, nil)
	}
	return id
}

// terms analyzes text in lang with the synonyms of that locale.
func (ix *Index) terms(text, lang string) []termW {
	sm, ok := ix.syn[lang]
	if !ok {
		sm = ix.syn[""]
	}
	s := sm.apply(text)
	return ix.fw.features(tokenize(s, sm.word), nil)
}

func langOK(entryLang, lang string) bool {
	return lang == "" || entryLang == "" || entryLang == lang
}

// Match ranks the entries for query in lang and returns at most k hits, best first.
func (ix *Index) Match(query, lang string, k int) []Hit {
	if k <= 0 || len(ix.lib.entries) == 0 {
		return nil
	}
	qt := ix.terms(query, lang)
	if len(qt) == 0 {
		return nil
	}
	accp := ix.scratch.Get().(*[]float32)
	acc := *accp
	defer func() {
		clear(acc)
		ix.scratch.Put(accp)
	}()
	var touched []int32
	for _, t := range qt {
		id, ok := ix.vocab[t.term]
		if !ok {
			continue
		}
		idf := ix.idf[id] * t.w
		for _, p := range ix.post[id] {
			norm := bm25K1 * (1 - bm25B + bm25B*ix.docLen[p.doc]/ix.avgLen)
			if acc[p.doc] == 0 {
				touched = append(touched, p.doc)
			}
			acc[p.doc] += idf * p.tf * (bm25K1 + 1) / (p.tf + norm)
		}
	}
	hits := make([]Hit, 0, len(touched))
	for _, d := range touched {
		e := ix.lib.entries[d]
		if acc[d] > 0 && langOK(e.Lang, lang) {
			hits = append(hits, Hit{Entry: e, Score: float64(acc[d])})
		}
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].Score != hits[j].Score {
			return hits[i].Score > hits[j].Score
		}
		return hits[i].Entry.ID < hits[j].Entry.ID
	})
	if len(hits) > k {
		hits = hits[:k]
	}
	// Provisional confidence: squash the BM25 score relative to the query's own maximum.
	var self float64
	for _, t := range qt {
		if id, ok := ix.vocab[t.term]; ok {
			self += float64(ix.idf[id] * t.w)
		}
	}
	for i := range hits {
		c := 0.0
		if self > 0 {
			c = hits[i].Score / (self * (bm25K1 + 1) / 2)
		}
		hits[i].Score = math.Max(0, math.Min(1, c))
	}
	return hits
}

// Decide turns hits into a decision with the configured thresholds.
func (ix *Index) Decide(hits []Hit) Decision {
	if len(hits) == 0 {
		return NoMatch
	}
	switch s := hits[0].Score; {
	case s >= ix.opts.AnswerThreshold:
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
