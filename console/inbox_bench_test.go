package console_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/console"
	"github.com/kefu-dev/kefu/locales"
	"github.com/kefu-dev/kefu/storage"
	"github.com/kefu-dev/kefu/storage/storetest"
)

// benchOpen is the number of open tickets BenchmarkInboxPage renders the inbox over.
const benchOpen = 10_000

// BenchmarkInboxPage renders the inbox server-side over HTTP (session check, counts of every view,
// one page of 50, the template) with 10,000 open tickets: an agent kept to her team cycling through
// her views, and a supervisor's "all" view. It reports the median, p95 and worst load in ms (README,
// "Agents' inbox"). PostgreSQL runs when KEFU_TEST_POSTGRES_DSN is set (./scripts/with-postgres.sh).
func BenchmarkInboxPage(b *testing.B) {
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			open, ok := storetest.Dialects()[name]
			if !ok {
				b.Skip(storetest.EnvPostgres + " is not set: run under ./scripts/with-postgres.sh")
			}
			db := open(b)
			srv := benchInbox(b, db)
			for _, who := range []struct {
				name  string
				views []string
			}{
				{"agent", []string{"mine", "unassigned", "team", "overdue", "due_soon", "waiting"}},
				{"supervisor", []string{"all"}},
			} {
				b.Run(who.name, func(b *testing.B) {
					c := signInBench(b, srv.URL, who.name)
					lat := make([]time.Duration, 0, b.N)
					cpu0 := cpuTime()
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						start := time.Now()
						resp, err := c.Get(srv.URL + "/console/inbox?view=" + who.views[i%len(who.views)])
						if err != nil {
							b.Fatal(err)
						}
						body, _ := io.ReadAll(resp.Body)
						resp.Body.Close()
						lat = append(lat, time.Since(start))
						if resp.StatusCode != 200 || !strings.Contains(string(body), `<main data-page="inbox">`) {
							b.Fatalf("inbox: %d, %d bytes", resp.StatusCode, len(body))
						}
						if i < len(who.views) && !strings.Contains(string(body), `class="ticket-row`) {
							b.Errorf("view %s lists no ticket: the benchmark would measure an empty page", who.views[i])
						}
					}
					b.StopTimer()
					cpu := cpuTime() - cpu0
					slices.Sort(lat)
					ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
					b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
					b.ReportMetric(ms(lat[(len(lat)*95+99)/100-1]), "p95-ms")
					b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
					// kefu's own CPU per load (client, console, templates; with SQLite also the database):
					// on a shared machine the latencies include waiting for a core, this does not.
					b.ReportMetric(ms(cpu/time.Duration(b.N)), "cpu-ms")
				})
			}
		})
	}
}

// benchInbox seeds benchOpen open tickets (2,000 customers on four channels, 20 agents in four teams,
// 30% unassigned, some queued for a team, some overdue, some waiting) and serves the console.
func benchInbox(b *testing.B, db *storage.DB) *httptest.Server {
	b.Helper()
	ctx := context.Background()
	g := db.Gorm().WithContext(ctx)
	keys := db.Keys()
	now := testNow
	var agents []bot.AgentConfig
	for i := 0; i < 20; i++ {
		agents = append(agents, bot.AgentConfig{ID: fmt.Sprintf("cli:a%02d", i), Name: fmt.Sprintf("A%02d", i), Team: fmt.Sprintf("t%d", i%4)})
	}
	agents = append(agents, bot.AgentConfig{ID: "cli:sup", Name: "Sup", Supervisor: true})
	const customers = 2000
	insert := func(table, cols string, n int, row func(i int) []any) {
		const batch = 200
		k := strings.Count(cols, ",") + 1
		ph := "(" + strings.TrimSuffix(strings.Repeat("?,", k), ",") + ")"
		for lo := 0; lo < n; lo += batch {
			hi := min(lo+batch, n)
			var args []any
			var vals []string
			for i := lo; i < hi; i++ {
				args = append(args, row(i)...)
				vals = append(vals, ph)
			}
			if err := g.Exec("INSERT INTO "+table+" ("+cols+") VALUES "+strings.Join(vals, ","), args...).Error; err != nil {
				b.Fatalf("seed %s: %v", table, err)
			}
		}
	}
	chans := []string{"web", "telegram", "wechat", "email"}
	insert("customers", "name, phone, phone_hash, created_at, updated_at", customers, func(i int) []any {
		phone := fmt.Sprintf("138%08d", i)
		return []any{keys.Seal(fmt.Sprintf("客户%d", i)), keys.Seal(phone), keys.Hash(phone), now, now}
	})
	insert("conversations", "channel, chat_id, customer_id, created_at, updated_at", customers, func(i int) []any {
		return []any{chans[i%4], fmt.Sprintf("chat-%d", i), i + 1, now, now}
	})
	cats := []string{"order", "tech", "aftersales", "billing", "complaint"}
	statuses := []string{"open", "in_progress", "in_progress", "pending"}
	insert("tickets", `no, conversation_id, customer_id, channel, customer_name, customer_phone, customer_phone_hash, lang, category,
		priority, status, summary, assignee, team, complaint, complaint_level, created_at, updated_at, first_response_due, resolution_due,
		first_response_at`, benchOpen, func(i int) []any {
		c := i % customers
		at := now.Add(-time.Duration(benchOpen-i) * 3 * time.Minute)
		st := statuses[i%len(statuses)]
		assignee, team := "", ""
		switch {
		case i%10 < 3: // unassigned; some queued for a team
			if i%2 == 0 {
				team = fmt.Sprintf("t%d", i%4)
			}
		default:
			assignee = agents[(i/10)%20].ID
		}
		if assignee == "" && st != "open" {
			st = "open"
		}
		var first any
		if st != "open" {
			first = at.Add(10 * time.Minute)
		}
		lvl := 0
		if i%20 == 0 {
			lvl = 1 + i%3
		}
		return []any{fmt.Sprintf("GD20261120%05d", i+1), c + 1, c + 1, chans[c%4], keys.Seal(fmt.Sprintf("客户%d", c)), keys.Seal(fmt.Sprintf("138%08d", c)),
			keys.Hash(fmt.Sprintf("138%08d", c)), "zh-CN", cats[i%5], fmt.Sprintf("P%d", i%3), st, keys.Seal(fmt.Sprintf("我的问题是第 %d 个：快递三天没动了", i)),
			assignee, team, lvl > 0, lvl, at, at, at.Add(2 * time.Hour), at.Add(72 * time.Hour), first}
	})
	if db.Dialect() == storage.Postgres {
		if err := g.Exec("VACUUM ANALYZE").Error; err != nil { // what autovacuum does on a running database
			b.Fatal(err)
		}
	}
	for _, u := range []struct{ name, role, agent string }{{"agent", "agent", "cli:a00"}, {"supervisor", "supervisor", "cli:sup"}} {
		hash, err := console.HashPassword("password-"+u.name, bcrypt.MinCost)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := db.CreateUser(ctx, storage.User{Name: u.name, Role: u.role, AgentID: u.agent, PasswordHash: hash}); err != nil {
			b.Fatal(err)
		}
	}
	eng, err := bot.New(bot.Options{Store: db, Agents: agents, Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	c, err := console.New(console.Options{DB: db, Desk: eng, Now: func() time.Time { return now }, BcryptCost: bcrypt.MinCost, T: locales.Default().T})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(c)
	b.Cleanup(srv.Close)
	if os.Getenv("KEFU_BENCH_VERBOSE") != "" {
		b.Logf("seeded %d open tickets on %s", benchOpen, db.Dialect())
	}
	return srv
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func signInBench(b *testing.B, base, name string) *http.Client {
	b.Helper()
	e := &env{srv: &httptest.Server{URL: base}}
	c := e.client()
	resp, err := c.Get(base + "/console/login")
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfRe.FindStringSubmatch(string(body))
	if m == nil {
		b.Fatal("no csrf token on the sign-in page")
	}
	resp, err = c.PostForm(base+"/console/login", map[string][]string{"csrf": {m[1]}, "name": {name}, "password": {"password-" + name}})
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(resp.Header.Get("Location"), "/console/") {
		b.Fatalf("sign in as %s: %d %s", name, resp.StatusCode, resp.Header.Get("Location"))
	}
	return c
}
