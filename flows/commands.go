package flows

import "github.com/kefu-dev/kefu/locales"

// Commands work in every state: /start, /help, /status, /lang [zh|en], /link [CODE], /cancel, /human.
// In a brand-new conversation the greeting comes first.

func (m *Machine) command(s Session, in Input, name, args string) (Session, []Effect) {
	var lead []Effect
	if s.State == StateNew {
		first := event{in: Input{LangHint: in.LangHint, Caps: in.Caps}}
		if name == "start" {
			return m.stepNew(s, first)
		}
		s, lead = m.stepNew(s, first)
	}
	next, effects := m.run(s, in, name, args)
	return next, append(lead, effects...)
}

func (m *Machine) run(s Session, in Input, name, args string) (Session, []Effect) {
	switch name {
	case "start":
		effects := []Effect{m.greeting(s, in.Caps)}
		if s.State == StateTicketOpen {
			return s, append(effects, sayArgs("ticket.open_reminder", map[string]any{"no": s.TicketNo}))
		}
		s.State, s.Intake, s.Asked, s.Candidates = StateIdle, Intake{}, 0, nil
		return s, effects
	case "help":
		return s, say("help.text")
	case "status", "tickets":
		return s, []Effect{ListTickets{}}
	case "lang", "language":
		if args == "" {
			return s, []Effect{sayArgs("lang.choose", nil, choice("lang.zh", "lang:"+locales.ZhCN), choice("lang.en", "lang:"+locales.En))}
		}
		return m.setLang(s, args)
	case "link":
		if args == "" {
			return s, []Effect{IssueLinkCode{}}
		}
		return s, []Effect{UseLinkCode{Code: args}}
	case "cancel":
		switch s.State {
		case StateAnswered, StateChoosing, StateAnythingElse, StateAskType, StateAskDescription, StateAskOrder,
			StateAskUrgency, StateConfirm:
			s.State, s.Intake, s.Asked, s.Candidates = StateIdle, Intake{}, 0, nil
			return s, say("cancel.done")
		}
		return s, say("cancel.nothing")
	case "human", "agent", "rengong":
		return m.human(s, event{text: "/" + name})
	}
	return s, []Effect{sayArgs("error.unknown_command", map[string]any{"cmd": clip(name, 32)})}
}

// langArgs maps what customers type after /lang to a catalog language.
var langArgs = map[string]string{"zh": locales.ZhCN, "zh-cn": locales.ZhCN, "cn": locales.ZhCN, "中文": locales.ZhCN,
	"chinese": locales.ZhCN, "简体中文": locales.ZhCN, "en": locales.En, "english": locales.En, "英文": locales.En, "英语": locales.En}

// setLang switches the language and asks the current question again in it.
func (m *Machine) setLang(s Session, arg string) (Session, []Effect) {
	l, ok := langArgs[lower(arg)]
	if !ok {
		if l = locales.Match(arg); l == "" {
			return s, []Effect{sayArgs("lang.bad", map[string]any{"arg": clip(arg, 20)},
				choice("lang.zh", "lang:"+locales.ZhCN), choice("lang.en", "lang:"+locales.En))}
		}
	}
	s.Lang = l
	return s, append([]Effect{SetLang{Lang: l}, Say{Key: "lang.switched"}}, m.prompt(s)...)
}
