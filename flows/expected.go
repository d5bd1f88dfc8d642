package flows

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// 期望解决时间: the customer's expected resolution time, read from a small, closed grammar (no
// general natural-language date library: those guess, and a guessed deadline is worse than a clear
// "please write it like this"). An answer is either
//
//   - a span from now: 「3天内」「5个小时内」「两周内」, "within 3 days", "in 5 hours", "2 weeks"; or
//   - a day, optionally with a part of the day and/or a clock time, in any order:
//     day:    今天 明天 后天 大后天 今晚, today tomorrow tonight "the day after tomorrow";
//     周五 星期五 礼拜五 本周五 下周一, friday fri "next monday";
//     本周 这周 下周, "this week" "next week" (the end of that week, Sunday);
//     dates 2026-11-30 2026/11/30 2026年11月30日 11月30日 11月30号 11-30 11/30, "nov 30" "30 november";
//     part:   早上 上午 中午 下午 傍晚 晚上, morning noon afternoon evening night, "end of day" "eod";
//     clock:  3点 3点半 15点20分 15:20, 3pm 3:30pm "at 15:00".
//
// with filler words around them ignored (之前 以前 前 为止 左右 的 内, by before until on at the). A day
// without a clock time means its end: 早上/上午/morning 12:00, 中午/noon 13:00, 下午/afternoon and a
// bare day 18:00, 傍晚 19:00, 晚上/evening/night 22:00. A weekday is its next occurrence (today counts);
// 下周X / "next X" is that day of next week. A date without a year is in the current year. The result
// must lie in the future and within a year.

// ErrExpectedPast is returned for a time that has already passed.
var ErrExpectedPast = errors.New("expected time in the past")

// ErrExpectedBad is returned for text outside the grammar.
var ErrExpectedBad = errors.New("expected time not understood")

type tokKind int

const (
	tokFiller  tokKind = iota
	tokDay             // n: days from today
	tokWeekday         // n: 0 Sunday .. 6 Saturday; next: of next week
	tokWeek            // n: 0 this week, 1 next week
	tokDate            // y (0: current year), mo, d
	tokPart            // h, mi: the deadline of that part of the day; pm: a clock time in it is afternoon
	tokClock           // h, mi; ampm: "am" | "pm" | ""
	tokSpan            // d: the span
)

type token struct {
	kind      tokKind
	n, y, mo  int
	d         time.Duration
	h, mi     int
	pm, next  bool
	ampm      string
	dayOffset int // tokPart: 今晚/tonight carry a day too
	hasDay    bool
}

const cnNum = `[0-9]+|[零一二两三四五六七八九十]+`

var (
	spanRE  = regexp.MustCompile(`^(?:within|in)?\s*(` + cnNum + `|a|an|one|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty-four|forty-eight)\s*(?:个)?\s*(小时|钟头|天|日|周|星期|礼拜|hours?|hrs?|h|days?|d|weeks?|w)\s*(?:之内|以内|内)?$`)
	dateRE  = regexp.MustCompile(`^(?:(\d{4})\s*[-/.年]\s*)?(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*(?:日|号)?`)
	clockRE = regexp.MustCompile(`^(` + cnNum + `)\s*(?:(?:点|时)\s*(?:(半)|(` + cnNum + `)\s*分?)?|[:：]\s*(\d{2})\s*(am|pm|a\.m\.|p\.m\.)?|\s*(am|pm|a\.m\.|p\.m\.|o'clock))`)
	wdRE    = regexp.MustCompile(`^(本|这|下|下个)?(?:周|星期|礼拜)([一二三四五六日天1-7])`)
	enWdRE  = regexp.MustCompile(`^(?:(next|this|coming)\s+)?(monday|mon|tuesday|tues|tue|wednesday|wed|thursday|thurs|thu|friday|fri|saturday|sat|sunday|sun)\b`)
	monRE   = regexp.MustCompile(`^(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b|^(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b`)
	wordTok = []struct {
		words []string
		tok   token
	}{
		{[]string{"大后天"}, token{kind: tokDay, n: 3}},
		{[]string{"the day after tomorrow", "day after tomorrow", "后天"}, token{kind: tokDay, n: 2}},
		{[]string{"明天", "明日", "tomorrow", "tmr"}, token{kind: tokDay, n: 1}},
		{[]string{"今天", "今日", "today"}, token{kind: tokDay, n: 0}},
		{[]string{"今晚", "tonight"}, token{kind: tokPart, h: 22, pm: true, hasDay: true}},
		{[]string{"本周", "这周", "这个星期", "本星期", "this week", "end of the week", "end of week", "the end of the week"}, token{kind: tokWeek, n: 0}},
		{[]string{"下周", "下个星期", "下星期", "next week"}, token{kind: tokWeek, n: 1}},
		{[]string{"早上", "早晨", "上午", "morning", "this morning"}, token{kind: tokPart, h: 12}},
		{[]string{"中午", "noon", "midday", "lunchtime"}, token{kind: tokPart, h: 13, pm: true}},
		{[]string{"下午", "afternoon", "this afternoon"}, token{kind: tokPart, h: 18, pm: true}},
		{[]string{"傍晚"}, token{kind: tokPart, h: 19, pm: true}},
		{[]string{"晚上", "夜里", "evening", "this evening", "night"}, token{kind: tokPart, h: 22, pm: true}},
		{[]string{"end of day", "end of the day", "eod", "close of business", "cob", "下班前", "下班"}, token{kind: tokPart, h: 18}},
		// fillers
		{[]string{"no later than", "at the latest", "之前", "以前", "为止", "左右", "最晚", "最迟", "before", "until", "till", "by", "on", "at", "the", "of", "in", "前", "的", "内", "在", "于", "到", "吧", "能", "希望", "请"}, token{kind: tokFiller}},
	}
	weekdays = map[string]int{"日": 0, "天": 0, "7": 0, "一": 1, "1": 1, "二": 2, "2": 2, "三": 3, "3": 3, "四": 4, "4": 4, "五": 5, "5": 5, "六": 6, "6": 6,
		"sunday": 0, "sun": 0, "monday": 1, "mon": 1, "tuesday": 2, "tues": 2, "tue": 2, "wednesday": 3, "wed": 3, "thursday": 4, "thurs": 4, "thu": 4,
		"friday": 5, "fri": 5, "saturday": 6, "sat": 6}
	months = map[string]int{"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12}
	enNums = map[string]int{"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
		"twelve": 12, "twenty-four": 24, "forty-eight": 48}
)

// parseNum reads 0–99 in digits or Chinese numerals (十, 十五, 二十四, 两).
func parseNum(s string) (int, bool) {
	if n, err := strconv.Atoi(s); err == nil {
		return n, true
	}
	if n, ok := enNums[s]; ok {
		return n, true
	}
	digit := map[rune]int{'零': 0, '一': 1, '二': 2, '两': 2, '三': 3, '四': 4, '五': 5, '六': 6, '七': 7, '八': 8, '九': 9}
	r := []rune(s)
	switch {
	case len(r) == 1 && r[0] == '十':
		return 10, true
	case len(r) == 1:
		n, ok := digit[r[0]]
		return n, ok
	case len(r) == 2 && r[0] == '十':
		n, ok := digit[r[1]]
		return 10 + n, ok
	case len(r) == 2 && r[1] == '十':
		n, ok := digit[r[0]]
		return n * 10, ok
	case len(r) == 3 && r[1] == '十':
		a, ok1 := digit[r[0]]
		b, ok2 := digit[r[2]]
		return a*10 + b, ok1 && ok2
	}
	return 0, false
}

// ParseExpected reads the customer's expected resolution time (see the grammar above) relative to now,
// in now's location. It returns ErrExpectedBad for text outside the grammar and ErrExpectedPast for a
// time that has passed.
func ParseExpected(text string, now time.Time) (time.Time, error) {
	s := strings.ToLower(strings.TrimSpace(text))
	s = strings.TrimRight(s, "。.!！?？~～ ")
	if s == "" || runeLen(s) > 60 {
		return time.Time{}, ErrExpectedBad
	}
	if m := spanRE.FindStringSubmatch(strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(s, "by "), "在"))); m != nil {
		n, ok := parseNum(m[1])
		if !ok || n <= 0 {
			return time.Time{}, ErrExpectedBad
		}
		unit := map[string]time.Duration{"小时": time.Hour, "钟头": time.Hour, "天": 24 * time.Hour, "日": 24 * time.Hour,
			"周": 7 * 24 * time.Hour, "星期": 7 * 24 * time.Hour, "礼拜": 7 * 24 * time.Hour}[m[2]]
		switch {
		case unit != 0:
		case strings.HasPrefix(m[2], "h"):
			unit = time.Hour
		case strings.HasPrefix(m[2], "d"):
			unit = 24 * time.Hour
		case strings.HasPrefix(m[2], "w"):
			unit = 7 * 24 * time.Hour
		}
		d := time.Duration(n) * unit
		if d > 366*24*time.Hour {
			return time.Time{}, ErrExpectedBad
		}
		return now.Add(d).Truncate(time.Minute), nil
	}
	toks, ok := lex(s)
	if !ok {
		return time.Time{}, ErrExpectedBad
	}
	return resolve(toks, now)
}

// lex splits s into the grammar's tokens; ok is false when some part is not one.
func lex(s string) ([]token, bool) {
	var out []token
	for s != "" {
		s = strings.TrimLeft(s, " ,，、")
		if s == "" {
			break
		}
		if t, n, ok := lexOne(s); ok {
			if t.kind != tokFiller {
				out = append(out, t)
			}
			s = s[n:]
			continue
		}
		return nil, false
	}
	return out, len(out) > 0
}

func lexOne(s string) (token, int, bool) {
	if m := dateRE.FindStringSubmatchIndex(s); m != nil {
		sub := dateRE.FindStringSubmatch(s)
		y, _ := strconv.Atoi(sub[1])
		mo, _ := strconv.Atoi(sub[2])
		d, _ := strconv.Atoi(sub[3])
		// "3:30" is a clock, not March 30: a date needs a year, 月/日, or '-'/'/' between two numbers.
		if !strings.ContainsAny(s[:m[1]], ":：") {
			return token{kind: tokDate, y: y, mo: mo, n: d}, m[1], true
		}
	}
	if m := monRE.FindStringSubmatch(s); m != nil {
		mo, d := months[m[1]], m[2]
		if m[1] == "" {
			mo, d = months[m[4]], m[3]
		}
		n, _ := strconv.Atoi(d)
		return token{kind: tokDate, mo: mo, n: n}, len(m[0]), true
	}
	if m := wdRE.FindStringSubmatch(s); m != nil {
		return token{kind: tokWeekday, n: weekdays[m[2]], next: strings.HasPrefix(m[1], "下")}, len(m[0]), true
	}
	if m := enWdRE.FindStringSubmatch(s); m != nil {
		return token{kind: tokWeekday, n: weekdays[m[2]], next: m[1] == "next"}, len(m[0]), true
	}
	if m := clockRE.FindStringSubmatch(s); m != nil {
		h, ok := parseNum(m[1])
		if !ok {
			return token{}, 0, false
		}
		t := token{kind: tokClock, h: h}
		switch {
		case m[2] != "":
			t.mi = 30
		case m[3] != "":
			if t.mi, ok = parseNum(m[3]); !ok {
				return token{}, 0, false
			}
		case m[4] != "":
			t.mi, _ = strconv.Atoi(m[4])
		}
		for _, ap := range []string{m[5], m[6]} {
			switch strings.ReplaceAll(ap, ".", "") {
			case "am", "pm":
				t.ampm = strings.ReplaceAll(ap, ".", "")
			}
		}
		return t, len(m[0]), true
	}
	for _, w := range wordTok {
		for _, word := range w.words {
			if !strings.HasPrefix(s, word) {
				continue
			}
			// ASCII words end at a word boundary ("on" is not the start of "one").
			if !hasHan(word) && len(s) > len(word) && isWordRune(rune(s[len(word)])) {
				continue
			}
			return w.tok, len(word), true
		}
	}
	return token{}, 0, false
}

// resolve combines a day, a part of the day and a clock time into the deadline.
func resolve(toks []token, now time.Time) (time.Time, error) {
	var day, part, clock *token
	for i := range toks {
		t := &toks[i]
		var slot **token
		switch t.kind {
		case tokDay, tokWeekday, tokWeek, tokDate:
			slot = &day
		case tokPart:
			slot = &part
			if t.hasDay {
				if day != nil {
					return time.Time{}, ErrExpectedBad
				}
				day = &token{kind: tokDay}
			}
		case tokClock:
			slot = &clock
		default:
			return time.Time{}, ErrExpectedBad
		}
		if *slot != nil {
			return time.Time{}, ErrExpectedBad // two days, two parts or two times: not one deadline
		}
		*slot = t
	}
	loc := now.Location()
	y, mo, d := now.Date()
	today := time.Date(y, mo, d, 0, 0, 0, 0, loc)
	date := today
	if day != nil {
		switch day.kind {
		case tokDay:
			date = today.AddDate(0, 0, day.n)
		case tokWeekday:
			ahead := (day.n - int(today.Weekday()) + 7) % 7
			if day.next {
				// 下周X: X of next week (weeks start on Monday).
				mon := today.AddDate(0, 0, -((int(today.Weekday())+6)%7)+7)
				ahead = int(mon.Sub(today).Hours()/24) + (day.n+6)%7
			}
			date = today.AddDate(0, 0, ahead)
		case tokWeek:
			sun := today.AddDate(0, 0, (7-int(today.Weekday()))%7)
			date = sun.AddDate(0, 0, 7*day.n)
		case tokDate:
			yy := day.y
			if yy == 0 {
				yy = y
			}
			if day.mo < 1 || day.mo > 12 || day.n < 1 || day.n > 31 {
				return time.Time{}, ErrExpectedBad
			}
			date = time.Date(yy, time.Month(day.mo), day.n, 0, 0, 0, 0, loc)
			if date.Day() != day.n { // 2月30日
				return time.Time{}, ErrExpectedBad
			}
		}
	}
	h, mi := 18, 0
	if part != nil {
		h = part.h
	}
	if clock != nil {
		h, mi = clock.h, clock.mi
		switch {
		case clock.ampm == "pm" && h < 12, clock.ampm == "" && part != nil && part.pm && h < 12:
			h += 12
		case clock.ampm == "am" && h == 12:
			h = 0
		}
		if h > 24 || mi > 59 || h == 24 && mi > 0 {
			return time.Time{}, ErrExpectedBad
		}
	}
	at := date.Add(time.Duration(h)*time.Hour + time.Duration(mi)*time.Minute)
	if !at.After(now) {
		return time.Time{}, ErrExpectedPast
	}
	if at.After(now.AddDate(1, 0, 1)) {
		return time.Time{}, ErrExpectedBad
	}
	return at, nil
}
