package main

import "testing"

// TestFAQWordNetOptIn: WordNet relations are off unless faq.wordnet (KEFU_FAQ_WORDNET) turns them on,
// and the setting reaches the matcher the server builds.
func TestFAQWordNetOptIn(t *testing.T) {
	for _, c := range []struct {
		env  string
		want bool
	}{{"", false}, {"true", true}, {"false", false}} {
		cfg, err := loadConfig("", func(k string) string {
			if k == "KEFU_FAQ_WORDNET" {
				return c.env
			}
			return ""
		})
		if err != nil {
			t.Fatalf("KEFU_FAQ_WORDNET=%q: %v", c.env, err)
		}
		if got := (&app{cfg: cfg}).matchOptions().WordNet; got != c.want {
			t.Errorf("KEFU_FAQ_WORDNET=%q: matcher WordNet %v, want %v", c.env, got, c.want)
		}
	}
}
