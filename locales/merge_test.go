package locales

import (
	"io/fs"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// Topic files (zh-CN.<topic>.yaml, en.<topic>.yaml) are merged into the default catalog, and the main
// catalog survives the merge.
func TestDefaultMergesTopicFiles(t *testing.T) {
	c := Default()
	for _, lang := range []string{ZhCN, En} {
		if !c.Has(lang, "greeting.hello") {
			t.Errorf("%s: main catalog key missing after merge", lang)
		}
		topics, err := fs.Glob(files, lang+".*.yaml")
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range topics {
			var m map[string]string
			if err := yaml.Unmarshal(mustRead(n), &m); err != nil {
				t.Fatalf("%s: %v", n, err)
			}
			for k, v := range m {
				if !c.Has(lang, k) {
					t.Errorf("%s: key %q not in the %s catalog", n, k, lang)
				}
				if !strings.Contains(v, "{{") && c.T(lang, k, nil) != v {
					t.Errorf("%s: key %q renders %q, want %q", n, k, c.T(lang, k, nil), v)
				}
			}
		}
	}
}
