package flows

import (
	"slices"

	"github.com/kefu-dev/kefu/kb"
)

// Prematched is an FAQ lookup made before Step, outside the store's transaction (issue 14): on
// SQLite the engine's steps run one after another in the group-commit writer, so a lookup inside the
// step is time every other customer's message waits for; made beforehand it runs beside them. Step
// uses it only when the step asks exactly this question in exactly this language, so a wrong guess
// costs the lookup again, never a different answer.
type Prematched struct {
	text, lang string
	hits       []kb.Hit
}

// MayAsk reports whether a step in state st may look a plain-text message up in the FAQ library (the
// states whose step can reach ask).
func MayAsk(st State) bool {
	switch st {
	case StateNew, StateIdle, StateAnswered, StateChoosing, StateAnythingElse:
		return true
	}
	return false
}

// Prematch looks in's text up as ask would for a session in lang; nil when in is not a plain-text
// question (a button, a command, a signal, nothing, or too long).
func (m *Machine) Prematch(in Input, lang string) *Prematched {
	if m.kb == nil || in.Signal != SignalNone || in.Button != "" || in.Command != "" || len(in.Text) > m.cfg.MaxInputBytes {
		return nil
	}
	text := Normalize(in.Text)
	if text == "" {
		return nil
	}
	if _, _, ok := ParseCommand(text); ok {
		return nil
	}
	lang = normLang(lang)
	return &Prematched{text: text, lang: lang, hits: m.kb.Match(text, lang, maxCandidates)}
}

// match is ask's lookup: the prematched hits when they are for this text and language.
func (m *Machine) match(text, lang string) []kb.Hit {
	if p := m.pre; p != nil && p.text == text && p.lang == lang {
		return slices.Clone(p.hits)
	}
	return m.kb.Match(text, lang, maxCandidates)
}
