package bot

import (
	"fmt"
	"strings"

	"github.com/kefu-dev/kefu/flows"
)

// DefaultChannelCaps is what each channel tells the conversation (flows.Caps): the social-media
// wording of the greeting and the closing on the WeChat Official Account and WeCom customer service,
// and on e-mail the e-mail wording plus the intake in one message (no buttons; one reply answers
// every question). Chat channels (web, Telegram, Discord) have the zero Caps.
func DefaultChannelCaps() map[Channel]flows.Caps {
	return map[Channel]flows.Caps{
		ChannelWeChat: {Script: flows.ScriptSocial},
		ChannelWeCom:  {Script: flows.ScriptSocial},
		ChannelEmail:  {Script: flows.ScriptEmail, Batch: true},
	}
}

// caps is the channel's flows.Caps.
func (e *Engine) caps(ch Channel) flows.Caps { return e.chanCaps[ch] }

// mergeReplies joins consecutive replies to the same chat into one (paragraphs in order), for a
// channel where each reply is a separate message the customer must open and answer (e-mail: one mail
// per turn, not four). Only the last buttons offered stay buttons — the ones a numbered answer is
// read against (listed at the end of the message); earlier ones, rare, are listed in their paragraph.
func mergeReplies(rs []Reply) []Reply {
	var out []Reply
	for _, r := range rs {
		if n := len(out); n > 0 && out[n-1].Channel == r.Channel && out[n-1].ChatID == r.ChatID &&
			out[n-1].ConversationID == r.ConversationID {
			prev := &out[n-1]
			text := prev.Text
			if len(r.Buttons) > 0 {
				for i, b := range prev.Buttons {
					text += fmt.Sprintf("\n[%d] %s", i+1, b.Label)
				}
				prev.Buttons = r.Buttons
			}
			prev.Text = strings.TrimSpace(text) + "\n\n" + strings.TrimSpace(r.Text)
			continue
		}
		out = append(out, r)
	}
	return out
}
