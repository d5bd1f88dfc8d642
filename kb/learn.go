package kb

import (
	"strings"
	"unicode"
)

// Learned is a customer's own wording confirmed for an entry: they picked the entry among the bot's
// candidates and said it helped, or an agent answered their ticket with it. Accepted by a supervisor,
// it becomes an example of the entry (learning from use, issue 18).
type Learned struct {
	EntryID string
	Lang    string
	Text    string
}

// WithExamples returns a copy of the library with the learned texts added as examples of their entries.
// A text already among the entry's question and examples (after normalization), a text for an entry
// the library does not have, and a text that looks like it carries personal data (see Learnable) are
// left out. It returns how many examples were added.
func (l *Library) WithExamples(add []Learned) (*Library, int) {
	if len(add) == 0 {
		return l, 0
	}
	byKey := map[string][]string{}
	for _, a := range add {
		if !Learnable(a.Text) {
			continue
		}
		k := a.Lang + "\x00" + a.EntryID
		byKey[k] = append(byKey[k], strings.TrimSpace(a.Text))
	}
	out := &Library{byKey: make(map[string]*Entry, len(l.entries)), synonyms: l.synonyms}
	n := 0
	for _, e := range l.entries {
		c := *e
		if extra := byKey[c.Lang+"\x00"+c.ID]; len(extra) > 0 {
			seen := map[string]bool{normalize(c.Question): true}
			for _, x := range c.Examples {
				seen[normalize(x)] = true
			}
			c.Examples = append([]string(nil), c.Examples...)
			for _, x := range extra {
				if nx := normalize(x); !seen[nx] {
					seen[nx] = true
					c.Examples = append(c.Examples, x)
					c.Learned++
					n++
				}
			}
		}
		p := &c
		out.entries = append(out.entries, p)
		out.byKey[c.Lang+"\x00"+c.ID] = p
	}
	return out, n
}

// Learnable reports whether a customer's text may become an FAQ example that every later customer's
// query is matched against: short enough to be a question, and with nothing that looks like personal
// data (a run of 6+ digits: a phone, ID, card or order number; an e-mail address). Deliberately
// conservative and hand-written: it only has to refuse, never to find where the data is (the masking
// detector does that for display).
func Learnable(text string) bool {
	text = strings.TrimSpace(text)
	if text == "" || len([]rune(text)) > 200 || strings.Contains(text, "@") {
		return false
	}
	run := 0
	for _, r := range text {
		if unicode.IsDigit(r) {
			if run++; run >= 6 {
				return false
			}
		} else if r != ' ' && r != '-' {
			run = 0
		}
	}
	return true
}

// LabeledQuery is one query of a simulated stream with the entry that answers it ("" = none).
type LabeledQuery struct {
	Text, Lang, Expect string
}

// SimulateLearning replays traffic against m and returns what the learning loop would collect: a
// customer is assumed to confirm an entry only when the bot showed it (it was answered, or among the k
// candidates of a suggestion) and it is the right one; the loop proposes the wording only when the
// bot was not already confidently right. Out-of-scope queries never produce a confirmation.
func SimulateLearning(m *Index, traffic []LabeledQuery, k int) []Learned {
	var out []Learned
	for _, q := range traffic {
		if q.Expect == "" {
			continue
		}
		hits := m.Match(q.Text, q.Lang, k)
		d := m.Decide(hits)
		if d == NoMatch {
			continue
		}
		if d == Answer {
			// Confidently right: nothing to learn. Confidently wrong: the customer says it did not
			// help and goes on to a ticket; the loop learns nothing either.
			continue
		}
		for _, h := range hits {
			if h.Entry.ID == q.Expect {
				out = append(out, Learned{EntryID: h.Entry.ID, Lang: h.Entry.Lang, Text: q.Text})
				break
			}
		}
	}
	return out
}
