package flows

import (
	"slices"

	"github.com/kefu-dev/kefu/kb"
)

// 标准问题解答: look the question up in the FAQ library. Confident: answer and ask whether it helped.
// Unsure: offer the top three questions and "none of these". Nothing: clarify and open a ticket.

const maxCandidates = 3

func (m *Machine) ask(s Session, text string) (Session, []Effect) {
	s.Intake = Intake{FirstText: text}
	s.Candidates, s.LastFAQ, s.Asked = nil, "", 0
	var hits []kb.Hit
	decision := kb.NoMatch
	if m.kb != nil {
		hits = m.match(text, s.Lang)
		hits = slices.DeleteFunc(hits, func(h kb.Hit) bool { return h.Entry == nil || h.Entry.ID == "" })
		if len(hits) > 0 {
			decision = m.kb.Decide(hits)
		}
	}
	switch decision {
	case kb.Answer:
		return m.answer(s, hits[0].Entry.ID)
	case kb.Suggest:
		ids := make([]string, 0, maxCandidates)
		for _, h := range hits {
			if len(ids) < maxCandidates && !slices.Contains(ids, h.Entry.ID) {
				ids = append(ids, h.Entry.ID)
			}
		}
		s.State, s.Candidates = StateChoosing, ids
		return s, m.offerCandidates(s, ids)
	}
	next, effects := m.startClarify(s, text, "faq.no_answer")
	return next, append([]Effect{Unanswered{Text: text}}, effects...)
}

// answer gives an FAQ entry's answer and asks whether it helped.
func (m *Machine) answer(s Session, id string) (Session, []Effect) {
	s.State, s.LastFAQ, s.Candidates, s.Asked = StateAnswered, id, nil, 0
	return s, append([]Effect{AnswerFAQ{EntryID: id, Query: s.Intake.FirstText}}, m.askHelped()...)
}

func (m *Machine) askHelped() []Effect {
	return []Effect{sayArgs("faq.helped?", nil, choice("faq.yes", "yes"), choice("faq.no", "no"))}
}

func (m *Machine) offerCandidates(s Session, ids []string) []Effect {
	var cs []Choice
	for _, id := range ids {
		label := id
		if m.kb != nil {
			if e := m.kb.Entry(id, s.Lang); e != nil && e.Question != "" {
				label = e.Question
			}
		}
		cs = append(cs, Choice{Label: label, Payload: "pick:" + id})
	}
	cs = append(cs, choice("faq.none", "none"))
	return []Effect{sayArgs("faq.suggest", nil, cs...)}
}

// stepAnswered: "did this solve it?" Yes: anything else? No: clarification. Other text is a new question.
func (m *Machine) stepAnswered(s Session, ev event) (Session, []Effect) {
	helped, ok := ev.action == "yes", ev.button && (ev.action == "yes" || ev.action == "no")
	if ev.button && !ok {
		return m.stale(s)
	}
	if !ev.button {
		helped, ok = yesNo(ev.text)
	}
	if !ok {
		return m.stepIdle(s, ev)
	}
	fb := FAQFeedback{EntryID: s.LastFAQ, Helped: helped}
	if helped {
		s.State, s.Intake = StateAnythingElse, Intake{}
		return s, append([]Effect{fb}, m.askAnythingElse()...)
	}
	next, effects := m.startClarify(s, s.Intake.FirstText, "faq.not_helped")
	return next, append([]Effect{fb}, effects...)
}

// stepChoosing: a candidate (button or its number) is answered; "none of these" goes to clarification.
func (m *Machine) stepChoosing(s Session, ev event) (Session, []Effect) {
	if ev.button {
		switch {
		case ev.action == "pick" && slices.Contains(s.Candidates, ev.arg):
			return m.answer(s, ev.arg)
		case ev.action == "none":
			next, effects := m.startClarify(s, s.Intake.FirstText, "faq.no_answer")
			return next, append([]Effect{Unanswered{Text: s.Intake.FirstText}}, effects...)
		}
		return m.stale(s)
	}
	if n, ok := smallNumber(ev.text, len(s.Candidates)); ok {
		return m.answer(s, s.Candidates[n-1])
	}
	if yes, ok := yesNo(ev.text); ok && !yes { // "都不是" / "none"
		next, effects := m.startClarify(s, s.Intake.FirstText, "faq.no_answer")
		return next, append([]Effect{Unanswered{Text: s.Intake.FirstText}}, effects...)
	}
	return m.stepIdle(s, ev)
}

// 服务结束: "请问还有其他可以帮您的吗？" No: the closing phrase.
func (m *Machine) askAnythingElse() []Effect {
	return []Effect{sayArgs("anything.else", nil, choice("anything.yes", "more"), choice("anything.no", "done"))}
}

func (m *Machine) stepAnythingElse(s Session, ev event) (Session, []Effect) {
	more, ok := ev.action == "more", ev.button && (ev.action == "more" || ev.action == "done")
	if ev.button && !ok {
		return m.stale(s)
	}
	if !ev.button {
		if yes, isAnswer := yesNo(ev.text); isAnswer && (!yes || isThanks(ev.text)) {
			more, ok = false, true
		} else if isAnswer && yes {
			more, ok = true, true
		}
	}
	if !ok {
		return m.stepIdle(s, ev)
	}
	s.State = StateIdle
	if more {
		return s, say("anything.ask")
	}
	return s, say(ev.in.Caps.scriptKey("closing"))
}

var thanksWords = wordList{"谢谢", "感谢", "多谢", "thanks", "thank you", "thx"}

func isThanks(text string) bool { return thanksWords.match(text) }
