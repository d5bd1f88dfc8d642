package bot

import (
	"hash/maphash"
	"sync"

	"github.com/kefu-dev/kefu/flows"
)

// Prematcher is a Stepper that can look a message up in the FAQ library before the step
// (*flows.Machine): Deliver then runs the lookup before it enters the store's transaction.
type Prematcher interface {
	Prematch(in flows.Input, lang string) *flows.Prematched
}

// hintSlots is the size of the engine's table of conversation hints: 4,096 slots of a few dozen
// bytes, whatever the number of customers.
const hintSlots = 4096

// hints remembers, per conversation, the state and language its last message left, so Deliver can
// tell before the transaction whether the next plain-text message will be looked up in the FAQ
// library, and in which language. It is a direct-mapped table: a conversation whose slot another took
// is simply not prematched (its lookup runs inside the step, as without hints). A stale hint (another
// process moved the conversation on) costs one lookup, never a wrong answer: the step uses a
// prematch only for the same text and language.
type hints struct {
	seed  maphash.Seed
	mu    sync.Mutex
	slots [hintSlots]hint
}

type hint struct {
	key   string
	state flows.State
	lang  string
}

func newHints() *hints { return &hints{seed: maphash.MakeSeed()} }

func hintKey(ev Event) string { return string(ev.Channel) + "\x00" + ev.ChatID }

func (h *hints) slot(key string) *hint {
	return &h.slots[maphash.String(h.seed, key)%hintSlots]
}

func (h *hints) get(key string) (hint, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.slot(key)
	return *s, s.key == key
}

func (h *hints) put(key string, st flows.State, lang string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	*h.slot(key) = hint{key: key, state: st, lang: lang}
}

// prematch is the FAQ lookup of ev made before the transaction, or nil when the conversation's last
// known state would not look it up (or the Stepper cannot).
func (e *Engine) prematch(ev Event) *flows.Prematched {
	p, ok := e.flows.(Prematcher)
	if !ok || e.hints == nil {
		return nil
	}
	h, ok := e.hints.get(hintKey(ev))
	if !ok || !flows.MayAsk(h.state) {
		return nil
	}
	return p.Prematch(e.input(ev), h.lang)
}
