package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/locales"
)

func TestEngineLocaleKeysExist(t *testing.T) {
	cat := locales.Default()
	for _, lang := range []string{"zh-CN", "en"} {
		for _, k := range bot.LocaleKeys() {
			if !cat.Has(lang, k) {
				t.Errorf("%s: locale key %q missing", lang, k)
			}
		}
	}
}

// TestTicketOpenedRendering renders the ticket message with the real catalogs in both languages: the
// number, the localized priority and the due time in the configured zone.
func TestTicketOpenedRendering(t *testing.T) {
	e := newEnv(t)
	loc, _ := time.LoadLocation("Asia/Shanghai")
	eng, err := bot.New(bot.Options{Store: e.db, Flows: scripted{}, Catalog: locales.Default(), Location: loc, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	e.eng = eng
	for _, tc := range []struct{ lang, want string }{
		{"zh-CN", "2026-11-24 09:30"},
		{"en", "2026-11-24 09:30 (UTC+08:00)"},
	} {
		chat := "c-" + tc.lang
		e.say(t, chat, "hi")
		e.say(t, chat, "/lang "+tc.lang)
		got := e.say(t, chat, "ticket lost parcel")
		if len(got) != 1 || !strings.Contains(got[0], "GD20261123") || !strings.Contains(got[0], tc.want) || strings.Contains(got[0], "priority.P2") {
			t.Errorf("%s: %q", tc.lang, got)
		}
	}
}
