package slack

import (
	"strings"

	"github.com/kefu-dev/kefu/bot"
	"unicode"
	"unicode/utf8"
)

// MaskName keeps the first character of a name and hides the rest: "张三" -> "张*", "John Smith" -> "J*".
// An empty name stays empty. It is hand-written because the rule is the seeds' (张*), not a library's.
func MaskName(name string) string {
	name = strings.TrimSpace(name)
	if name == "" {
		return ""
	}
	r, _ := utf8.DecodeRuneInString(name)
	if r == utf8.RuneError {
		return "*"
	}
	return string(r) + "*"
}

// MaskPhone shows the first three and last four digits of a phone number and stars the rest:
// "13812345678" -> "138****5678". A "+86"-style country prefix is kept apart: "+86 138****5678".
// Separators (space, '-', '.', parentheses) are dropped. Short numbers keep only their last two digits;
// anything that is not a phone number is fully starred so that nothing leaks.
func MaskPhone(phone string) string {
	phone = strings.TrimSpace(phone)
	if phone == "" {
		return ""
	}
	plus := strings.HasPrefix(phone, "+")
	var digits []byte
	for _, r := range phone {
		switch {
		case r >= '0' && r <= '9':
			digits = append(digits, byte(r))
		case r == '+' || r == '-' || r == '.' || r == '(' || r == ')' || unicode.IsSpace(r):
		default:
			return strings.Repeat("*", min(utf8.RuneCountInString(phone), 11))
		}
	}
	prefix := ""
	if plus {
		cc := countryCodeLen(digits)
		prefix = "+" + string(digits[:cc]) + " "
		digits = digits[cc:]
	}
	n := len(digits)
	switch {
	case n == 0:
		return "*"
	case n >= 8:
		return prefix + string(digits[:3]) + strings.Repeat("*", n-7) + string(digits[n-4:])
	case n >= 5:
		return prefix + strings.Repeat("*", n-2) + string(digits[n-2:])
	default:
		return prefix + strings.Repeat("*", n)
	}
}

// countryCodeLen guesses the length of an international prefix: 1 for NANP (+1), 2 for the common
// two-digit codes (+86, +44 …), otherwise 3; never more than leaves 8 national digits.
func countryCodeLen(d []byte) int {
	if len(d) == 0 {
		return 0
	}
	cc := 3
	switch {
	case d[0] == '1' || d[0] == '7':
		cc = 1
	case len(d) >= 2 && strings.Contains("20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98", string(d[:2])):
		cc = 2
	}
	for cc > 0 && len(d)-cc < 8 {
		cc--
	}
	return cc
}

// MaskText masks every phone number a customer typed into free text (summaries, thread messages)
// before it reaches a team channel: "请打我电话13812345678" -> "请打我电话138****5678".
func MaskText(s string) string { return bot.MaskPhonesIn(s, MaskPhone) }
