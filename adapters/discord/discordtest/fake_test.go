package discordtest

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// TestFakeRefusesWhatDiscordRefuses: a client that forgets the bot token, sends a wrong one, posts
// an empty message or one over 2000 characters gets Discord's answer, not a success.
func TestFakeRefusesWhatDiscordRefuses(t *testing.T) {
	f := NewServer(t)
	long := strings.Repeat("字", 2001)
	for _, c := range []struct {
		name, method, path, auth, body string
		status, code                   int
	}{
		{"no token", "POST", "/api/v9/channels/c1/messages", "", `{"content":"hi"}`, 401, 0},
		{"token without Bot prefix", "POST", "/api/v9/channels/c1/messages", Token, `{"content":"hi"}`, 401, 0},
		{"wrong token", "POST", "/api/v9/channels/c1/messages", "Bot nope", `{"content":"hi"}`, 401, 0},
		{"no token on DM create", "POST", "/api/v9/users/@me/channels", "", `{"recipient_id":"42"}`, 401, 0},
		{"no token on commands", "PUT", "/api/v9/applications/901/commands", "", `[]`, 401, 0},
		{"no token on thread", "GET", "/api/v9/channels/t1", "", ``, 401, 0},
		{"empty message", "POST", "/api/v9/channels/c1/messages", "Bot " + Token, `{"content":""}`, 400, 50006},
		{"blank message", "POST", "/api/v9/channels/c1/messages", "Bot " + Token, `{"content":"  ","components":[]}`, 400, 50006},
		{"too long", "POST", "/api/v9/channels/c1/messages", "Bot " + Token, `{"content":"` + long + `"}`, 400, 50035},
		{"edit too long", "PATCH", "/api/v9/channels/c1/messages/5", "Bot " + Token, `{"content":"` + long + `"}`, 400, 50035},
		{"not json", "POST", "/api/v9/channels/c1/messages", "Bot " + Token, `{`, 400, 50035},
		{"empty interaction answer", "POST", "/api/v9/interactions/1/tok/callback", "", `{"type":4,"data":{"content":""}}`, 400, 50006},
		{"long webhook edit", "PATCH", "/api/v9/webhooks/901/tok/messages/@original", "", `{"content":"` + long + `"}`, 400, 50035},
		{"good message", "POST", "/api/v9/channels/c1/messages", "Bot " + Token, `{"content":"` + long[:len(long)-3] + `"}`, 200, 0},
		{"buttons only", "POST", "/api/v9/channels/c1/messages", "Bot " + Token, `{"components":[{"type":1,"components":[]}]}`, 200, 0},
		{"interaction answer without header", "POST", "/api/v9/interactions/1/tok/callback", "", `{"type":5}`, 204, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, f.URL+c.path, strings.NewReader(c.body))
			req.Header.Set("Content-Type", "application/json")
			if c.auth != "" {
				req.Header.Set("Authorization", c.auth)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var body struct {
				Code int `json:"code"`
			}
			_ = json.NewDecoder(res.Body).Decode(&body)
			if res.StatusCode != c.status || body.Code != c.code {
				t.Errorf("%s %s = %d code %d, want %d code %d", c.method, c.path, res.StatusCode, body.Code, c.status, c.code)
			}
		})
	}
	if got := len(f.Sent()); got != 2 {
		t.Errorf("Sent lists %d messages, want only the 2 accepted", got)
	}
	if got := f.Unauthorized(); got != 6 {
		t.Errorf("Unauthorized() = %d, want 6", got)
	}
}

// TestFakeGatewayRefusesWrongToken: identify with a wrong token is closed with 4004.
func TestFakeGatewayRefusesWrongToken(t *testing.T) {
	f := NewServer(t)
	for _, tok := range []string{"", Token, "Bot other"} {
		c, _, err := websocket.DefaultDialer.Dial(f.GatewayURL()+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		var hello map[string]any
		if err := c.ReadJSON(&hello); err != nil {
			t.Fatal(err)
		}
		_ = c.WriteJSON(map[string]any{"op": 2, "d": map[string]any{"token": tok, "intents": 1}})
		var fr map[string]any
		err = c.ReadJSON(&fr)
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != 4004 {
			t.Errorf("identify with token %q: read = %v, %v; want close 4004", tok, fr, err)
		}
		c.Close()
	}
	if g := f.Gateway(); g.Identifies != 0 {
		t.Errorf("%d identifies answered, want none", g.Identifies)
	}
}
