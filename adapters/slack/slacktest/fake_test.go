package slacktest

import (
	"strings"
	"testing"

	"github.com/slack-go/slack"
)

// TestFakeRefusesWhatSlackRefuses: a client without the bot token, with a wrong one, posting to no
// or an unknown channel, posting nothing, or updating without a ts gets Slack's error, and the
// call is listed by Refused, not Called.
func TestFakeRefusesWhatSlackRefuses(t *testing.T) {
	f := NewServer(t)
	client := func(token string) *slack.Client { return slack.New(token, slack.OptionAPIURL(f.APIURL())) }
	good := client(BotToken)
	for _, c := range []struct {
		name string
		call func() error
		want string
	}{
		{"no token", func() error {
			_, _, err := client("").PostMessageContext(t.Context(), "CTECH", slack.MsgOptionText("hi", false))
			return err
		}, "not_authed"},
		{"wrong token", func() error {
			_, _, err := client("xoxb-other").PostMessageContext(t.Context(), "CTECH", slack.MsgOptionText("hi", false))
			return err
		}, "invalid_auth"},
		{"app token for a bot call", func() error {
			_, err := client(AppToken).GetUserInfoContext(t.Context(), "U1")
			return err
		}, "invalid_auth"},
		{"socket mode without the app token", func() error {
			_, _, err := client(BotToken).StartSocketModeContext(t.Context())
			return err
		}, "not_authed"},
		{"socket mode with the bot token as app token", func() error {
			c := slack.New(BotToken, slack.OptionAPIURL(f.APIURL()), slack.OptionAppLevelToken(BotToken))
			_, _, err := c.StartSocketModeContext(t.Context())
			return err
		}, "invalid_auth"},
		{"no token on views.open", func() error {
			_, err := client("").OpenViewContext(t.Context(), "trig", slack.ModalViewRequest{Type: slack.VTModal})
			return err
		}, "not_authed"},
		{"no channel", func() error {
			_, _, err := good.PostMessageContext(t.Context(), "", slack.MsgOptionText("hi", false))
			return err
		}, "channel_not_found"},
		{"channel name", func() error {
			_, _, err := good.PostMessageContext(t.Context(), "#general", slack.MsgOptionText("hi", false))
			return err
		}, "channel_not_found"},
		{"unknown channel", func() error {
			_, _, err := good.PostMessageContext(t.Context(), "CGONE", slack.MsgOptionText("hi", false))
			return err
		}, "channel_not_found"},
		{"no text", func() error {
			_, _, err := good.PostMessageContext(t.Context(), "CTECH", slack.MsgOptionText("", false))
			return err
		}, "no_text"},
		{"too long", func() error {
			_, _, err := good.PostMessageContext(t.Context(), "CTECH", slack.MsgOptionText(strings.Repeat("a", 40001), false))
			return err
		}, "msg_too_long"},
		{"update without ts", func() error {
			_, _, _, err := good.UpdateMessageContext(t.Context(), "CTECH", "", slack.MsgOptionText("x", false))
			return err
		}, "message_not_found"},
		{"update without text", func() error {
			_, _, _, err := good.UpdateMessageContext(t.Context(), "CTECH", "1.1")
			return err
		}, "no_text"},
		{"update unknown channel", func() error {
			_, _, _, err := good.UpdateMessageContext(t.Context(), "", "1.1", slack.MsgOptionText("x", false))
			return err
		}, "channel_not_found"},
		{"ephemeral without user", func() error {
			_, err := good.PostEphemeralContext(t.Context(), "CTECH", "", slack.MsgOptionText("x", false))
			return err
		}, "user_not_in_channel"},
		{"empty response_url post", func() error {
			return slack.PostWebhookContext(t.Context(), f.ResponseURL("r1"), &slack.WebhookMessage{})
		}, "400"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.call()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want %s", err, c.want)
			}
		})
	}
	if n := len(f.Called()); n != 0 {
		t.Errorf("Called lists %d refused calls: %+v", n, f.Called())
	}
	if n := len(f.Refused()); n != 16 {
		t.Errorf("Refused lists %d calls, want 16", n)
	}
	// The same calls done right are answered.
	if _, ts, err := good.PostMessageContext(t.Context(), "CTECH", slack.MsgOptionText("hi", false)); err != nil || ts == "" {
		t.Errorf("good post = %q, %v", ts, err)
	}
	if _, _, err := good.PostMessageContext(t.Context(), "UAGENT", slack.MsgOptionBlocks(slack.NewDividerBlock())); err != nil {
		t.Errorf("post to a user id with blocks only: %v", err)
	}
	if _, _, _, err := good.UpdateMessageContext(t.Context(), "CTECH", "1.1", slack.MsgOptionText("x", false)); err != nil {
		t.Errorf("good update: %v", err)
	}
	if err := slack.PostWebhookContext(t.Context(), f.ResponseURL("r1"), &slack.WebhookMessage{Text: "ok"}); err != nil {
		t.Errorf("good response_url post: %v", err)
	}
	if err := slack.PostWebhookContext(t.Context(), f.ResponseURL("r1"), &slack.WebhookMessage{DeleteOriginal: true}); err != nil {
		t.Errorf("delete_original response_url post: %v", err)
	}
	if n := len(f.Called()); n != 5 {
		t.Errorf("Called lists %d calls, want the 5 accepted", n)
	}
}

// TestFakeRefusesBrokenBlocks: Block Kit limits Slack enforces are enforced here too.
func TestFakeRefusesBrokenBlocks(t *testing.T) {
	btn := func(id, text, value string) map[string]any {
		return map[string]any{"type": "button", "action_id": id, "value": value, "text": map[string]any{"type": "plain_text", "text": text}}
	}
	section := func(id string, acc any) map[string]any {
		return map[string]any{"type": "section", "block_id": id, "text": map[string]any{"type": "mrkdwn", "text": "x"}, "accessory": acc}
	}
	tests := []struct {
		name   string
		blocks []any
		want   string
	}{
		{"fine", []any{section("a", btn("x", "Send", "v")), section("b", btn("x", "Send", "w"))}, ""},
		{"duplicate block id", []any{section("a", btn("x", "Send", "v")), section("a", btn("y", "Send", "w"))}, "invalid_blocks"},
		{"duplicate action id in a block", []any{map[string]any{"type": "actions", "block_id": "k", "elements": []any{btn("x", "A", "1"), btn("x", "B", "2")}}}, "invalid_blocks"},
		{"button text too long", []any{section("a", btn("x", strings.Repeat("长", 76), "v"))}, "invalid_blocks"},
		{"button value too long", []any{section("a", btn("x", "Send", strings.Repeat("v", 2001)))}, "invalid_blocks"},
		{"mrkdwn button text", []any{section("a", map[string]any{"type": "button", "action_id": "x", "text": map[string]any{"type": "mrkdwn", "text": "*x*"}})}, "invalid_blocks"},
		{"empty actions", []any{map[string]any{"type": "actions", "elements": []any{}}}, "invalid_blocks"},
	}
	for _, tt := range tests {
		if got := invalidBlocks(tt.blocks); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
