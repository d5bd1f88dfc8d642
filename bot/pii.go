package bot

import "github.com/kefu-dev/kefu/pii"

// Personal data in free text is found and masked by package pii (one detector for every output
// path). These helpers keep the engine's own use small.

// FindPhones returns the byte ranges of phone numbers in s.
func FindPhones(s string) [][2]int {
	var out [][2]int
	for _, sp := range pii.Find(s) {
		if sp.Kind == pii.Phone {
			out = append(out, [2]int{sp.Start, sp.End})
		}
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

// Masker returns the masker for text about t seen by anyone but its customer: every phone number,
// ID number, e-mail address and bank card, and the customer's own name.
func (t Ticket) Masker() pii.Masker { return pii.Masker{Names: []string{t.CustomerName}} }
