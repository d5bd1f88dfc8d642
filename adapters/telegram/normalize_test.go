package telegram

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/kefu-dev/kefu/bot"
)

const (
	custID   = 42
	custChat = 42
	msgDate  = 1700000000
)

var testSelf = selfInfo{ID: testBotID, UserName: testBotName, Commands: Commands}

// privateMsg is a message update from customer 42 in their private chat; extra adds JSON fields.
func privateMsg(id int, extra string) string {
	return fmt.Sprintf(`{"message":{"message_id":%d,"date":%d,"chat":{"id":%d,"type":"private","first_name":"Li"},`+
		`"from":{"id":%d,"is_bot":false,"first_name":"Li","last_name":"Lei","language_code":"zh-hans"}%s}}`,
		id, msgDate, custChat, custID, extra)
}

func textUpdate(id int, text string) string {
	return privateMsg(id, `,"text":`+quote(text))
}

func groupMsg(id int, extra string) string {
	return fmt.Sprintf(`{"message":{"message_id":%d,"date":%d,"chat":{"id":-100777,"type":"supergroup","title":"Shop"},`+
		`"from":{"id":%d,"is_bot":false,"first_name":"Li","language_code":"en-US"}%s}}`, id, msgDate, custID, extra)
}

func callbackUpdate(id, data string, chatType string) string {
	return fmt.Sprintf(`{"callback_query":{"id":%s,"chat_instance":"ci","data":%s,`+
		`"from":{"id":%d,"is_bot":false,"first_name":"Li","language_code":"en"},`+
		`"message":{"message_id":77,"date":%d,"chat":{"id":%d,"type":%q},"from":{"id":%d,"is_bot":true,"first_name":"Kefu"},"text":"pick"}}}`,
		quote(id), quote(data), custID, msgDate, custChat, chatType, testBotID)
}

func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func TestNormalize(t *testing.T) {
	now := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	at := time.Unix(msgDate, 0).UTC()
	base := bot.Event{
		Channel: bot.ChannelTelegram, MsgID: "m:42:10", ChatID: "42", UserID: "42", UserName: "Li Lei",
		LangHint: "zh-hans", At: at,
	}
	ev := func(f func(*bot.Event)) *bot.Event {
		e := base
		f(&e)
		return &e
	}
	long := strings.Repeat("退款", 3000) // 6000 runes
	tests := []struct {
		name   string
		update string
		want   action
	}{
		{"text", textUpdate(10, "  我要退款  "), action{Event: ev(func(e *bot.Event) {
			e.Kind, e.Text = bot.KindText, "我要退款"
		})}},
		{"text is NFKC normalized", textUpdate(10, "ＡＢＣ１２３"), action{Event: ev(func(e *bot.Event) {
			e.Kind, e.Text = bot.KindText, "ABC123"
		})}},
		{"Chinese punctuation kept as web chat keeps it", textUpdate(10, "快递，三天没动？（急）"), action{Event: ev(func(e *bot.Event) {
			e.Kind, e.Text = bot.KindText, "快递，三天没动？（急）"
		})}},
		{"command start with deep link", textUpdate(10, "/start ref_1"), action{Event: ev(func(e *bot.Event) {
			e.Kind, e.Payload, e.Text = bot.KindCommand, "start", "ref_1"
		})}},
		{"command addressed to us", textUpdate(10, "/lang@Kefu_Test_Bot en"), action{Event: ev(func(e *bot.Event) {
			e.Kind, e.Payload, e.Text = bot.KindCommand, "lang", "en"
		})}},
		{"command upper case", textUpdate(10, "/STATUS"), action{Event: ev(func(e *bot.Event) {
			e.Kind, e.Payload = bot.KindCommand, "status"
		})}},
		{"link command", textUpdate(10, "/link 123456"), action{Event: ev(func(e *bot.Event) {
			e.Kind, e.Payload, e.Text = bot.KindCommand, "link", "123456"
		})}},
		{"command for another bot is text", textUpdate(10, "/help@other_bot"), action{Event: ev(func(e *bot.Event) {
			e.Kind, e.Text = bot.KindText, "/help@other_bot"
		})}},
		{"unknown command is text", textUpdate(10, "/refund now"), action{Event: ev(func(e *bot.Event) {
			e.Kind, e.Text = bot.KindText, "/refund now"
		})}},
		{"oversized text is cut at a rune boundary", textUpdate(10, long), action{Event: ev(func(e *bot.Event) {
			e.Kind, e.Text = bot.KindText, strings.Repeat("退款", 2048)
		})}},
		{"control characters dropped", textUpdate(10, "a\u0000b\u0007c\nd"), action{Event: ev(func(e *bot.Event) {
			e.Kind, e.Text = bot.KindText, "abc\nd"
		})}},
		{"photo takes the largest size, caption as text", privateMsg(10,
			`,"caption":"破损","photo":[{"file_id":"small","file_unique_id":"s","width":90,"height":90,"file_size":100},`+
				`{"file_id":"big","file_unique_id":"b","width":1280,"height":960,"file_size":90000}]`),
			action{Event: ev(func(e *bot.Event) {
				e.Kind, e.Text = bot.KindMedia, "破损"
				e.Attachments = []bot.Attachment{{Type: "photo", FileID: "big", Size: 90000, MIME: "image/jpeg"}}
			})}},
		{"oversized caption is cut", privateMsg(10, `,"caption":`+quote(long)+`,"document":{"file_id":"d1","file_unique_id":"u"}`),
			action{Event: ev(func(e *bot.Event) {
				e.Kind, e.Text = bot.KindMedia, strings.Repeat("退款", 2048)
				e.Attachments = []bot.Attachment{{Type: "document", FileID: "d1"}}
			})}},
		{"document", privateMsg(10, `,"document":{"file_id":"d1","file_unique_id":"u","file_name":"发票.pdf","mime_type":"application/pdf","file_size":2048}`),
			action{Event: ev(func(e *bot.Event) {
				e.Kind = bot.KindMedia
				e.Attachments = []bot.Attachment{{Type: "document", FileID: "d1", Name: "发票.pdf", Size: 2048, MIME: "application/pdf"}}
			})}},
		{"voice", privateMsg(10, `,"voice":{"file_id":"v1","file_unique_id":"u","duration":3,"mime_type":"audio/ogg","file_size":5000}`),
			action{Event: ev(func(e *bot.Event) {
				e.Kind = bot.KindMedia
				e.Attachments = []bot.Attachment{{Type: "voice", FileID: "v1", Size: 5000, MIME: "audio/ogg"}}
			})}},
		{"video", privateMsg(10, `,"video":{"file_id":"x1","file_unique_id":"u","width":1,"height":1,"duration":3,"mime_type":"video/mp4","file_size":7}`),
			action{Event: ev(func(e *bot.Event) {
				e.Kind = bot.KindMedia
				e.Attachments = []bot.Attachment{{Type: "video", FileID: "x1", Size: 7, MIME: "video/mp4"}}
			})}},
		{"sticker is media so the engine answers", privateMsg(10, `,"sticker":{"file_id":"st","file_unique_id":"u","width":1,"height":1,"emoji":"😀"}`),
			action{Event: ev(func(e *bot.Event) {
				e.Kind = bot.KindMedia
				e.Attachments = []bot.Attachment{{Type: "sticker", FileID: "st", Name: "😀"}}
			})}},
		{"location is other media without coordinates", privateMsg(10, `,"location":{"latitude":31.2,"longitude":121.5}`),
			action{Event: ev(func(e *bot.Event) {
				e.Kind = bot.KindMedia
				e.Attachments = []bot.Attachment{{Type: "other", Name: "location"}}
			})}},
		{"contact is other media without the phone", privateMsg(10, `,"contact":{"phone_number":"+8613800000000","first_name":"Li"}`),
			action{Event: ev(func(e *bot.Event) {
				e.Kind = bot.KindMedia
				e.Attachments = []bot.Attachment{{Type: "other", Name: "contact"}}
			})}},
		{"callback query", callbackUpdate("cb1", "survey:5:s3", "private"), action{
			CallbackID: "cb1",
			Keyboard:   &msgRef{ChatID: custChat, MessageID: 77},
			Event: &bot.Event{Channel: bot.ChannelTelegram, MsgID: "cb:cb1", ChatID: "42", UserID: "42", UserName: "Li",
				Kind: bot.KindButton, Payload: "survey:5:s3", LangHint: "en", At: now},
		}},
		{"callback without data is answered, not delivered", callbackUpdate("cb2", "", "private"),
			action{CallbackID: "cb2", Keyboard: &msgRef{ChatID: custChat, MessageID: 77}, Ignore: "callback query without data"}},
		{"callback in a group is answered, not delivered", callbackUpdate("cb3", "x", "group"),
			action{CallbackID: "cb3", Keyboard: &msgRef{ChatID: custChat, MessageID: 77}, Ignore: "callback query in a group"}},
		{"callback on an inline message is answered", `{"callback_query":{"id":"cb4","chat_instance":"c","inline_message_id":"i","data":"x","from":{"id":1,"first_name":"a"}}}`,
			action{CallbackID: "cb4", Ignore: "callback query on an inline message"}},
		{"edited message ignored", `{"edited_message":{"message_id":10,"date":1,"edit_date":2,"chat":{"id":42,"type":"private"},"from":{"id":42,"first_name":"Li"},"text":"x"}}`,
			action{Ignore: "edited message"}},
		{"message from a bot ignored", `{"message":{"message_id":10,"date":1,"chat":{"id":42,"type":"private"},"from":{"id":5,"is_bot":true,"first_name":"B"},"text":"hi"}}`,
			action{Ignore: "message from a bot"}},
		{"unknown update type ignored", `{"poll_answer":{"poll_id":"p","user":{"id":1,"first_name":"a"},"option_ids":[0]}}`,
			action{Ignore: "unsupported update type"}},
		{"empty update ignored", `{}`, action{Ignore: "unsupported update type"}},
		{"bot blocked ignored", `{"my_chat_member":{"chat":{"id":42,"type":"private"},"from":{"id":42,"first_name":"a"},"date":1,` +
			`"old_chat_member":{"user":{"id":999,"is_bot":true,"first_name":"K"},"status":"member"},` +
			`"new_chat_member":{"user":{"id":999,"is_bot":true,"first_name":"K"},"status":"kicked"}}}`,
			action{Ignore: "my_chat_member: kicked"}},
		{"channel post ignored", `{"channel_post":{"message_id":1,"date":1,"chat":{"id":-1,"type":"channel"},"text":"x"}}`,
			action{Ignore: "channel post"}},
		{"private service message ignored", privateMsg(10, `,"pinned_message":{"message_id":3,"date":1,"chat":{"id":42,"type":"private"}}`),
			action{Ignore: "service message"}},
		{"group command gets the notice", groupMsg(5, `,"text":"/start"`),
			action{NoticeChat: -100777, NoticeLang: "en", Ignore: "group message"}},
		{"group mention gets the notice", groupMsg(5, `,"text":"hello @kefu_test_bot refund?"`),
			action{NoticeChat: -100777, NoticeLang: "en", Ignore: "group message"}},
		{"group reply to the bot gets the notice", groupMsg(5, `,"text":"?","reply_to_message":{"message_id":4,"date":1,"chat":{"id":-100777,"type":"supergroup"},"from":{"id":999,"is_bot":true,"first_name":"K"},"text":"x"}`),
			action{NoticeChat: -100777, NoticeLang: "en", Ignore: "group message"}},
		{"bot added to a group gets the notice", groupMsg(5, `,"new_chat_members":[{"id":999,"is_bot":true,"first_name":"K"}]`),
			action{NoticeChat: -100777, NoticeLang: "en", Ignore: "group message"}},
		{"group chatter ignored", groupMsg(5, `,"text":"anyone here?"`), action{Ignore: "group message not for the bot"}},
		{"group command for another bot ignored", groupMsg(5, `,"text":"/start@other_bot"`), action{Ignore: "group message not for the bot"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := decodeUpdate([]byte(tt.update))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			got := normalize(u, testSelf, now)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("normalize mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLangOf(t *testing.T) {
	for code, want := range map[string]string{"": "", "zh-hans": "zh-CN", "ZH-TW": "zh-CN", "en": "en", "en-GB": "en", "ru": "en"} {
		if got := langOf(code); got != want {
			t.Errorf("langOf(%q) = %q, want %q", code, got, want)
		}
	}
}

func TestDecodeUpdateRejectsGarbage(t *testing.T) {
	for _, in := range []string{``, `[`, `"x"`, `{"update_id":"nope"}`, `{"message":5}`} {
		if _, err := decodeUpdate([]byte(in)); err == nil {
			t.Errorf("decodeUpdate(%q) = nil error, want an error", in)
		}
	}
}

func TestCleanTextIsIdempotent(t *testing.T) {
	for _, s := range []string{"  ＡＢＣ  ", "a\x00b", "\xff\xfe", strings.Repeat("é", 5000), "e\u0301" + strings.Repeat("x", 4095)} {
		once := cleanText(s)
		if twice := cleanText(once); twice != once {
			t.Errorf("cleanText not idempotent for %q: %q then %q", s, once, twice)
		}
		if !utf8.ValidString(once) {
			t.Errorf("cleanText(%q) is not valid UTF-8", s)
		}
	}
}
