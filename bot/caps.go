package bot

import "github.com/kefu-dev/kefu/flows"

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
