package console

import (
	"strings"
)

// buttonKeys are the locale keys of the labels of the customer's buttons (flows' choices), by payload.
var buttonKeys = map[string]string{
	"ok": "clarify.confirm_yes", "redo": "clarify.confirm_no", "noorder": "clarify.no_order", "skip": "btn.skip",
	"yes": "faq.yes", "no": "faq.no", "none": "faq.none", "more": "anything.yes", "done": "anything.no",
	"solved": "resolve.yes", "unsolved": "resolve.no", "accept": "proposal.accept", "decline": "proposal.decline",
}

// ButtonLabel names a pressed button as the customer saw it, from its payload ("6:ok" → 「对，提交」,
// "3:type:tech" → the category's name, "11:rate:2" → 「2 分」); a payload it does not know is shown as
// it is, without the keyboard's generation number.
func (p page) ButtonLabel(payload string) string {
	action := payload
	if gen, rest, ok := strings.Cut(payload, ":"); ok && gen != "" && strings.Trim(gen, "0123456789") == "" {
		action = rest
	}
	kind, arg, _ := strings.Cut(action, ":")
	switch kind {
	case "type":
		return p.Category(arg)
	case "urg":
		return p.Label("urgency.", arg)
	case "rate":
		return p.T("survey.score", "n", arg)
	case "lang":
		if arg == "en" {
			return p.T("lang.en")
		}
		return p.T("lang.zh")
	case "pick":
		return p.T("inbox.button.pick", "id", arg)
	}
	if k, ok := buttonKeys[action]; ok {
		return p.T(k)
	}
	return action
}
