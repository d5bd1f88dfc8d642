package telegram

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/flows"
)

const (
	maxTextRunes = 4096 // inbound text and captions are cut here (Telegram's own caps: 4096 / 1024)
	maxNameRunes = 255  // file names, display names
)

// selfInfo is what normalizing needs to know about the bot itself.
type selfInfo struct {
	ID       int64
	UserName string
	Commands []string
}

// action is what one update asks of the adapter. Several fields may be set: a callback query is
// always answered, even when it carries nothing to deliver.
type action struct {
	Event      *bot.Event // hand to the sink
	CallbackID string     // answerCallbackQuery
	Keyboard   *msgRef    // remove this message's inline keyboard once Event is stored
	NoticeChat int64      // a group addressed the bot: send the group notice here
	NoticeLang string
	Ignore     string // why nothing is delivered (logged)
}

type msgRef struct {
	ChatID    int64
	MessageID int
}

// decodeUpdate parses one update as Telegram sends it (webhook body or one getUpdates element).
func decodeUpdate(b []byte) (tgbotapi.Update, error) {
	var u tgbotapi.Update
	if err := json.Unmarshal(b, &u); err != nil {
		return tgbotapi.Update{}, fmt.Errorf("telegram: decode update: %w", err)
	}
	return u, nil
}

// normalize turns an update into an action. It is pure: no I/O, no clock except now (used when the
// update carries no date, as callback queries do).
func normalize(u tgbotapi.Update, self selfInfo, now time.Time) action {
	switch {
	case u.CallbackQuery != nil:
		return normalizeCallback(u.CallbackQuery, self, now)
	case u.Message != nil:
		return normalizeMessage(u.Message, self)
	case u.EditedMessage != nil:
		return action{Ignore: "edited message"}
	case u.ChannelPost != nil, u.EditedChannelPost != nil:
		return action{Ignore: "channel post"}
	case u.MyChatMember != nil:
		return action{Ignore: "my_chat_member: " + u.MyChatMember.NewChatMember.Status}
	default:
		return action{Ignore: "unsupported update type"}
	}
}

func normalizeCallback(q *tgbotapi.CallbackQuery, self selfInfo, now time.Time) action {
	act := action{CallbackID: q.ID}
	switch {
	case q.ID == "":
		return action{Ignore: "callback query without id"}
	case q.Message == nil || q.Message.Chat == nil:
		act.Ignore = "callback query on an inline message"
		return act
	case q.From == nil || q.From.IsBot:
		act.Ignore = "callback query from a bot"
		return act
	case !q.Message.Chat.IsPrivate():
		act.Ignore = "callback query in a " + q.Message.Chat.Type
		act.Keyboard = &msgRef{ChatID: q.Message.Chat.ID, MessageID: q.Message.MessageID}
		return act
	case q.Data == "":
		act.Ignore = "callback query without data"
		act.Keyboard = &msgRef{ChatID: q.Message.Chat.ID, MessageID: q.Message.MessageID}
		return act
	}
	act.Keyboard = &msgRef{ChatID: q.Message.Chat.ID, MessageID: q.Message.MessageID}
	act.Event = &bot.Event{
		Channel:  bot.ChannelTelegram,
		MsgID:    "cb:" + cleanID(q.ID),
		ChatID:   strconv.FormatInt(q.Message.Chat.ID, 10),
		UserID:   strconv.FormatInt(q.From.ID, 10),
		UserName: displayName(q.From),
		Kind:     bot.KindButton,
		Payload:  cleanPayload(q.Data),
		LangHint: q.From.LanguageCode,
		At:       now.UTC(),
	}
	return act
}

func normalizeMessage(m *tgbotapi.Message, self selfInfo) action {
	if m.Chat == nil {
		return action{Ignore: "message without chat"}
	}
	if m.From == nil {
		return action{Ignore: "message without sender"}
	}
	if m.From.IsBot {
		return action{Ignore: "message from a bot"}
	}
	switch m.Chat.Type {
	case "private":
	case "group", "supergroup":
		if addressesBot(m, self) {
			return action{NoticeChat: m.Chat.ID, NoticeLang: langOf(m.From.LanguageCode), Ignore: "group message"}
		}
		return action{Ignore: "group message not for the bot"}
	default:
		return action{Ignore: "message in a " + m.Chat.Type}
	}

	ev := &bot.Event{
		Channel:  bot.ChannelTelegram,
		MsgID:    "m:" + strconv.FormatInt(m.Chat.ID, 10) + ":" + strconv.Itoa(m.MessageID),
		ChatID:   strconv.FormatInt(m.Chat.ID, 10),
		UserID:   strconv.FormatInt(m.From.ID, 10),
		UserName: displayName(m.From),
		LangHint: m.From.LanguageCode,
		At:       time.Unix(int64(m.Date), 0).UTC(),
	}
	if att, ok := attachment(m); ok {
		ev.Kind = bot.KindMedia
		ev.Attachments = []bot.Attachment{att}
		ev.Text = cleanText(m.Caption)
		return action{Event: ev}
	}
	if m.Text == "" {
		// Service messages (pinned message, auto-delete timer …): nothing the customer said.
		return action{Ignore: "service message"}
	}
	if name, args, ok := command(m.Text, self); ok {
		ev.Kind = bot.KindCommand
		ev.Payload = name
		ev.Text = cleanText(args)
		return action{Event: ev}
	}
	ev.Kind = bot.KindText
	ev.Text = cleanText(m.Text)
	return action{Event: ev}
}

// attachment describes the file (or other non-text content) of a message. Stickers count as media
// (type "sticker") so the engine answers them instead of silence; content without a file (location,
// contact, poll …) becomes type "other" with the content kind as Name and nothing personal.
func attachment(m *tgbotapi.Message) (bot.Attachment, bool) {
	switch {
	case len(m.Photo) > 0:
		p := m.Photo[len(m.Photo)-1] // Telegram lists sizes smallest first
		return bot.Attachment{Type: "photo", FileID: p.FileID, Size: int64(p.FileSize), MIME: "image/jpeg"}, true
	case m.Document != nil:
		d := m.Document
		return bot.Attachment{Type: "document", FileID: d.FileID, Name: cleanName(d.FileName), Size: int64(d.FileSize), MIME: cleanName(d.MimeType)}, true
	case m.Voice != nil:
		v := m.Voice
		return bot.Attachment{Type: "voice", FileID: v.FileID, Size: int64(v.FileSize), MIME: cleanName(v.MimeType)}, true
	case m.Video != nil:
		v := m.Video
		return bot.Attachment{Type: "video", FileID: v.FileID, Name: cleanName(v.FileName), Size: int64(v.FileSize), MIME: cleanName(v.MimeType)}, true
	case m.VideoNote != nil:
		v := m.VideoNote
		return bot.Attachment{Type: "video", FileID: v.FileID, Size: int64(v.FileSize), MIME: "video/mp4"}, true
	case m.Animation != nil:
		v := m.Animation
		return bot.Attachment{Type: "video", FileID: v.FileID, Name: cleanName(v.FileName), Size: int64(v.FileSize), MIME: cleanName(v.MimeType)}, true
	case m.Audio != nil:
		v := m.Audio
		return bot.Attachment{Type: "document", FileID: v.FileID, Name: cleanName(v.FileName), Size: int64(v.FileSize), MIME: cleanName(v.MimeType)}, true
	case m.Sticker != nil:
		return bot.Attachment{Type: "sticker", FileID: m.Sticker.FileID, Name: cleanName(m.Sticker.Emoji)}, true
	}
	for _, o := range []struct {
		set  bool
		name string
	}{
		{m.Location != nil, "location"}, {m.Venue != nil, "venue"}, {m.Contact != nil, "contact"},
		{m.Poll != nil, "poll"}, {m.Dice != nil, "dice"}, {m.Game != nil, "game"}, {m.Invoice != nil, "invoice"},
	} {
		if o.set {
			return bot.Attachment{Type: "other", Name: o.name}, true
		}
	}
	return bot.Attachment{}, false
}

// command splits "/lang@kefu_bot en" into ("lang", "en"). Only the commands in self.Commands count;
// a command addressed to another bot is not ours.
func command(text string, self selfInfo) (name, args string, ok bool) {
	if !strings.HasPrefix(text, "/") {
		return "", "", false
	}
	head, rest, _ := strings.Cut(text[1:], " ")
	if i := strings.IndexAny(head, "\n\t"); i >= 0 {
		rest = head[i+1:] + " " + rest
		head = head[:i]
	}
	head, target, addressed := strings.Cut(head, "@")
	if addressed && (self.UserName == "" || !strings.EqualFold(target, self.UserName)) {
		return "", "", false
	}
	head = strings.ToLower(head)
	for _, c := range self.Commands {
		if head == c {
			return c, rest, true
		}
	}
	return "", "", false
}

// addressesBot reports whether a group message is meant for the bot: a command, an @mention, a
// reply to one of its messages, or the bot being added to the group.
func addressesBot(m *tgbotapi.Message, self selfInfo) bool {
	if strings.HasPrefix(m.Text, "/") {
		head, _, _ := strings.Cut(m.Text, " ")
		if _, target, ok := strings.Cut(head, "@"); !ok || self.UserName == "" || strings.EqualFold(target, self.UserName) {
			return true
		}
	}
	if self.UserName != "" {
		at := "@" + strings.ToLower(self.UserName)
		if strings.Contains(strings.ToLower(m.Text), at) || strings.Contains(strings.ToLower(m.Caption), at) {
			return true
		}
	}
	if r := m.ReplyToMessage; r != nil && r.From != nil && self.ID != 0 && r.From.ID == self.ID {
		return true
	}
	for _, u := range m.NewChatMembers {
		if self.ID != 0 && u.ID == self.ID {
			return true
		}
	}
	return false
}

// langOf maps a Telegram language_code to a kefu language for the group notice: Chinese variants to
// zh-CN, every other language to en (more likely understood than Chinese), none to "" (the default).
func langOf(code string) string {
	c := strings.ToLower(code)
	switch {
	case c == "":
		return ""
	case strings.HasPrefix(c, "zh"):
		return "zh-CN"
	}
	return "en"
}

func displayName(u *tgbotapi.User) string {
	n := strings.TrimSpace(u.FirstName + " " + u.LastName)
	if n == "" {
		n = u.UserName
	}
	return cleanName(n)
}

// cleanText is NFKC (keeping Chinese full-width punctuation, as flows.Normalize does), valid UTF-8, without control characters except newline and tab, trimmed, and
// cut to maxTextRunes. The engine may normalize again; this is idempotent.
func cleanText(s string) string { return clean(s, maxTextRunes) }

func cleanName(s string) string { return clean(strings.ReplaceAll(s, "\n", " "), maxNameRunes) }

func clean(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = flows.NFKC(s)
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > max {
		n := 0
		for i := range s {
			if n == max {
				s = strings.TrimSpace(s[:i])
				break
			}
			n++
		}
	}
	return s
}

// cleanPayload keeps callback data as sent (the engine compares it with what it issued) but makes
// it valid UTF-8; Telegram caps it at 64 bytes.
func cleanPayload(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// cleanID keeps an opaque platform id printable.
func cleanID(s string) string {
	if len(s) > 128 {
		s = s[:128]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x21 || r > 0x7e {
			return '_'
		}
		return r
	}, s)
}
