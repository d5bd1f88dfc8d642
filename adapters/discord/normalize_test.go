package discord

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"
	"github.com/google/go-cmp/cmp"
	"github.com/kefu-dev/kefu/bot"
)

func decodeMessage(t testing.TB, js string) *discordgo.Message {
	t.Helper()
	var m discordgo.Message
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		t.Fatalf("decode %s: %v", js, err)
	}
	return &m
}

func TestMessageEvent(t *testing.T) {
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	base := bot.Event{Channel: bot.ChannelDiscord, MsgID: "1", ChatID: "c", UserID: "42", UserName: "Ann", At: at}
	const head = `"id":"1","channel_id":"c","timestamp":"2026-11-23T10:00:00Z","author":{"id":"42","username":"ann","global_name":"Ann"`
	tests := []struct {
		name       string
		json       string
		want       bot.Event
		wantReason string
	}{
		{"DM text", `{` + head + `},"type":0,"content":" 空调不制冷\u0000 "}`,
			with(base, func(e *bot.Event) { e.Kind, e.Text = bot.KindText, "空调不制冷" }), ""},
		{"reply counts as text", `{` + head + `},"type":19,"content":"yes"}`,
			with(base, func(e *bot.Event) { e.Kind, e.Text = bot.KindText, "yes" }), ""},
		{"command", `{` + head + `},"type":0,"content":"/Status"}`,
			with(base, func(e *bot.Event) { e.Kind, e.Payload = bot.KindCommand, "status" }), ""},
		{"command with args", `{` + head + `},"type":0,"content":"/link  ABC123 "}`,
			with(base, func(e *bot.Event) { e.Kind, e.Payload, e.Text = bot.KindCommand, "link", "ABC123" }), ""},
		{"slash that is not a command", `{` + head + `},"type":0,"content":"/ 1/2 of it broke"}`,
			with(base, func(e *bot.Event) { e.Kind, e.Text = bot.KindText, "/ 1/2 of it broke" }), ""},
		{"nickname wins", `{` + head + `},"member":{"nick":"Annie"},"type":0,"content":"hi"}`,
			with(base, func(e *bot.Event) { e.Kind, e.Text, e.UserName = bot.KindText, "hi", "Annie" }), ""},
		{"attachments", `{` + head + `},"type":0,"content":"","attachments":[
			{"id":"a1","url":"https://cdn/x.pdf","filename":"x.pdf","size":10,"content_type":"application/pdf"},
			{"id":"a2","url":"https://cdn/v.ogg","filename":"voice-message.ogg","size":5,"content_type":"audio/ogg","duration_secs":3.2,"waveform":"AA=="},
			{"id":"a3","url":"https://cdn/m.mp4","filename":"m.mp4","size":7,"content_type":"video/mp4"}]}`,
			with(base, func(e *bot.Event) {
				e.Kind = bot.KindMedia
				e.Attachments = []bot.Attachment{
					{Type: "document", FileID: "https://cdn/x.pdf", Name: "x.pdf", Size: 10, MIME: "application/pdf"},
					{Type: "voice", FileID: "https://cdn/v.ogg", Name: "voice-message.ogg", Size: 5, MIME: "audio/ogg"},
					{Type: "video", FileID: "https://cdn/m.mp4", Name: "m.mp4", Size: 7, MIME: "video/mp4"},
				}
			}), ""},
		{"sticker", `{` + head + `},"type":0,"content":"","sticker_items":[{"id":"s9","name":"wave","format_type":1}]}`,
			with(base, func(e *bot.Event) {
				e.Kind = bot.KindMedia
				e.Attachments = []bot.Attachment{{Type: "other", FileID: "sticker:s9", Name: "wave"}}
			}), ""},
		{"own message", `{"id":"1","channel_id":"c","author":{"id":"900","bot":true},"type":0,"content":"x"}`, bot.Event{}, "own message"},
		{"other bot", `{"id":"1","channel_id":"c","author":{"id":"5","bot":true},"type":0,"content":"x"}`, bot.Event{}, "from a bot"},
		{"webhook", `{"id":"1","channel_id":"c","webhook_id":"w","author":{"id":"5"},"type":0,"content":"x"}`, bot.Event{}, "from a webhook"},
		{"system message (pin)", `{` + head + `},"type":6,"content":""}`, bot.Event{}, "system message"},
		{"empty content", `{` + head + `},"type":0,"content":"  "}`, bot.Event{}, "empty message (is the MessageContent intent enabled?)"},
		{"no author", `{"id":"1","channel_id":"c","type":0,"content":"x"}`, bot.Event{}, "no author"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reason := messageEvent(decodeMessage(t, tt.json), "900")
			if reason != tt.wantReason {
				t.Fatalf("reason = %q, want %q", reason, tt.wantReason)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("event (-want +got):\n%s", d)
			}
		})
	}
}

func TestInteractionEventIgnoresWhatKefuDoesNotHandle(t *testing.T) {
	tests := []struct{ name, json, wantReason string }{
		{"select menu", `{"id":"1","type":3,"channel_id":"c","user":{"id":"4"},"data":{"custom_id":"x","component_type":3}}`, "not a button"},
		{"empty custom_id", `{"id":"1","type":3,"channel_id":"c","user":{"id":"4"},"data":{"custom_id":"","component_type":2}}`, "button without custom_id"},
		{"user context menu", `{"id":"1","type":2,"channel_id":"c","user":{"id":"4"},"data":{"name":"x","type":2}}`, "not a slash command"},
		{"modal", `{"id":"1","type":5,"channel_id":"c","user":{"id":"4"},"data":{"custom_id":"m"}}`, "unsupported interaction type ModalSubmit"},
		{"no user", `{"id":"1","type":3,"channel_id":"c","data":{"custom_id":"x","component_type":2}}`, "no user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var i discordgo.Interaction
			if err := json.Unmarshal([]byte(tt.json), &i); err != nil {
				t.Fatal(err)
			}
			if _, reason := interactionEvent(&i); reason != tt.wantReason {
				t.Errorf("reason = %q, want %q", reason, tt.wantReason)
			}
		})
	}
}

func TestSplitText(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"short", "abc", []string{"abc"}},
		{"at a line break", "aaaa\nbbbbbb", []string{"aaaa", "bbbbbb"}},
		{"at a space", "aaaaa bbbbbb", []string{"aaaaa", "bbbbbb"}},
		{"no early break", "a bbbbbbbbb", []string{"a bbbbbb", "bbb"}},
		{"hard cut in CJK", "一二三四五六七八九十", []string{"一二三四五六七八", "九十"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := cmp.Diff(tt.want, splitText(tt.in, 8)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestRewriteTransport(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Host+" "+r.URL.Path)
	}))
	defer srv.Close()
	a, err := New(Options{Token: "x", APIURL: srv.URL + "/proxy/", GatewayURL: "ws://gw.example/ws"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.s.Request("GET", discordgo.EndpointUser("@me"), nil); err != nil {
		t.Fatal(err)
	}
	gw, err := a.s.Gateway()
	if err != nil || gw != "ws://gw.example/ws/" {
		t.Errorf("Gateway() = %q, %v; want the configured URL", gw, err)
	}
	want := []string{strings.TrimPrefix(srv.URL, "http://") + " /proxy/api/v9/users/@me"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("requests reaching the API URL (-want +got):\n%s", d)
	}
	for _, bad := range []Options{{Token: ""}, {Token: "x", APIURL: "not a url"}, {Token: "x", GatewayURL: "http://x"}} {
		if _, err := New(bad); err == nil {
			t.Errorf("New(%+v) accepted bad options", bad)
		}
	}
}

func FuzzMessageEvent(f *testing.F) {
	f.Add(`{"id":"1","channel_id":"c","author":{"id":"42"},"type":0,"content":"/lang en"}`)
	f.Add(`{"id":"1","channel_id":"c","author":{"id":"42"},"type":0,"content":"\u00ff\u200b","attachments":[null,{"id":"a"}],"sticker_items":[null]}`)
	f.Add(`{"id":"1","author":{"id":"900"},"content":"x"}`)
	f.Fuzz(func(t *testing.T, js string) {
		var m discordgo.Message
		if json.Unmarshal([]byte(js), &m) != nil {
			return
		}
		ev, reason := messageEvent(&m, "900")
		if reason != "" {
			return
		}
		if !utf8.ValidString(ev.Text) || normalizeText(ev.Text) != ev.Text && ev.Kind != bot.KindCommand {
			t.Errorf("text %q not normalized", ev.Text)
		}
		if ev.Kind == "" || ev.MsgID != m.ID || ev.UserID == "" && m.Author != nil && m.Author.ID != "" {
			t.Errorf("event %+v from %+v", ev, m)
		}
		if ev.Kind == bot.KindCommand && (ev.Payload == "" || len(ev.Payload) > 32) {
			t.Errorf("command payload %q", ev.Payload)
		}
	})
}

func FuzzInteraction(f *testing.F) {
	f.Add(`{"id":"1","type":3,"channel_id":"c","user":{"id":"4"},"data":{"custom_id":"x","component_type":2},"message":{"id":"m","components":[{"type":1,"components":[{"type":2,"custom_id":"x","label":"L"}]}]}}`)
	f.Add(`{"id":"1","type":2,"channel_id":"c","member":{"user":{"id":"4"}},"data":{"name":"lang","type":1,"options":[{"name":"language","type":3,"value":"en"},{"name":"n","type":4,"value":3}]}}`)
	f.Add(`{"id":"1","type":4,"data":{}}`)
	a, err := New(Options{Token: "x", SupportChannelID: "sup"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, js string) {
		var i discordgo.Interaction
		if json.Unmarshal([]byte(js), &i) != nil {
			return
		}
		resp, it := a.acknowledge(&i)
		if resp == nil {
			t.Fatal("no acknowledgement")
		}
		if _, err := json.Marshal(resp); err != nil {
			t.Fatalf("acknowledgement does not encode: %v", err)
		}
		if it != nil && (it.ev.MsgID != i.ID || it.ev.Kind != bot.KindButton && it.ev.Kind != bot.KindCommand) {
			t.Errorf("event %+v", it.ev)
		}
	})
}

func FuzzSplitText(f *testing.F) {
	f.Add("一二三 四五\n六七八九十", 4)
	f.Add("\xff\xfe abc", 1)
	f.Fuzz(func(t *testing.T, s string, limit int) {
		if limit < 1 || limit > 50 {
			return
		}
		s = strings.ToValidUTF8(s, "?")
		parts := splitText(s, limit)
		for _, p := range parts {
			if utf8.RuneCountInString(p) > limit {
				t.Fatalf("part %q over %d runes", p, limit)
			}
		}
		if strings.Join(strings.Fields(strings.Join(parts, " ")), "") != strings.Join(strings.Fields(s), "") {
			t.Fatalf("split %q lost text: %q", s, parts)
		}
	})
}
