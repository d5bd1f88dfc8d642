package kb

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kljensen/snowball/english"
	"golang.org/x/text/unicode/norm"
)

// Token is one unit of a query after normalization: an English word (lower-cased, stemmed), a
// number, or one Chinese character. Han marks Chinese characters so n-grams stay within a script run.
type Token struct {
	Text string // stemmed word or single Han character
	Raw  string // the lower-cased surface form
	Han  bool
	Stop bool // English stop word
	Run  int  // index of the script run the token belongs to; n-grams never cross runs
}

// normalize folds width and compatibility forms (NFKC), lower-cases and drops format characters
// such as the byte-order mark.
func normalize(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, " ")
	}
	s = norm.NFKC.String(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Cf, r) || unicode.IsControl(r):
			b.WriteByte(' ')
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

func isHan(r rune) bool { return unicode.Is(unicode.Han, r) }

// isWordRune: letters of alphabetic scripts, digits, and the apostrophe inside English words.
func isWordRune(r rune) bool {
	return (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)) && !isHan(r) && !unicode.Is(unicode.Hiragana, r) && !unicode.Is(unicode.Katakana, r)
}

// Tokenize splits text into tokens. English words are stemmed with the Snowball (Porter2) stemmer;
// Chinese is kept as single characters: the matcher builds character bigrams from them, which on
// the Chinese dev set match as well as dictionary segmentation without its load time and memory
// (see README in this package).
func Tokenize(text string) []Token {
	return tokenize(normalize(text), nil)
}

func tokenize(s string, syn map[string]string) []Token {
	var out []Token
	run := 0
	prevSep := true
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case isHan(r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r):
			if prevSep || (len(out) > 0 && !out[len(out)-1].Han) {
				run++
			}
			c := s[i : i+n]
			out = append(out, Token{Text: c, Raw: c, Han: true, Run: run})
			prevSep = false
			i += n
		case isWordRune(r):
			j := i + n
			for j < len(s) {
				r2, n2 := utf8.DecodeRuneInString(s[j:])
				if isWordRune(r2) {
					j += n2
					continue
				}
				// keep "don't", "customer's" together
				if r2 == '\'' && j+1 < len(s) {
					if r3, _ := utf8.DecodeRuneInString(s[j+1:]); isWordRune(r3) {
						j += n2
						continue
					}
				}
				break
			}
			w := s[i:j]
			if prevSep || (len(out) > 0 && out[len(out)-1].Han) {
				run++
			}
			out = append(out, wordToken(w, run, syn))
			prevSep = false
			i = j
		default:
			// Punctuation ends a run only for Chinese (a sentence break); spaces and punctuation between
			// English words keep the run so that word bigrams survive "bank, card".
			if !unicode.IsSpace(r) && len(out) > 0 && out[len(out)-1].Han {
				prevSep = true
			} else if unicode.IsPunct(r) && r != '\'' && r != '-' && r != ',' {
				prevSep = true
			}
			i += n
		}
	}
	return out
}

func wordToken(w string, run int, syn map[string]string) Token {
	raw := strings.ReplaceAll(w, "'", "")
	stem := raw
	stop := stopWords[raw] || stopWords[w]
	if isASCIILetters(raw) && len(raw) > 2 {
		stem = stemWord(raw)
	}
	if numberWords[raw] || isDigits(raw) {
		// Amounts, dates and counts differ in every question; what they share is being a number.
		stem = numTerm
	}
	if c, ok := syn[stem]; ok {
		stem = c
	}
	return Token{Text: stem, Raw: raw, Stop: stop, Run: run}
}

func isASCIILetters(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// stopWords are English function words that carry no topic; they are left out of word unigrams
// (they still take part in bigrams, where "how much" differs from "how long").
var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a an the and or but if of at by for with about to from in on into onto
		is are was were be been being am do does did doing have has had having i me my mine myself we our
		ours you your yours he him his she her it its they them their this that these those there here
		what which who whom whose can could would should will shall may might must please thanks thank
		hi hello hey so just very too also as than then s t im ive id dont ok okay`) {
		m[w] = true
	}
	return m
}()

// synonymMap compiles synonym groups: every word in a group maps to the group's first word. English
// words are stemmed first; Chinese phrases are replaced in the text before tokenization.
type synonymMap struct {
	word   map[string]string // stemmed English word -> canonical stem
	phrase []phrasePair      // Chinese (or multi-word) replacements, longest first
}

type phrasePair struct{ from, to string }

func compileSynonyms(groups [][]string) synonymMap {
	sm := synonymMap{word: map[string]string{}}
	for _, g := range groups {
		if len(g) < 2 {
			continue
		}
		canon := normalize(strings.TrimSpace(g[0]))
		canonTok := tokenize(canon, nil)
		for _, v := range g[1:] {
			v = normalize(strings.TrimSpace(v))
			if v == "" || v == canon {
				continue
			}
			vt := tokenize(v, nil)
			if len(vt) == 1 && !vt[0].Han && len(canonTok) == 1 && !canonTok[0].Han {
				sm.word[vt[0].Text] = canonTok[0].Text
				continue
			}
			sm.phrase = append(sm.phrase, phrasePair{from: v, to: canon})
		}
	}
	sort.SliceStable(sm.phrase, func(i, j int) bool { return len(sm.phrase[i].from) > len(sm.phrase[j].from) })
	return sm
}

// apply normalizes s and replaces synonym phrases with their canonical form.
func (sm synonymMap) apply(s string) string {
	s = normalize(s)
	for _, p := range sm.phrase {
		if strings.Contains(s, p.from) {
			if isASCIILetters(strings.ReplaceAll(p.from, " ", "")) {
				s = replaceWords(s, p.from, p.to)
			} else {
				s = strings.ReplaceAll(s, p.from, p.to)
			}
		}
	}
	return s
}

// replaceWords replaces from with to only at word boundaries.
func replaceWords(s, from, to string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, from)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		end := i + len(from)
		okL := i == 0 || !isWordRune(rune(s[i-1]))
		okR := end == len(s) || !isWordRune(rune(s[end]))
		if okL && okR {
			b.WriteString(s[:i])
			b.WriteString(to)
		} else {
			b.WriteString(s[:end])
		}
		s = s[end:]
	}
}

// stemWord is english.Stem with a bounded memo (stemming is a tenth of the build time otherwise).
func stemWord(w string) string {
	if s, ok := stemCache.Load(w); ok {
		return s.(string)
	}
	s := english.Stem(w, false)
	stemCache.Lock()
	if stemCache.n < maxStemCache {
		stemCache.n++
		stemCache.Store(w, s)
	}
	stemCache.Unlock()
	return s
}

// numTerm stands for any number, in digits or English words.
const numTerm = "#num"

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

var numberWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`zero two three four five six seven eight nine ten eleven twelve thirteen
		fourteen fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty
		ninety hundred thousand million billion`) {
		m[w] = true
	}
	return m
}()
