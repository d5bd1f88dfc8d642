package demo_test

import (
	"testing"
	"time"

	"github.com/kefu-dev/kefu/reports"
	"github.com/kefu-dev/kefu/reports/demo"
	"github.com/kefu-dev/kefu/storage/storetest"
)

// The demo traffic fills every panel of the dashboard with plausible numbers, and running it twice
// appends without colliding ids or ticket numbers.
func TestGenerateFillsEveryPanel(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		db := open(t)
		end := time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)
		o := demo.Options{Days: 90, TicketsPerDay: 30, End: end, Seed: 1}
		st, err := demo.Generate(t.Context(), db, o)
		if err != nil {
			t.Fatal(err)
		}
		if st.Tickets < 1500 || st.Surveys == 0 || st.Citations == 0 {
			t.Fatalf("stats %+v", st)
		}
		o.Seed = 2
		if _, err := demo.Generate(t.Context(), db, o); err != nil {
			t.Fatalf("second run: %v", err)
		}
		r, err := reports.Compute(t.Context(), db, reports.Filter{From: end.AddDate(0, 0, -30), To: end, Now: end})
		if err != nil {
			t.Fatal(err)
		}
		check := func(name string, ok bool) {
			t.Helper()
			if !ok {
				t.Errorf("%s: not filled", name)
			}
		}
		check("tickets", r.TicketsCreated > 500)
		check("backlog", r.Backlog.Total > 0)
		check("first response", r.FirstResponse.MedianS != nil && *r.FirstResponse.P90S > *r.FirstResponse.MedianS)
		check("resolution", r.Resolution.MedianS != nil)
		check("sla misses", r.SLAResponseMetPct != nil && *r.SLAResponseMetPct < 100 && *r.SLAResponseMetPct > 50)
		check("sla resolution", r.SLAResolutionMetPct != nil && *r.SLAResolutionMetPct < 100)
		check("csat", r.CSAT.Count > 100 && r.CSAT.Dist[0] > 0 && r.CSAT.Dist[4] > 0 && len(r.CSAT.Low) > 0)
		check("fcr", r.FCRPct != nil && *r.FCRPct > 50 && *r.FCRPct < 100)
		check("bot share >= 30%", r.BotResolvedPct != nil && *r.BotResolvedPct >= 30)
		check("kb citations", r.KBCitationPct != nil && *r.KBCitationPct > 0)
		check("top 5", len(r.TopProblems) == 5)
		check("box per category", len(r.ResolutionBox) == 6)
		check("faster answers rate better", r.ResponseVsCSAT.Spearman != nil && *r.ResponseVsCSAT.Spearman < 0)
		check("trend", len(r.Trend) == 31) // 21 Oct 15:00 … 20 Nov 15:00 touches 31 days
		check("agents", len(r.Agents) >= 5)
		check("channels", len(r.Channels) == 3)
	})
}
