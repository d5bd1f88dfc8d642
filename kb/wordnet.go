package kb

import (
	"bufio"
	"bytes"
	"cmp"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// English outside knowledge for few-shot libraries (issue 18): WordNet 3.0 (Princeton; Debian's
// wordnet-base package, /usr/share/wordnet) relates a query word the library never uses to words it
// does use: synonyms ("reservation"/"booking"), hypernyms ("sedan" → "car"), derivational forms
// ("deliver"/"delivery") and irregular inflections ("went" → "go", from the morphology exception
// lists). Only words of the library are ever added to a query, like the mined thesaurus
// (thesaurus.go): each query word brings its related library words at weight wn × relation weight.
// There is no Go WordNet reader that reads the Debian files without pulling in a database or a
// download, and the format is a few lines of text per synset, so it is parsed here.

// wnKind is a WordNet relation between two words.
type wnKind uint8

const (
	wnLemma wnKind = iota // the source is an irregular inflection of the target (verb.exc …)
	wnSyn                 // same synset
	wnDeriv               // derivationally related form or pertainym
	wnHyper               // the target is in a hypernym synset of the source's sense
	wnSim                 // similar adjective
	wnHypo                // the target is in a hyponym synset
	wnKinds
)

// wnRel is one related word (stemmed) of a word.
type wnRel struct {
	to   string
	kind wnKind
}

// wordNet maps a stemmed English word to its related stemmed words.
type wordNet map[string][]wnRel

// wnMaxSenses: only a word's most frequent senses (WordNet lists them first) are related; rare
// senses ("book" as a verb of the police) mostly add noise.
var wnMaxSenses = 4

// wnCommonOnly: relate words to common words only (see loadWordNet).
var wnCommonOnly = true

// wnCommonSrc: relate common words only (not only to them).
var wnCommonSrc = false

var wnPOS = []string{"noun", "verb", "adj", "adv"}

// loadWordNet reads the WordNet database files in dir (index.*, data.*, *.exc).
func loadWordNet(dir string, maxSenses int) (wordNet, error) {
	wn := wordNet{}
	common := map[string]bool{}
	seen := map[[2]string]int{} // pair → its index in wn[from]
	stems := map[string]string{}
	stem := func(w string) string {
		s, ok := stems[w]
		if !ok {
			s = wnStem(w)
			stems[w] = s
		}
		return s
	}
	add := func(from, to string, k wnKind) {
		if wnCommonOnly && !common[strings.ToLower(to)] || wnCommonSrc && !common[strings.ToLower(from)] {
			return
		}
		a, b := stem(from), stem(to)
		if a == "" || b == "" || a == b {
			return
		}
		if i, ok := seen[[2]string{a, b}]; ok {
			wn[a][i].kind = min(wn[a][i].kind, k) // the closest relation wins
			return
		}
		seen[[2]string{a, b}] = len(wn[a])
		wn[a] = append(wn[a], wnRel{b, k})
	}
	// Words tagged in WordNet's own sense-tagged corpus (tagsense_cnt > 0) are the common ones: only
	// they are related to (an FAQ's words are common words), which keeps the table small.
	for _, pos := range wnPOS {
		index, err := os.ReadFile(filepath.Join(dir, "index."+pos))
		if err != nil {
			return nil, fmt.Errorf("wordnet: %w", err)
		}
		for _, line := range bytes.Split(index, []byte("\n")) {
			f := strings.Fields(string(line))
			if len(f) < 4 || line[0] == ' ' {
				continue
			}
			np, _ := strconv.Atoi(f[3])
			if 6+np <= len(f) && f[5+np] != "0" {
				common[strings.ToLower(f[0])] = true
			}
		}
	}
	parsed := map[string]map[int]wnSynset{}
	for _, pos := range wnPOS {
		data, err := os.ReadFile(filepath.Join(dir, "data."+pos))
		if err != nil {
			return nil, fmt.Errorf("wordnet: %w", err)
		}
		index, err := os.ReadFile(filepath.Join(dir, "index."+pos))
		if err != nil {
			return nil, fmt.Errorf("wordnet: %w", err)
		}
		other := map[string][]byte{pos: data}
		synset := func(p string, off int) (wnSynset, error) {
			if ss, ok := parsed[p][off]; ok {
				return ss, nil
			}
			d, ok := other[p]
			if !ok {
				var err error
				if d, err = os.ReadFile(filepath.Join(dir, "data."+p)); err != nil {
					return wnSynset{}, fmt.Errorf("wordnet: %w", err)
				}
				other[p] = d
			}
			ss, err := parseSynset(d, off)
			if err != nil {
				return ss, err
			}
			if parsed[p] == nil {
				parsed[p] = map[int]wnSynset{}
			}
			parsed[p][off] = ss
			return ss, nil
		}
		for _, line := range bytes.Split(index, []byte("\n")) {
			if len(line) == 0 || line[0] == ' ' {
				continue // licence header
			}
			f := strings.Fields(string(line))
			if len(f) < 4 {
				continue
			}
			lemma := f[0]
			np, _ := strconv.Atoi(f[3])
			if 6+np > len(f) {
				continue
			}
			offs := f[6+np:]
			for si, o := range offs {
				if si >= maxSenses {
					break
				}
				off, err := strconv.Atoi(o)
				if err != nil {
					return nil, fmt.Errorf("wordnet: index.%s %q: %w", pos, lemma, err)
				}
				ss, err := synset(pos, off)
				if err != nil {
					return nil, err
				}
				me := -1
				for i, w := range ss.words {
					if strings.EqualFold(w, lemma) {
						me = i + 1
					} else {
						add(lemma, w, wnSyn)
					}
				}
				for _, p := range ss.ptrs {
					var k wnKind
					switch p.sym {
					case "@", "@i":
						k = wnHyper
					case "~", "~i":
						k = wnHypo
					case "+", "\\":
						k = wnDeriv
					case "&":
						k = wnSim
					default:
						continue
					}
					if p.src != 0 && p.src != me {
						continue // a lexical pointer of another word of the synset
					}
					t, err := synset(p.pos, p.off)
					if err != nil {
						return nil, err
					}
					for i, w := range t.words {
						if p.dst == 0 || p.dst == i+1 {
							add(lemma, w, k)
						}
					}
				}
			}
		}
		exc, err := os.ReadFile(filepath.Join(dir, pos+".exc"))
		if err != nil {
			return nil, fmt.Errorf("wordnet: %w", err)
		}
		sc := bufio.NewScanner(bytes.NewReader(exc))
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			for _, base := range f[min(1, len(f)):] {
				add(f[0], base, wnLemma)
			}
		}
	}
	for w, rs := range wn {
		slices.SortStableFunc(rs, func(a, b wnRel) int { return int(a.kind) - int(b.kind) })
		// (seen holds indexes into the unsorted lists: sorting comes last)
		wn[w] = rs
	}
	return wn, nil
}

type wnSynset struct {
	words []string
	ptrs  []wnPtr
}

type wnPtr struct {
	sym      string
	off      int
	pos      string // noun, verb, adj, adv
	src, dst int    // word numbers of a lexical pointer (0: the whole synset)
}

// parseSynset parses the data-file line at byte offset off.
func parseSynset(data []byte, off int) (wnSynset, error) {
	if off < 0 || off >= len(data) {
		return wnSynset{}, fmt.Errorf("wordnet: offset %d outside the data file", off)
	}
	line := data[off:]
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	if i := bytes.IndexByte(line, '|'); i >= 0 {
		line = line[:i]
	}
	f := strings.Fields(string(line))
	bad := fmt.Errorf("wordnet: bad synset at offset %d", off)
	if len(f) < 4 || len(f[0]) != 8 || !strings.HasSuffix(f[0], strconv.Itoa(off)) {
		return wnSynset{}, bad
	}
	nw, err := strconv.ParseInt(f[3], 16, 32)
	if err != nil || 4+2*int(nw)+1 > len(f) {
		return wnSynset{}, bad
	}
	var ss wnSynset
	for i := 0; i < int(nw); i++ {
		w := f[4+2*i]
		if j := strings.IndexByte(w, '('); j > 0 { // adjective markers: big(a)
			w = w[:j]
		}
		ss.words = append(ss.words, w)
	}
	k := 4 + 2*int(nw)
	np, err := strconv.Atoi(f[k])
	if err != nil || k+1+4*np > len(f) {
		return wnSynset{}, bad
	}
	for i := 0; i < np; i++ {
		p := f[k+1+4*i : k+5+4*i]
		o, err := strconv.Atoi(p[1])
		if err != nil || len(p[3]) != 4 {
			return wnSynset{}, bad
		}
		s, _ := strconv.ParseInt(p[3][:2], 16, 32)
		d, _ := strconv.ParseInt(p[3][2:], 16, 32)
		pos := map[string]string{"n": "noun", "v": "verb", "a": "adj", "s": "adj", "r": "adv"}[p[2]]
		if pos == "" {
			return wnSynset{}, bad
		}
		ss.ptrs = append(ss.ptrs, wnPtr{sym: p[0], off: o, pos: pos, src: int(s), dst: int(d)})
	}
	return ss, nil
}

// wnStem turns a WordNet lemma into the matcher's word term ("" for collocations, numbers and
// words the analyzer would not see as one English word).
func wnStem(w string) string {
	w = strings.ToLower(w)
	if len(w) < 2 || !isASCIILetters(w) {
		return ""
	}
	toks := tokenize(w, nil)
	if len(toks) != 1 || toks[0].Stop || toks[0].Text == numTerm {
		return ""
	}
	return toks[0].Text
}

// The shipped table (wordnet/en.tsv.gz, generated from the Debian package by
// scripts/wordnet-table.sh; licence in wordnet/LICENSE): one line per word,
// "word<TAB>0related,2related…" with the relation kind as the first digit of each related word.
//
//go:embed wordnet/en.tsv.gz
var wordNetTable []byte

// wnRev maps a related (target) word to the words that bring it, parsed once from the table.
var wnRev = sync.OnceValues(func() (*wnTable, error) { return parseWordNetTable(wordNetTable) })

// wnTable is the shipped table reversed and packed (about 4 MiB instead of 12 as strings and structs).
type wnTable struct {
	words []string            // source words
	rev   map[string][]uint32 // related word → source word index << 3 | relation kind
}

type wnSrc struct {
	from string
	kind wnKind
}

// sources returns the words that bring to and their relation.
func (t *wnTable) sources(to string) []wnSrc {
	var out []wnSrc
	for _, p := range t.rev[to] {
		out = append(out, wnSrc{t.words[p>>3], wnKind(p & 7)})
	}
	return out
}

func parseWordNetTable(gz []byte) (*wnTable, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("wordnet table: %w", err)
	}
	t := &wnTable{rev: map[string][]uint32{}}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		from, rels, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			return nil, fmt.Errorf("wordnet table: bad line %q", sc.Text())
		}
		id := uint32(len(t.words))
		t.words = append(t.words, strings.Clone(from))
		for r := range strings.SplitSeq(rels, ",") {
			if len(r) < 2 || r[0] < '0' || r[0] >= '0'+byte(wnKinds) {
				return nil, fmt.Errorf("wordnet table: bad relation %q of %q", r, from)
			}
			to := r[1:]
			ps, ok := t.rev[to]
			if !ok {
				to = strings.Clone(to) // the line is not kept
			}
			t.rev[to] = append(ps, id<<3|uint32(r[0]-'0'))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("wordnet table: %w", err)
	}
	for k, ps := range t.rev {
		t.rev[k] = slices.Clip(ps)
	}
	return t, nil
}

// writeWordNetTable writes wn in the table format, sorted.
func writeWordNetTable(w io.Writer, wn wordNet) error {
	words := make([]string, 0, len(wn))
	for k := range wn {
		words = append(words, k)
	}
	slices.Sort(words)
	bw := bufio.NewWriter(w)
	for _, k := range words {
		bw.WriteString(k)
		for i, r := range wn[k] {
			sep := byte(',')
			if i == 0 {
				sep = '\t'
			}
			bw.WriteByte(sep)
			bw.WriteByte('0' + byte(r.kind))
			bw.WriteString(r.to)
		}
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// wnWeights are the weights of the relation kinds (times tuning.wn).
var wnWeights = [wnKinds]float32{wnSyn: 1, wnHyper: 0.5, wnHypo: 0.3, wnDeriv: 0.7, wnSim: 0.5, wnLemma: 1}

// wnMaxRel: related library words a query word brings at most.
var wnMaxRel = 5

// buildWordNet keeps, for each word of the table, its related words that the library uses in at
// most 1/thesDFDiv of its entries (query word term → library term ids).
func (ix *Index) buildWordNet(tab *wnTable, bmDF []int32) {
	n := len(ix.lib.entries)
	maxDF := int32(max(2, n/thesDFDiv))
	out := map[string][]idW{}
	for t, id := range ix.vocab {
		if t[0] != kWord[0] || int(id) >= len(bmDF) || bmDF[id] > maxDF {
			continue
		}
		for _, p := range tab.rev[t[1:]] {
			w := wnWeights[p&7]
			if w == 0 {
				continue
			}
			from := kWord + tab.words[p>>3]
			r := out[from]
			if i := slices.IndexFunc(r, func(y idW) bool { return y.id == id }); i >= 0 {
				r[i].w = max(r[i].w, w)
				continue
			}
			out[from] = append(r, idW{id, w})
		}
	}
	for k, r := range out {
		slices.SortFunc(r, func(a, b idW) int {
			if c := cmp.Compare(b.w, a.w); c != 0 {
				return c
			}
			return cmp.Compare(a.id, b.id)
		})
		out[k] = r[:min(len(r), wnMaxRel)]
	}
	ix.wn = out
}

// expandWordNet adds the related library words of the query's English words to tf. A query word the
// library does not know but WordNet relates to library words counts as unknown only by 1 - wnKnown.
func (ix *Index) expandWordNet(query, lang string, tf map[int32]float32, unknown float32) (map[int32]float32, float32) {
	var out map[int32]float32
	for _, t := range ix.terms(query, lang) {
		rs := ix.wn[t.term]
		if len(rs) == 0 {
			continue
		}
		_, known := ix.vocab[t.term]
		if known && ix.tn.wnAll == 0 {
			continue
		}
		if out == nil {
			out = make(map[int32]float32, len(tf)+8)
			for k, v := range tf {
				out[k] = v
			}
		}
		for _, r := range rs {
			if _, ok := tf[r.id]; ok {
				continue
			}
			out[r.id] += float32(ix.tn.wn) * r.w * t.w
		}
		if !known {
			unknown -= float32(ix.tn.wnKnown) * t.w
		}
	}
	if out == nil {
		return tf, unknown
	}
	return out, max(unknown, 0)
}
