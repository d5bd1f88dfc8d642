// Package locales holds kefu's zh-CN (default) and en message catalogs, embedded in the binary.
//
// Every user-facing string comes from here. A catalog is a flat map of keys to text/template strings
// (zh-CN.yaml, en.yaml); Catalog.T renders one, falling back to zh-CN, then to the key itself.
//
// Templates can call {{t .arg}}: when the argument is itself a key of the catalog it is rendered in the
// same language (so flows can pass "category.order" or "urgency.urgent" as an argument), otherwise it is
// printed as is (a configured literal name, a raw "P1").
package locales

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"
	"text/template"

	"gopkg.in/yaml.v3"
)

// Language tags of the bundled catalogs.
const (
	ZhCN = "zh-CN" // default
	En   = "en"
)

//go:embed *.yaml
var files embed.FS

// Catalog is a set of flat message catalogs, one per language. It is immutable once built and safe for
// concurrent use.
type Catalog struct {
	langs []string
	raw   map[string]map[string]string
	tmpl  map[string]map[string]*template.Template
}

var (
	defaultOnce sync.Once
	defaultCat  *Catalog
	defaultErr  error
)

// Default returns the embedded zh-CN + en catalog. The embedded files are checked by the package tests,
// so a failure to load them is a build defect and panics.
func Default() *Catalog {
	defaultOnce.Do(func() {
		docs := map[string][]byte{}
		for _, lang := range []string{ZhCN, En} {
			docs[lang], defaultErr = mergeFiles(lang)
			if defaultErr != nil {
				break
			}
		}
		if defaultErr == nil {
			defaultCat, defaultErr = Load(docs)
		}
	})
	if defaultErr != nil {
		panic(defaultErr)
	}
	return defaultCat
}

// mergeFiles joins a language's main catalog (zh-CN.yaml) with its topic files (zh-CN.<topic>.yaml),
// so each feature keeps its strings in a file of its own. A key defined twice is an error.
func mergeFiles(lang string) ([]byte, error) {
	topics, err := fs.Glob(files, lang+".*.yaml")
	if err != nil {
		return nil, fmt.Errorf("locales: list %s: %w", lang, err)
	}
	sort.Strings(topics)
	merged := map[string]string{}
	from := map[string]string{}
	for _, n := range append([]string{lang + ".yaml"}, topics...) {
		var m map[string]string
		if err := yaml.Unmarshal(mustRead(n), &m); err != nil {
			return nil, fmt.Errorf("locales: parse %s: %w", n, err)
		}
		for k, v := range m {
			if prev, dup := from[k]; dup {
				return nil, fmt.Errorf("locales: key %q is in both %s and %s", k, prev, n)
			}
			from[k] = n
			merged[k] = v
		}
	}
	b, err := yaml.Marshal(merged)
	if err != nil {
		return nil, fmt.Errorf("locales: merge %s: %w", lang, err)
	}
	return b, nil
}

func mustRead(name string) []byte {
	b, err := files.ReadFile(name)
	if err != nil {
		panic(fmt.Errorf("locales: read %s: %w", name, err))
	}
	return b
}

// Load builds a catalog from YAML documents (flat maps of key to template), keyed by language tag.
// Errors name the language and key of a template that does not parse.
func Load(docs map[string][]byte) (*Catalog, error) {
	c := &Catalog{raw: map[string]map[string]string{}, tmpl: map[string]map[string]*template.Template{}}
	for lang, doc := range docs {
		var m map[string]string
		if err := yaml.Unmarshal(doc, &m); err != nil {
			return nil, fmt.Errorf("locales: parse %s: %w", lang, err)
		}
		c.langs = append(c.langs, lang)
		c.raw[lang] = m
		c.tmpl[lang] = make(map[string]*template.Template, len(m))
		funcs := template.FuncMap{"t": c.nested(lang)}
		for k, v := range m {
			t, err := template.New(k).Option("missingkey=zero").Funcs(funcs).Parse(v)
			if err != nil {
				return nil, fmt.Errorf("locales: %s: key %q: %w", lang, k, err)
			}
			c.tmpl[lang][k] = t
		}
	}
	sort.Slice(c.langs, func(i, j int) bool { // zh-CN first, then alphabetical
		if (c.langs[i] == ZhCN) != (c.langs[j] == ZhCN) {
			return c.langs[i] == ZhCN
		}
		return c.langs[i] < c.langs[j]
	})
	return c, nil
}

// nested is the template function t: a key of the catalog is rendered in lang, anything else printed.
func (c *Catalog) nested(lang string) func(v any) string {
	return func(v any) string {
		if v == nil {
			return ""
		}
		s := fmt.Sprint(v)
		if _, ok := c.lookup(lang, s); ok {
			return c.T(lang, s, nil)
		}
		return s
	}
}

// Match maps a language code ("zh", "zh_CN", "zh-Hans", "en-US", "EN") to a catalog language, or ""
// when none fits.
func Match(code string) string {
	code = strings.ToLower(strings.TrimSpace(code))
	switch {
	case code == "":
		return ""
	case strings.HasPrefix(code, "zh"):
		return ZhCN
	case strings.HasPrefix(code, "en"):
		return En
	}
	return ""
}

func (c *Catalog) lookup(lang, key string) (*template.Template, bool) {
	if m, ok := c.tmpl[lang]; ok {
		if t, ok := m[key]; ok {
			return t, true
		}
	}
	if l := Match(lang); l != "" && l != lang {
		if t, ok := c.tmpl[l][key]; ok {
			return t, true
		}
	}
	t, ok := c.tmpl[ZhCN][key]
	return t, ok
}

// T renders key in lang with args, falling back to zh-CN, then to the key itself. A template that
// fails to execute (a test catches that) renders as its raw text.
func (c *Catalog) T(lang, key string, args map[string]any) string {
	t, ok := c.lookup(lang, key)
	if !ok {
		return key
	}
	var b bytes.Buffer
	if err := t.Execute(&b, args); err != nil {
		return t.Root.String()
	}
	// missingkey=zero still prints "<no value>" for a missing key of a map[string]any.
	return strings.ReplaceAll(b.String(), "<no value>", "")
}

// Has reports whether key exists in lang itself (no fallback).
func (c *Catalog) Has(lang, key string) bool {
	_, ok := c.raw[lang][key]
	return ok
}

// Keys returns the keys of lang's catalog, sorted.
func (c *Catalog) Keys(lang string) []string {
	m := c.raw[lang]
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Langs returns the catalog's languages, the default (zh-CN) first.
func (c *Catalog) Langs() []string { return append([]string(nil), c.langs...) }

// Langs returns the languages of the default catalog, zh-CN first.
func Langs() []string { return Default().Langs() }
