package kb

import (
	"slices"
	"sync"
)

// analyzer turns texts into sparse term vectors while the index is built. It produces exactly the
// terms of featureWeights.features, but caches each word's features (stem, unigram and character
// n-gram ids) and looks terms up through a reused buffer, so building a 10,000-entry library does not
// allocate a string per term.
type analyzer struct {
	ix    *Index
	words map[string][]idW // raw+"\x00"+stem+stop -> unigram and character n-gram terms
	buf   []byte
	pairs []idW
	m     merger
}

type idW struct {
	id int32
	w  float32
}

func newAnalyzer(ix *Index) *analyzer {
	return &analyzer{ix: ix, words: map[string][]idW{}}
}

// id returns the vocabulary id of the term in a.buf, adding it.
func (a *analyzer) id() int32 {
	if id, ok := a.ix.vocab[string(a.buf)]; ok {
		return id
	}
	id := int32(len(a.ix.vocab))
	a.ix.vocab[string(a.buf)] = id
	return id
}

func (a *analyzer) term(kind string, parts ...string) int32 {
	a.buf = append(a.buf[:0], kind...)
	for i, p := range parts {
		if i > 0 {
			a.buf = append(a.buf, ' ')
		}
		a.buf = append(a.buf, p...)
	}
	return a.id()
}

// analyze returns the term frequencies of text in lang, sorted by term id.
func (a *analyzer) analyze(text, lang string) sparseVec {
	sm, ok := a.ix.syn[lang]
	if !ok {
		sm = a.ix.syn[""]
	}
	toks := tokenize(sm.apply(text), sm.word)
	fw := a.ix.tn.fw
	a.pairs = a.pairs[:0]
	for i, t := range toks {
		if t.Han {
			if fw.han1 > 0 {
				a.pairs = append(a.pairs, idW{a.term(kHan1, t.Text), fw.han1})
			}
			if fw.han2 > 0 && i+1 < len(toks) && toks[i+1].Han && toks[i+1].Run == t.Run {
				a.buf = append(append(append(a.buf[:0], kHan2...), t.Text...), toks[i+1].Text...)
				a.pairs = append(a.pairs, idW{a.id(), fw.han2})
			}
			if fw.han3 > 0 && i+2 < len(toks) && toks[i+1].Han && toks[i+2].Han && toks[i+2].Run == t.Run {
				a.buf = append(append(append(append(a.buf[:0], kHan3...), t.Text...), toks[i+1].Text...), toks[i+2].Text...)
				a.pairs = append(a.pairs, idW{a.id(), fw.han3})
			}
			continue
		}
		a.pairs = append(a.pairs, a.word(t)...)
		if fw.bigram > 0 && i+1 < len(toks) && !toks[i+1].Han && toks[i+1].Run == t.Run {
			a.pairs = append(a.pairs, idW{a.term(kBigram, t.Text, toks[i+1].Text), fw.bigram})
		}
		if fw.skip > 0 && i+2 < len(toks) && !toks[i+1].Han && !toks[i+2].Han && toks[i+2].Run == t.Run {
			a.pairs = append(a.pairs, idW{a.term(kSkip, t.Text, toks[i+2].Text), fw.skip})
		}
		if fw.tri > 0 && i+2 < len(toks) && !toks[i+1].Han && !toks[i+2].Han && toks[i+2].Run == t.Run {
			a.pairs = append(a.pairs, idW{a.term(kTri, t.Text, toks[i+1].Text, toks[i+2].Text), fw.tri})
		}
	}
	return a.m.merge(a.pairs)
}

// word returns the unigram and character n-gram terms of an English word token (cached).
func (a *analyzer) word(t Token) []idW {
	a.buf = append(append(append(a.buf[:0], t.Raw...), 0), t.Text...)
	if t.Stop {
		a.buf = append(a.buf, 1)
	}
	if f, ok := a.words[string(a.buf)]; ok {
		return f
	}
	key := string(a.buf)
	var f []idW
	for _, tw := range a.ix.tn.fw.features([]Token{t}, nil) {
		a.buf = append(a.buf[:0], tw.term...)
		f = append(f, idW{a.id(), tw.w})
	}
	a.words[key] = f
	return f
}

// merger sums weights by term id in a dense array: sorting the pairs instead was most of the
// build time.
type merger struct {
	acc  []float32
	seen []bool
	ids  []int32
}

// merge sums the weights of equal ids in pairs into a new vector sorted by id.
func (m *merger) merge(pairs []idW) sparseVec {
	m.ids = m.ids[:0]
	for _, p := range pairs {
		if int(p.id) >= len(m.acc) {
			n := max(2*len(m.acc), int(p.id)+1024)
			m.acc = append(m.acc, make([]float32, n-len(m.acc))...)
			m.seen = append(m.seen, make([]bool, n-len(m.seen))...)
		}
		if !m.seen[p.id] {
			m.seen[p.id] = true
			m.ids = append(m.ids, p.id)
		}
		m.acc[p.id] += p.w
	}
	slices.Sort(m.ids)
	v := sparseVec{ids: slices.Clone(m.ids), ws: make([]float32, len(m.ids))}
	for i, id := range v.ids {
		v.ws[i] = m.acc[id]
		m.acc[id], m.seen[id] = 0, false
	}
	return v
}

// stemCache memoizes the Snowball stemmer, a tenth of the build time otherwise. It is bounded so
// that arbitrary queries cannot grow it without limit.
var stemCache struct {
	sync.Map
	n int64
	sync.Mutex
}

const maxStemCache = 200_000
