package discord

import "testing"

// TestLookup: the text in the asked language, else the other language's, else the key.
func TestLookup(t *testing.T) {
	m := map[string]map[string]string{"zh-CN": {"a": "中文", "b": ""}, "en": {"a": "English", "b": "only en"}}
	for _, c := range []struct{ lang, key, want string }{
		{"zh-CN", "a", "中文"}, {"en", "a", "English"}, {"zh-CN", "b", "only en"}, {"zh-CN", "c", "c"}, {"fr", "a", "English"},
	} {
		if got := lookup(m, c.lang, c.key); got != c.want {
			t.Errorf("lookup(%s, %s) = %q, want %q", c.lang, c.key, got, c.want)
		}
	}
}
