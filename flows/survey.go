package flows

import "strconv"

// 满意度调查: after the customer confirms the solution, a 1–5 score (buttons) and an optional comment,
// both stored on the ticket; then thanks and the closing phrase.

// LowRating is the highest score that counts as dissatisfied: the thank-you apologizes and a return
// visit by a supervisor is due within 24 hours.
const LowRating = 3

func (m *Machine) askRatingSay(key string) []Effect {
	cs := make([]Choice, 0, 5)
	for n := 5; n >= 1; n-- {
		cs = append(cs, Choice{Key: "survey.score", Args: map[string]any{"n": n}, Payload: "rate:" + strconv.Itoa(n)})
	}
	return []Effect{sayArgs(key, nil, cs...)}
}

func (m *Machine) stepRating(s Session, ev event) (Session, []Effect) {
	score := 0
	if ev.button {
		n, err := strconv.Atoi(ev.arg)
		if ev.action != "rate" || err != nil || n < 1 || n > 5 {
			return m.stale(s)
		}
		score = n
	} else if n, ok := smallNumber(ev.text, 5); ok {
		score = n
	}
	if score == 0 {
		s.Asked++
		if s.Asked > m.cfg.MaxReasks { // the customer moved on: drop the survey, take the text as a question
			s.State, s.TicketNo, s.Asked = StateIdle, "", 0
			return m.stepIdle(s, ev)
		}
		return s, m.askRatingSay("survey.bad_score")
	}
	s.Rating, s.State, s.Asked = score, StateComment, 0
	return s, append([]Effect{Rate{No: s.TicketNo, Score: score}}, m.askCommentSay()...)
}

func (m *Machine) askCommentSay() []Effect {
	return []Effect{sayArgs("survey.ask_comment", nil, choice("btn.skip", "skip"))}
}

func (m *Machine) stepComment(s Session, ev event) (Session, []Effect) {
	var effects []Effect
	if ev.button {
		if ev.action != "skip" {
			return m.stale(s)
		}
	} else {
		effects = append(effects, Comment{No: s.TicketNo, Text: ev.text})
	}
	thanks := "survey.thanks"
	if s.Rating >= 1 && s.Rating <= LowRating { // a low score is not "encouragement": apologize, a supervisor follows up
		thanks = "survey.thanks_low"
	}
	s.State, s.TicketNo, s.Asked, s.Intake, s.Rating = StateIdle, "", 0, Intake{}, 0
	return s, append(effects, Say{Key: thanks}, Say{Key: ev.in.Caps.scriptKey("closing")})
}
