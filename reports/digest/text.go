package digest

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/kefu-dev/kefu/reports"
)

// Translator renders a locales key; locales.(*Catalog).T has this shape.
type Translator func(lang, key string, args map[string]any) string

// Text renders r as a Slack mrkdwn message in lang: the headline numbers of the dashboard and a link
// to the console showing the same range. title is a locales key ("digest.title.daily", …,
// "digest.title.today"); loc is the zone the range's dates are shown in.
func Text(t Translator, lang, title string, r reports.Report, loc *time.Location, consoleURL string) string {
	if loc == nil {
		loc = time.UTC
	}
	from := r.From.In(loc)
	last := r.To.In(loc).Add(-time.Nanosecond) // To is exclusive
	var b strings.Builder
	line := func(key string, args map[string]any) {
		b.WriteString(t(lang, key, args))
		b.WriteByte('\n')
	}
	line(title, map[string]any{"from": from.Format("2006-01-02"), "to": last.Format("2006-01-02")})
	line("digest.tickets", map[string]any{"created": r.TicketsCreated, "resolved": r.TicketsResolved, "backlog": r.Backlog.Total})
	line("digest.first_response", map[string]any{"median": dur(t, lang, r.FirstResponse.MedianS), "p90": dur(t, lang, r.FirstResponse.P90S)})
	line("digest.resolution", map[string]any{"median": dur(t, lang, r.Resolution.MedianS), "p90": dur(t, lang, r.Resolution.P90S)})
	line("digest.sla", map[string]any{"response": pct(t, lang, r.SLAResponseMetPct), "resolution": pct(t, lang, r.SLAResolutionMetPct)})
	csat := t(lang, "digest.none", nil)
	if r.CSAT.Avg != nil {
		csat = fmt.Sprintf("%.2f", *r.CSAT.Avg)
	}
	line("digest.csat", map[string]any{"avg": csat, "count": r.CSAT.Count, "rate": pct(t, lang, r.CSAT.ResponseRate)})
	line("digest.fcr", map[string]any{"fcr": pct(t, lang, r.FCRPct), "bot_pct": pct(t, lang, r.BotResolvedPct), "kb": pct(t, lang, r.KBCitationPct)})
	if len(r.TopProblems) > 0 {
		var ps []string
		for i, p := range r.TopProblems {
			if i == 3 {
				break
			}
			key := "category." + p.Category
			if p.Category == "" { // uncategorized (转人工 with the type skipped): never a bare key
				key = "category.none"
			}
			ps = append(ps, t(lang, "digest.problem", map[string]any{"category": key, "share": fmt.Sprintf("%.1f%%", p.Share)}))
		}
		line("digest.top", map[string]any{"list": strings.Join(ps, t(lang, "digest.sep", nil))})
	}
	pending := 0
	for _, l := range r.CSAT.Low {
		if l.FollowUp != "followed_up" {
			pending++
		}
	}
	if pending > 0 {
		line("digest.low_pending", map[string]any{"n": pending})
	}
	if consoleURL != "" {
		q := url.Values{"from": {from.Format("2006-01-02")}, "to": {last.Format("2006-01-02")}}
		b.WriteString("<" + strings.TrimRight(consoleURL, "/") + "/?" + q.Encode() + "|" + t(lang, "digest.open_console", nil) + ">")
	}
	return strings.TrimRight(b.String(), "\n")
}

func pct(t Translator, lang string, v *float64) string {
	if v == nil {
		return t(lang, "digest.none", nil)
	}
	return fmt.Sprintf("%.1f%%", *v)
}

// dur shows seconds as "42s", "12m", "3.5h" or "2.1d".
func dur(t Translator, lang string, s *float64) string {
	if s == nil {
		return t(lang, "digest.none", nil)
	}
	v := *s
	switch {
	case v < 60:
		return t(lang, "digest.unit.s", map[string]any{"n": fmt.Sprintf("%.0f", v)})
	case v < 3600:
		return t(lang, "digest.unit.m", map[string]any{"n": fmt.Sprintf("%.0f", v/60)})
	case v < 86400:
		return t(lang, "digest.unit.h", map[string]any{"n": fmt.Sprintf("%.1f", v/3600)})
	}
	return t(lang, "digest.unit.d", map[string]any{"n": fmt.Sprintf("%.1f", v/86400)})
}
