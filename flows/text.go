package flows

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/kefu-dev/kefu/locales"
)

// Normalize prepares customer text: invalid UTF-8 is replaced with U+FFFD, control and format
// characters are removed (newlines are kept, tabs become spaces, CR LF becomes LF; the zero-width
// joiner of emoji sequences is kept), the text is NFKC-normalized (full-width letters and digits become
// ASCII: "／ｓｔａｔｕｓ" is "/status") and trimmed. Normalize is idempotent.
func Normalize(s string) string {
	// One pass is not always a fixed point (removing a character can bring two others together that
	// NFKC then composes), so repeat until nothing changes; two passes are the most seen in fuzzing.
	for range 8 {
		n := normalizeOnce(s)
		if n == s {
			return n
		}
		s = n
	}
	return s
}

func normalizeOnce(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n':
			return r
		case r == '\r' || r == '\v' || r == '\f' || r == 0x85 || r == 0x2028 || r == 0x2029:
			return '\n'
		case r == '\t':
			return ' '
		case r == 0x200D: // zero-width joiner: part of emoji sequences
			return r
		case unicode.Is(unicode.Cc, r), unicode.Is(unicode.Cf, r), unicode.Is(unicode.Co, r), unicode.Is(unicode.Cs, r):
			return -1
		}
		return r
	}, s)
	s = NFKC(s)
	return strings.TrimFunc(s, unicode.IsSpace)
}

// NFKC applies NFKC except to full-width CJK punctuation and the ellipsis, which Chinese text uses as
// its own punctuation ("，" "？" "：" "……"): NFKC would turn them into ASCII and mangle the customer's
// words. Full-width letters, digits and the slash of "／ｓｔａｔｕｓ" still become ASCII.
// Adapters that clean text before the engine (Telegram) use it too, so a channel never changes the
// customer's punctuation where another keeps it.
func NFKC(s string) string {
	if !strings.ContainsFunc(s, keepPunct) {
		return norm.NFKC.String(s)
	}
	var b strings.Builder
	for s != "" {
		i := strings.IndexFunc(s, keepPunct)
		if i < 0 {
			b.WriteString(norm.NFKC.String(s))
			break
		}
		b.WriteString(norm.NFKC.String(s[:i]))
		_, n := utf8.DecodeRuneInString(s[i:])
		b.WriteString(s[i : i+n])
		s = s[i+n:]
	}
	return b.String()
}

// keepPunct: full-width punctuation Chinese text uses, except "／" (commands) and "＃" "＠".
func keepPunct(r rune) bool {
	switch r {
	case '，', '！', '？', '：', '；', '（', '）', '～', '…', '＂', '＇':
		return true
	}
	return false
}

// DetectLang picks the session language: text with Chinese characters is zh-CN; otherwise a known
// platform hint ("zh-hans", "en-US") decides; otherwise text with Latin letters is en; otherwise zh-CN,
// the default. A command ("/link ABCD-EFGH") is not text in any language: only the hint counts.
func DetectLang(text, hint string) string {
	if _, _, ok := ParseCommand(text); ok {
		text = ""
	}
	if hasHan(text) {
		return locales.ZhCN
	}
	if l := locales.Match(hint); l != "" {
		return l
	}
	for _, r := range text {
		if r < utf8.RuneSelf && unicode.IsLetter(r) {
			return locales.En
		}
	}
	return locales.ZhCN
}

// normLang maps a stored or configured language to a catalog language, zh-CN when unknown.
func normLang(l string) string {
	if m := locales.Match(l); m != "" {
		return m
	}
	return locales.ZhCN
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

var commandName = regexp.MustCompile(`^[A-Za-z0-9_]{1,32}$`)

// ParseCommand splits "/lang en" into ("lang", "en", true). The name is lowercased and may carry a
// Telegram "@botname" suffix, which is dropped; names are ASCII letters, digits and _ (so "/usr/bin"
// or "/ 你好" are text, not commands). Args are trimmed.
func ParseCommand(text string) (name, args string, ok bool) {
	text = strings.TrimSpace(text)
	if !strings.HasPrefix(text, "/") {
		return "", "", false
	}
	rest := text[1:]
	name, args, _ = strings.Cut(rest, " ")
	if i := strings.IndexAny(name, "\n\t"); i >= 0 { // "/status\nmore" => name "status", args "more"
		args = name[i+1:] + " " + args
		name = name[:i]
	}
	name, _, _ = strings.Cut(name, "@")
	if !commandName.MatchString(name) {
		return "", "", false
	}
	return strings.ToLower(name), strings.TrimSpace(args), true
}

// runeLen counts runes.
func runeLen(s string) int { return utf8.RuneCountInString(s) }

// weight is the description length measure of Config.MinDescriptionRunes: Chinese characters count 3,
// other letters and digits 1; the result is in thirds.
func weight(s string) int {
	w := 0
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Han, r):
			w += 3
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			w++
		}
	}
	return w
}

// noWords reports text without a single letter or digit; emoji reports whether it holds a symbol,
// unreadable whether it holds U+FFFD (what Normalize makes of binary or invalid UTF-8).
func noWords(s string) (none, emoji, unreadable bool) {
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			return false, false, false
		case r == utf8.RuneError:
			unreadable = true
		case unicode.Is(unicode.So, r) || unicode.Is(unicode.Sk, r):
			emoji = true
		}
	}
	return true, emoji, unreadable
}

// wordList matches configured words against text: Chinese words as substrings, others as whole words
// (no letter or digit on either side), case-insensitively.
type wordList []string

func flatten(m map[string][]string) wordList {
	var out wordList
	for _, l := range []string{locales.ZhCN, locales.En} {
		out = append(out, m[l]...)
	}
	for l, ws := range m {
		if l != locales.ZhCN && l != locales.En {
			out = append(out, ws...)
		}
	}
	return out
}

func (w wordList) match(text string) bool { return w.find(text) != "" }

func (w wordList) find(text string) string {
	lower := strings.ToLower(text)
	for _, word := range w {
		if word == "" {
			continue
		}
		if containsWord(lower, strings.ToLower(word)) {
			return word
		}
	}
	return ""
}

func containsWord(text, word string) bool {
	if hasHan(word) {
		return strings.Contains(text, word)
	}
	for i := 0; ; {
		j := strings.Index(text[i:], word)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(word)
		before, _ := utf8.DecodeLastRuneInString(text[:start])
		after, _ := utf8.DecodeRuneInString(text[end:])
		if !isWordRune(before) && !isWordRune(after) {
			return true
		}
		i = start + 1
		for i < len(text) && !utf8.RuneStart(text[i]) {
			i++
		}
	}
}

func isWordRune(r rune) bool {
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r)) && !unicode.Is(unicode.Han, r)
}

// stripPunct removes punctuation, symbols and spaces from both ends: "好的！" => "好的".
func stripPunct(s string) string {
	return strings.TrimFunc(s, func(r rune) bool {
		return unicode.IsPunct(r) || unicode.IsSpace(r) || unicode.IsSymbol(r)
	})
}

var (
	greetingWords = map[string]bool{"你好": true, "您好": true, "在吗": true, "在不在": true, "哈喽": true, "嗨": true,
		"hi": true, "hello": true, "hey": true, "hallo": true, "good morning": true, "good afternoon": true,
		"good evening": true, "你好呀": true, "您好呀": true, "客服": true, "客服在吗": true, "有人吗": true, "哈罗": true, "start": true}
	noWordsList  = wordList{"没有解决", "没解决", "未解决", "没有", "没用", "不是", "不对", "不行", "不用", "不需要", "没了", "no", "nope", "not", "nothing", "wrong", "didn't", "did not", "doesn't", "does not", "unsolved"}
	yesWordsList = wordList{"解决了", "已解决", "好了", "可以了", "是的", "是", "对", "对的", "没错", "好的", "好", "可以", "行", "嗯", "有用", "谢谢", "yes", "yeah", "yep", "y", "ok", "okay", "sure", "right", "correct", "solved", "thanks", "thank you", "great", "perfect"}
)

func isGreeting(text string) bool {
	return greetingWords[strings.ToLower(stripPunct(text))]
}

// yesNo reads a short answer to a yes/no question. Negations are checked first ("没解决" holds 解决).
// Long messages are not answers: ok is false.
func yesNo(text string) (yes, ok bool) {
	t := stripPunct(text)
	if t == "" || runeLen(t) > 24 || hasHan(t) && runeLen(t) > 12 {
		return false, false
	}
	if noWordsList.match(t) {
		return false, true
	}
	if yesWordsList.match(t) {
		return true, true
	}
	return false, false
}

var chineseDigits = map[string]int{"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}

// smallNumber reads "2", "2分", "二", "第二个", "★★★", "3 stars" as a number 1..max.
func smallNumber(text string, max int) (int, bool) {
	t := strings.TrimSpace(text)
	if n := strings.Count(t, "★") + strings.Count(t, "⭐"); n > 0 && strings.Trim(t, "★⭐\ufe0f ") == "" {
		t = strconv.Itoa(n)
	}
	t = strings.ToLower(stripPunct(t))
	for _, suf := range []string{"分", "星", "个", "号", " stars", " star", "stars", "star"} {
		t = strings.TrimSuffix(t, suf)
	}
	t = strings.TrimPrefix(strings.TrimSpace(t), "第")
	n, err := strconv.Atoi(strings.TrimSpace(t))
	if err != nil {
		var ok bool
		if n, ok = chineseDigits[t]; !ok {
			return 0, false
		}
	}
	if n < 1 || n > max {
		return 0, false
	}
	return n, true
}

var ticketNoRE = regexp.MustCompile(`(?i)\bGD\d{11,16}\b`)

// findTicketNo finds a ticket number in the seeds' format (GD + yyyymmdd + sequence).
func findTicketNo(text string) string {
	return strings.ToUpper(ticketNoRE.FindString(text))
}

// clip shortens s to n runes with an ellipsis.
func clip(s string, n int) string {
	if runeLen(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

func lower(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
