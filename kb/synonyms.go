package kb

import (
	_ "embed"
	"fmt"

	"gopkg.in/yaml.v3"
)

//go:embed synonyms.yaml
var synonymsYAML []byte

// shippedSynonyms are the default groups by locale, parsed once.
var shippedSynonyms = func() map[string][][]string {
	var m map[string][][]string
	if err := yaml.Unmarshal(synonymsYAML, &m); err != nil {
		panic(fmt.Sprintf("kb: synonyms.yaml: %v", err)) // embedded at build time; a test parses it
	}
	return m
}()

// defaultSynonyms returns the shipped groups for lang; an empty lang (a library without locales)
// gets every locale's groups.
func defaultSynonyms(lang string) [][]string {
	if lang != "" {
		return shippedSynonyms[lang]
	}
	var out [][]string
	for _, l := range []string{"zh-CN", "en"} {
		out = append(out, shippedSynonyms[l]...)
	}
	return out
}
