package flows

import "github.com/kefu-dev/kefu/locales"

// 阶段一 步骤1-1: the customer arrives. Greet with the standard script (company and bot name), pick the
// language from the text or the platform, then treat anything more than a greeting as the question.

func (m *Machine) greeting(s Session, c Caps) Say {
	return sayArgs(c.scriptKey("greeting.hello"), map[string]any{
		"company": m.name(m.cfg.Company, s.Lang),
		"bot":     m.name(m.cfg.BotName, s.Lang),
	})
}

func (m *Machine) name(names map[string]string, lang string) string {
	if n := names[lang]; n != "" {
		return n
	}
	return names[locales.ZhCN]
}

// stepNew greets. The language is detected only on a conversation's very first input (Seq 0); later
// (after a closing, /start) the session keeps the language it has.
func (m *Machine) stepNew(s Session, ev event) (Session, []Effect) {
	var effects []Effect
	if s.Seq == 0 {
		if l := DetectLang(ev.text, firstNonEmpty(ev.in.LangHint, s.Lang)); l != s.Lang {
			s.Lang = l
			effects = append(effects, SetLang{Lang: l})
		}
	}
	effects = append(effects, m.greeting(s, ev.in.Caps))
	s.State, s.Intake, s.Asked = StateIdle, Intake{}, 0
	if ev.text == "" || isGreeting(ev.text) || isAck(ev.text) || len(ev.text) > m.cfg.MaxInputBytes {
		return s, effects
	}
	if none, _, _ := noWords(ev.text); none {
		return s, effects
	}
	if m.isHuman(ev.text) {
		next, more := m.human(s, ev)
		return next, append(effects, more...)
	}
	next, more := m.stepIdle(s, ev)
	return next, append(effects, more...)
}

// stepIdle takes a new question: complaints are soothed and clarified, a ticket number is shown, a
// status question lists tickets, anything else goes to the FAQ.
func (m *Machine) stepIdle(s Session, ev event) (Session, []Effect) {
	if ev.button {
		return m.stale(s)
	}
	text := ev.text
	switch {
	case isGreeting(text):
		return s, []Effect{sayArgs("greeting.back", map[string]any{"bot": m.name(m.cfg.BotName, s.Lang)})}
	case findTicketNo(text) != "":
		return s, []Effect{ShowTicket{No: findTicketNo(text)}}
	case m.status.match(text):
		return s, []Effect{ListTickets{}}
	case m.complaint.match(text):
		return m.startComplaint(s, text)
	}
	return m.ask(s, text)
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
