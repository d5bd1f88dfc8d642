package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kefu-dev/kefu/bot"
)

// FuzzDecodeMessage checks the POST /api/webchat/messages decoder: it never panics, fails only with
// an API error, and what it accepts is a well-formed event that survives a round trip.
func FuzzDecodeMessage(f *testing.F) {
	for _, s := range []string{
		`{"session":"abc","text":"你好"}`,
		`{"session":"abc","action":"yes:3"}`,
		`{"session":"abc","text":"/lang en","lang":"en","client_id":"c1"}`,
		`{"session":"abc","text":"a\u0000b\ud800"}`,
		"{\"session\":\"abc\",\"text\":\"\xff\xfe\"}",
		`{"session":"abc","text":" ","action":""}`,
		`{"session":"abc"} trailing`,
		`[]`, `null`, `{`, ``, `"x"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMessage(bytes.NewReader(b))
		if err != nil {
			if ae := (*apiError)(nil); !errors.As(err, &ae) || ae.status < 400 || ae.status > 499 {
				t.Fatalf("decode error %v is not a 4xx API error", err)
			}
			return
		}
		if !validToken(m.Session, maxSessionLen) {
			t.Fatalf("accepted session %q", m.Session)
		}
		if (m.Text == "") == (m.Action == "") {
			t.Fatalf("accepted text %q with action %q: want exactly one", m.Text, m.Action)
		}
		if !utf8.ValidString(m.Text) || m.Text != strings.TrimSpace(m.Text) {
			t.Fatalf("text %q is not valid, trimmed UTF-8", m.Text)
		}
		for _, r := range m.Text {
			if unicode.IsControl(r) && r != '\n' && r != '\t' {
				t.Fatalf("text %q keeps control character %U", m.Text, r)
			}
		}
		if m.ClientID != "" && !validToken(m.ClientID, maxClientIDLen) {
			t.Fatalf("accepted client_id %q", m.ClientID)
		}
		ev := m.event("id", m.Lang, time.Unix(0, 0))
		if ev.Channel != bot.ChannelWeb || ev.ChatID != m.Session || ev.UserID != m.Session {
			t.Fatalf("event %+v", ev)
		}
		if (ev.Kind == bot.KindButton) != (m.Action != "") || (ev.Kind == bot.KindButton && ev.Payload != m.Action) {
			t.Fatalf("event kind %q payload %q for action %q", ev.Kind, ev.Payload, m.Action)
		}
		// Cleaning is idempotent: re-encoding what was accepted decodes to the same request.
		again, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		m2, err := decodeMessage(bytes.NewReader(again))
		if err != nil || m2 != m {
			t.Fatalf("round trip: %+v -> %s -> %+v, %v", m, again, m2, err)
		}
	})
}
