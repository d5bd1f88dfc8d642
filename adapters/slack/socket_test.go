package slack

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/adapters/slack/slacktest"

	"github.com/gorilla/websocket"
)

// TestSocketMode drives the real socketmode client against a local websocket: hello, then a slash
// command envelope; kefu acknowledges the envelope with the answer, and Run returns on cancel.
func TestSocketMode(t *testing.T) {
	acks := make(chan map[string]any, 4)
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }} // the client sends Origin: https://api.slack.com
	ws := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		_ = c.WriteJSON(map[string]any{"type": "hello", "num_connections": 1,
			"connection_info": map[string]any{"app_id": "A1"}, "debug_info": map[string]any{"host": "test"}})
		cmd, _ := json.Marshal(map[string]any{"command": "/kefu", "text": "claim GD20261123001", "user_id": agent1,
			"user_name": "a1", "channel_id": "CTECH", "response_url": "", "trigger_id": "t"})
		_ = c.WriteJSON(map[string]any{"envelope_id": "env-1", "type": "slash_commands",
			"payload": json.RawMessage(cmd), "accepts_response_payload": true})
		for {
			var m map[string]any
			if err := c.ReadJSON(&m); err != nil {
				return
			}
			acks <- m
		}
	}))
	defer ws.Close()

	e := newEnv(t, func(o *Options) {
		o.AppToken = slacktest.AppToken
		o.SigningSecret = ""
	})
	e.slack.SetSocketURL("ws" + strings.TrimPrefix(ws.URL, "http") + "/link")
	e.desk.create(ticketGD1())

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- e.app.Run(ctx) }()

	var ack map[string]any
	select {
	case ack = <-acks:
	case <-time.After(10 * time.Second):
		t.Fatalf("no ack over the socket; slack calls %v", e.slack.Called())
	}
	if ack["envelope_id"] != "env-1" {
		t.Fatalf("ack %v", ack)
	}
	payload, _ := json.Marshal(ack["payload"])
	if !strings.Contains(string(payload), "slack.done.claimed") {
		t.Errorf("ack payload %s", payload)
	}
	if a := e.desk.ticket("GD20261123001").Assignee; a != "slack:"+agent1 {
		t.Errorf("assignee %q", a)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	// HTTP endpoints stay closed without a signing secret.
	w := httptest.NewRecorder()
	e.app.ServeHTTP(w, slacktest.NewSignedRequest("/slack/commands", "application/x-www-form-urlencoded", slacktest.CommandBody(agent1, "CTECH", "help", ""), time.Now(), testSecret))
	if w.Code == http.StatusOK {
		t.Errorf("HTTP endpoint open in Socket Mode only: %d", w.Code)
	}
}
