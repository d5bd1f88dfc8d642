package reports

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/reports/demo"
	"github.com/kefu-dev/kefu/storage"
)

// BenchmarkReportEncryption: the 30-day dashboard on 60 days of demo traffic (~9,000 tickets), SQLite,
// with personal data sealed and in plain text (the dashboard reads no personal data but the low
// ratings' comments).
//
//	go test ./reports -run '^$' -bench ReportEncryption -benchtime 10x
func BenchmarkReportEncryption(b *testing.B) {
	end := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	for _, mode := range []string{"plain", "sealed"} {
		b.Run(mode, func(b *testing.B) {
			o := storage.Options{}
			if mode == "plain" {
				o.Keys = storage.PlaintextKeyringForBenchmarks()
			}
			db, err := storage.Open(context.Background(), filepath.Join(b.TempDir(), "kefu.db"), o)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			if _, err := demo.Generate(context.Background(), db, demo.Options{Days: 60, TicketsPerDay: 150, End: end, Seed: 7}); err != nil {
				b.Fatal(err)
			}
			f := Filter{From: end.AddDate(0, 0, -30), To: end, Now: end}
			b.ResetTimer()
			for b.Loop() {
				if _, err := Compute(context.Background(), db, f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
