package console

import (
	"testing"

	"github.com/kefu-dev/kefu/locales"
)

// Every built-in string is in the catalog, in both languages, so kefu serve renders the console
// from locales/ and the fallback copy never shows.
func TestBuiltinKeysInCatalog(t *testing.T) {
	cat := locales.Default()
	for lang, keys := range builtin {
		have := map[string]bool{}
		for _, k := range cat.Keys(lang) {
			have[k] = true
		}
		for k := range keys {
			if !have[k] {
				t.Errorf("%s: %s is built into the console but missing from locales/%s.yaml", lang, k, lang)
			}
		}
	}
}
