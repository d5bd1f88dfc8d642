package improve

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Chat runs the improvement commands typed in a chat (Slack `/kefu improve …`) for actor and returns
// the answer in lang. Fields that hold free text are separated by "|":
//
//	list
//	show IMP-…
//	new CATEGORY | phenomenon | why1 [| why2 … | why5]
//	link IMP-… GD…
//	action IMP-… short|long OWNER YYYY-MM-DD description | acceptance criterion
//	state ACTION-ID in_progress|verifying|done
//	effect IMP-… [weeks]
//	targets
//
// OWNER is an agent id ("slack:U…", "cli:alice") or a Slack mention (<@U…>).
type Chat struct {
	S *Service
	T Translator
}

// Run answers one command line.
func (c Chat) Run(ctx context.Context, actor, text, lang string) string {
	t := func(key string, kv ...any) string { return c.T(lang, key, args(kv)) }
	fields := strings.Fields(text)
	if len(fields) == 0 {
		return t("improve.chat.usage")
	}
	sub, rest := strings.ToLower(fields[0]), strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(text), fields[0]))
	fail := func(err error) string { return Message(err, c.T, lang) }
	switch sub {
	case "list":
		rs, err := c.S.List(ctx, ListFilter{Status: RecordOpen, Limit: 20})
		if err != nil {
			return fail(err)
		}
		if len(rs) == 0 {
			return t("improve.chat.none")
		}
		var b strings.Builder
		for _, r := range rs {
			fmt.Fprintf(&b, "• *%s* %s — %s (%d/%d)\n", r.No, r.Category, r.Phenomenon, doneOf(r.Actions), len(r.Actions))
		}
		return b.String()
	case "show":
		r, err := c.S.Record(ctx, rest)
		if err != nil {
			return fail(err)
		}
		var b strings.Builder
		fmt.Fprintf(&b, "*%s* %s · %s\n%s\n", r.No, r.Category, r.Status, r.Phenomenon)
		for i, w := range r.Whys {
			fmt.Fprintf(&b, "Why%d: %s\n", i+1, w)
		}
		if r.RootCause != "" {
			fmt.Fprintf(&b, "→ %s\n", r.RootCause)
		}
		for _, a := range r.Actions {
			fmt.Fprintf(&b, "#%d [%s] %s — %s, %s, %s\n", a.ID, a.State, a.Description, mention(a.Owner), a.Due, a.Acceptance)
		}
		return b.String()
	case "new":
		parts := split(rest)
		if len(parts) < 2 {
			return t("improve.chat.usage")
		}
		r, err := c.S.Create(ctx, actor, NewRecord{Category: parts[0], Phenomenon: parts[1], Whys: parts[2:]})
		if err != nil {
			return fail(err)
		}
		return t("improve.chat.created", "no", r.No)
	case "link":
		f := strings.Fields(rest)
		if len(f) != 2 {
			return t("improve.chat.usage")
		}
		if err := c.S.LinkTicket(ctx, actor, f[0], f[1]); err != nil {
			return fail(err)
		}
		return t("improve.chat.linked", "no", strings.ToUpper(f[0]), "ticket", strings.ToUpper(f[1]))
	case "action":
		f, body := cutFields(rest, 4)
		if len(f) < 4 || body == "" {
			return t("improve.chat.usage")
		}
		desc, accept, _ := strings.Cut(body, "|")
		a, err := c.S.AddAction(ctx, actor, f[0], NewAction{Term: f[1], Owner: ownerID(f[2]), Due: f[3],
			Description: strings.TrimSpace(desc), Acceptance: strings.TrimSpace(accept)})
		if err != nil {
			return fail(err)
		}
		return t("improve.chat.action_added", "id", a.ID, "no", a.RecordNo)
	case "state":
		f := strings.Fields(rest)
		if len(f) != 2 {
			return t("improve.chat.usage")
		}
		id, err := strconv.ParseInt(strings.TrimPrefix(f[0], "#"), 10, 64)
		if err != nil {
			return t("improve.chat.usage")
		}
		a, err := c.S.SetActionState(ctx, actor, id, strings.ToLower(f[1]))
		if err != nil {
			return fail(err)
		}
		return t("improve.chat.state", "id", a.ID, "no", a.RecordNo, "state", a.State)
	case "effect":
		f := strings.Fields(rest)
		if len(f) == 0 || len(f) > 2 {
			return t("improve.chat.usage")
		}
		weeks := 4
		if len(f) == 2 {
			if weeks, _ = strconv.Atoi(f[1]); weeks == 0 {
				weeks = -1
			}
		}
		e, err := c.S.Effect(ctx, f[0], weeks)
		if err != nil {
			return fail(err)
		}
		if e.Pivot == nil {
			return t("improve.console.no_effect")
		}
		n := func(v *float64) string {
			if v == nil {
				return "–"
			}
			return strconv.FormatFloat(*v, 'f', -1, 64)
		}
		return t("improve.chat.effect", "no", e.RecordNo, "weeks", e.Weeks, "at", e.Pivot.In(c.S.loc).Format("2006-01-02 15:04"),
			"tb", n(e.Before.PerWeek), "ta", n(e.After.PerWeek), "rb", n(e.Before.MedianResolutionH), "ra", n(e.After.MedianResolutionH),
			"cb", n(e.Before.CSAT), "ca", n(e.After.CSAT))
	case "targets":
		ts, err := c.S.Targets(ctx, time.Time{}, time.Time{})
		if err != nil {
			return fail(err)
		}
		st, err := c.S.Evaluate(ctx, ts)
		if err != nil {
			return fail(err)
		}
		if len(st) == 0 {
			return t("improve.chat.none")
		}
		var b strings.Builder
		for _, x := range st {
			actual, mark := "–", "✘"
			if x.Actual != nil {
				actual = strconv.FormatFloat(*x.Actual, 'f', -1, 64)
			}
			if x.Met {
				mark = "✔"
			}
			fmt.Fprintf(&b, "%s %s %s: %s %s %s\n", mark, x.Period, x.Metric, actual, x.Op, strconv.FormatFloat(x.Value, 'f', -1, 64))
		}
		return b.String()
	}
	return t("improve.chat.usage")
}

// split cuts s at "|" and trims the parts.
func split(s string) []string {
	var out []string
	for _, p := range strings.Split(s, "|") {
		out = append(out, strings.TrimSpace(p))
	}
	return out
}

// ownerID reads an owner: a Slack mention <@U…> or <@U…|name> is "slack:U…"; an id is kept.
func ownerID(s string) string {
	if strings.HasPrefix(s, "<@") && strings.HasSuffix(s, ">") {
		u := strings.TrimSuffix(strings.TrimPrefix(s, "<@"), ">")
		u, _, _ = strings.Cut(u, "|")
		return "slack:" + u
	}
	return s
}

// mention shows an owner in Slack: a mention for Slack users, the id otherwise.
func mention(id string) string {
	if u, ok := strings.CutPrefix(id, "slack:"); ok {
		return "<@" + u + ">"
	}
	return id
}

func doneOf(as []Action) int {
	n := 0
	for _, a := range as {
		if a.State == StateDone {
			n++
		}
	}
	return n
}

// cutFields takes the first n space-separated words of s and returns them and the rest (trimmed).
func cutFields(s string, n int) ([]string, string) {
	var out []string
	s = strings.TrimSpace(s)
	for len(out) < n && s != "" {
		w, r, _ := strings.Cut(s, " ")
		if w != "" {
			out = append(out, w)
		}
		s = strings.TrimSpace(r)
	}
	return out, s
}
