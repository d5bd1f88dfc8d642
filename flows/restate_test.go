package flows

import (
	"strings"
	"testing"

	"github.com/kefu-dev/kefu/locales"
)

// TestRestatementRepeatsContactMasked: the restatement before a ticket opens (chat and e-mail)
// repeats the contact details the agent will use — given in this intake or remembered from an
// earlier one — masked by the pii rules, never in full; a field off for the category is not named.
func TestRestatementRepeatsContactMasked(t *testing.T) {
	m, err := New(Options{KB: testKB, Config: fieldsConfig()})
	if err != nil {
		t.Fatal(err)
	}
	cat := locales.Default()
	raw := []string{"王小明", "13812345678", "xiaoming.wang@example.com"}
	tests := []struct {
		name     string
		category string
		in       Intake
		known    Profile
		want     map[string][]string // lang → parts the restatement must hold
		absent   []string
	}{
		{"all given (after-sales: e-mail on)", "aftersale", Intake{Name: "王小明", Phone: "13812345678", Email: "xiaoming.wang@example.com"}, Profile{},
			map[string][]string{"zh-CN": {"称呼 王*", "电话 138****5678", "邮箱 x***@example.com"}, "en": {"name 王*", "phone 138****5678", "e-mail x***@example.com"}}, nil},
		{"remembered from an earlier ticket", "complaint", Intake{}, Profile{Phone: "13812345678"},
			map[string][]string{"zh-CN": {"电话 138****5678"}, "en": {"phone 138****5678"}}, []string{"称呼", "name "}},
		{"e-mail off for complaints", "complaint", Intake{Phone: "13812345678"}, Profile{Email: "xiaoming.wang@example.com"},
			map[string][]string{"zh-CN": {"电话 138****5678"}, "en": {"phone 138****5678"}}, []string{"x***", "邮箱", "e-mail x"}},
		{"nothing given", "complaint", Intake{}, Profile{}, map[string][]string{"zh-CN": {"紧急程度"}, "en": {"urgency"}}, []string{"电话", "phone"}},
	}
	for _, tc := range tests {
		for _, lang := range []string{"zh-CN", "en"} {
			s := Session{Lang: lang, Intake: tc.in}
			s.Intake.Category, s.Intake.Description, s.Intake.Urgency, s.Intake.Priority = tc.category, "洗衣机不脱水", UrgencyNormal, P2
			mm := *m
			mm.known = tc.known
			chat := mm.confirmSay(s)[0].(Say)
			mail := chat
			mail.Key = "channels.batch.restate"
			for _, say := range []Say{chat, mail} {
				got := cat.T(lang, say.Key, say.Args)
				for _, w := range tc.want[lang] {
					if !strings.Contains(got, w) {
						t.Errorf("%s, %s %s: %q lacks %q", tc.name, lang, say.Key, got, w)
					}
				}
				for _, a := range append(raw, tc.absent...) {
					if strings.Contains(got, a) {
						t.Errorf("%s, %s %s: %q holds %q", tc.name, lang, say.Key, got, a)
					}
				}
			}
		}
	}
}
