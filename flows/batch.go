package flows

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// The intake in one message, for channels without buttons whose answers come back slowly (e-mail,
// Caps.Batch). Where chat asks the 客户需求登记表 one question at a time, the bot's first answer asks
// every missing item at once — issue type (the types as a numbered list), order number, urgency,
// description — and reads the customer's reply, numbered ("1. 2", "2、202611200004567") or free text
// ("订单问题，订单号 202611200004567，不着急"), to fill them. Anything still missing is asked again, in one
// message; after Config.MaxReasks such rounds the ticket is opened with what is known (the agent asks
// the rest). When nothing is missing the bot restates the request and opens the ticket at once: by
// e-mail a round trip only to confirm would cost the customer hours, and a correction written back is
// added to the ticket.
//
// Chat channels (Caps.Batch false) never reach this file.

// StateAskAll: the batch questions were asked; the next message answers them (Session.Batch).
const StateAskAll State = "ask_all"

// Items of the batch questions, in the order they are listed.
const (
	ItemType        = "type"
	ItemOrder       = "order"
	ItemUrgency     = "urgency"
	ItemDescription = "description"
)

// Batch is the state of the intake in one message.
type Batch struct {
	Items  []string `json:"items"`          // the items of the last message, numbered from 1 in this order
	NoneOf []string `json:"none,omitempty"` // items the customer said they do not have (no order number)
	Rounds int      `json:"rounds"`         // messages of questions sent
}

// startBatch begins the intake in one message: what the first text already tells (order number,
// urgency) is kept, the rest is asked.
func (m *Machine) startBatch(s Session, lead []Effect) (Session, []Effect) {
	s.Batch = &Batch{}
	if no := m.findOrderNo(s.Intake.Description); no != "" {
		s.Intake.OrderNo = no
	}
	if u := m.inferUrgency(s.Intake.Description); u != "" && s.Intake.Urgency == "" {
		s.Intake.Urgency = u
	}
	return m.askBatch(s, lead, "channels.batch.ask")
}

// missing lists the items still to ask, in listing order.
func (m *Machine) missing(s Session) []string {
	var out []string
	cat, known := m.category(s.Intake.Category)
	none := func(item string) bool { return s.Batch != nil && slices.Contains(s.Batch.NoneOf, item) }
	if !known {
		out = append(out, ItemType)
	}
	// Without a type, an order number is asked "if any" in the first message only (the type may need
	// one); once the type is known, only when it needs one.
	firstRound := s.Batch == nil || s.Batch.Rounds == 0
	if s.Intake.OrderNo == "" && !none(ItemOrder) && (known && cat.NeedsOrder || !known && firstRound) {
		out = append(out, ItemOrder)
	}
	if s.Intake.Urgency == "" && (!known || cat.Urgency == "") {
		out = append(out, ItemUrgency)
	}
	if !m.descOK(s.Intake.Description) {
		out = append(out, ItemDescription)
	}
	// The configured intake fields (name, phone, e-mail, expected time: fields.go) the customer has
	// not given yet.
	for _, r := range m.PendingFields(s.Intake.Category, m.known, s.Intake) {
		out = append(out, r.Field)
	}
	return out
}

// fieldsFromText takes the pending phone and e-mail fields from text where it holds a valid one.
func (m *Machine) fieldsFromText(s *Session, text string) {
	for _, r := range m.PendingFields(s.Intake.Category, m.known, s.Intake) {
		if v := m.fromDescription(r.Field, text); v != "" {
			s.Intake.set(r.Field, v)
			s.Intake.Asked = append(s.Intake.Asked, r.Field)
		}
	}
}

func isField(item string) bool { return slices.Contains(Fields(), item) }

// askBatch asks the missing items in one message (introduced by introKey), or, when nothing is
// missing, restates the request and opens the ticket.
func (m *Machine) askBatch(s Session, lead []Effect, introKey string) (Session, []Effect) {
	m.fieldsFromText(&s, s.Intake.Description)
	items := m.missing(s)
	if len(items) == 0 {
		return m.finishBatch(s, lead)
	}
	s.State, s.Asked = StateAskAll, 0
	s.Batch.Items = items
	s.Batch.Rounds++
	effects := append(lead, sayArgs(introKey, map[string]any{"count": len(items)}))
	for i, item := range items {
		effects = append(effects, m.itemSay(s, i+1, item))
	}
	return s, append(effects, say("channels.batch.how")...)
}

// itemSay is one numbered question of the batch.
func (m *Machine) itemSay(s Session, n int, item string) Say {
	args := map[string]any{"n": n}
	switch item {
	case ItemType:
		var types []map[string]any
		for i, c := range m.cfg.Categories {
			label := "category." + c.Key
			if name := c.Names[s.Lang]; name != "" {
				label = name
			}
			types = append(types, map[string]any{"n": i + 1, "label": label})
		}
		args["types"] = types
	case ItemOrder:
		args["example"] = m.cfg.OrderNoExample
		_, known := m.category(s.Intake.Category)
		args["if_any"] = !known
	case ItemDescription:
		args["short"] = s.Intake.Description != ""
	}
	if isField(item) {
		args["label"] = "intake.field." + item
		args["optional"] = m.cfg.Fields.Mode(item, s.Intake.Category) != FieldRequired
		args["hint"] = "channels.batch.hint." + item
		return sayArgs("channels.batch.item.field", args)
	}
	return sayArgs("channels.batch.item."+item, args)
}

// finishBatch restates the request and opens the ticket.
func (m *Machine) finishBatch(s Session, lead []Effect) (Session, []Effect) {
	s.Intake.Priority = m.priority(s.Intake)
	restate := m.confirmSay(s)[0].(Say)
	restate.Key, restate.Choices = "channels.batch.restate", nil
	s.Batch = nil
	return m.openTicket(s, append(lead, restate))
}

// stepAskAll reads the answers to the batch questions.
func (m *Machine) stepAskAll(s Session, ev event) (Session, []Effect) {
	if ev.button || s.Batch == nil {
		return m.stale(s)
	}
	b := *s.Batch
	b.NoneOf = slices.Clone(b.NoneOf)
	s.Batch = &b
	var effects []Effect
	numbered, free := splitAnswers(ev.text, b.Items)
	if len(numbered) == 0 && len(b.Items) == 1 { // one question: the whole reply answers it
		numbered, free = map[string]string{b.Items[0]: free}, ""
	}
	now := ev.in.At
	if now.IsZero() {
		now = time.Now()
	}
	for _, item := range b.Items { // in listing order: a field's answer may also be free text
		if answer, ok := numbered[item]; ok {
			if isField(item) {
				m.fillField(&s, item, answer, now)
			} else {
				m.fillItem(&s, item, answer)
			}
		}
	}
	if free != "" {
		m.fillFree(&s, free)
		m.fieldsFromText(&s, free)
	}
	// An optional field left unanswered is not asked again (by mail, silence is a skip); a required
	// one is.
	for _, item := range b.Items {
		if isField(item) && s.Intake.value(item) == "" && !slices.Contains(s.Intake.Asked, item) &&
			m.cfg.Fields.Mode(item, s.Intake.Category) != FieldRequired {
			s.Intake.Asked = append(s.Intake.Asked, item)
		}
	}
	if !s.Intake.Complaint && m.complaint.match(ev.text) {
		s.Intake.Complaint = true
		effects = say("complaint.soothe")
	}
	if c, ok := m.category(s.Intake.Category); ok {
		s.Intake.Complaint = s.Intake.Complaint || c.Complaint
		if s.Intake.Urgency == "" {
			s.Intake.Urgency = c.Urgency
		}
	}
	if len(m.missing(s)) > 0 && b.Rounds > m.cfg.MaxReasks {
		// Enough asking by mail: open the ticket with what is known; the agent asks the rest.
		s.Batch = nil
		return m.openTicket(s, append(effects, say("channels.batch.giveup")...))
	}
	return m.askBatch(s, effects, "channels.batch.ask_again")
}

// itemLine is a numbered answer: "1. …", "1、…", "(1) …", "【1】…", "1) …", "1: …", "Q1: …".
var itemLine = regexp.MustCompile(`^\s*(?:[qQ#]|第)?\s*[(（\[【]?\s*(\d{1,2})\s*(?:[)）\]】.、:：,，]|题|项)\s*(.*)$`)

// Labels the customer may write an answer under ("订单号：…", "Urgency: …"), by item.
var itemLabels = map[string]wordList{
	ItemType:        {"问题类型", "类型", "类别", "issue type", "type", "category"},
	ItemOrder:       {"订单号", "订单编号", "单号", "order number", "order no", "order"},
	ItemUrgency:     {"紧急程度", "紧急度", "urgency", "priority"},
	ItemDescription: {"问题描述", "描述", "详情", "description", "details", "problem"},
	FieldName:       {"姓名", "称呼", "名字", "name"},
	FieldPhone:      {"电话", "手机", "手机号", "联系电话", "phone", "mobile", "phone number"},
	FieldEmail:      {"邮箱", "电子邮箱", "email", "e-mail"},
	FieldExpected:   {"期望解决时间", "期望时间", "期望", "expected", "expected by", "by when"},
}

// labelled reads "label: answer" for the items asked.
func labelled(line string, items []string) (string, string, bool) {
	head, rest, ok := strings.Cut(line, ":")
	if h2, r2, ok2 := strings.Cut(line, "："); ok2 && (!ok || len(h2) < len(head)) {
		head, rest, ok = h2, r2, true
	}
	if !ok || runeLen(head) > 16 {
		return "", "", false
	}
	h := lower(stripPunct(head))
	for _, item := range items {
		if slices.Contains(itemLabels[item], h) {
			return item, strings.TrimSpace(rest), true
		}
	}
	return "", "", false
}

// splitAnswers splits a reply into the answers of numbered (or labelled) items and the free text
// around them. A line without a number continues the answer above it; before any number it is free.
func splitAnswers(text string, items []string) (map[string]string, string) {
	numbered := map[string]string{}
	var free []string
	cur := ""
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if m := itemLine.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[1])
			if n >= 1 && n <= len(items) {
				cur = items[n-1]
				numbered[cur] = joinLine(numbered[cur], m[2])
				continue
			}
		}
		if item, answer, ok := labelled(line, items); ok {
			cur = item
			numbered[cur] = joinLine(numbered[cur], answer)
			continue
		}
		if cur != "" {
			numbered[cur] = joinLine(numbered[cur], line)
			continue
		}
		free = append(free, line)
	}
	return numbered, strings.Join(free, "\n")
}

func joinLine(a, b string) string {
	switch {
	case b == "":
		return a
	case a == "":
		return b
	}
	return a + "\n" + b
}

// fillItem takes the answer to one numbered question.
func (m *Machine) fillItem(s *Session, item, answer string) {
	if answer == "" {
		return
	}
	switch item {
	case ItemType:
		if c, ok := m.readType(answer, true); ok {
			s.Intake.Category = c.Key
			return
		}
	case ItemOrder:
		if no := m.findOrderNo(answer); no != "" {
			s.Intake.OrderNo = no
			return
		}
		if yes, ok := yesNo(answer); ok && !yes || saysNoOrder(answer) {
			s.Batch.NoneOf = append(s.Batch.NoneOf, ItemOrder)
			return
		}
	case ItemUrgency:
		if u := m.readUrgency(answer, true); u != "" {
			s.Intake.Urgency = u
			return
		}
	case ItemDescription:
		s.Intake.Description = join(s.Intake.Description, answer)
		return
	}
	// Not an answer to its question: read it as free text, so nothing the customer wrote is lost.
	m.fillFree(s, answer)
}

// saysNoOrder: a short line saying there is no order number ("无", "没有订单号", "no order number").
func saysNoOrder(line string) bool {
	t := stripPunct(line)
	if t == "" || runeLen(t) > 12 {
		return false
	}
	if slices.Contains(noneWords, lower(t)) {
		return true
	}
	yes, ok := yesNo(t)
	return ok && !yes && itemLabels[ItemOrder].match(t)
}

// fillField takes the answer to an intake field: a valid value, or a skip of an optional field;
// anything else is read as free text (nothing is lost) and the field stays pending.
func (m *Machine) fillField(s *Session, field, answer string, now time.Time) {
	if v, err := ParseField(field, answer, now); err == nil {
		s.Intake.set(field, v)
		s.Intake.Asked = append(s.Intake.Asked, field)
		return
	}
	if isSkip(answer) && m.cfg.Fields.Mode(field, s.Intake.Category) != FieldRequired {
		s.Intake.Asked = append(s.Intake.Asked, field)
		return
	}
	m.fillFree(s, answer)
}

// noneWords answer "no order number".
var noneWords = wordList{"无", "没有", "暂无", "没", "none", "n/a", "no", "nil"}

// fillFree reads what free text tells: a type named or described, an order number, an urgency. A
// line that says only that ("订单物流的问题", "订单号 202611210001111", "不急") is used up; any other line
// is (also) description.
func (m *Machine) fillFree(s *Session, text string) {
	for _, line := range strings.Split(text, "\n") {
		var tokens []string
		if _, known := m.category(s.Intake.Category); !known {
			if c, ok := m.readType(line, false); ok {
				s.Intake.Category = c.Key
				tokens = append(tokens, m.typeTokens(c, line)...)
			}
		}
		if s.Intake.OrderNo == "" {
			if no := m.findOrderNo(line); no != "" {
				s.Intake.OrderNo = no
				tokens = append(tokens, no)
				tokens = append(tokens, itemLabels[ItemOrder]...)
			} else if s.Batch != nil && slices.Contains(s.Batch.Items, ItemOrder) && saysNoOrder(line) {
				s.Batch.NoneOf = append(s.Batch.NoneOf, ItemOrder)
				continue
			}
		}
		if s.Intake.Urgency == "" {
			if u := m.readUrgency(line, false); u != "" {
				s.Intake.Urgency = u
				tokens = append(tokens, m.urgent.find(line), m.low.find(line), normalWords.find(line), lowAnswerWords.find(line))
				tokens = append(tokens, itemLabels[ItemUrgency]...)
			}
		}
		if len(tokens) == 0 || residue(line, tokens) > 2 {
			s.Intake.Description = join(s.Intake.Description, line)
		}
	}
}

// typeTokens are the words of c found in line (its names, labels and configured words).
func (m *Machine) typeTokens(c Category, line string) []string {
	out := slices.Clone(itemLabels[ItemType])
	for _, n := range c.Names {
		out = append(out, n)
	}
	out = append(out, categoryWord(c.Key)...)
	return append(out, c.Words...)
}

// fillerWords carry no meaning beside an answer ("订单物流的问题", "the order issue").
var fillerWords = []string{"的问题", "问题", "的", "是", "the", "issue", "problem", "is", "my"}

// residue counts the letters of line left once the tokens, filler words and punctuation are removed.
func residue(line string, tokens []string) int {
	rest := strings.ToLower(line)
	all := append(slices.Clone(tokens), fillerWords...)
	slices.SortFunc(all, func(a, b string) int { return len(b) - len(a) }) // longest first
	for _, t := range all {
		if t != "" {
			rest = strings.ReplaceAll(rest, strings.ToLower(t), " ")
		}
	}
	n := 0
	for _, r := range rest {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			n++
		}
	}
	return n
}

// readType reads a type: its number in the list (numbered: an answer to the type question), its
// name, or one of its words.
func (m *Machine) readType(text string, numbered bool) (Category, bool) {
	if n, ok := smallNumber(text, len(m.cfg.Categories)); ok && numbered {
		return m.cfg.Categories[n-1], true
	}
	t := stripPunct(text)
	for i, c := range m.cfg.Categories {
		for _, name := range c.Names {
			if name != "" && strings.EqualFold(t, name) {
				return c, true
			}
		}
		if lbl := categoryWord(c.Key); lbl != nil && lbl.match(t) && runeLen(t) <= 32 {
			return c, true
		}
		if m.catWords[i].match(text) {
			return c, true
		}
	}
	if m.complaint.match(text) {
		if c, ok := m.complaintCategory(); ok {
			return c, true
		}
	}
	return Category{}, false
}

// categoryWord: the default types' own labels (category.* in the catalog), so that a customer who
// copies a label from the list ("售后退换", "Returns & exchanges") is understood.
func categoryWord(key string) wordList {
	return map[string]wordList{
		"product":    {"产品咨询", "product question", "product"},
		"order":      {"订单物流", "order & delivery", "order and delivery"},
		"aftersale":  {"售后退换", "returns & exchanges", "returns and exchanges", "after-sales"},
		"tech":       {"技术支持", "technical support"},
		"complaint":  {"投诉"},
		"suggestion": {"建议", "suggestion"},
	}[key]
}

// readUrgency reads an urgency: its number (numbered: an answer to the urgency question; 1 urgent,
// 2 normal, 3 low), a configured word, or a short answer naming a level.
func (m *Machine) readUrgency(text string, numbered bool) string {
	if n, ok := smallNumber(text, 3); ok && numbered {
		return []string{UrgencyUrgent, UrgencyNormal, UrgencyLow}[n-1]
	}
	if u := m.inferUrgency(text); u != "" {
		return u
	}
	if runeLen(stripPunct(text)) > 12 {
		return ""
	}
	switch {
	case normalWords.match(text):
		return UrgencyNormal
	case lowAnswerWords.match(text):
		return UrgencyLow
	}
	return ""
}

// batchPrompt asks the items of the last message again (a stale button, a /cancel refused …).
func (m *Machine) batchPrompt(s Session) []Effect {
	if s.Batch == nil {
		return nil
	}
	var effects []Effect
	for i, item := range s.Batch.Items {
		effects = append(effects, m.itemSay(s, i+1, item))
	}
	return effects
}
