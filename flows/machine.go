package flows

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/kefu-dev/kefu/kb"
)

// Urgency values of Intake.Urgency.
const (
	UrgencyUrgent = "urgent"
	UrgencyNormal = "normal"
	UrgencyLow    = "low"
)

// Priorities of Intake.Priority (the seeds' P0/P1/P2).
const (
	P0 = "P0"
	P1 = "P1"
	P2 = "P2"
)

// ErrInternal wraps a panic recovered inside Step (a bug): the session is returned unchanged.
var ErrInternal = errors.New("internal error")

// Options configure a Machine.
type Options struct {
	KB     kb.Matcher // FAQ matching; nil means every question goes to clarification
	Config Config     // zero fields take DefaultConfig's values
}

// Machine runs conversations. It holds read-only dependencies only and is safe for concurrent use.
type Machine struct {
	kb  kb.Matcher
	cfg Config

	// known is Input.Profile of the step being run: Step runs on a copy of the Machine that carries it
	// (the shared Machine stays read-only).
	known Profile
	// pre is Input.Prematched of the step being run (the same way).
	pre *Prematched

	orderRE                                    *regexp.Regexp
	urgent, low, complaint, humanWords, status wordList
	catWords                                   []wordList
}

// New builds a Machine, validating the configuration.
func New(o Options) (*Machine, error) {
	cfg := o.Config.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("flows: config: %w", err)
	}
	m := &Machine{
		kb:         o.KB,
		cfg:        cfg,
		orderRE:    regexp.MustCompile(cfg.OrderNoPattern),
		urgent:     flatten(cfg.UrgentWords),
		low:        flatten(cfg.LowWords),
		complaint:  flatten(cfg.ComplaintWords),
		humanWords: flatten(cfg.HumanWords),
		status:     flatten(cfg.StatusWords),
	}
	for _, c := range cfg.Categories {
		m.catWords = append(m.catWords, wordList(c.Words))
	}
	return m, nil
}

// Config returns the configuration in use (defaults applied).
func (m *Machine) Config() Config { return m.cfg }

// NewSession starts a conversation in lang (any language code; unknown means zh-CN).
func NewSession(lang string) Session {
	return Session{State: StateNew, Lang: normLang(lang)}
}

// event is one input as the state steps see it: normalized text, or a decoded button.
type event struct {
	in     Input
	text   string
	button bool   // a (valid, current) button press
	action string // button action
	arg    string // button argument
}

type step func(m *Machine, s Session, ev event) (Session, []Effect)

// steps maps each state to its step (one file per group: greet.go faq.go clarify.go ticket.go survey.go).
var steps map[State]step

func init() {
	steps = map[State]step{
		StateNew:            (*Machine).stepNew,
		StateIdle:           (*Machine).stepIdle,
		StateAnswered:       (*Machine).stepAnswered,
		StateChoosing:       (*Machine).stepChoosing,
		StateAnythingElse:   (*Machine).stepAnythingElse,
		StateAskType:        (*Machine).stepAskType,
		StateAskDescription: (*Machine).stepAskDescription,
		StateAskOrder:       (*Machine).stepAskOrder,
		StateAskUrgency:     (*Machine).stepAskUrgency,
		StateConfirm:        (*Machine).stepConfirm,
		StateTicketOpen:     (*Machine).stepTicketOpen,
		StateConfirmSolved:  (*Machine).stepConfirmSolved,
		StateReopenReason:   (*Machine).stepReopenReason,
		StateRating:         (*Machine).stepRating,
		StateComment:        (*Machine).stepComment,
		StateProposal:       (*Machine).stepProposal,
		StateDeclineReason:  (*Machine).stepDeclineReason,
		StateAskField:       (*Machine).stepAskField,
		StateAskAll:         (*Machine).stepAskAll,
	}
}

// States lists every known state.
func States() []State {
	out := make([]State, 0, len(steps))
	for _, st := range []State{StateNew, StateIdle, StateAnswered, StateChoosing, StateAnythingElse, StateAskType,
		StateAskDescription, StateAskOrder, StateAskUrgency, StateConfirm, StateTicketOpen, StateConfirmSolved,
		StateReopenReason, StateRating, StateComment, StateProposal, StateDeclineReason, StateAskField, StateAskAll} {
		out = append(out, st)
	}
	return out
}

// Step moves the conversation s on by one input. It never panics and performs no I/O. The returned
// effects are carried out by the engine in order. An unknown state gives ErrUnknownState.
//
// Buttons: every Choice payload is "<seq>:<action>[:<arg>]". Session.Seq increases whenever the state
// changes or a step offers new buttons, so a press whose seq is not the session's current one (an older
// keyboard, another state) is stale: it is answered with "error.stale_button" and the state is kept.
func (m *Machine) Step(s Session, in Input) (out Session, effects []Effect, err error) {
	if _, ok := steps[s.State]; !ok {
		return s, nil, fmt.Errorf("flows: step: %w %q", ErrUnknownState, s.State)
	}
	defer func() {
		if r := recover(); r != nil {
			out, effects = s, []Effect{Say{Key: "error.internal"}}
			err = fmt.Errorf("flows: step in state %q: %w: %v", s.State, ErrInternal, r)
		}
	}()
	s.Lang = normLang(s.Lang)
	s.caps = in.Caps
	if in.Profile != nil || in.Prematched != nil {
		mm := *m
		if in.Profile != nil {
			mm.known = *in.Profile
		}
		mm.pre = in.Prematched
		m = &mm
	}
	next, effects := m.dispatch(s, in)
	next.caps = Caps{}
	return stamp(s, next, effects), effects, nil
}

// stamp advances Seq when the state changed or buttons were offered, and writes it into every payload.
func stamp(prev, next Session, effects []Effect) Session {
	choices := false
	for _, e := range effects {
		if say, ok := e.(Say); ok && len(say.Choices) > 0 {
			choices = true
		}
	}
	if choices || next.State != prev.State {
		next.Seq = prev.Seq + 1
	}
	for i, e := range effects {
		say, ok := e.(Say)
		if !ok || len(say.Choices) == 0 {
			continue
		}
		cs := make([]Choice, len(say.Choices))
		for j, c := range say.Choices {
			c.Payload = strconv.Itoa(next.Seq) + ":" + c.Payload
			cs[j] = c
		}
		say.Choices = cs
		effects[i] = say
	}
	return next
}

// ParsePayload splits a button payload into its seq, action and argument.
func ParsePayload(p string) (seq int, action, arg string, ok bool) {
	parts := strings.SplitN(p, ":", 3)
	if len(parts) < 2 || parts[1] == "" {
		return 0, "", "", false
	}
	n, err := strconv.Atoi(parts[0])
	if err != nil || n < 0 {
		return 0, "", "", false
	}
	if len(parts) == 3 {
		arg = parts[2]
	}
	return n, parts[1], arg, true
}

func (m *Machine) dispatch(s Session, in Input) (Session, []Effect) {
	if in.Signal != SignalNone {
		return m.signal(s, in)
	}
	ev := event{in: in, text: Normalize(in.Text)}
	if in.Button != "" {
		seq, action, arg, ok := ParsePayload(in.Button)
		if !ok || seq != s.Seq {
			return m.stale(s)
		}
		ev.button, ev.action, ev.arg = true, action, arg
		if action == "lang" {
			return m.setLang(s, arg)
		}
		if s.State == StateNew { // no buttons were offered yet
			return m.stale(s)
		}
		return steps[s.State](m, s, ev)
	}
	if in.Command != "" {
		return m.command(s, in, strings.ToLower(strings.TrimPrefix(strings.TrimSpace(in.Command), "/")), Normalize(in.Args))
	}
	if name, args, ok := ParseCommand(ev.text); ok {
		return m.command(s, in, name, args)
	}
	if s.State == StateNew {
		return m.stepNew(s, ev)
	}
	if len(in.Text) > m.cfg.MaxInputBytes || len(ev.text) > m.cfg.MaxInputBytes {
		return s, say("error.too_long")
	}
	if ev.text == "" {
		if in.Media {
			if s.State == StateTicketOpen {
				return m.stepTicketOpen(s, ev)
			}
			return s, say("error.media")
		}
		return s, say("error.empty")
	}
	if isAck(ev.text) {
		if !answersYesNo(s.State) {
			return m.ack(s, ev)
		}
		if _, known := yesNo(ev.text); !known { // "收到", "👍": an acknowledgement is a yes
			ev.text = "ok"
		}
		return steps[s.State](m, s, ev)
	}
	if none, emoji, unreadable := noWords(ev.text); none && (unreadable || s.State != StateTicketOpen && s.State != StateComment) {
		switch {
		case unreadable:
			return s, say("error.unreadable")
		case emoji:
			return s, say("error.emoji_only")
		}
		return s, say("error.empty")
	}
	if m.isHuman(ev.text) {
		return m.human(s, ev)
	}
	return steps[s.State](m, s, ev)
}

// stale answers a button that is not on the latest keyboard, and offers the current one again.
func (m *Machine) stale(s Session) (Session, []Effect) {
	return s, append(say("error.stale_button"), m.prompt(s)...)
}

// prompt is the question of the current state (with its buttons), to ask again.
func (m *Machine) prompt(s Session) []Effect {
	switch s.State {
	case StateAnswered:
		return m.askHelped()
	case StateChoosing:
		return m.offerCandidates(s, s.Candidates)
	case StateAnythingElse:
		return m.askAnythingElse()
	case StateAskType:
		if s.Intake.Human {
			return m.humanTypeSay(s)
		}
		return m.askTypeSay(s)
	case StateAskDescription:
		return say("clarify.ask_description")
	case StateAskOrder:
		return m.askOrderSay()
	case StateAskUrgency:
		return m.askUrgencySay()
	case StateAskField:
		return m.askFieldSay(s)
	case StateAskAll:
		return m.batchPrompt(s)
	case StateConfirm:
		return m.confirmSay(s)
	case StateConfirmSolved:
		return m.askSolvedSay(s, "")
	case StateReopenReason:
		return say("reopen.ask_reason")
	case StateRating:
		return m.askRatingSay("survey.bad_score")
	case StateComment:
		return m.askCommentSay()
	case StateProposal:
		return m.offerSay("proposal.ask_again")
	case StateDeclineReason:
		return say("proposal.ask_reason")
	}
	return nil
}

// say is one Say effect without arguments.
func say(key string) []Effect { return []Effect{Say{Key: key}} }

func sayArgs(key string, args map[string]any, choices ...Choice) Say {
	return Say{Key: key, Args: args, Choices: choices}
}

func choice(key, payload string) Choice { return Choice{Key: key, Payload: payload} }

// isHuman: a short message asking for a person ("转人工", "I want a human agent").
func (m *Machine) isHuman(text string) bool {
	if runeLen(text) > m.cfg.MaxHumanRunes {
		return false
	}
	return m.humanWords.match(strings.ReplaceAll(text, "人工智能", ""))
}
