package kb

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// ErrFormat is returned (wrapped in a *ParseError) when an entry or a file is malformed.
var ErrFormat = errors.New("bad faq entry")

// ParseError names the file and the line of a bad entry.
type ParseError struct {
	File string
	Line int
	Err  error
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("kb: %s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("kb: %s: %v", e.File, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// Library is an immutable set of FAQ entries (each id at most once per locale) plus the company's
// per-locale synonym groups.
type Library struct {
	entries []*Entry
	byKey   map[string]*Entry // lang + "\x00" + id
	// Synonyms maps a locale ("zh-CN", "en", or "" for any) to groups of words the matcher treats as
	// one ("退货", "退换"). Companies edit them in the library file.
	synonyms map[string][][]string
}

// fileDoc is the object form of a YAML library file.
type fileDoc struct {
	Entries  yaml.Node             `yaml:"entries"`
	Synonyms map[string][][]string `yaml:"synonyms"`
}

// New builds a library from entries, rejecting an empty id or question and duplicate ids per locale.
func New(entries []Entry, synonyms map[string][][]string) (*Library, error) {
	lib := &Library{byKey: make(map[string]*Entry, len(entries)), synonyms: synonyms}
	for i := range entries {
		if err := lib.add(entries[i]); err != nil {
			return nil, fmt.Errorf("kb: entry %d: %w", i+1, err)
		}
	}
	return lib, nil
}

func (l *Library) add(e Entry) error {
	e.ID = strings.TrimSpace(e.ID)
	e.Lang = strings.TrimSpace(e.Lang)
	switch {
	case e.ID == "":
		return fmt.Errorf("%w: missing id", ErrFormat)
	case strings.TrimSpace(e.Question) == "":
		return fmt.Errorf("%w: entry %q has no question", ErrFormat, e.ID)
	case strings.TrimSpace(e.Answer) == "":
		return fmt.Errorf("%w: entry %q has no answer", ErrFormat, e.ID)
	}
	key := e.Lang + "\x00" + e.ID
	if _, dup := l.byKey[key]; dup {
		return fmt.Errorf("%w: duplicate id %q in locale %q", ErrFormat, e.ID, e.Lang)
	}
	p := &e
	l.entries = append(l.entries, p)
	l.byKey[key] = p
	return nil
}

// Entries returns the entries in file order. The caller must not modify them.
func (l *Library) Entries() []*Entry { return l.entries }

// Len is the number of entries (all locales).
func (l *Library) Len() int { return len(l.entries) }

// Synonyms returns the synonym groups for lang (including the groups for any locale).
func (l *Library) Synonyms(lang string) [][]string {
	out := append([][]string(nil), l.synonyms[""]...)
	if lang != "" {
		out = append(out, l.synonyms[lang]...)
	}
	return out
}

// Langs lists the locales present, sorted.
func (l *Library) Langs() []string {
	seen := map[string]bool{}
	for _, e := range l.entries {
		seen[e.Lang] = true
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Entry returns the entry with this id in lang, falling back to the language-neutral entry and then
// to any language; nil when there is none.
func (l *Library) Entry(id, lang string) *Entry {
	if e := l.byKey[lang+"\x00"+id]; e != nil {
		return e
	}
	if e := l.byKey["\x00"+id]; e != nil {
		return e
	}
	for _, e := range l.entries {
		if e.ID == id {
			return e
		}
	}
	return nil
}

// LoadFile reads a library from a .yaml, .yml or .jsonl file.
func LoadFile(p string) (*Library, error) {
	dir, name := filepath.Split(p)
	if dir == "" {
		dir = "."
	}
	return Load(os.DirFS(dir), name)
}

// ImportFile reads the entries of a library file, for importing them elsewhere (the database).
func ImportFile(p string) ([]Entry, error) {
	lib, err := LoadFile(p)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, len(lib.entries))
	for i, e := range lib.entries {
		out[i] = *e
	}
	return out, nil
}

// Load reads a library file from fsys. The format follows the extension: .yaml/.yml (a list of
// entries, or a mapping with "entries" and optional "synonyms") or .jsonl (one entry per line).
func Load(fsys fs.FS, name string) (*Library, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("kb: load: %w", err)
	}
	switch strings.ToLower(path.Ext(name)) {
	case ".yaml", ".yml":
		return parseYAML(name, data)
	case ".jsonl", ".ndjson":
		return parseJSONL(name, data)
	default:
		return nil, &ParseError{File: name, Err: fmt.Errorf("%w: unknown file type (want .yaml, .yml or .jsonl)", ErrFormat)}
	}
}

func parseJSONL(name string, data []byte) (*Library, error) {
	lib := &Library{byKey: map[string]*Entry{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	line := 0
	for sc.Scan() {
		line++
		text := bytes.TrimSpace(sc.Bytes())
		if line == 1 {
			text = bytes.TrimPrefix(text, []byte("\uFEFF"))
		}
		if len(text) == 0 || text[0] == '#' {
			continue
		}
		var e Entry
		dec := json.NewDecoder(bytes.NewReader(text))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return nil, &ParseError{File: name, Line: line, Err: fmt.Errorf("%w: %v", ErrFormat, err)}
		}
		if err := lib.add(e); err != nil {
			return nil, &ParseError{File: name, Line: line, Err: err}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, &ParseError{File: name, Line: line + 1, Err: fmt.Errorf("%w: %v", ErrFormat, err)}
	}
	return lib, nil
}

func parseYAML(name string, data []byte) (*Library, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, &ParseError{File: name, Line: yamlErrLine(err), Err: fmt.Errorf("%w: %v", ErrFormat, err)}
	}
	lib := &Library{byKey: map[string]*Entry{}}
	if root.Kind == 0 || len(root.Content) == 0 { // empty file
		return lib, nil
	}
	doc := root.Content[0]
	list := doc
	if doc.Kind == yaml.MappingNode {
		var fd fileDoc
		if err := doc.Decode(&fd); err != nil {
			return nil, &ParseError{File: name, Line: doc.Line, Err: fmt.Errorf("%w: %v", ErrFormat, err)}
		}
		lib.synonyms = fd.Synonyms
		list = &fd.Entries
		if list.Kind == 0 {
			return lib, nil
		}
	}
	if list.Kind != yaml.SequenceNode {
		return nil, &ParseError{File: name, Line: list.Line, Err: fmt.Errorf("%w: want a list of entries", ErrFormat)}
	}
	for _, n := range list.Content {
		var e Entry
		if err := decodeStrict(n, &e); err != nil {
			return nil, &ParseError{File: name, Line: n.Line, Err: fmt.Errorf("%w: %v", ErrFormat, err)}
		}
		if err := lib.add(e); err != nil {
			return nil, &ParseError{File: name, Line: n.Line, Err: err}
		}
	}
	return lib, nil
}

// decodeStrict decodes one entry node, rejecting unknown keys (a misspelt "exmaples" would
// otherwise be dropped silently).
func decodeStrict(n *yaml.Node, e *Entry) error {
	if n.Kind != yaml.MappingNode {
		return errors.New("entry is not a mapping")
	}
	known := map[string]bool{"id": true, "locale": true, "category": true, "question": true, "answer": true, "examples": true, "keywords": true}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i].Value; !known[k] {
			return fmt.Errorf("line %d: unknown field %q", n.Content[i].Line, k)
		}
	}
	return n.Decode(e)
}

// yamlErrLine extracts "line N" from a yaml.v3 syntax error.
func yamlErrLine(err error) int {
	var line int
	msg := err.Error()
	if i := strings.Index(msg, "line "); i >= 0 {
		fmt.Sscanf(msg[i+5:], "%d", &line)
	}
	return line
}
