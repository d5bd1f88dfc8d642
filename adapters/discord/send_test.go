package discord

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/adapters/discord/discordtest"

	"github.com/google/go-cmp/cmp"
	"github.com/kefu-dev/kefu/bot"
)

type sentMessage struct {
	Content         string `json:"content"`
	Nonce           string `json:"nonce"`
	EnforceNonce    bool   `json:"enforce_nonce"`
	AllowedMentions *struct {
		Parse []string `json:"parse"`
	} `json:"allowed_mentions"`
	Components []struct {
		Type       int `json:"type"`
		Components []struct {
			Type     int    `json:"type"`
			Label    string `json:"label"`
			CustomID string `json:"custom_id"`
		} `json:"components"`
	} `json:"components"`
}

func (m sentMessage) layout() [][]string {
	var rows [][]string
	for _, r := range m.Components {
		var row []string
		for _, b := range r.Components {
			row = append(row, b.Label+"="+b.CustomID)
		}
		rows = append(rows, row)
	}
	return rows
}

func newSendAdapter(t *testing.T) (*Adapter, *discordtest.Server) {
	t.Helper()
	f := discordtest.NewServer(t)
	a, err := New(Options{Token: discordtest.Token, APIURL: f.URL})
	if err != nil {
		t.Fatal(err)
	}
	return a, f
}

func posted(t *testing.T, f *discordtest.Server, chat string) []sentMessage {
	t.Helper()
	var out []sentMessage
	for _, c := range f.CallsTo("POST", "/api/v9/channels/"+chat+"/messages") {
		var m sentMessage
		if err := json.Unmarshal(c.Body, &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func buttons(n int) []bot.Button {
	var bs []bot.Button
	for i := range n {
		bs = append(bs, bot.Button{Label: "选项" + string(rune('A'+i)), Payload: "p" + string(rune('a'+i))})
	}
	return bs
}

func TestSendLayout(t *testing.T) {
	long := strings.Repeat("客服回复。", 900) // 4500 runes
	tests := []struct {
		name       string
		reply      bot.Reply
		wantTexts  []int        // rune length of each message's content
		wantLayout [][][]string // per message, rows of "label=payload"
		wantIDIdx  int          // which message's id Send returns
	}{
		{
			name:       "text with 7 buttons: rows of 5 and 2",
			reply:      bot.Reply{OutboxID: 10, ChatID: "dm1", Text: "请选择问题类型", Buttons: buttons(7)},
			wantTexts:  []int{7},
			wantLayout: [][][]string{{{"选项A=pa", "选项B=pb", "选项C=pc", "选项D=pd", "选项E=pe"}, {"选项F=pf", "选项G=pg"}}},
		},
		{
			name:       "4500 characters split in three, buttons on the last",
			reply:      bot.Reply{OutboxID: 11, ChatID: "dm1", Text: long, Buttons: buttons(2)},
			wantTexts:  []int{2000, 2000, 500},
			wantLayout: [][][]string{nil, nil, {{"选项A=pa", "选项B=pb"}}},
			wantIDIdx:  2,
		},
		{
			name:      "27 buttons: a second message for the last 2",
			reply:     bot.Reply{OutboxID: 12, ChatID: "dm1", Text: "many", Buttons: buttons(27)},
			wantTexts: []int{4, 0},
			wantIDIdx: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, f := newSendAdapter(t)
			id, err := a.Send(t.Context(), tt.reply)
			if err != nil {
				t.Fatal(err)
			}
			msgs := posted(t, f, "dm1")
			var lens []int
			for _, m := range msgs {
				lens = append(lens, len([]rune(m.Content)))
				if m.AllowedMentions == nil || m.AllowedMentions.Parse == nil || len(m.AllowedMentions.Parse) != 0 {
					t.Errorf("allowed_mentions = %+v, want parse: [] (no pings)", m.AllowedMentions)
				}
				if !m.EnforceNonce || m.Nonce == "" || len(m.Nonce) > 25 {
					t.Errorf("nonce %q enforce %v: want an enforced nonce of at most 25 chars", m.Nonce, m.EnforceNonce)
				}
			}
			if d := cmp.Diff(tt.wantTexts, lens); d != "" {
				t.Errorf("content lengths (-want +got):\n%s", d)
			}
			if tt.wantLayout != nil {
				var got [][][]string
				for _, m := range msgs {
					got = append(got, m.layout())
				}
				if d := cmp.Diff(tt.wantLayout, got); d != "" {
					t.Errorf("keyboards (-want +got):\n%s", d)
				}
			}
			if len(msgs) == 3 && strings.Join([]string{msgs[0].Content, msgs[1].Content, msgs[2].Content}, "") != tt.reply.Text {
				t.Error("split text does not add up to the reply")
			}
			var wantID string
			for _, m := range f.SentTo("dm1") {
				if m.ID == id {
					wantID = m.ID
				}
			}
			if wantID == "" {
				t.Errorf("Send returned %q, not a message the fake created", id)
			}
			// A retry of the same outbox row (e.g. after a timeout) reuses the nonces: Discord
			// returns the messages already created.
			id2, err := a.Send(t.Context(), tt.reply)
			if err != nil || id2 != id {
				t.Errorf("resend = %q, %v; want the same message %q", id2, err, id)
			}
			created := len(f.SentTo("dm1"))
			if created != len(tt.wantTexts) {
				t.Errorf("messages created = %d after a resend, want %d", created, len(tt.wantTexts))
			}
		})
	}
}

func TestSendErrors(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(f *discordtest.Server)
		reply     bot.Reply
		permanent bool
		rateLimit time.Duration
	}{
		{"429 becomes RateLimitedError", func(f *discordtest.Server) { f.SetRateLimit(1, 1.5) },
			bot.Reply{ChatID: "dm1", Text: "hi"}, false, 1500 * time.Millisecond},
		{"unknown channel is permanent", func(f *discordtest.Server) { f.SetChannelStatus("gone", 404) },
			bot.Reply{ChatID: "gone", Text: "hi"}, true, 0},
		{"DMs closed is permanent", func(f *discordtest.Server) { f.SetChannelStatus("closed", 403) },
			bot.Reply{ChatID: "closed", Text: "hi"}, true, 0},
		{"empty reply is permanent", nil, bot.Reply{ChatID: "dm1", Text: "  "}, true, 0},
		{"custom_id over 100 bytes is permanent", nil,
			bot.Reply{ChatID: "dm1", Text: "x", Buttons: []bot.Button{{Label: "a", Payload: strings.Repeat("p", 101)}}}, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, f := newSendAdapter(t)
			if tt.setup != nil {
				tt.setup(f)
			}
			_, err := a.Send(t.Context(), tt.reply)
			var pe *bot.PermanentError
			if got := errors.As(err, &pe); got != tt.permanent {
				t.Errorf("err = %v; permanent = %v, want %v", err, got, tt.permanent)
			}
			var rl *bot.RateLimitedError
			if tt.rateLimit > 0 {
				if !errors.As(err, &rl) || rl.Wait != tt.rateLimit {
					t.Fatalf("err = %v, want RateLimitedError{Wait: %v}", err, tt.rateLimit)
				}
				// the outbox retries after the wait: it goes through
				if _, err := a.Send(t.Context(), tt.reply); err != nil {
					t.Errorf("retry after the rate limit: %v", err)
				}
			}
		})
	}
}

func TestSendToUserOpensDM(t *testing.T) {
	a, f := newSendAdapter(t)
	if _, err := a.Send(t.Context(), bot.Reply{ChatID: "user:42", Text: "您的工单已更新"}); err != nil {
		t.Fatal(err)
	}
	if len(f.CallsTo("POST", "/api/v9/users/@me/channels")) != 1 || len(posted(t, f, "dm-42")) != 1 {
		t.Errorf("calls = %+v", f.Calls())
	}
}

func TestEditRemovesButtons(t *testing.T) {
	a, f := newSendAdapter(t)
	if err := a.Edit(t.Context(), "dm1", "555", bot.Reply{}); err != nil {
		t.Fatal(err)
	}
	calls := f.CallsTo("PATCH", "/api/v9/channels/dm1/messages/555")
	if len(calls) != 1 {
		t.Fatalf("PATCH calls = %d", len(calls))
	}
	var body map[string]json.RawMessage
	json.Unmarshal(calls[0].Body, &body)
	if string(body["components"]) != "[]" {
		t.Errorf("components = %s, want [] (keyboard removed)", body["components"])
	}
	if _, ok := body["content"]; ok {
		t.Errorf("content sent although the reply has no text: %s", calls[0].Body)
	}
	if err := a.Edit(t.Context(), "dm1", "555", bot.Reply{Text: "已选择：解决了", Buttons: buttons(1)}); err != nil {
		t.Fatal(err)
	}
}
