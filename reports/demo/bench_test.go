package demo

import (
	"testing"
	"time"

	"github.com/kefu-dev/kefu/storage/storetest"
)

// BenchmarkGenerate writes 30 days of 3,000 tickets a day (about 85k tickets with their
// conversations, events, surveys and FAQ answers) per iteration, with COPY and with multi-row INSERTs
// on PostgreSQL (when KEFU_TEST_POSTGRES_DSN is set) and INSERTs on SQLite.
func BenchmarkGenerate(b *testing.B) {
	end := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	run := func(b *testing.B, open storetest.Opener, copy bool) {
		defer func(old bool) { useCopy = old }(useCopy)
		useCopy = copy
		var tickets int64
		for b.Loop() {
			db := open(b)
			st, err := Generate(b.Context(), db, Options{Days: 30, TicketsPerDay: 3000, End: end, Seed: 1})
			if err != nil {
				b.Fatal(err)
			}
			tickets += st.Tickets
		}
		b.ReportMetric(float64(tickets)/b.Elapsed().Seconds(), "tickets/s")
	}
	b.Run("sqlite", func(b *testing.B) { run(b, storetest.OpenSQLite, false) })
	b.Run("postgres-copy", func(b *testing.B) { run(b, storetest.OpenPostgres, true) })
	b.Run("postgres-insert", func(b *testing.B) { run(b, storetest.OpenPostgres, false) })
}
