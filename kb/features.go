package kb

import "strings"

// term kinds, as one-byte prefixes so the kinds never collide in one vocabulary.
const (
	kWord   = "w" // stemmed English word (not a stop word) or number
	kBigram = "b" // two adjacent English words (stop words included)
	kHan1   = "h" // one Chinese character
	kHan2   = "H" // two adjacent Chinese characters
	kHan3   = "T" // three adjacent Chinese characters
	kSkip   = "s" // two English words with one word between them
	kChar   = "c" // character n-gram inside an English word, for typos and inflections
	kTri    = "3" // three adjacent English words (stop words included)
)

// termW is a term with its weight in one text.
type termW struct {
	term string
	w    float32
}

// featureWeights say how much each kind of term counts.
type featureWeights struct {
	word, bigram, han1, han2, char float32
	stop                           float32 // English stop words as unigrams
	han3                           float32 // Chinese character trigrams
	skip                           float32 // English skip-bigrams
	tri                            float32 // English word trigrams (0: off)
	charMin, charMax               int
}

var defaultFeatures = featureWeights{word: 1, stop: 1.5, bigram: 1, han1: 1, han2: 1, char: 0.3, charMin: 3, charMax: 5}

// features turns tokens into weighted terms (a term may occur several times).
func (fw featureWeights) features(toks []Token, dst []termW) []termW {
	for i, t := range toks {
		if t.Han {
			if fw.han1 > 0 {
				dst = append(dst, termW{kHan1 + t.Text, fw.han1})
			}
			if fw.han2 > 0 && i+1 < len(toks) && toks[i+1].Han && toks[i+1].Run == t.Run {
				dst = append(dst, termW{kHan2 + t.Text + toks[i+1].Text, fw.han2})
			}
			if fw.han3 > 0 && i+2 < len(toks) && toks[i+1].Han && toks[i+2].Han && toks[i+2].Run == t.Run {
				dst = append(dst, termW{kHan3 + t.Text + toks[i+1].Text + toks[i+2].Text, fw.han3})
			}
			continue
		}
		if !t.Stop && fw.word > 0 {
			dst = append(dst, termW{kWord + t.Text, fw.word})
		} else if t.Stop && fw.stop > 0 {
			dst = append(dst, termW{kWord + t.Text, fw.stop})
		}
		if fw.bigram > 0 && i+1 < len(toks) && !toks[i+1].Han && toks[i+1].Run == t.Run {
			dst = append(dst, termW{kBigram + t.Text + " " + toks[i+1].Text, fw.bigram})
		}
		if fw.skip > 0 && i+2 < len(toks) && !toks[i+1].Han && !toks[i+2].Han && toks[i+2].Run == t.Run {
			dst = append(dst, termW{kSkip + t.Text + " " + toks[i+2].Text, fw.skip})
		}
		if fw.tri > 0 && i+2 < len(toks) && !toks[i+1].Han && !toks[i+2].Han && toks[i+2].Run == t.Run {
			dst = append(dst, termW{kTri + t.Text + " " + toks[i+1].Text + " " + toks[i+2].Text, fw.tri})
		}
		if fw.char > 0 && !t.Stop && len(t.Raw) >= 4 {
			dst = charGrams(dst, t.Raw, fw)
		}
	}
	return dst
}

func charGrams(dst []termW, w string, fw featureWeights) []termW {
	r := []rune("^" + w + "$")
	for n := fw.charMin; n <= fw.charMax; n++ {
		for i := 0; i+n <= len(r); i++ {
			dst = append(dst, termW{kChar + string(r[i:i+n]), fw.char})
		}
	}
	return dst
}

// termString renders tokens for golden files and debugging.
func termString(toks []Token) string {
	parts := make([]string, len(toks))
	for i, t := range toks {
		s := t.Text
		if t.Stop {
			s = "(" + s + ")"
		}
		parts[i] = s
	}
	return strings.Join(parts, " ")
}
