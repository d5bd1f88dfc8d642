package discord

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// normalizeText cleans what Discord sends: valid UTF-8, no control characters except newlines and
// tabs, no zero-width spaces, trimmed. The engine applies flows.Normalize (NFKC with CJK
// punctuation kept) to every event, so the adapter does not fold characters itself.
func normalizeText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) || r == '\u200b' || r == '\ufeff' {
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// parseCommand splits "/lang en" into ("lang", "en"). Names are ASCII letters, digits, '_' or '-'
// (at most 32, lowercased); anything else is ordinary text.
func parseCommand(text string) (name, args string, ok bool) {
	if !strings.HasPrefix(text, "/") {
		return "", "", false
	}
	rest := text[1:]
	end := strings.IndexFunc(rest, unicode.IsSpace)
	if end < 0 {
		end = len(rest)
	}
	name = rest[:end]
	if name == "" || len(name) > 32 {
		return "", "", false
	}
	for _, r := range name {
		if !(r < utf8.RuneSelf && (r == '_' || r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r))) {
			return "", "", false
		}
	}
	return strings.ToLower(name), strings.TrimSpace(rest[end:]), true
}

// splitText cuts s into pieces of at most limit runes, preferring a line break, then a space, in
// the second half of each piece, so long replies stay readable.
func splitText(s string, limit int) []string {
	if limit <= 0 {
		return []string{s}
	}
	var parts []string
	for utf8.RuneCountInString(s) > limit {
		// byte offset of rune number limit
		cut, n := 0, 0
		for i := range s {
			if n == limit {
				cut = i
				break
			}
			n++
		}
		head := s[:cut]
		if i := strings.LastIndex(head, "\n"); i > 0 && utf8.RuneCountInString(head[:i]) >= limit/2 {
			cut = i + 1
		} else if i := strings.LastIndexFunc(head, unicode.IsSpace); i > 0 && utf8.RuneCountInString(head[:i]) >= limit/2 {
			_, size := utf8.DecodeRuneInString(head[i:])
			cut = i + size
		}
		part := strings.TrimRightFunc(s[:cut], unicode.IsSpace)
		if part != "" {
			parts = append(parts, part)
		}
		s = s[cut:]
	}
	if s != "" || len(parts) == 0 {
		parts = append(parts, s)
	}
	return parts
}

// truncate shortens s to at most n runes, marking the cut with an ellipsis.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
