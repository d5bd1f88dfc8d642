package reports

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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
// KEFU_BENCH_SQLITE=path keeps (and reuses) the SQLite database, KEFU_BENCH_POSTGRES_DSN a PostgreSQL
// database; otherwise PostgreSQL runs in a throwaway schema when KEFU_TEST_POSTGRES_DSN is set.
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
	if dsn := os.Getenv("KEFU_BENCH_POSTGRES_DSN"); dsn != "" {
		dbs["postgres"] = func(b *testing.B) *storage.DB { // kept between runs
			db, err := storage.Open(context.Background(), dsn, storage.Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { db.Close() })
			return db
		}
	} else if os.Getenv(storetest.EnvPostgres) != "" {
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
			from, to := f30.From, f30.To
			// Hand-written SQL for the same numbers, as one would write it for one panel alone; FCR as
			// correlated subqueries, the obvious form.
			fcrCond := `t.resolved_at IS NOT NULL AND t.reopens = 0
 AND NOT EXISTS (SELECT 1 FROM ticket_events e WHERE e.ticket_id = t.id AND ` + handoffEvent + `)
 AND (SELECT COUNT(DISTINCT e.actor) FROM ticket_events e WHERE e.ticket_id = t.id AND e.kind = 'agent_reply') <= 1`
			where := "t.created_at >= ? AND t.created_at < ?"
			frS, resS := q.frExpr(), q.resExpr()
			handAgg := func(group string) []string {
				gsel, gby := "''", ""
				if group != "" {
					gsel, gby = group, " GROUP BY 1"
				}
				agg := "SELECT " + gsel + ", COUNT(*), COUNT(t.resolved_at), SUM(CASE WHEN " + frDecided + " THEN 1 ELSE 0 END), SUM(CASE WHEN " + frDecided + " AND " + frMet + " THEN 1 ELSE 0 END), " +
					"SUM(CASE WHEN " + resDecided + " THEN 1 ELSE 0 END), SUM(CASE WHEN " + resDecided + " AND " + resMet + " THEN 1 ELSE 0 END), " +
					"SUM(CASE WHEN " + fcrCond + " THEN 1 ELSE 0 END), COUNT(NULLIF(t.rating, 0)), AVG(NULLIF(t.rating, 0)) FROM tickets t WHERE " + where + gby
				if pg {
					return []string{agg, "SELECT " + gsel + ", percentile_cont(0.5) WITHIN GROUP (ORDER BY " + frS + "), percentile_cont(0.9) WITHIN GROUP (ORDER BY " + frS + "), " +
						"percentile_cont(0.5) WITHIN GROUP (ORDER BY " + resS + "), percentile_cont(0.9) WITHIN GROUP (ORDER BY " + resS + ") FROM tickets t WHERE " + where + gby}
				}
				// SQLite: the row at each percentile's position (no interpolation), per group.
				pq := func(x string) string {
					return "SELECT g, MAX(CASE WHEN i = CAST(0.5 * (n - 1) AS INTEGER) THEN v END), MAX(CASE WHEN i = CAST(0.9 * (n - 1) AS INTEGER) THEN v END) FROM (SELECT " + gsel + " AS g, " + x +
						" AS v, ROW_NUMBER() OVER (PARTITION BY " + gsel + " ORDER BY " + x + ") - 1 AS i, COUNT(*) OVER (PARTITION BY " + gsel + ") AS n FROM tickets t WHERE " + where + " AND " + x + " IS NOT NULL) GROUP BY g"
				}
				return []string{agg, pq(frS), pq(resS)}
			}
			hand := func(queries []string, args ...any) func() error {
				return func() error {
					for _, sql := range queries {
						a := args
						if strings.Count(sql, "?") > len(args) {
							a = append([]any{end, end, end, end}, args...)
						}
						rows, err := q.query(ctx, sql, a...) // same connection settings as the reports (JIT off on PostgreSQL)
						if err != nil {
							return err
						}
						for rows.Next() {
						}
						err = rows.Err()
						rows.Close()
						if err != nil {
							return err
						}
					}
					return nil
				}
			}
			one := func(s string) []string { return []string{s} }
			all4 := append(append(append(handAgg(""), handAgg("t.assignee")...), handAgg("t.channel")...), handAgg(q.bucketExpr())...)
			panels := []struct {
				name   string
				ours   func() error
				theirs func() error
			}{
				{"aggregates: overall row (counts, SLA, FCR, CSAT, percentiles)", func() error { _, err := q.rows(ctx, q.dimOverall()); return err }, hand(handAgg(""), from, to)},
				{"aggregates: per agent", func() error { _, err := q.rows(ctx, q.dimAgent()); return err }, hand(handAgg("t.assignee"), from, to)},
				{"aggregates: per channel", func() error { _, err := q.rows(ctx, q.dimChannel()); return err }, hand(handAgg("t.channel"), from, to)},
				{"aggregates: trend", func() error { _, err := q.rows(ctx, q.dimTrend()); return err }, hand(handAgg(q.bucketExpr()), from, to)},
				{"aggregates: all four groupings (as Compute runs them)", func() error {
					_, err := q.aggregates(ctx, q.dimOverall(), q.dimAgent(), q.dimChannel(), q.dimTrend())
					return err
				}, hand(all4, from, to)},
				{"backlog", func() error { _, err := q.backlog(ctx); return err },
					hand(one("SELECT status, priority, CASE WHEN created_at >= ? THEN 0 WHEN created_at >= ? THEN 1 WHEN created_at >= ? THEN 2 WHEN created_at >= ? THEN 3 ELSE 4 END, COUNT(*) FROM tickets WHERE status IN ('open','in_progress','pending') AND created_at < ? GROUP BY 1, 2, 3"),
						end.Add(-time.Hour), end.Add(-4*time.Hour), end.Add(-24*time.Hour), end.Add(-72*time.Hour), to)},
				{"csat low ratings", func() error { var c CSAT; return q.csat(ctx, &c) },
					hand(one(`SELECT t.no, t.rating, s.at, (SELECT MIN(e.at) FROM ticket_events e WHERE e.ticket_id = t.id AND e.kind IN ('agent_reply', 'note') AND e.actor NOT IN ('customer', 'bot', 'system') AND e.at > s.at)
FROM tickets t JOIN surveys s ON s.ticket_id = t.id WHERE t.created_at >= ? AND t.created_at < ? AND t.rating BETWEEN 1 AND 3 ORDER BY t.created_at DESC LIMIT 100`), from, to)},
				{"top5", func() error { _, err := q.topProblems(ctx); return err },
					hand(one("SELECT category, COUNT(*) FROM tickets WHERE created_at >= ? AND created_at < ? GROUP BY 1 ORDER BY 2 DESC LIMIT 5"), from, to)},
				{"box plot", func() error { _, err := q.boxes(ctx); return err },
					hand(one("SELECT category, resolved_at, created_at FROM tickets WHERE created_at >= ? AND created_at < ? AND resolved_at IS NOT NULL ORDER BY 1"), from, to)},
				{"response vs csat (spearman ranks)", func() error { _, err := q.responseVsCSAT(ctx); return err },
					hand(one("SELECT first_response_at, created_at, rating FROM tickets WHERE created_at >= ? AND created_at < ? AND rating > 0 AND first_response_at IS NOT NULL"), from, to)},
				{"bot share and kb citation", func() error { var r Report; return q.conversations(ctx, &r) },
					hand(one(`SELECT COUNT(*),
 SUM(CASE WHEN NOT EXISTS (SELECT 1 FROM tickets t WHERE t.conversation_id = c.id) AND EXISTS (SELECT 1 FROM faq_citations f WHERE f.conversation_id = c.id AND (f.helped IS NULL OR f.helped = TRUE)) THEN 1 ELSE 0 END),
 SUM(CASE WHEN EXISTS (SELECT 1 FROM faq_citations f WHERE f.conversation_id = c.id) THEN 1 ELSE 0 END)
FROM conversations c WHERE c.created_at >= ? AND c.created_at < ?`), from, to)},
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
