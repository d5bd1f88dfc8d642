package bot

import (
	"fmt"
	"strings"
	"time"

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

// replyWindows are the platforms' reply windows: how long after the customer's last message kefu may
// still answer them (WeChat's customer-service messages and WeCom kf: 48 hours).
var replyWindows = map[Channel]time.Duration{
	ChannelWeChat: WeChatReplyWindow,
	ChannelWeCom:  WeComReplyWindow,
}

// The platforms' reply windows, the one definition the adapters (wechat.Window, wecom.Window), the
// desk (Reply refuses once closed) and the Slack card share.
const (
	WeChatReplyWindow = 48 * time.Hour // Official Account customer-service messages
	WeComReplyWindow  = 48 * time.Hour // WeCom kf (微信客服)
)

// ReplyWindow is channel's reply window; ok is false for a channel without one.
func ReplyWindow(ch Channel) (d time.Duration, ok bool) {
	d, ok = replyWindows[ch]
	return d, ok
}

// WindowState is a ticket's reply window as the agents see it.
type WindowState struct {
	Applies bool          // the channel has a reply window
	Open    bool          // a reply can still be sent
	Until   time.Time     // when it closes (closed: when it closed); zero when the customer never wrote
	Left    time.Duration // time left while open
}

// ReplyAllowed is the one rule the desk (Reply, ReplyFAQ: CLI, Slack, console) and the agent's card
// share: a reply can be sent on a channel without a window, or while the window is open. A customer
// with no inbound message on the conversation (never wrote there, or the transcript was purged) has no
// open window: WeChat's customer-service messages and WeCom's send_msg are allowed only within 48 hours
// after the customer's own message, so a reply then is refused, never sent blind.
func (w WindowState) ReplyAllowed() bool { return !w.Applies || w.Open }

// ReplyWindowAt is the reply window of a conversation on ch whose customer last wrote at last (ok
// false: never), at now.
func ReplyWindowAt(ch Channel, last time.Time, ok bool, now time.Time) WindowState {
	d, has := ReplyWindow(ch)
	if !has {
		return WindowState{}
	}
	if !ok {
		return WindowState{Applies: true}
	}
	until := last.Add(d)
	w := WindowState{Applies: true, Until: until, Open: now.Before(until)}
	if w.Open {
		w.Left = until.Sub(now)
	}
	return w
}

// mediaExpiries are how long the platforms keep a customer's temporary media: the Official Account's
// temporary media and WeCom's (微信客服 素材管理: "media_id 仅三天内有效") are deleted after 3 days, after
// which a failed download can no longer be retried.
var mediaExpiries = map[Channel]time.Duration{
	ChannelWeChat: 72 * time.Hour,
	ChannelWeCom:  72 * time.Hour,
}

// MediaExpiry is how long after the customer sent it a file on ch can still be downloaded; ok is false
// for a channel whose files are not fetched later.
func MediaExpiry(ch Channel) (d time.Duration, ok bool) {
	d, ok = mediaExpiries[ch]
	return d, ok
}

// MediaRetry is one claimed background attempt to download a customer's file whose download failed
// (storage media_retries; the adapters' retry loop, wxmedia.Retry).
type MediaRetry struct {
	ID        int64
	Channel   Channel
	FileID    string // the platform's media id
	Attempt   int    // 1 for the first retry
	ExpiresAt time.Time
}

// Backoff of the retries: the first a minute after the failure, then doubling, at most every 6 hours.
const (
	mediaRetryFirst = time.Minute
	mediaRetryMax   = 6 * time.Hour
)

// MediaRetryFirst is the delay before the first retry of a failed download.
const MediaRetryFirst = mediaRetryFirst

// Next is when the attempt after this one is due when this one failed at now.
func (r MediaRetry) Next(now time.Time) time.Time {
	d := mediaRetryFirst
	for i := 1; i < r.Attempt && d < mediaRetryMax; i++ {
		d *= 2
	}
	return now.Add(min(d, mediaRetryMax))
}
