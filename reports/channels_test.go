package reports_test

import (
	"testing"
	"time"

	"github.com/kefu-dev/kefu/reports"
	"github.com/kefu-dev/kefu/storage/storetest"
)

// A channel with a first-response target of its own shows it beside its row; the others show none.
func TestChannelTargetsOnRows(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		db := open(t)
		loadFixture(t, db)
		got, err := reports.Compute(t.Context(), db, reports.Filter{From: from, To: to, Now: now,
			ChannelTargets: map[string]time.Duration{"telegram": 15 * time.Minute, "email": 2 * time.Hour}})
		if err != nil {
			t.Fatal(err)
		}
		targets := map[string]float64{}
		for _, r := range got.Channels {
			if r.FirstResponseTargetS != nil {
				targets[r.Key] = *r.FirstResponseTargetS
			}
		}
		if len(targets) != 1 || targets["telegram"] != 900 {
			t.Errorf("targets %v, want telegram 900 s only (no e-mail tickets, web and discord have none)", targets)
		}
	})
}
