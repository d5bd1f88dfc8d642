package reports

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/reports/demo"
	"github.com/kefu-dev/kefu/storage"
	"github.com/kefu-dev/kefu/storage/storetest"
)

// BenchmarkDashboard times the default 30-day dashboard (every panel, Compute) and a full year on a
// database of KEFU_BENCH_TICKETS tickets (a year of demo traffic), and each panel's queries beside a
// hand-written SQL query for the same number. It runs only when KEFU_BENCH_TICKETS is set:
//
//	KEFU_BENCH_TICKETS=1000000 go test ./reports -run '^$' -bench Dashboard -benchtime 5x -timeout 60m
//
// KEFU_BENCH_SQLITE=path keeps (and reuses) the SQLite database; PostgreSQL runs when
// KEFU_TEST_POSTGRES_DSN is set (the database is filled once per schema).
func BenchmarkDashboard(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv("KEFU_BENCH_TICKETS"))
	if n <= 0 {
		b.Skip("set KEFU_BENCH_TICKETS (e.g. 1000000) to run the dashboard benchmark")
	}
	end := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	fill := func(b *testing.B, db *storage.DB) {
		var have int64
		db.Gorm().Raw("SELECT COUNT(*) FROM tickets").Scan(&have)
		if have >= int64(n)*9/10 {
			return
		}
		start := time.Now()
		perDay := n * 7 / (365 * 6) // weekends are quieter in the generator
		st, err := demo.Generate(context.Background(), db, demo.Options{Days: 365, TicketsPerDay: perDay, End: end, Seed: 42})
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("generated %d tickets, %d events, %d conversations in %s", st.Tickets, st.Events, st.Conversations, time.Since(start).Round(time.Second))
	}
	dbs := map[string]func(b *testing.B) *storage.DB{
		"sqlite": func(b *testing.B) *storage.DB {
			path := os.Getenv("KEFU_BENCH_SQLITE")
			if path == "" {
				path = filepath.Join(b.TempDir(), "bench.db")
			}
			return storetest.OpenSQLitePath(b, path)
		},
	}
	if os.Getenv(storetest.EnvPostgres) != "" {
		dbs["postgres"] = func(b *testing.B) *storage.DB { return storetest.OpenPostgres(b) }
	}
	for _, name := range []string{"postgres", "sqlite"} {
		open, ok := dbs[name]
		if !ok {
			continue
		}
		b.Run(name, func(b *testing.B) {
			db := open(b)
			fill(b, db)
			ctx := context.Background()
			f30 := Filter{From: end.AddDate(0, 0, -30), To: end, Now: end}
			fyear := Filter{From: end.AddDate(-1, 0, 0), To: end, Now: end}
			b.Run("dashboard-30d", func(b *testing.B) {
				for b.Loop() {
					if _, err := Compute(ctx, db, f30); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("dashboard-365d", func(b *testing.B) {
				for b.Loop() {
					if _, err := Compute(ctx, db, fyear); err != nil {
						b.Fatal(err)
					}
				}
			})
			q, _ := newQuerier(db.Gorm(), db.Dialect(), f30)
			pg := db.Dialect() == storage.Postgres
			g := db.Gorm().WithContext(ctx)
			from, to := f30.From, f30.To
			hand := func(sql string, args ...any) func() error {
				return func() error {
					rows, err := g.Raw(sql, args...).Rows()
					if err != nil {
						return err
					}
					defer rows.Close()
					for rows.Next() {
					}
					return rows.Err()
				}
			}
			fr := "(unixepoch(first_response_at,'subsec') - unixepoch(created_at,'subsec'))"
			median := "SELECT " + fr + " FROM tickets WHERE created_at >= ? AND created_at < ? AND first_response_at IS NOT NULL ORDER BY 1 LIMIT 1 OFFSET (SELECT COUNT(*)/2 FROM tickets WHERE created_at >= ? AND created_at < ? AND first_response_at IS NOT NULL)"
			if pg {
				median = "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM first_response_at - created_at)) FROM tickets WHERE created_at >= ? AND created_at < ? AND created_at >= ? AND created_at < ?"
			}
			panels := []struct {
				name   string
				ours   func() error
				theirs func() error
			}{
				{"counts+sla+fcr+csat (overall row)", func() error { _, err := q.rows(ctx, ""); return err },
					hand(`SELECT COUNT(*), SUM(CASE WHEN resolved_at IS NOT NULL THEN 1 ELSE 0 END), SUM(CASE WHEN first_response_at <= first_response_due THEN 1 ELSE 0 END),
 AVG(CASE WHEN rating > 0 THEN rating END) FROM tickets WHERE created_at >= ? AND created_at < ?`, from, to)},
				{"first response median", func() error { return q.percentiles(ctx, "", map[string]*Row{}) }, hand(median, from, to, from, to)},
				{"per agent", func() error { _, err := q.rows(ctx, "t.assignee"); return err },
					hand("SELECT assignee, COUNT(*), AVG(CASE WHEN rating > 0 THEN rating END) FROM tickets WHERE created_at >= ? AND created_at < ? GROUP BY assignee", from, to)},
				{"backlog", func() error { _, err := q.backlog(ctx); return err },
					hand("SELECT status, priority, COUNT(*) FROM tickets WHERE status IN ('open','in_progress','pending') AND created_at < ? GROUP BY 1, 2", to)},
				{"csat", func() error { var c CSAT; return q.csat(ctx, &c) },
					hand("SELECT rating, COUNT(*) FROM tickets WHERE created_at >= ? AND created_at < ? AND rating > 0 GROUP BY 1", from, to)},
				{"top5", func() error { _, err := q.topProblems(ctx); return err },
					hand("SELECT category, COUNT(*) FROM tickets WHERE created_at >= ? AND created_at < ? GROUP BY 1 ORDER BY 2 DESC LIMIT 5", from, to)},
				{"box plot", func() error { _, err := q.boxes(ctx); return err },
					hand("SELECT category, resolved_at, created_at FROM tickets WHERE created_at >= ? AND created_at < ? AND resolved_at IS NOT NULL ORDER BY 1", from, to)},
				{"response vs csat", func() error { _, err := q.responseVsCSAT(ctx); return err },
					hand("SELECT first_response_at, created_at, rating FROM tickets WHERE created_at >= ? AND created_at < ? AND rating > 0 AND first_response_at IS NOT NULL", from, to)},
				{"bot share", func() error { var r Report; return q.conversations(ctx, &r) },
					hand("SELECT COUNT(*) FROM conversations c WHERE created_at >= ? AND created_at < ? AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.conversation_id = c.id)", from, to)},
			}
			for _, p := range panels {
				b.Run("panel="+p.name+"/reports", func(b *testing.B) {
					for b.Loop() {
						if err := p.ours(); err != nil {
							b.Fatal(err)
						}
					}
				})
				b.Run("panel="+p.name+"/hand-sql", func(b *testing.B) {
					for b.Loop() {
						if err := p.theirs(); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}
