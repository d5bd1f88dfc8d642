package telegramtest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestFakeRefusesWhatTelegramRefuses: missing chat_id or text, text over 4096 characters, bad
// markup, edits without a message id and a wrong token get Telegram's error, not a success.
func TestFakeRefusesWhatTelegramRefuses(t *testing.T) {
	f := NewServer(t)
	long := strings.Repeat("字", 4097)
	for _, c := range []struct {
		name, path string
		form       url.Values
		status     int
	}{
		{"wrong token", "/bot999:wrong/sendMessage", url.Values{"chat_id": {"42"}, "text": {"hi"}}, 401},
		{"no token", "/sendMessage", url.Values{"chat_id": {"42"}, "text": {"hi"}}, 404},
		{"no chat_id", "/bot" + Token + "/sendMessage", url.Values{"text": {"hi"}}, 400},
		{"bad chat_id", "/bot" + Token + "/sendMessage", url.Values{"chat_id": {"abc"}, "text": {"hi"}}, 400},
		{"no text", "/bot" + Token + "/sendMessage", url.Values{"chat_id": {"42"}}, 400},
		{"blank text", "/bot" + Token + "/sendMessage", url.Values{"chat_id": {"42"}, "text": {" \n"}}, 400},
		{"text too long", "/bot" + Token + "/sendMessage", url.Values{"chat_id": {"42"}, "text": {long}}, 400},
		{"bad markup", "/bot" + Token + "/sendMessage", url.Values{"chat_id": {"42"}, "text": {"hi"}, "reply_markup": {"{"}}, 400},
		{"edit without message_id", "/bot" + Token + "/editMessageText", url.Values{"chat_id": {"42"}, "text": {"x"}}, 400},
		{"edit without text", "/bot" + Token + "/editMessageText", url.Values{"chat_id": {"42"}, "message_id": {"1"}}, 400},
		{"edit too long", "/bot" + Token + "/editMessageText", url.Values{"chat_id": {"42"}, "message_id": {"1"}, "text": {long}}, 400},
		{"markup edit without chat", "/bot" + Token + "/editMessageReplyMarkup", url.Values{"message_id": {"1"}}, 400},
		{"callback answer without id", "/bot" + Token + "/answerCallbackQuery", url.Values{"text": {"ok"}}, 400},
		{"callback answer too long", "/bot" + Token + "/answerCallbackQuery", url.Values{"callback_query_id": {"c"}, "text": {strings.Repeat("a", 201)}}, 400},
		{"bad commands", "/bot" + Token + "/setMyCommands", url.Values{"commands": {`[{"command":"","description":"x"}]`}}, 400},
		{"getFile without id", "/bot" + Token + "/getFile", url.Values{}, 400},
		{"good message", "/bot" + Token + "/sendMessage", url.Values{"chat_id": {"42"}, "text": {long[:len(long)-3]}}, 200},
		{"good edit", "/bot" + Token + "/editMessageText", url.Values{"chat_id": {"42"}, "message_id": {"1"}, "text": {"x"}}, 200},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := http.PostForm(f.URL+c.path, c.form)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var body struct {
				OK        bool `json:"ok"`
				ErrorCode int  `json:"error_code"`
			}
			_ = json.NewDecoder(res.Body).Decode(&body)
			if res.StatusCode != c.status || body.OK != (c.status == 200) || (c.status != 200 && body.ErrorCode != c.status) {
				t.Errorf("POST %s = %d %+v, want %d", c.path, res.StatusCode, body, c.status)
			}
		})
	}
	if got := len(f.Sent()); got != 1 {
		t.Errorf("Sent lists %d messages, want only the accepted one", got)
	}
	if got := len(f.Refused()); got != 16 {
		t.Errorf("Refused lists %d calls, want 16", got)
	}
}
