package bot

import "regexp"

// Phone numbers customers type into free text (descriptions, messages) must not reach team channels
// or logs unmasked. phoneRE finds mainland mobile numbers (optionally +86 / 86 and separated by spaces
// or dashes) and landlines with an area code (010-12345678, 0755 1234 5678). Order numbers (12–20 plain
// digits) are not phone numbers: a match must not touch other digits on either side.
var phoneRE = regexp.MustCompile(`(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d){8}|0\d{2,3}[\s-]\d{3,4}[\s-]?\d{4}`)

// FindPhones returns the byte ranges of phone numbers in s.
func FindPhones(s string) [][2]int {
	var out [][2]int
	for _, m := range phoneRE.FindAllStringIndex(s, -1) {
		if m[0] > 0 && isDigit(s[m[0]-1]) || m[1] < len(s) && isDigit(s[m[1]]) {
			continue // part of a longer number (an order number, an id)
		}
		out = append(out, [2]int{m[0], m[1]})
	}
	return out
}

// FirstPhone returns the first phone number in s, or "".
func FirstPhone(s string) string {
	if p := FindPhones(s); len(p) > 0 {
		return s[p[0][0]:p[0][1]]
	}
	return ""
}

// MaskPhonesIn replaces every phone number in s with mask(number).
func MaskPhonesIn(s string, mask func(string) string) string {
	ps := FindPhones(s)
	if len(ps) == 0 {
		return s
	}
	out := make([]byte, 0, len(s))
	last := 0
	for _, p := range ps {
		out = append(out, s[last:p[0]]...)
		out = append(out, mask(s[p[0]:p[1]])...)
		last = p[1]
	}
	return string(append(out, s[last:]...))
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }
