package kb

import (
	_ "embed"
	"fmt"
	"sort"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"
)

//go:embed vague.yaml
var vagueYAML []byte

// vagueLexicon recognizes vague problem statements (see vague.yaml). Hand-written because it is a
// dozen lines of phrase removal over the matcher's own normalization; no library does this.
type vagueLexicon struct {
	symptoms []string // longest first
	filler   []string // longest first
}

// maxVagueHan and maxVagueWords bound what may be left of a vague query: a product name
// (洗衣机, 扫地机器人; "washing machine").
const (
	maxVagueHan   = 5
	maxVagueWords = 2
)

func defaultVagueLexicon() *vagueLexicon {
	var raw struct {
		Symptoms []string `yaml:"symptoms"`
		Filler   []string `yaml:"filler"`
	}
	if err := yaml.Unmarshal(vagueYAML, &raw); err != nil {
		panic(fmt.Sprintf("kb: vague.yaml: %v", err)) // embedded at build time; a test parses it
	}
	return newVagueLexicon(raw.Symptoms, raw.Filler)
}

func newVagueLexicon(symptoms, filler []string) *vagueLexicon {
	prep := func(in []string) []string {
		out := make([]string, 0, len(in))
		for _, s := range in {
			if s = strings.TrimSpace(normalize(s)); s != "" {
				out = append(out, s)
			}
		}
		sort.SliceStable(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
		return out
	}
	return &vagueLexicon{symptoms: prep(symptoms), filler: prep(filler)}
}

// Vague reports whether text states a problem with nothing specific in it: a symptom phrase and, apart
// from symptom and filler phrases, at most a short product name with no digits or codes.
func (v *vagueLexicon) Vague(text string) bool {
	_, ok := v.residue(text)
	return ok
}

// residue is what is left of a vague statement once its symptom and filler phrases are gone (the
// product it names, often nothing), and whether text is one.
func (v *vagueLexicon) residue(text string) (string, bool) {
	s := " " + normalize(text) + " "
	s = strings.Map(func(r rune) rune {
		if unicode.IsPunct(r) && r != '\'' || unicode.IsSymbol(r) || unicode.IsSpace(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.ReplaceAll(s, "’", "'")
	found := false
	for _, p := range v.symptoms {
		var hit bool
		if s, hit = removePhrase(s, p); hit {
			found = true
		}
	}
	if !found {
		return "", false
	}
	for _, p := range v.filler {
		s, _ = removePhrase(s, p)
	}
	han, words := 0, 0
	for _, w := range strings.Fields(s) {
		latin := false
		for _, r := range w {
			switch {
			case isHan(r):
				han++
			case unicode.IsDigit(r):
				return "", false // a model number, an error code, an amount: specific
			default:
				latin = true
			}
		}
		if latin {
			words++
		}
	}
	if han > maxVagueHan || words > maxVagueWords {
		return "", false
	}
	return strings.Join(strings.Fields(s), " "), true
}

// removePhrase deletes every occurrence of p from s: as a substring when p is Chinese, as whole words
// (s is space-padded) otherwise.
func removePhrase(s, p string) (string, bool) {
	hanPhrase := false
	for _, r := range p {
		if isHan(r) {
			hanPhrase = true
			break
		}
	}
	if hanPhrase {
		if !strings.Contains(s, p) {
			return s, false
		}
		return strings.ReplaceAll(s, p, " "), true
	}
	pw := " " + p + " "
	if !strings.Contains(s, pw) {
		return s, false
	}
	for strings.Contains(s, pw) {
		s = strings.ReplaceAll(s, pw, "  ")
	}
	return s, true
}
