package discord

import (
	"strings"

	"github.com/bwmarrin/discordgo"
	"github.com/kefu-dev/kefu/bot"
)

// messageEvent normalizes a MESSAGE_CREATE. A non-empty reason means the message is not for kefu
// (the caller logs it): the bot's own messages, other bots, webhooks, system messages, or a message
// with nothing in it. ChatID is the message's channel; the caller redirects support-channel
// messages to the customer's thread.
func messageEvent(m *discordgo.Message, botID string) (bot.Event, string) {
	switch {
	case m == nil:
		return bot.Event{}, "no message"
	case m.Author == nil:
		return bot.Event{}, "no author"
	case botID != "" && m.Author.ID == botID:
		return bot.Event{}, "own message"
	case m.Author.Bot || m.Author.System:
		return bot.Event{}, "from a bot"
	case m.WebhookID != "":
		return bot.Event{}, "from a webhook"
	case m.Type != discordgo.MessageTypeDefault && m.Type != discordgo.MessageTypeReply:
		return bot.Event{}, "system message"
	}
	ev := bot.Event{
		Channel:  bot.ChannelDiscord,
		MsgID:    m.ID,
		ChatID:   m.ChannelID,
		UserID:   m.Author.ID,
		UserName: displayName(m.Author, m.Member),
		Text:     normalizeText(m.Content),
		At:       m.Timestamp,
		Kind:     bot.KindText,
	}
	for _, at := range m.Attachments {
		if at == nil {
			continue
		}
		ev.Attachments = append(ev.Attachments, bot.Attachment{
			Type:   attachmentType(at.ContentType, at.DurationSecs > 0 || at.Waveform != ""),
			FileID: firstNonEmpty(at.URL, at.ProxyURL, at.ID),
			Name:   at.Filename,
			Size:   int64(at.Size),
			MIME:   at.ContentType,
		})
	}
	for _, st := range m.StickerItems {
		if st == nil {
			continue
		}
		ev.Attachments = append(ev.Attachments, bot.Attachment{Type: "other", FileID: "sticker:" + st.ID, Name: st.Name})
	}
	switch {
	case len(ev.Attachments) > 0:
		ev.Kind = bot.KindMedia
	case ev.Text == "":
		// Empty content on a guild message usually means the MessageContent intent is off.
		return bot.Event{}, "empty message (is the MessageContent intent enabled?)"
	default:
		if name, args, ok := parseCommand(ev.Text); ok {
			ev.Kind, ev.Payload, ev.Text = bot.KindCommand, name, args
		}
	}
	return ev, ""
}

// interactionEvent normalizes a button press or slash command. A non-empty reason means it is
// not one kefu handles (autocomplete, modals, context menus).
func interactionEvent(i *discordgo.Interaction) (bot.Event, string) {
	if i == nil {
		return bot.Event{}, "no interaction"
	}
	u := interactionUser(i)
	if u == nil {
		return bot.Event{}, "no user"
	}
	if u.Bot {
		return bot.Event{}, "from a bot"
	}
	ev := bot.Event{
		Channel:  bot.ChannelDiscord,
		MsgID:    i.ID,
		ChatID:   i.ChannelID,
		UserID:   u.ID,
		UserName: displayName(u, i.Member),
		LangHint: string(i.Locale),
	}
	switch i.Type {
	case discordgo.InteractionMessageComponent:
		d, ok := i.Data.(discordgo.MessageComponentInteractionData)
		if !ok || d.ComponentType != discordgo.ButtonComponent {
			return bot.Event{}, "not a button"
		}
		if d.CustomID == "" {
			return bot.Event{}, "button without custom_id"
		}
		ev.Kind, ev.Payload = bot.KindButton, d.CustomID
	case discordgo.InteractionApplicationCommand:
		d, ok := i.Data.(discordgo.ApplicationCommandInteractionData)
		if !ok || d.CommandType != discordgo.ChatApplicationCommand {
			return bot.Event{}, "not a slash command"
		}
		ev.Kind, ev.Payload = bot.KindCommand, strings.ToLower(d.Name)
		var args []string
		for _, o := range d.Options {
			if o == nil || o.Value == nil {
				continue
			}
			if s, ok := o.Value.(string); ok {
				args = append(args, s)
			}
		}
		ev.Text = normalizeText(strings.Join(args, " "))
	default:
		return bot.Event{}, "unsupported interaction type " + i.Type.String()
	}
	return ev, ""
}

func interactionUser(i *discordgo.Interaction) *discordgo.User {
	if i.Member != nil && i.Member.User != nil {
		return i.Member.User
	}
	return i.User
}

func displayName(u *discordgo.User, m *discordgo.Member) string {
	if m != nil && m.Nick != "" {
		return m.Nick
	}
	if u.GlobalName != "" {
		return u.GlobalName
	}
	return u.Username
}

// attachmentType maps a MIME type to bot.Attachment.Type.
func attachmentType(mime string, voice bool) string {
	switch {
	case voice:
		return "voice"
	case strings.HasPrefix(mime, "image/"):
		return "photo"
	case strings.HasPrefix(mime, "video/"):
		return "video"
	case strings.HasPrefix(mime, "audio/"):
		return "voice"
	default:
		return "document"
	}
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
