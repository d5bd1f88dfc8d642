package flows

// 解决方案制定与沟通: an agent proposes a standard solution (the engine signals SignalProposal with the
// proposal id in Input.Args); the customer accepts or declines with a button, or in words. A decline
// asks for the reason (unless the words already give one); the decision goes back to the agent.

// StateProposal and StateDeclineReason: a solution is on offer / the customer declined it: why?
const (
	StateProposal      State = "proposal"
	StateDeclineReason State = "decline_reason"
)

// SignalProposal: an agent's proposal (Input.Args: its id) awaits the customer's answer.
const SignalProposal Signal = "proposal"

// DecideProposal records the customer's answer to proposal ID of ticket No.
type DecideProposal struct {
	No     string
	ID     string
	Accept bool
	Reason string
}

func (DecideProposal) effect() {}

// offer is the question with its buttons; the engine fills the solution (args "solution", "amount").
func (m *Machine) offerSay(key string) []Effect {
	return []Effect{sayArgs(key, nil, choice("proposal.accept", "accept"), choice("proposal.decline", "decline"))}
}

func (m *Machine) proposalSignal(s Session, in Input) (Session, []Effect) {
	s.TicketNo, s.Proposal, s.State, s.Asked = firstNonEmpty(in.TicketNo, s.TicketNo), in.Args, StateProposal, 0
	return s, m.offerSay("proposal.offer")
}

func (m *Machine) stepProposal(s Session, ev event) (Session, []Effect) {
	accept, known := false, false
	if ev.button {
		if ev.action != "accept" && ev.action != "decline" {
			return m.stale(s)
		}
		accept, known = ev.action == "accept", true
	} else {
		accept, known = yesNo(ev.text)
	}
	switch {
	case known && accept:
		return m.decide(s, true, "")
	case known && !ev.button && weight(ev.text) >= 3*m.cfg.MinDescriptionRunes: // "不行，我要全额退款": the reason too
		return m.decide(s, false, ev.text)
	case known:
		s.State, s.Asked = StateDeclineReason, 0
		return s, say("proposal.ask_reason")
	}
	s.Asked++
	if s.Asked > m.cfg.MaxReasks { // not an answer: it is what the customer thinks of the offer
		return m.decide(s, false, ev.text)
	}
	return s, append(say("clarify.pick_button"), m.offerSay("proposal.ask_again")...)
}

func (m *Machine) stepDeclineReason(s Session, ev event) (Session, []Effect) {
	if ev.button {
		return m.stale(s)
	}
	return m.decide(s, false, ev.text)
}

func (m *Machine) decide(s Session, accept bool, reason string) (Session, []Effect) {
	d := DecideProposal{No: s.TicketNo, ID: s.Proposal, Accept: accept, Reason: reason}
	s.State, s.Asked, s.Proposal = StateTicketOpen, 1, ""
	key := "proposal.accepted"
	if !accept {
		key = "proposal.declined"
	}
	return s, []Effect{d, sayArgs(key, map[string]any{"no": s.TicketNo})}
}
