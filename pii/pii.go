// Package pii finds and masks personal data in text: the one detector kefu applies wherever someone
// other than the customer sees a customer's words or details (Slack cards, threads and commands, the
// CLI, the console, CSV/Excel exports, digests, logs). It finds
//
//   - phone numbers: mainland mobiles (optionally +86/0086, spaces or dashes) and landlines with an
//     area code (010-12345678, (0755) 1234 5678, +86 10 1234 5678);
//   - resident ID card numbers: 18 characters whose last is the ISO 7064 MOD 11-2 check character;
//   - e-mail addresses;
//   - bank card numbers: 16 to 19 digits (in groups or not) that pass the Luhn check;
//   - the customer's own name, when the caller knows it (Masker.Names).
//
// A number is only taken whole: digits adjacent on either side make it part of something longer (an
// order number). The rules are hand-written because they are China-specific (ID checksum, +86 forms,
// the seeds' 张* / 138****5678 display) and small; no maintained Go library covers them.
package pii

import (
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind is what a span of text is.
type Kind string

const (
	Phone  Kind = "phone"
	IDCard Kind = "id_card"
	Email  Kind = "email"
	Card   Kind = "bank_card"
	Name   Kind = "name"
	// OpenID is a WeChat platform user id: a 公众号 openid or unionid ("o" and 27 more), a WeCom
	// external_userid ("wm" and 30 more). It identifies one person on WeChat for life.
	OpenID Kind = "openid"
)

// Span is one piece of personal data found in a text: s[Start:End].
type Span struct {
	Kind       Kind
	Start, End int
}

var (
	emailRE = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}`)
	// Mobile: 1[3-9]x then 8 digits, separators allowed between digits. Landline: area code 0xx/0xxx,
	// separated or in parentheses, then 7–8 digits (optionally in two groups).
	phoneRE = regexp.MustCompile(`(?:(?:\+|00)?86[\s\-]?)?1[3-9]\d(?:[\s\-]?\d){8}` +
		`|(?:(?:\+|00)86[\s\-]?0?\d{2,3}|0\d{2,3}|\(0\d{2,3}\))[\s\-]?\d{3,4}[\s\-]?\d{4}`)
	idRE   = regexp.MustCompile(`\d{17}[\dXx]`)
	cardRE = regexp.MustCompile(`\d{4}(?:[\s\-]?\d{4}){3}(?:[\s\-]?\d{1,3})?|\d{16,19}`)
	// openIDRE: the shapes of WeChat ids (see OpenID); openID checks the boundaries and the mix of
	// cases that real ids have and English words do not.
	openIDRE = regexp.MustCompile(`wm[A-Za-z0-9_\-]{30}|o[A-Za-z0-9_\-]{27}`)
)

// openID reports whether s[a:b], a match of openIDRE, is a whole WeChat id: not part of a longer
// token, with upper- and lower-case letters after its prefix.
func openID(s string, a, b int) bool {
	idRune := func(c byte) bool {
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
	}
	if a > 0 && idRune(s[a-1]) || b < len(s) && idRune(s[b]) {
		return false
	}
	upper, lower := false, false
	for i := a + 1; i < b; i++ {
		upper = upper || s[i] >= 'A' && s[i] <= 'Z'
		lower = lower || s[i] >= 'a' && s[i] <= 'z'
	}
	return upper && lower
}

// Find returns the personal data in s (names not included: see Masker), in order, without overlaps.
func Find(s string) []Span { return Masker{}.Find(s) }

// Masker masks text for someone other than the customer. Names are the customer's own names (the
// ticket's customer name, the platform display name); the zero Masker masks everything but names.
type Masker struct {
	Names []string
	// Off shows everything unmasked: a supervisor's deliberate, audited reveal (see Reveal).
	Off bool
}

// Reveal is the masker of a supervisor's reveal: it masks nothing. Use it only after the reveal is
// recorded in the audit log.
var Reveal = Masker{Off: true}

// Name masks a name field (张*), unless revealing.
func (m Masker) Name(s string) string {
	if m.Off {
		return s
	}
	return MaskName(s)
}

// Phone masks a phone field (138****5678), unless revealing.
func (m Masker) Phone(s string) string {
	if m.Off {
		return s
	}
	return MaskPhone(s)
}

// Find returns the personal data in s, names included, in order, without overlaps.
func (m Masker) Find(s string) []Span {
	if s == "" {
		return nil
	}
	var spans []Span
	taken := func(a, b int) bool {
		for _, sp := range spans {
			if a < sp.End && sp.Start < b {
				return true
			}
		}
		return false
	}
	add := func(k Kind, a, b int) {
		if !taken(a, b) {
			spans = append(spans, Span{k, a, b})
		}
	}
	for _, loc := range emailRE.FindAllStringIndex(s, -1) {
		add(Email, loc[0], loc[1])
	}
	for _, loc := range idRE.FindAllStringIndex(s, -1) {
		if wholeNumber(s, loc[0], loc[1]) && idChecksum(s[loc[0]:loc[1]]) {
			add(IDCard, loc[0], loc[1])
		}
	}
	for _, loc := range cardRE.FindAllStringIndex(s, -1) {
		if wholeNumber(s, loc[0], loc[1]) && luhn(s[loc[0]:loc[1]]) {
			add(Card, loc[0], loc[1])
		}
	}
	for _, loc := range openIDRE.FindAllStringIndex(s, -1) {
		if openID(s, loc[0], loc[1]) {
			add(OpenID, loc[0], loc[1])
		}
	}
	for _, loc := range phoneRE.FindAllStringIndex(s, -1) {
		a := loc[0]
		if s[a] == '(' || s[a] == '+' {
			if a > 0 && isDigit(s[a-1]) {
				continue
			}
		} else if !wholeNumber(s, a, loc[1]) {
			continue
		}
		add(Phone, a, loc[1])
	}
	for _, n := range m.Names {
		n = strings.TrimSpace(n)
		if !maskableName(n) {
			continue
		}
		for i := 0; i < len(s); {
			j := strings.Index(s[i:], n)
			if j < 0 {
				break
			}
			a, b := i+j, i+j+len(n)
			if latinWordAt(s, a, b) {
				add(Name, a, b)
			}
			i = b
		}
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].Start < spans[j].Start })
	return spans
}

// Text returns s with every piece of personal data masked.
func (m Masker) Text(s string) string {
	if m.Off {
		return s
	}
	spans := m.Find(s)
	if len(spans) == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for _, sp := range spans {
		b.WriteString(s[last:sp.Start])
		v := s[sp.Start:sp.End]
		switch sp.Kind {
		case Phone:
			b.WriteString(MaskPhone(v))
		case IDCard:
			b.WriteString(MaskIDCard(v))
		case Email:
			b.WriteString(MaskEmail(v))
		case Card:
			b.WriteString(MaskCard(v))
		case Name:
			b.WriteString(MaskName(v))
		case OpenID:
			b.WriteString(MaskOpenID(v))
		}
		last = sp.End
	}
	b.WriteString(s[last:])
	return b.String()
}

// Text masks s with the zero Masker (no names).
func Text(s string) string { return Masker{}.Text(s) }

// Contains reports whether s holds personal data the zero Masker would mask.
func Contains(s string) bool { return len(Find(s)) > 0 }

// MaskName keeps the first character of a name and hides the rest: "张三" -> "张*", "John Smith" -> "J*".
// An empty name stays empty.
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
	if strings.HasPrefix(phone, "0086") {
		plus, phone = true, "+"+phone[2:]
	}
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

// MaskIDCard keeps the first three and last four characters: "110***********4514" (the birth date
// and district stay hidden).
func MaskIDCard(id string) string {
	if len(id) < 8 {
		return strings.Repeat("*", len(id))
	}
	return id[:3] + strings.Repeat("*", len(id)-7) + id[len(id)-4:]
}

// MaskOpenID keeps the first and last three characters of a WeChat id: "oLV****GLc" (enough for an
// engineer to tell two apart in a log, not to message the person).
func MaskOpenID(id string) string {
	if len(id) <= 8 {
		return strings.Repeat("*", len(id))
	}
	return id[:3] + "****" + id[len(id)-3:]
}

// MaskEmail keeps the first character of the local part and the domain: "w***@example.cn".
func MaskEmail(e string) string {
	at := strings.LastIndexByte(e, '@')
	if at <= 0 {
		return strings.Repeat("*", len(e))
	}
	return e[:1] + "***" + e[at:]
}

// MaskCard keeps the last four digits: "************0128".
func MaskCard(c string) string {
	var d []byte
	for i := 0; i < len(c); i++ {
		if isDigit(c[i]) {
			d = append(d, c[i])
		}
	}
	if len(d) < 8 {
		return strings.Repeat("*", len(d))
	}
	return strings.Repeat("*", len(d)-4) + string(d[len(d)-4:])
}

// idChecksum checks the ISO 7064 MOD 11-2 check character of an 18-character resident ID number.
func idChecksum(id string) bool {
	if len(id) != 18 {
		return false
	}
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := 0; i < 17; i++ {
		if !isDigit(id[i]) {
			return false
		}
		sum += int(id[i]-'0') * weights[i]
	}
	return "10X98765432"[sum%11] == upper(id[17])
}

// IDCheckChar returns the check character for the first 17 digits of an ID number (for tests and
// generators).
func IDCheckChar(first17 string) byte {
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := 0; i < 17 && i < len(first17); i++ {
		sum += int(first17[i]-'0') * weights[i]
	}
	return "10X98765432"[sum%11]
}

// luhn checks the Luhn digit of a card number (separators ignored).
func luhn(s string) bool {
	sum, n, double := 0, 0, false
	for i := len(s) - 1; i >= 0; i-- {
		c := s[i]
		if !isDigit(c) {
			continue
		}
		d := int(c - '0')
		if double {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
		n++
	}
	return n >= 16 && n <= 19 && sum%10 == 0
}

// LuhnDigit returns the check digit that makes digits+check pass Luhn (for tests and generators).
func LuhnDigit(digits string) byte {
	for c := byte('0'); c <= '9'; c++ {
		if luhn(digits + string(c)) {
			return c
		}
	}
	return '0'
}

// wholeNumber reports whether s[a:b] has no digit (or letter continuing an alphanumeric code)
// directly on either side.
func wholeNumber(s string, a, b int) bool {
	return (a == 0 || !isDigit(s[a-1])) && (b == len(s) || !isDigit(s[b]))
}

// latinWordAt reports whether a Latin-script name found at s[a:b] is a whole word (CJK names have no
// word boundaries and always count).
func latinWordAt(s string, a, b int) bool {
	first, _ := utf8.DecodeRuneInString(s[a:b])
	if first >= 0x2E80 { // CJK
		return true
	}
	before, _ := utf8.DecodeLastRuneInString(s[:a])
	after, _ := utf8.DecodeRuneInString(s[b:])
	word := func(r rune) bool { return r < 0x2E80 && (unicode.IsLetter(r) || unicode.IsDigit(r)) }
	return (a == 0 || !word(before)) && (b == len(s) || !word(after))
}

// maskableName: at least two characters (a single character would mask every occurrence of it).
func maskableName(n string) bool {
	return utf8.RuneCountInString(n) >= 2
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

func upper(b byte) byte {
	if b == 'x' {
		return 'X'
	}
	return b
}

// Leaks reports whether out shows any of secrets, as written or (for numbers of 7 digits or more) as
// its digits with separators removed on both sides: the check the tests of every output path make.
func Leaks(out string, secrets []string) bool {
	flat := stripSeparators(out)
	for _, s := range secrets {
		if s == "" {
			continue
		}
		if strings.Contains(out, s) {
			return true
		}
		if d := stripSeparators(s); len(d) >= 7 && strings.Contains(flat, d) {
			return true
		}
	}
	return false
}

// stripSeparators drops what people type between the digits of a number.
func stripSeparators(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '(', ')', '+', '.', '\t':
			return -1
		}
		return r
	}, s)
}
