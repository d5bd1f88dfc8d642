package sla_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/glebarez/go-sqlite"
	"github.com/google/go-cmp/cmp"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/kefu-dev/kefu/bot/sla"
	"github.com/kefu-dev/kefu/bot/sla/slatest"
)

// dialect holds the statements of sql.go for one database.
type dialect struct {
	name, driver              string
	schema, claim, mark, resc string
	base                      string // a minimal tickets table standing in for storage's
	upsert                    string
	fill                      string // $1/?1: how many closed tickets to add
}

var dialects = map[string]dialect{
	"sqlite": {
		name: "sqlite", driver: "sqlite",
		schema: sla.SQLiteSchema, claim: sla.SQLiteClaim, mark: sla.SQLiteMarkFired, resc: sla.SQLiteReschedule,
		base: `CREATE TABLE tickets (id integer PRIMARY KEY, no text NOT NULL, status text NOT NULL, closed_at datetime, item text NOT NULL);
			CREATE TABLE effects (ticket_id integer NOT NULL, text text NOT NULL);`,
		upsert: `INSERT INTO tickets (id, no, status, item, sla_version, sla_next_at) VALUES (?1, ?2, 'open', ?3, ?4, ?5)
			ON CONFLICT (id) DO UPDATE SET item = ?3, sla_version = ?4, sla_next_at = ?5`,
		fill: `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?1)
			INSERT INTO tickets (id, no, status, item) SELECT 10000000 + x, 'GD' || x, 'closed', '{}' FROM c`,
	},
	"postgres": {
		name: "postgres", driver: "pgx",
		schema: sla.PostgresSchema, claim: sla.PostgresClaim, mark: sla.PostgresMarkFired, resc: sla.PostgresReschedule,
		base: `CREATE TABLE tickets (id bigint PRIMARY KEY, no text NOT NULL, status text NOT NULL, closed_at timestamptz, item text NOT NULL);
			CREATE TABLE effects (ticket_id bigint NOT NULL, text text NOT NULL);`,
		upsert: `INSERT INTO tickets (id, no, status, item, sla_version, sla_next_at) VALUES ($1, $2, 'open', $3, $4, $5)
			ON CONFLICT (id) DO UPDATE SET item = $3, sla_version = $4, sla_next_at = $5`,
		fill: `INSERT INTO tickets (id, no, status, item) SELECT 10000000 + x, 'GD' || x, 'closed', '{}' FROM generate_series(1, $1) AS x`,
	},
}

// sqlStore is an sla.Store on the statements of sql.go. The ticket's clock is kept as JSON in a
// test column; the SLA columns the statements use (sla_next_at, sla_version, sla_fired) are real.
type sqlStore struct {
	d     dialect
	dbs   []*sql.DB // one pool per simulated process
	db    *sql.DB
	lease time.Duration
}

func openStore(t testing.TB, name string) *sqlStore {
	t.Helper()
	d := dialects[name]
	var dsn string
	var db *sql.DB
	switch name {
	case "sqlite":
		dsn = "file:" + filepath.Join(t.TempDir(), "kefu.db") + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)"
	case "postgres":
		dsn = os.Getenv("KEFU_TEST_POSTGRES_DSN")
		if dsn == "" {
			t.Skip("KEFU_TEST_POSTGRES_DSN not set")
		}
		// A schema of our own, dropped afterwards.
		admin, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		schema := fmt.Sprintf("sla_test_%d", time.Now().UnixNano())
		if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { admin.Exec("DROP SCHEMA " + schema + " CASCADE"); admin.Close() })
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		if strings.HasPrefix(dsn, "postgres") {
			dsn += sep + "search_path=" + schema
		} else {
			dsn += " search_path=" + schema
		}
	}
	s := &sqlStore{d: d, lease: time.Minute}
	for range 3 {
		var err error
		db, err = sql.Open(d.driver, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		s.dbs = append(s.dbs, db)
	}
	s.db = s.dbs[0]
	for _, stmt := range split(d.base + d.schema) {
		if _, err := s.db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, stmt)
		}
	}
	return s
}

func split(sqls string) []string {
	var out []string
	for _, s := range strings.Split(sqls, ";") {
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
}

// Process returns a view of the store through another connection pool.
func (s *sqlStore) Process(i int) sla.Store {
	c := *s
	c.db = s.dbs[i%len(s.dbs)]
	return &c
}

func ms(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

func (s *sqlStore) Put(it sla.Item, next time.Time) {
	cur, _, ok := s.Item(it.TicketID)
	if ok && it.Version <= cur.Version {
		it.Version = cur.Version + 1
	}
	b, _ := json.Marshal(it)
	if _, err := s.db.Exec(s.d.upsert, it.TicketID, it.TicketNo, string(b), it.Version, ms(next)); err != nil {
		panic(err)
	}
}

func (s *sqlStore) Item(id int64) (sla.Item, time.Time, bool) {
	var raw string
	var next sql.NullInt64
	q := "SELECT item, sla_next_at FROM tickets WHERE id = ?1"
	if s.d.name == "postgres" {
		q = "SELECT item, sla_next_at FROM tickets WHERE id = $1"
	}
	if err := s.db.QueryRow(q, id).Scan(&raw, &next); err != nil {
		return sla.Item{}, time.Time{}, false
	}
	var it sla.Item
	if err := json.Unmarshal([]byte(raw), &it); err != nil {
		panic(err)
	}
	var n time.Time
	if next.Valid {
		n = time.UnixMilli(next.Int64)
	}
	return it, n, true
}

func (s *sqlStore) DueForAction(ctx context.Context, now time.Time, limit int) ([]sla.Item, error) {
	rows, err := s.db.QueryContext(ctx, s.d.claim, now.UnixMilli(), now.Add(s.lease).UnixMilli(), limit)
	if err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	var out []sla.Item
	for _, id := range ids {
		it, _, ok := s.Item(id)
		if ok {
			out = append(out, it)
		}
	}
	return out, nil
}

func (s *sqlStore) MarkFired(ctx context.Context, n sla.Notify) (bool, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, s.d.mark, n.TicketID, string(n.Kind), string(n.Target), n.Level, n.Due.UnixMilli(), time.Now())
	if err != nil {
		return false, fmt.Errorf("mark: %w", err)
	}
	if k, err := res.RowsAffected(); err != nil || k == 0 {
		return false, err
	}
	q := "INSERT INTO effects (ticket_id, text) VALUES (?1, ?2)"
	if s.d.name == "postgres" {
		q = "INSERT INTO effects (ticket_id, text) VALUES ($1, $2)"
	}
	if _, err := tx.ExecContext(ctx, q, n.TicketID, n.Text()); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

func (s *sqlStore) Reschedule(ctx context.Context, id, version int64, next time.Time) error {
	_, err := s.db.ExecContext(ctx, s.d.resc, id, version, ms(next))
	return err
}

func (s *sqlStore) effects(t testing.TB) []sla.Notify {
	rows, err := s.db.Query("SELECT text FROM effects")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []sla.Notify
	for rows.Next() {
		var txt string
		if err := rows.Scan(&txt); err != nil {
			t.Fatal(err)
		}
		n, err := sla.ParseNotify(txt)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

// The statements of sql.go, behind a real Store, with three scanners on three connection pools:
// every notification is recorded once, with its effect, and the set equals the in-memory run's.
func TestSQLStoreThreeScanners(t *testing.T) {
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			s := openStore(t, name)
			p := policy(t)
			start, end := at("2026-10-12 00:00"), at("2026-10-13 12:00")
			w := newWorld(p, 40, start)
			w.every = 5 * time.Minute
			got := w.run(t, s, 3, start, end)

			ref := newWorld(p, 40, start)
			ref.every = 5 * time.Minute
			want := ref.run(t, slatest.NewMemStore(), 1, start, end)
			if len(want) < 50 {
				t.Fatalf("reference fired only %d", len(want))
			}
			if diff := cmp.Diff(keys(want), keys(got)); diff != "" {
				t.Errorf("SQL store vs memory (-memory +sql):\n%s", diff)
			}
			eff := s.effects(t)
			if len(eff) != len(got) {
				t.Errorf("%d effects recorded for %d notifications", len(eff), len(got))
			}
			if diff := cmp.Diff(keys(got), keys(eff)); diff != "" {
				t.Errorf("effects vs notifications (-notifications +effects):\n%s", diff)
			}
		})
	}
}

// The claim reads the partial index, not the table.
func TestSQLiteClaimUsesPartialIndex(t *testing.T) {
	s := openStore(t, "sqlite")
	inner := sla.SQLiteClaim[strings.Index(sla.SQLiteClaim, "SELECT"):strings.LastIndex(sla.SQLiteClaim, ")")]
	rows, err := s.db.Query("EXPLAIN QUERY PLAN "+inner, 1, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	joined := strings.Join(plan, "; ")
	if !strings.Contains(joined, "tickets_sla_next_at") || strings.Contains(joined, "TEMP B-TREE") {
		t.Errorf("claim plan %q does not range-scan tickets_sla_next_at (or sorts)", joined)
	}
}

// BenchmarkSQLClaim: one claim of 200 due tickets among 10,000 open ones, with and without
// 1,000,000 closed tickets in the table (rolled back after each run, so every run claims the same).
func BenchmarkSQLClaim(b *testing.B) {
	for _, name := range []string{"sqlite", "postgres"} {
		for _, closed := range []int{0, 1_000_000} {
			b.Run(fmt.Sprintf("%s/open=10k/closed=%d", name, closed), func(b *testing.B) {
				s := openStore(b, name)
				now := at("2026-10-12 12:00")
				if closed > 0 {
					if _, err := s.db.Exec(s.d.fill, closed); err != nil {
						b.Fatal(err)
					}
				}
				tx, err := s.db.Begin()
				if err != nil {
					b.Fatal(err)
				}
				ins := "INSERT INTO tickets (id, no, status, item, sla_next_at) VALUES (?1, ?2, 'open', '{}', ?3)"
				if name == "postgres" {
					ins = strings.NewReplacer("?1", "$1", "?2", "$2", "?3", "$3").Replace(ins)
				}
				for i := range 10_000 {
					next := now.Add(time.Duration(i-200)*time.Minute + time.Second) // the first 200 are due
					if _, err := tx.Exec(ins, i+1, fmt.Sprint("GD", i+1), next.UnixMilli()); err != nil {
						b.Fatal(err)
					}
				}
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
				if name == "postgres" {
					s.db.Exec("ANALYZE tickets")
				} else {
					s.db.Exec("ANALYZE")
				}
				b.ResetTimer()
				for b.Loop() {
					tx, err := s.db.Begin()
					if err != nil {
						b.Fatal(err)
					}
					rows, err := tx.Query(s.d.claim, now.UnixMilli(), now.Add(time.Minute).UnixMilli(), 500)
					if err != nil {
						b.Fatal(err)
					}
					n := 0
					for rows.Next() {
						n++
					}
					rows.Close()
					tx.Rollback()
					if n != 200 {
						b.Fatalf("claimed %d, want 200", n)
					}
				}
			})
		}
	}
}
