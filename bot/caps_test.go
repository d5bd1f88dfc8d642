package bot

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMergeReplies(t *testing.T) {
	yes, no := Button{Label: "是", Payload: "1:yes"}, Button{Label: "否", Payload: "1:no"}
	a := func(chat, text string, bs ...Button) Reply {
		return Reply{ConversationID: 1, Channel: ChannelEmail, ChatID: chat, Text: text, Buttons: bs}
	}
	tests := []struct {
		name string
		in   []Reply
		want []Reply
	}{
		{"one stays", []Reply{a("c", "hi")}, []Reply{a("c", "hi")}},
		{"paragraphs in order, last buttons kept", []Reply{a("c", "hello"), a("c", "answer "), a("c", "helped?", yes, no)},
			[]Reply{a("c", "hello\n\nanswer\n\nhelped?", yes, no)}},
		{"buttons followed by text stay buttons", []Reply{a("c", "rate", yes, no), a("c", "thanks")},
			[]Reply{a("c", "rate\n\nthanks", yes, no)}},
		{"earlier buttons listed when later ones replace them", []Reply{a("c", "q1", yes), a("c", "q2", no)},
			[]Reply{a("c", "q1\n[1] 是\n\nq2", no)}},
		{"another chat is not merged", []Reply{a("c", "x"), a("d", "y"), a("c", "z")},
			[]Reply{a("c", "x"), a("d", "y"), a("c", "z")}},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, mergeReplies(tc.in)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}
