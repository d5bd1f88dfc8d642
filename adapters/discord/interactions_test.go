package discord

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/adapters/discord/discordtest"

	"github.com/google/go-cmp/cmp"
	"github.com/kefu-dev/kefu/bot"
)

// buttonInteraction is an INTERACTION_CREATE for a press on button payload in a DM, on a message
// that showed two buttons.
func buttonInteraction(id, payload string) map[string]any {
	return map[string]any{
		"id": id, "application_id": "901", "type": 3, "token": "tok-" + id, "version": 1,
		"channel_id": "dm1", "locale": "zh-CN",
		"user": map[string]any{"id": "42", "username": "user42"},
		"data": map[string]any{"custom_id": payload, "component_type": 2},
		"message": map[string]any{
			"id": "bot-msg-1", "channel_id": "dm1", "content": "这个回答解决您的问题了吗？", "type": 0,
			"author": map[string]any{"id": "900", "username": "kefu", "bot": true},
			"components": []any{map[string]any{"type": 1, "components": []any{
				map[string]any{"type": 2, "style": 2, "label": "解决了", "custom_id": "s1:yes"},
				map[string]any{"type": 2, "style": 2, "label": "没解决", "custom_id": "s1:no"},
			}}},
		},
	}
}

func commandInteraction(id, channel, guild, name string, opts ...map[string]any) map[string]any {
	i := map[string]any{
		"id": id, "application_id": "901", "type": 2, "token": "tok-" + id, "version": 1,
		"channel_id": channel, "locale": "en-US",
		"data": map[string]any{"id": "c-" + name, "name": name, "type": 1, "options": opts},
	}
	if guild != "" {
		i["guild_id"] = guild
		i["member"] = map[string]any{"user": map[string]any{"id": "42", "username": "user42"}, "nick": "Ann"}
	} else {
		i["user"] = map[string]any{"id": "42", "username": "user42"}
	}
	return i
}

type callback struct {
	Type int `json:"type"`
	Data struct {
		Content    string `json:"content"`
		Flags      int    `json:"flags"`
		Components []struct {
			Type       int `json:"type"`
			Components []struct {
				Label    string `json:"label"`
				CustomID string `json:"custom_id"`
				Disabled bool   `json:"disabled"`
			} `json:"components"`
		} `json:"components"`
	} `json:"data"`
}

func TestButtonAcknowledgedBeforeDeliverAndKeyboardClosed(t *testing.T) {
	f := discordtest.NewServer(t)
	sink := newRecSink()
	sink.block = make(chan struct{}) // Deliver hangs until released: the ack must not wait for it
	startAdapter(t, f, Options{}, sink)

	sent := time.Now()
	f.Dispatch("INTERACTION_CREATE", buttonInteraction("i1", "s1:yes"))
	f.WaitUntil("interaction callback", func() bool {
		return len(f.CallsTo("POST", "/api/v9/interactions/i1/tok-i1/callback")) == 1
	})
	c := f.CallsTo("POST", "/api/v9/interactions/i1/tok-i1/callback")[0]
	if d := c.At.Sub(sent); d > 3*time.Second {
		t.Errorf("acknowledged after %v, Discord allows 3 s", d)
	}
	var cb callback
	if err := json.Unmarshal(c.Body, &cb); err != nil {
		t.Fatal(err)
	}
	if cb.Type != 7 || cb.Data.Content != "这个回答解决您的问题了吗？" {
		t.Errorf("callback type %d content %q, want 7 (update message) keeping the text", cb.Type, cb.Data.Content)
	}
	if len(cb.Data.Components) != 1 || len(cb.Data.Components[0].Components) != 1 {
		t.Fatalf("keyboard after press: %+v, want one row with the chosen button", cb.Data.Components)
	}
	if b := cb.Data.Components[0].Components[0]; b.Label != "解决了" || !b.Disabled {
		t.Errorf("chosen button = %+v, want the pressed one, disabled", b)
	}

	close(sink.block)
	evs := sink.waitFor(t, "button event", hasMsg("i1"))
	want := bot.Event{Channel: bot.ChannelDiscord, MsgID: "i1", ChatID: "dm1", UserID: "42", UserName: "user42",
		Kind: bot.KindButton, Payload: "s1:yes", LangHint: "zh-CN"}
	if d := cmp.Diff(want, evs[0]); d != "" {
		t.Errorf("button event (-want +got):\n%s", d)
	}
}

func TestSlashCommandDeferredThenAnsweredBySend(t *testing.T) {
	f := discordtest.NewServer(t)
	sink := newRecSink()
	a, _ := startAdapter(t, f, Options{}, sink)

	f.Dispatch("INTERACTION_CREATE", commandInteraction("i2", "dm1", "", "lang", map[string]any{"name": "language", "type": 3, "value": "en"}))
	evs := sink.waitFor(t, "command event", hasMsg("i2"))
	want := bot.Event{Channel: bot.ChannelDiscord, MsgID: "i2", ChatID: "dm1", UserID: "42", UserName: "user42",
		Kind: bot.KindCommand, Payload: "lang", Text: "en", LangHint: "en-US"}
	if d := cmp.Diff(want, evs[0]); d != "" {
		t.Errorf("command event (-want +got):\n%s", d)
	}
	var cb callback
	json.Unmarshal(f.CallsTo("POST", "/api/v9/interactions/i2/tok-i2/callback")[0].Body, &cb)
	if cb.Type != 5 {
		t.Errorf("slash command ack type = %d, want 5 (deferred)", cb.Type)
	}
	// The next reply to that chat answers the command instead of posting a new message.
	id, err := a.Send(t.Context(), bot.Reply{OutboxID: 1, ChatID: "dm1", Text: "Language set to English."})
	if err != nil || id == "" {
		t.Fatalf("Send = %q, %v", id, err)
	}
	if n := len(f.CallsTo("PATCH", "/api/v9/webhooks/901/tok-i2/messages/@original")); n != 1 {
		t.Errorf("edits of the deferred answer = %d, want 1", n)
	}
	if n := len(f.CallsTo("POST", "/api/v9/channels/dm1/messages")); n != 0 {
		t.Errorf("channel messages = %d, want 0", n)
	}
	// A later message in the same chat is an ordinary message.
	if _, err := a.Send(t.Context(), bot.Reply{OutboxID: 2, ChatID: "dm1", Text: "more"}); err != nil {
		t.Fatal(err)
	}
	if n := len(f.CallsTo("POST", "/api/v9/channels/dm1/messages")); n != 1 {
		t.Errorf("channel messages = %d, want 1", n)
	}
	// The interaction locale becomes the hint for that user's typed messages.
	f.Dispatch("MESSAGE_CREATE", discordtest.MessageCreate("m1", "dm1", "", "42", "hello", nil))
	evs = sink.waitFor(t, "m1", hasMsg("m1"))
	if got := evs[len(evs)-1].LangHint; got != "en-US" {
		t.Errorf("LangHint of a typed message after a slash command = %q, want en-US", got)
	}
}

func TestCommandsRegisteredWithLocalizations(t *testing.T) {
	f := discordtest.NewServer(t)
	startAdapter(t, f, Options{
		CommandDescriptions: map[string]map[string]string{
			"zh-CN": {"status": "查看我的工单", "lang": "切换语言", "lang.language": "语言"},
			"en":    {"status": "Show my tickets", "lang": "Change language"},
		},
		CommandNames: map[string]map[string]string{"zh-CN": {"status": "状态"}},
	}, newRecSink())
	f.WaitUntil("command registration", func() bool { return len(f.CallsTo("PUT", "/api/v9/applications/901/commands")) == 1 })
	var cmds []struct {
		Name                     string            `json:"name"`
		Description              string            `json:"description"`
		NameLocalizations        map[string]string `json:"name_localizations"`
		DescriptionLocalizations map[string]string `json:"description_localizations"`
		Options                  []struct {
			Name                     string            `json:"name"`
			DescriptionLocalizations map[string]string `json:"description_localizations"`
			Choices                  []struct{ Value string }
		} `json:"options"`
	}
	if err := json.Unmarshal(f.CallsTo("PUT", "/api/v9/applications/901/commands")[0].Body, &cmds); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range cmds {
		names = append(names, c.Name)
	}
	if d := cmp.Diff([]string{"status", "lang", "link", "help"}, names); d != "" {
		t.Errorf("commands (-want +got):\n%s", d)
	}
	st := cmds[0]
	if st.Description != "Show my tickets" || st.DescriptionLocalizations["zh-CN"] != "查看我的工单" ||
		st.DescriptionLocalizations["en-US"] != "Show my tickets" || st.NameLocalizations["zh-CN"] != "状态" {
		t.Errorf("status command = %+v", st)
	}
	lang := cmds[1]
	if len(lang.Options) != 1 || len(lang.Options[0].Choices) != 2 || lang.Options[0].DescriptionLocalizations["zh-CN"] != "语言" {
		t.Errorf("lang options = %+v", lang.Options)
	}
}

// signed builds a request to the HTTP interactions endpoint signed with priv at time ts.
func signed(t *testing.T, priv ed25519.PrivateKey, ts time.Time, body []byte) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/discord/interactions", bytes.NewReader(body))
	stamp := strconv.FormatInt(ts.Unix(), 10)
	r.Header.Set("X-Signature-Timestamp", stamp)
	r.Header.Set("X-Signature-Ed25519", hex.EncodeToString(ed25519.Sign(priv, append([]byte(stamp), body...))))
	return r
}

func TestHTTPInteractions(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, otherPriv, _ := ed25519.GenerateKey(rand.Reader)
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	f := discordtest.NewServer(t)
	a, err := New(Options{Token: discordtest.Token, APIURL: f.URL, PublicKey: hex.EncodeToString(pub), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ping := []byte(`{"id":"p1","application_id":"901","type":1,"token":"t","version":1}`)
	press, _ := json.Marshal(buttonInteraction("i9", "s1:no"))

	tamper := func(r *http.Request) *http.Request { r.Body = httpBody(`{"id":"p1","type":1,"x":1}`); return r }
	tests := []struct {
		name       string
		req        *http.Request
		wantStatus int
		wantType   int // response type when 200
	}{
		{"ping", signed(t, priv, now, ping), 200, 1},
		{"button", signed(t, priv, now, press), 200, 7},
		{"wrong key", signed(t, otherPriv, now, ping), 401, 0},
		{"tampered body", tamper(signed(t, priv, now, ping)), 401, 0},
		{"no signature", httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(ping)), 401, 0},
		{"replayed after 10 minutes", signed(t, priv, now.Add(-10*time.Minute), ping), 401, 0},
		{"not JSON", signed(t, priv, now, []byte("{oops")), 400, 0},
		{"GET", httptest.NewRequest(http.MethodGet, "/", nil), 405, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			a.ServeHTTP(w, tt.req)
			if w.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d (%s)", w.Code, tt.wantStatus, w.Body)
			}
			if tt.wantType != 0 {
				var cb callback
				if err := json.Unmarshal(w.Body.Bytes(), &cb); err != nil || cb.Type != tt.wantType {
					t.Errorf("response %s, want type %d", w.Body, tt.wantType)
				}
			}
		})
	}
	// The signed button press was queued before Run; Run delivers it.
	sink := newRecSink()
	ctx, cancel := contextWithCancel(t)
	done := make(chan error, 1)
	a2 := a
	go func() { done <- a2.Run(ctx, sink) }()
	evs := sink.waitFor(t, "HTTP button event", hasMsg("i9"))
	if evs[0].Kind != bot.KindButton || evs[0].Payload != "s1:no" {
		t.Errorf("event = %+v", evs[0])
	}
	cancel()
	<-done

	noKey, _ := New(Options{Token: discordtest.Token})
	w := httptest.NewRecorder()
	noKey.ServeHTTP(w, signed(t, priv, time.Now(), ping))
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("without a public key: status %d, want 503", w.Code)
	}
	if _, err := New(Options{Token: discordtest.Token, PublicKey: "zz"}); err == nil {
		t.Error("New accepted a malformed public key")
	}
}
