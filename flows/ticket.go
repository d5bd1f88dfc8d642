package flows

// 阶段二/三: while a ticket is open every customer message is added to it (the agent sees it; the
// customer gets a short acknowledgement for the first one only, so a chatty customer is not spammed).
// The customer can ask for their tickets. When an agent resolves it the customer confirms (已解决 /
// 未解决); unsolved reopens it with the reason, solved starts the survey.

// human: "人工" / "转人工" / "agent" at any step goes straight to a ticket for a person. Outside
// clarification the earlier question (an FAQ already answered) is not this request: the intake starts
// empty, so the ticket's summary never repeats an unrelated question. Without a category the issue type
// is asked once, with a skip button; the ticket opens at the next tap or message.
func (m *Machine) human(s Session, ev event) (Session, []Effect) {
	switch s.State {
	case StateTicketOpen, StateProposal, StateDeclineReason:
		return s, []Effect{AddToTicket{Text: ev.text, Media: ev.in.Media}, sayArgs("human.already", map[string]any{"no": s.TicketNo})}
	case StateConfirmSolved, StateReopenReason: // the resolution did not help: reopen for a person
		return m.reopen(s, ev.text)
	case StateAskType, StateAskDescription, StateAskOrder, StateAskUrgency, StateAskField, StateConfirm, StateAskAll:
		s.Batch = nil
	default:
		s.Intake = Intake{}
	}
	s.Intake.Human = true
	if s.Intake.Urgency == "" {
		s.Intake.Urgency = m.inferUrgency(join(s.Intake.Description, ev.text))
	}
	if m.complaint.match(ev.text) {
		s.Intake.Complaint = true
	}
	if s.Intake.Category == "" {
		s.State, s.Asked, s.Candidates = StateAskType, 0, nil
		return s, m.humanTypeSay(s)
	}
	return m.openTicket(s, say("human.transfer"))
}

// humanTypeSay asks the issue type before a person takes over, with a skip button.
func (m *Machine) humanTypeSay(s Session) []Effect {
	return []Effect{sayArgs("human.ask_type", nil, append(m.typeChoices(s), choice("btn.skip", "skip"))...)}
}

func (m *Machine) stepTicketOpen(s Session, ev event) (Session, []Effect) {
	if ev.button {
		return m.stale(s)
	}
	// A short message naming a ticket asks about it; a longer one is more information for the agent.
	if no := findTicketNo(ev.text); no != "" && runeLen(ev.text) <= 30 {
		return s, []Effect{ShowTicket{No: no}}
	}
	if m.status.match(ev.text) && runeLen(ev.text) <= 40 {
		return s, []Effect{ListTickets{}}
	}
	effects := []Effect{AddToTicket{Text: ev.text, Media: ev.in.Media}}
	if s.Asked == 0 {
		s.Asked = 1
		effects = append(effects, sayArgs("ticket.added", map[string]any{"no": s.TicketNo}))
	}
	return s, effects
}

// signal moves the conversation on after something an agent did.
func (m *Machine) signal(s Session, in Input) (Session, []Effect) {
	no := firstNonEmpty(in.TicketNo, s.TicketNo)
	switch in.Signal {
	case SignalResolved:
		s.TicketNo, s.State, s.Asked = no, StateConfirmSolved, 0
		return s, m.askSolvedSay(s, Normalize(in.Text))
	case SignalProposal:
		return m.proposalSignal(s, in)
	case SignalClosed:
		effects := []Effect{sayArgs("ticket.closed", map[string]any{"no": no})}
		if no == s.TicketNo && (s.State == StateTicketOpen || s.State == StateConfirmSolved || s.State == StateReopenReason ||
			s.State == StateProposal || s.State == StateDeclineReason) {
			s.State, s.TicketNo, s.Asked = StateIdle, "", 0
		}
		return s, effects
	}
	return s, nil
}

// askSolvedSay asks 已解决 / 未解决; summary is the agent's resolution note, if any (Input.Text of the signal).
func (m *Machine) askSolvedSay(s Session, summary string) []Effect {
	args := map[string]any{"no": s.TicketNo}
	if summary != "" {
		args["summary"] = clip(summary, 300)
	}
	return []Effect{sayArgs("resolve.confirm", args, choice("resolve.yes", "solved"), choice("resolve.no", "unsolved"))}
}

func (m *Machine) stepConfirmSolved(s Session, ev event) (Session, []Effect) {
	solved, known := false, false
	if ev.button {
		if ev.action != "solved" && ev.action != "unsolved" {
			return m.stale(s)
		}
		solved, known = ev.action == "solved", true
	} else {
		solved, known = yesNo(ev.text)
	}
	switch {
	case known && solved:
		s.State, s.Asked = StateRating, 0
		return s, append([]Effect{ConfirmSolved{No: s.TicketNo}}, m.askRatingSay("survey.ask")...)
	case known:
		s.State, s.Asked = StateReopenReason, 0
		return s, say("reopen.ask_reason")
	}
	s.Asked++
	if s.Asked > m.cfg.MaxReasks { // not a yes/no: it is the reason it is not solved
		return m.reopen(s, ev.text)
	}
	return s, append(say("clarify.pick_button"), m.askSolvedSay(s, "")...)
}

func (m *Machine) stepReopenReason(s Session, ev event) (Session, []Effect) {
	if ev.button {
		return m.stale(s)
	}
	return m.reopen(s, ev.text)
}

func (m *Machine) reopen(s Session, reason string) (Session, []Effect) {
	s.State, s.Asked = StateTicketOpen, 1 // the customer was just told; no extra acknowledgement
	return s, []Effect{Reopen{No: s.TicketNo, Reason: reason}, sayArgs("reopen.done", map[string]any{"no": s.TicketNo})}
}
