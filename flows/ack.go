package flows

import (
	"strings"
	"unicode"
)

// Thanks and small talk (谢谢, 好的, 嗯, ok, 👍) get a short acknowledgement in any state instead of
// being taken as a question (which would open the ticket form). States that asked a yes/no question
// (did the answer help? is this right? is it solved? anything else?) keep reading them as answers.

// ackWords are whole messages (punctuation stripped, lower-cased) that only acknowledge.
var ackWords = map[string]bool{
	"谢谢": true, "谢谢你": true, "谢谢您": true, "谢啦": true, "谢了": true, "多谢": true, "感谢": true, "非常感谢": true,
	"谢谢啦": true, "好的": true, "好": true, "好滴": true, "好嘞": true, "好的谢谢": true, "嗯": true, "嗯嗯": true,
	"哦": true, "噢": true, "收到": true, "知道了": true, "明白了": true, "明白": true, "了解": true, "行": true, "好的收到": true,
	"ok": true, "okay": true, "k": true, "kk": true, "ok thanks": true, "thanks": true, "thank you": true, "thanks a lot": true,
	"thank you very much": true, "thx": true, "ty": true, "got it": true, "cool": true, "alright": true, "noted": true,
}

// ackEmoji are emoji that acknowledge (a message made of these only, with skin tones and variation
// selectors).
const ackEmoji = "👍👌🙏😊🙂❤👏💯✅"

// isAck reports a message that only acknowledges.
func isAck(text string) bool {
	t := strings.TrimSpace(text)
	if t == "" {
		return false
	}
	if strings.IndexFunc(t, func(r rune) bool {
		return !strings.ContainsRune(ackEmoji, r) && !unicode.IsSpace(r) && r != 0xFE0F && r != 0x200D &&
			!(r >= 0x1F3FB && r <= 0x1F3FF) // skin tone modifiers
	}) < 0 {
		return true
	}
	return ackWords[strings.ToLower(stripPunct(t))]
}

// isAckEmoji: an acknowledgement made of emoji only (read as "ok" by yes/no questions).
func isAckEmoji(text string) bool { return isAck(text) && stripPunct(text) == "" }

// answersYesNo: states whose question an acknowledgement answers.
func answersYesNo(st State) bool {
	switch st {
	case StateAnswered, StateConfirm, StateConfirmSolved, StateAnythingElse, StateProposal:
		return true
	}
	return false
}

// ack answers an acknowledgement in state s, keeping the state (the current question is asked again
// where there is one).
func (m *Machine) ack(s Session, ev event) (Session, []Effect) {
	switch s.State {
	case StateTicketOpen:
		return s, []Effect{sayArgs("ack.ticket_open", map[string]any{"no": s.TicketNo})}
	case StateComment: // "谢谢" after the rating: no comment
		return m.stepComment(s, event{in: ev.in, button: true, action: "skip"})
	case StateIdle, StateNew:
		return s, say("ack.thanks")
	}
	return s, append(say("ack.ok"), m.prompt(s)...)
}
