// Package textsplit cuts a long text into parts of at most a number of UTF-8 bytes, for platforms
// that refuse longer messages (WeChat's customer-service text: 2048 bytes). Written here rather than
// taken from a library: the rule is ten lines (prefer a paragraph break, then a line break, then the
// end of a sentence, then a space, never inside a character) and no well-kept package does exactly it.
package textsplit

import (
	"strings"
	"unicode/utf8"
)

// Split returns text in parts of at most limit bytes each, in order; joined they hold all of text's
// non-space characters. Each part is trimmed; an empty text gives no parts.
func Split(text string, limit int) []string {
	text = strings.TrimSpace(text)
	if limit < utf8.UTFMax {
		limit = utf8.UTFMax
	}
	var parts []string
	for len(text) > limit {
		cut := cutAt(text, limit)
		if p := strings.TrimSpace(text[:cut]); p != "" {
			parts = append(parts, p)
		}
		text = strings.TrimSpace(text[cut:])
	}
	if text != "" {
		parts = append(parts, text)
	}
	return parts
}

// Breaks by preference after the paragraph and the line: the end of a sentence, then a clause (the
// cut falls after them).
var (
	sentenceEnds = []string{"。", "！", "？", "；", "…", ". ", "! ", "? ", "; "}
	clauseEnds   = []string{"，", "、", "：", ", ", ": "}
)

// cutAt is the byte offset to cut text (longer than limit) at: the best break in its second half,
// else the last character boundary within limit.
func cutAt(text string, limit int) int {
	head := text[:limit]
	for !utf8.ValidString(head) { // never inside a character
		head = head[:len(head)-1]
	}
	min := len(head) / 2
	if i := strings.LastIndex(head, "\n\n"); i >= min {
		return i + 1
	}
	if i := strings.LastIndex(head, "\n"); i >= min {
		return i + 1
	}
	for _, ends := range [][]string{sentenceEnds, clauseEnds} {
		best := -1
		for _, end := range ends {
			if i := strings.LastIndex(head, end); i >= 0 && i+len(end) > best {
				best = i + len(end)
			}
		}
		if best >= min {
			return best
		}
	}
	if i := strings.LastIndex(head, " "); i >= min {
		return i + 1
	}
	return len(head)
}
