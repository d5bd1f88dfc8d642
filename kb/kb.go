// Package kb is the FAQ library and its matching.
package kb

// Entry is one FAQ entry in one language.
type Entry struct {
	ID       string   `json:"id" yaml:"id"`
	Lang     string   `json:"locale" yaml:"locale"` // "zh-CN" or "en"; empty means any
	Category string   `json:"category,omitempty" yaml:"category,omitempty"`
	Question string   `json:"question" yaml:"question"`
	Answer   string   `json:"answer" yaml:"answer"`
	Examples []string `json:"examples,omitempty" yaml:"examples,omitempty"`
	Keywords []string `json:"keywords,omitempty" yaml:"keywords,omitempty"`
	// Learned is how many of the last Examples came from the learning loop (Library.WithExamples):
	// customers' own wordings. They are matched like the others but never used as the held-out
	// probes of self-calibration, whose thresholds stay tied to the library's authored examples.
	Learned int `json:"-" yaml:"-"`
}

// Hit is a ranked entry with its calibrated confidence in [0,1].
type Hit struct {
	Entry *Entry
	Score float64
}

// Decision is what the flow does with a query.
type Decision int

const (
	NoMatch Decision = iota // nothing fits: clarify and open a ticket
	Suggest                 // unsure: offer the top candidates
	Answer                  // confident: answer directly
)

// Matcher ranks entries for a query. An implementation is immutable once built and safe for concurrent
// use. Match returns at most k hits, best first, restricted to lang (entries with an empty Lang match
// any lang); Decide turns the hits into a decision using the matcher's calibrated thresholds.
type Matcher interface {
	Match(query, lang string, k int) []Hit
	Decide(hits []Hit) Decision
	// Entry returns the entry with this id in lang (falling back to any language), or nil.
	Entry(id, lang string) *Entry
}
