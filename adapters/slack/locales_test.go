package slack

import (
	"regexp"
	"strings"
	"testing"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/locales"
)

// With the real catalog, cards, commands and supervisor posts show no raw keys in either language.
func TestRealCatalog(t *testing.T) {
	rawKey := regexp.MustCompile(`\bslack\.[a-z_.]*[a-z_]|<no value>`)
	for _, lang := range []string{"zh-CN", "en"} {
		t.Run(lang, func(t *testing.T) {
			e := newEnv(t, func(o *Options) { o.T = locales.Default().T; o.Lang = lang })
			tk := ticketGD1()
			tk.Priority, tk.Complaint = bot.P0, true
			e.desk.create(tk)
			no := tk.No
			e.sync(t)
			var texts []string
			texts = append(texts, e.command(t, agent1, "claim "+no), e.command(t, agent1, "list"),
				e.command(t, agent1, "reply GD1"), e.command(t, agent1, "help"), e.command(t, stranger, "list"),
				e.command(t, agent1, "status "+no+" resolved"))
			e.desk.rate(no, 1, "差")
			e.sync(t)
			for _, c := range e.slack.Called("chat.postMessage", "chat.update", "chat.postEphemeral") {
				texts = append(texts, c.Form.Get("text"), raw(c.Form.Get("blocks")))
			}
			all := strings.Join(texts, "\n")
			if m := rawKey.FindAllString(all, -1); len(m) > 0 {
				t.Errorf("untranslated: %q\n%s", m, all)
			}
			want := map[string]string{"zh-CN": "认领", "en": "Claim"}[lang]
			if !strings.Contains(all, want) {
				t.Errorf("no %q in:\n%s", want, all)
			}
		})
	}
}
