package flows

import (
	"slices"
	"testing"
)

// The greeting and the closing follow the channel's script (the seeds word them per channel); chat
// channels keep the original keys.
func TestChannelScripts(t *testing.T) {
	m := newTestMachine(t)
	keys := func(effects []Effect) []string {
		var out []string
		for _, e := range effects {
			if s, ok := e.(Say); ok {
				out = append(out, s.Key)
			}
		}
		return out
	}
	tests := []struct {
		script            string
		greeting, closing string
	}{
		{ScriptChat, "greeting.hello", "closing"},
		{"fax", "greeting.hello", "closing"}, // unknown: chat
		{ScriptSocial, "channels.greeting.hello.social", "channels.closing.social"},
		{ScriptEmail, "channels.greeting.hello.email", "channels.closing.email"},
	}
	for _, tc := range tests {
		t.Run("script="+tc.script, func(t *testing.T) {
			for _, lang := range []string{"zh-CN", "en"} {
				c := newConvo(t, m, lang, lang)
				c.caps = Caps{Script: tc.script}
				if got := keys(c.do("/start")); !slices.Contains(got, tc.greeting) {
					t.Errorf("%s /start said %v, want %s", lang, got, tc.greeting)
				}
				c.do(map[string]string{"zh-CN": "保修期多久", "en": "how long is the warranty"}[lang])
				c.do("[yes]")
				if got := keys(c.do("[done]")); !slices.Equal(got, []string{tc.closing}) {
					t.Errorf("%s anything else: done said %v, want %s", lang, got, tc.closing)
				}
				// The survey's end closes with the same script.
				c.s.State, c.s.TicketNo, c.s.Rating = StateComment, "GD20261123001", 5
				if got := keys(c.do("很好")); !slices.Contains(got, tc.closing) {
					t.Errorf("%s survey end said %v, want %s", lang, got, tc.closing)
				}
				// A fresh conversation greets on its first message too.
				c2 := newConvo(t, m, lang, lang)
				c2.caps = Caps{Script: tc.script}
				if got := keys(c2.do("hi")); !slices.Contains(got, tc.greeting) {
					t.Errorf("%s first message said %v, want %s", lang, got, tc.greeting)
				}
			}
		})
	}
}
