package wechat

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kefu-dev/kefu/adapters/adaptertest"
	"github.com/kefu-dev/kefu/adapters/wechat/wechattest"
	"github.com/kefu-dev/kefu/bot"
)

// The fake refuses what the platform refuses: content over 2048 bytes (45002).
func TestFakeRefusesOverLongText(t *testing.T) {
	f := wechattest.New(t)
	f.Follow(follower)
	resp, err := http.Get(f.URL + "/cgi-bin/token?grant_type=client_credential&appid=" + wechattest.AppID + "&secret=" + wechattest.AppSecret)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	for _, tc := range []struct {
		name string
		body map[string]any
		want int
	}{
		{"text at the limit", map[string]any{"touser": follower, "msgtype": "text", "text": map[string]any{"content": strings.Repeat("好", TextLimit/3)}}, 0},
		{"text over the limit", map[string]any{"touser": follower, "msgtype": "text", "text": map[string]any{"content": strings.Repeat("好", TextLimit/3+1)}}, 45002},
		{"menu head over the limit", map[string]any{"touser": follower, "msgtype": "msgmenu", "msgmenu": map[string]any{
			"head_content": strings.Repeat("a", TextLimit+1), "list": []any{map[string]any{"id": "1", "content": "是"}}, "tail_content": ""}}, 45002},
	} {
		b, _ := json.Marshal(tc.body)
		resp, err := http.Post(f.URL+"/cgi-bin/message/custom/send?access_token="+url.QueryEscape(tok.AccessToken), "application/json", strings.NewReader(string(b)))
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			ErrCode int `json:"errcode"`
		}
		json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if out.ErrCode != tc.want {
			t.Errorf("%s: errcode %d, want %d", tc.name, out.ErrCode, tc.want)
		}
	}
}

// A long reply goes out in parts within the limit, in order, the buttons on the last; after a failure
// in the middle, the retry sends only the parts not yet accepted.
func TestSendSplitsLongText(t *testing.T) {
	r := newRig(t, false)
	a := r.adapter(t, nil)
	run(t, a, adaptertest.NewStore())
	if _, err := r.f.PushText(follower, "hi"); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	long := strings.Repeat("冰箱不制冷了，已经三天。", 180) // 6480 bytes
	buttons := []bot.Button{{Label: "已解决", Payload: "1:yes"}, {Label: "没解决", Payload: "1:no"}}
	tests := []struct {
		name    string
		reply   bot.Reply
		failAt  int // fail the n-th call (1-based) once with a retryable error; 0: never
		types   []string
		resends int // calls made in all, failures included
	}{
		{"short text: one message", bot.Reply{OutboxID: 1, ChatID: follower, Text: "您好"}, 0, []string{"text"}, 1},
		{"long text: four parts", bot.Reply{OutboxID: 2, ChatID: follower, Text: long}, 0, []string{"text", "text", "text", "text"}, 4},
		{"long text with buttons: the menu last", bot.Reply{OutboxID: 3, ChatID: follower, Text: long, Buttons: buttons}, 0,
			[]string{"text", "text", "text", "msgmenu"}, 4},
		{"failure on part 3: the retry resumes there", bot.Reply{OutboxID: 4, ChatID: follower, Text: long}, 3,
			[]string{"text", "text", "text", "text"}, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := r.f.PushText(follower, "还在吗"); err != nil { // a fresh quota of 5 messages
				t.Fatal(err)
			}
			before := len(r.f.Sent())
			calls := 0
			r.f.SetSendHook(func(wechattest.Sent) (int, string) {
				calls++
				if calls == tc.failAt {
					return -1, "system error"
				}
				return 0, ""
			})
			defer r.f.SetSendHook(nil)
			_, err := a.Send(ctx, tc.reply)
			if tc.failAt > 0 {
				if err == nil || errors.As(err, new(*bot.PermanentError)) {
					t.Fatalf("Send = %v, want a retryable error", err)
				}
				_, err = a.Send(ctx, tc.reply)
			}
			if err != nil {
				t.Fatal(err)
			}
			sent := r.f.Sent()[before:]
			var types []string
			var all strings.Builder
			for _, m := range sent {
				types = append(types, m.MsgType)
				if len(m.Text) > TextLimit {
					t.Errorf("a part of %d bytes", len(m.Text))
				}
				all.WriteString(m.Text)
			}
			if strings.Join(types, ",") != strings.Join(tc.types, ",") || calls != tc.resends {
				t.Errorf("sent %v in %d calls, want %v in %d", types, calls, tc.types, tc.resends)
			}
			if all.String() != tc.reply.Text {
				t.Errorf("the parts do not make the text again (%d of %d bytes)", all.Len(), len(tc.reply.Text))
			}
		})
	}
}
