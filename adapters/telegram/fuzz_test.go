package telegram

import (
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kefu-dev/kefu/bot"
)

// FuzzNormalizeUpdate feeds arbitrary bodies to the webhook/getUpdates decoder and the normalizer:
// no panic, and whatever comes out is a well-formed event or a reasoned ignore.
func FuzzNormalizeUpdate(f *testing.F) {
	for _, s := range []string{
		textUpdate(1, "你好"), textUpdate(2, "/lang@kefu_test_bot en"), textUpdate(3, "/start"),
		callbackUpdate("q", "rate:5", "private"), callbackUpdate("q", "", "group"),
		privateMsg(4, `,"caption":"x","photo":[{"file_id":"a","file_unique_id":"b","width":1,"height":1}]`),
		privateMsg(5, `,"sticker":{"file_id":"st","file_unique_id":"u","width":1,"height":1}`),
		groupMsg(6, `,"text":"/help"`), `{"edited_message":{"message_id":1,"date":1,"chat":{"id":1,"type":"private"}}}`,
		`{}`, `{"message":null}`, `{"message":{}}`, `{"message":{"chat":{"type":"private"},"from":{}}}`,
		`{"callback_query":{"id":"x","message":{"chat":{"id":1,"type":"private"}}}}`,
	} {
		f.Add([]byte(s))
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		u, err := decodeUpdate(body)
		if err != nil {
			return
		}
		act := normalize(u, testSelf, now)
		if act.Event == nil {
			if act.Ignore == "" && act.NoticeChat == 0 {
				t.Fatalf("no event and no reason for %s", body)
			}
			return
		}
		ev := act.Event
		if ev.Channel != bot.ChannelTelegram || ev.MsgID == "" || ev.ChatID == "" || ev.UserID == "" {
			t.Fatalf("incomplete event %+v", ev)
		}
		if !strings.HasPrefix(ev.MsgID, "m:") && !strings.HasPrefix(ev.MsgID, "cb:") {
			t.Fatalf("MsgID %q", ev.MsgID)
		}
		for _, s := range []string{ev.Text, ev.Payload, ev.UserName, ev.MsgID} {
			if !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8 %q", s)
			}
		}
		if n := utf8.RuneCountInString(ev.Text); n > maxTextRunes {
			t.Fatalf("text of %d runes", n)
		}
		if cleanText(ev.Text) != ev.Text {
			t.Fatalf("text not normalized: %q", ev.Text)
		}
		switch ev.Kind {
		case bot.KindText:
		case bot.KindCommand:
			if !slices.Contains(Commands, ev.Payload) {
				t.Fatalf("unknown command %q", ev.Payload)
			}
		case bot.KindButton:
			if act.CallbackID == "" || ev.Payload == "" || len(ev.Payload) > 64 {
				t.Fatalf("button event %+v, callback %q", ev, act.CallbackID)
			}
		case bot.KindMedia:
			if len(ev.Attachments) != 1 {
				t.Fatalf("media without attachment: %+v", ev)
			}
		default:
			t.Fatalf("kind %q", ev.Kind)
		}
		if u.Message != nil && u.Message.Chat != nil && u.Message.Chat.Type != "private" && u.CallbackQuery == nil {
			t.Fatalf("event from a %s chat", u.Message.Chat.Type)
		}
	})
}
