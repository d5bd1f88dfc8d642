package flows

import (
	"github.com/kefu-dev/kefu/pii"

	"slices"
	"strings"
)

// 步骤1-1/1-2: clarification fills the 客户需求登记表 — issue type, description (现象+影响+期望),
// order number when the type needs one, urgency — then restates it ("您是想反馈……，对吗？") and opens a
// ticket. Fields are asked in that order; a field already known from earlier text is not asked.
//
// Priority mapping (the seeds' 紧急 P0 / 重要 P1 / 一般 P2):
//   - urgency "urgent" (a configured urgent word such as 安全, 无法使用, 紧急, urgent, or the 紧急 button) => P0
//   - urgency "normal" => P1, urgency "low" => P2
//   - urgency unknown (a request for a person before it was asked) => P1 for a person, else P2
//   - a complaint is at least P1 (and flagged Complaint for escalation)

// startClarify begins clarification of text with an explanation (leadKey).
func (m *Machine) startClarify(s Session, text, leadKey string) (Session, []Effect) {
	s.Intake = Intake{FirstText: text, Description: text}
	s.Candidates, s.Asked = nil, 0
	if s.caps.Batch {
		return m.startBatch(s, say(leadKey))
	}
	next, effects := m.askType(s)
	return next, append(say(leadKey), effects...)
}

// startComplaint: the soothing script first, then clarification as a complaint.
func (m *Machine) startComplaint(s Session, text string) (Session, []Effect) {
	s.Intake = Intake{FirstText: text, Description: text, Complaint: true}
	s.Candidates, s.Asked = nil, 0
	if s.caps.Batch {
		if c, ok := m.complaintCategory(); ok {
			s.Intake.Category = c.Key
		}
		return m.startBatch(s, say("complaint.soothe"))
	}
	if c, ok := m.complaintCategory(); ok {
		s.Intake.Category = c.Key
		next, effects := m.nextAfter(s, StateAskType)
		return next, append(say("complaint.soothe"), effects...)
	}
	next, effects := m.askType(s)
	return next, append(say("complaint.soothe"), effects...)
}

func (m *Machine) complaintCategory() (Category, bool) {
	for _, c := range m.cfg.Categories {
		if c.Complaint {
			return c, true
		}
	}
	return Category{}, false
}

func (m *Machine) category(key string) (Category, bool) {
	for _, c := range m.cfg.Categories {
		if c.Key == key {
			return c, true
		}
	}
	return Category{}, false
}

// categoryLabel is a category's literal name in lang, or its locales key.
func (m *Machine) categoryLabel(key, lang string) string {
	c, ok := m.category(key)
	if !ok {
		return "category.none"
	}
	if n := c.Names[lang]; n != "" {
		return n
	}
	return "category." + c.Key
}

// --- issue type ---

func (m *Machine) askType(s Session) (Session, []Effect) {
	s.State, s.Asked = StateAskType, 0
	return s, m.askTypeSay(s)
}

func (m *Machine) askTypeSay(s Session) []Effect {
	return []Effect{sayArgs("clarify.ask_type", nil, m.typeChoices(s)...)}
}

func (m *Machine) typeChoices(s Session) []Choice {
	cs := make([]Choice, 0, len(m.cfg.Categories))
	for _, c := range m.cfg.Categories {
		if n := c.Names[s.Lang]; n != "" {
			cs = append(cs, Choice{Label: n, Payload: "type:" + c.Key})
		} else {
			cs = append(cs, choice("category."+c.Key, "type:"+c.Key))
		}
	}
	return cs
}

func (m *Machine) stepAskType(s Session, ev event) (Session, []Effect) {
	if s.Intake.Human {
		return m.stepHumanType(s, ev)
	}
	if ev.button {
		c, ok := m.category(ev.arg)
		if ev.action != "type" || !ok {
			return m.stale(s)
		}
		return m.setCategory(s, c)
	}
	if n, ok := smallNumber(ev.text, len(m.cfg.Categories)); ok {
		return m.setCategory(s, m.cfg.Categories[n-1])
	}
	for i, c := range m.cfg.Categories {
		for _, name := range c.Names {
			if name != "" && strings.EqualFold(stripPunct(ev.text), name) {
				return m.setCategory(s, c)
			}
		}
		if m.catWords[i].match(ev.text) {
			return m.setCategory(s, c)
		}
	}
	if m.complaint.match(ev.text) {
		s.Intake.Description = join(s.Intake.Description, ev.text)
		if c, ok := m.complaintCategory(); ok {
			return m.setCategory(s, c)
		}
	}
	if weight(ev.text) >= 3*m.cfg.MinDescriptionRunes { // more description, not a type: keep it
		s.Intake.Description = join(s.Intake.Description, ev.text)
	}
	s.Asked++
	if s.Asked > m.cfg.MaxReasks { // go on unclassified; the agent classifies
		return m.nextAfter(s, StateAskType)
	}
	return s, []Effect{sayArgs("clarify.pick_button", nil, m.typeChoices(s)...)}
}

// stepHumanType: the customer asked for a person and was offered the types once. A type (button,
// number or word) or "skip" opens the ticket; any other text is the description, and opens it too
// (uncategorized: the agent classifies).
func (m *Machine) stepHumanType(s Session, ev event) (Session, []Effect) {
	switch {
	case ev.button && ev.action == "skip":
	case ev.button:
		c, ok := m.category(ev.arg)
		if ev.action != "type" || !ok {
			return m.stale(s)
		}
		s.Intake.Category = c.Key
		s.Intake.Complaint = s.Intake.Complaint || c.Complaint
	case slices.Contains(skipWords, strings.ToLower(stripPunct(ev.text))): // 「跳过」 typed, not tapped
	default:
		if n, ok := smallNumber(ev.text, len(m.cfg.Categories)); ok {
			s.Intake.Category = m.cfg.Categories[n-1].Key
			break
		}
		for i, c := range m.cfg.Categories {
			if m.catWords[i].match(ev.text) || c.Names[s.Lang] != "" && strings.EqualFold(stripPunct(ev.text), c.Names[s.Lang]) {
				s.Intake.Category = c.Key
				break
			}
		}
		if !isGreeting(ev.text) && (s.Intake.Category == "" || weight(ev.text) >= 3*m.cfg.MinDescriptionRunes) {
			s.Intake.Description = join(s.Intake.Description, ev.text)
		}
		if m.complaint.match(ev.text) {
			s.Intake.Complaint = true
		}
		if c, ok := m.category(s.Intake.Category); ok && c.Complaint {
			s.Intake.Complaint = true
		}
		if u := m.inferUrgency(ev.text); u != "" && s.Intake.Urgency == "" {
			s.Intake.Urgency = u
		}
	}
	if s.Intake.Description == "" && s.Intake.FirstText == "" {
		// A type was tapped (or skipped) and nothing is known yet: ask for the description while a
		// person takes over; the next message becomes the ticket's summary (bot: addToTicket).
		return m.openTicket(s, say("human.transfer_describe"))
	}
	return m.openTicket(s, say("human.transfer"))
}

func (m *Machine) setCategory(s Session, c Category) (Session, []Effect) {
	s.Intake.Category = c.Key
	var effects []Effect
	if c.Complaint && !s.Intake.Complaint {
		s.Intake.Complaint = true
		effects = say("complaint.soothe")
	}
	next, more := m.nextAfter(s, StateAskType)
	return next, append(effects, more...)
}

// nextAfter asks the first missing field after the given clarification state, or confirms.
func (m *Machine) nextAfter(s Session, after State) (Session, []Effect) {
	order := []State{StateAskType, StateAskDescription, StateAskOrder, StateAskUrgency, StateAskField, StateConfirm}
	i := slices.Index(order, after) + 1
	cat, _ := m.category(s.Intake.Category)
	for ; i < len(order); i++ {
		s.Asked = 0
		switch order[i] {
		case StateAskDescription:
			if !m.descOK(s.Intake.Description) {
				s.State = StateAskDescription
				return s, say("clarify.ask_description")
			}
		case StateAskOrder:
			if !cat.NeedsOrder || s.Intake.OrderNo != "" {
				continue
			}
			if no := m.findOrderNo(s.Intake.Description); no != "" {
				s.Intake.OrderNo = no
				continue
			}
			s.State = StateAskOrder
			return s, m.askOrderSay()
		case StateAskUrgency:
			if s.Intake.Urgency == "" {
				s.Intake.Urgency = m.inferUrgency(s.Intake.Description)
			}
			if s.Intake.Urgency == "" {
				s.Intake.Urgency = cat.Urgency
			}
			if s.Intake.Urgency == "" {
				s.State = StateAskUrgency
				return s, m.askUrgencySay()
			}
		case StateAskField:
			if len(m.PendingFields(s.Intake.Category, m.known, s.Intake)) > 0 {
				return m.nextField(s)
			}
		case StateConfirm:
			s.Intake.Priority = m.priority(s.Intake)
			s.State = StateConfirm
			return s, m.confirmSay(s)
		}
	}
	return s, nil // not reached: StateConfirm always returns
}

// --- description: 现象 + 影响 + 期望 ---

func (m *Machine) descOK(d string) bool { return weight(d) >= 3*m.cfg.MinDescriptionRunes }

func (m *Machine) stepAskDescription(s Session, ev event) (Session, []Effect) {
	if ev.button {
		return m.stale(s)
	}
	s.Intake.Description = join(s.Intake.Description, ev.text)
	var effects []Effect
	if !s.Intake.Complaint && m.complaint.match(ev.text) {
		s.Intake.Complaint = true
		effects = say("complaint.soothe")
	}
	if !m.descOK(s.Intake.Description) {
		s.Asked++
		if s.Asked <= m.cfg.MaxReasks {
			return s, append(effects, say("clarify.more_detail")...)
		}
	}
	next, more := m.nextAfter(s, StateAskDescription)
	return next, append(effects, more...)
}

// join appends more text to a description.
func join(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "" || strings.Contains(a, b):
		return a
	}
	return a + "\n" + b
}

// --- order number ---

func (m *Machine) askOrderSay() []Effect {
	return []Effect{sayArgs("clarify.ask_order", map[string]any{"example": m.cfg.OrderNoExample},
		choice("clarify.no_order", "noorder"))}
}

func (m *Machine) stepAskOrder(s Session, ev event) (Session, []Effect) {
	if ev.button {
		if ev.action != "noorder" {
			return m.stale(s)
		}
		return m.nextAfter(s, StateAskOrder)
	}
	if no := m.findOrderNo(ev.text); no != "" {
		s.Intake.OrderNo = no
		return m.nextAfter(s, StateAskOrder)
	}
	if yes, ok := yesNo(ev.text); ok && !yes { // "没有" / "no"
		return m.nextAfter(s, StateAskOrder)
	}
	s.Asked++
	if m.descOK(ev.text) { // more description, not an order number: keep it and ask again
		s.Intake.Description = join(s.Intake.Description, ev.text)
		if s.Asked < m.cfg.MaxOrderAttempts {
			return s, append(say("clarify.appended"), m.askOrderSay()...)
		}
	}
	if s.Asked >= m.cfg.MaxOrderAttempts {
		next, effects := m.nextAfter(s, StateAskOrder)
		return next, append(say("clarify.order_giveup"), effects...)
	}
	return s, []Effect{sayArgs("error.bad_order", map[string]any{"input": clip(ev.text, 40), "example": m.cfg.OrderNoExample},
		choice("clarify.no_order", "noorder"))}
}

// --- urgency ---

// inferUrgency reads urgency from configured words: low words first ("不着急" holds "着急").
func (m *Machine) inferUrgency(text string) string {
	switch {
	case m.low.match(text):
		return UrgencyLow
	case m.urgent.match(text):
		return UrgencyUrgent
	}
	return ""
}

func (m *Machine) askUrgencySay() []Effect {
	return []Effect{sayArgs("clarify.ask_urgency", nil, choice("urgency.urgent", "urg:"+UrgencyUrgent),
		choice("urgency.normal", "urg:"+UrgencyNormal), choice("urgency.low", "urg:"+UrgencyLow))}
}

func (m *Machine) stepAskUrgency(s Session, ev event) (Session, []Effect) {
	u := ""
	if ev.button {
		if ev.action != "urg" || !slices.Contains([]string{UrgencyUrgent, UrgencyNormal, UrgencyLow}, ev.arg) {
			return m.stale(s)
		}
		u = ev.arg
	} else if n, ok := smallNumber(ev.text, 3); ok {
		u = []string{UrgencyUrgent, UrgencyNormal, UrgencyLow}[n-1]
	} else if u = m.inferUrgency(ev.text); u == "" {
		switch {
		case normalWords.match(ev.text):
			u = UrgencyNormal
		case lowAnswerWords.match(ev.text):
			u = UrgencyLow
		}
	}
	if u == "" {
		s.Asked++
		if s.Asked <= m.cfg.MaxReasks {
			return s, append(say("clarify.pick_button"), m.askUrgencySay()...)
		}
		u = UrgencyNormal
	}
	s.Intake.Urgency = u
	return m.nextAfter(s, StateAskUrgency)
}

// Words answering the urgency question. The buttons and the priority labels name the same three
// levels (紧急 P0 / 重要 P1 / 一般 P2; Urgent / High / Normal), so what the customer picks is what they
// are told: "一般" and "normal" are P2, "重要" and "high" P1.
var (
	normalWords    = wordList{"重要", "比较急", "有点急", "挺急", "important", "high", "fairly urgent"}
	lowAnswerWords = wordList{"一般", "普通", "还好", "正常", "低", "normal", "medium", "moderate", "low"}
)

// urgencyOf is the urgency level that names priority p (the label the customer is told).
func urgencyOf(p string) string {
	switch p {
	case P0:
		return UrgencyUrgent
	case P1:
		return UrgencyNormal
	}
	return UrgencyLow
}

// priority maps an intake to P0/P1/P2 (see the table at the top of this file).
func (m *Machine) priority(in Intake) string {
	p := P2
	switch in.Urgency {
	case UrgencyUrgent:
		p = P0
	case UrgencyNormal:
		p = P1
	case "":
		if in.Human {
			p = P1
		}
	}
	if in.Complaint && p == P2 {
		p = P1
	}
	return p
}

// --- restate and confirm ---

func (m *Machine) confirmSay(s Session) []Effect {
	args := map[string]any{
		"category":    m.categoryLabel(s.Intake.Category, s.Lang),
		"description": clip(strings.ReplaceAll(s.Intake.Description, "\n", " "), 200),
		"order":       s.Intake.OrderNo,
		"urgency":     "urgency." + urgencyOf(firstNonEmpty(s.Intake.Priority, m.priority(s.Intake))),
		"priority":    "priority." + s.Intake.Priority,
	}
	for f, v := range m.restateContact(s) {
		args[f] = v
	}
	return []Effect{sayArgs("clarify.confirm", args, choice("clarify.confirm_yes", "ok"), choice("clarify.confirm_no", "redo"))}
}

// restateContact is the contact details the restatement repeats (args name, phone, email): each
// field on for the request's category, as given in this intake or else remembered from an earlier
// one — what the agent will call back on, so the customer can correct it — masked by the pii rules
// (王*, 138****5678, x***@example.com) even in the customer's own chat: the restatement is a
// confirmation, not a place to echo personal data in full.
func (m *Machine) restateContact(s Session) map[string]string {
	out := map[string]string{}
	for _, f := range []string{FieldName, FieldPhone, FieldEmail} {
		if m.cfg.Fields.Mode(f, s.Intake.Category) == FieldOff {
			continue
		}
		v := firstNonEmpty(s.Intake.value(f), m.known.value(f))
		if v == "" {
			continue
		}
		switch f {
		case FieldName:
			out[f] = pii.MaskName(v)
		case FieldPhone:
			out[f] = pii.MaskPhone(v)
		default:
			out[f] = pii.MaskEmail(v)
		}
	}
	return out
}

func (m *Machine) stepConfirm(s Session, ev event) (Session, []Effect) {
	ok, known := false, false
	if ev.button {
		if ev.action != "ok" && ev.action != "redo" {
			return m.stale(s)
		}
		ok, known = ev.action == "ok", true
	} else {
		ok, known = yesNo(ev.text)
	}
	switch {
	case known && ok:
		return m.openTicket(s, nil)
	case known:
		// Start over, keeping the contact details just given (they are not what was wrong).
		in := s.Intake
		s.Intake = Intake{Name: in.Name, Phone: in.Phone, Email: in.Email}
		for _, f := range in.Asked {
			if f != FieldExpected {
				s.Intake.Asked = append(s.Intake.Asked, f)
			}
		}
		next, effects := m.askType(s)
		return next, append(say("clarify.restart"), effects...)
	}
	// Anything else is a correction or an addition: add it and restate.
	s.Intake.Description = join(s.Intake.Description, ev.text)
	if u := m.inferUrgency(ev.text); u != "" {
		s.Intake.Urgency = u
	}
	if no := m.findOrderNo(ev.text); no != "" {
		s.Intake.OrderNo = no
	}
	s.Intake.Priority = m.priority(s.Intake)
	return s, m.confirmSay(s)
}

// openTicket opens a ticket from the intake; the engine tells the customer its number and due time.
func (m *Machine) openTicket(s Session, lead []Effect) (Session, []Effect) {
	s.Intake.Priority = m.priority(s.Intake)
	if s.Intake.Description == "" {
		s.Intake.Description = s.Intake.FirstText
	}
	in := s.Intake
	s.State, s.Asked, s.TicketNo, s.Candidates, s.Batch, s.Field = StateTicketOpen, 0, "", nil, nil, ""
	s.Intake = Intake{}
	return s, append(lead, OpenTicket{Intake: in})
}

// findOrderNo returns the first order number in text that is not personal data: an ID card or bank
// card number (package pii) also matches a long-digits order pattern but is never an order number.
func (m *Machine) findOrderNo(text string) string {
	spans := pii.Find(text)
	for _, loc := range m.orderRE.FindAllStringIndex(text, -1) {
		personal := false
		for _, sp := range spans {
			if loc[0] < sp.End && sp.Start < loc[1] {
				personal = true
				break
			}
		}
		if !personal {
			return text[loc[0]:loc[1]]
		}
	}
	return ""
}
