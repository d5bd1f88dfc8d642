package improve_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/improve"
	"github.com/kefu-dev/kefu/storage"
	"github.com/kefu-dev/kefu/storage/storetest"
)

// threeProcesses opens three handles on one database: three kefu processes.
func threeProcesses(t *testing.T, dialect string) []*storage.DB {
	t.Helper()
	dsn := filepath.Join(t.TempDir(), "kefu.db")
	if dialect == "postgres" {
		dsn, _ = storetest.PostgresSchemaDSN(t) // skips without KEFU_TEST_POSTGRES_DSN
	}
	var dbs []*storage.DB
	for i := 0; i < 3; i++ {
		db, err := storage.Open(context.Background(), dsn, storage.Options{MaxOpenConns: 2})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs = append(dbs, db)
	}
	return dbs
}

type pings struct {
	mu  sync.Mutex
	got []string
}

func (p *pings) notifier(proc int) improve.Notifier {
	return func(ctx context.Context, x improve.Ping) error {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.got = append(p.got, fmt.Sprintf("%s %v %v", x.TextKey, x.Args["value"], x.Recipients))
		return nil
	}
}

func (p *pings) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.got
	p.got = nil
	return out
}

// TestAlertsOnceAcrossProcesses: a threshold "more than 2 tickets in the last hour" under a fake clock,
// scanned at every step by three processes at once, pings once when it is crossed and once when it
// clears, never once per scan; a late action pings its owner and the supervisors once.
func TestAlertsOnceAcrossProcesses(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			dbs := threeProcesses(t, dialect)
			c := &clock{t: dec(5, 10)}
			var svcs []*improve.Service
			for _, db := range dbs {
				svcs = append(svcs, newService(db, c))
			}
			at := func(h, m int) time.Time { return time.Date(2026, 12, 5, h, m, 0, 0, time.UTC) }
			addTickets(t, dbs[0], fxTicket{no: "GD20261205001", category: "order", created: at(9, 10)},
				fxTicket{no: "GD20261205002", category: "order", created: at(9, 20)})
			if _, err := svcs[1].SetThreshold(ctx, "cli:sup", improve.Threshold{Name: "busy", Metric: "tickets", Op: ">", Value: 2, Window: time.Hour}); err != nil {
				t.Fatal(err)
			}
			var p pings
			scan := func(now time.Time) []string {
				t.Helper()
				c.Set(now)
				var wg sync.WaitGroup
				start := make(chan struct{})
				for i, s := range svcs {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						if _, err := s.ScanThresholds(ctx, now); err != nil {
							t.Error(err)
						}
						if _, err := s.ScanLateActions(ctx, now); err != nil {
							t.Error(err)
						}
						if _, err := s.DeliverPings(ctx, now, fmt.Sprint("p", i), p.notifier(i)); err != nil {
							t.Error(err)
						}
					}()
				}
				close(start)
				wg.Wait()
				return p.take()
			}
			steps := []struct {
				now  time.Time
				add  *fxTicket
				want string
			}{
				{now: at(10, 0), want: "[]"}, // 2 tickets in [9:00, 10:00): not more than 2
				{now: at(10, 1), add: &fxTicket{no: "GD20261205003", category: "order", created: at(9, 50)}, want: "[improve.ping.crossed 3 []]"},
				{now: at(10, 5), want: "[]"}, // still 3: no second ping
				{now: at(10, 9), want: "[]"},
				{now: at(10, 15), want: "[improve.ping.cleared 2 []]"}, // 9:10 left the window
				{now: at(10, 20), want: "[]"},
			}
			for _, st := range steps {
				if st.add != nil {
					addTickets(t, dbs[2], *st.add)
				}
				if got := fmt.Sprint(scan(st.now)); got != st.want {
					t.Errorf("%s: pings %s; want %s", st.now.Format("15:04"), got, st.want)
				}
			}
			ths, _ := svcs[0].Thresholds(ctx)
			if len(ths) != 1 || ths[0].State != improve.AlertOK || ths[0].LastValue == nil || *ths[0].LastValue != 2 {
				t.Errorf("threshold after clearing: %+v", ths)
			}

			// A late action: due 5 Dec, still open on 6 Dec → one ping to the owner and the supervisors.
			r, err := svcs[0].Create(ctx, "cli:alice", improve.NewRecord{Phenomenon: "p", Whys: []string{"w"}, Category: "order"})
			if err != nil {
				t.Fatal(err)
			}
			a := validAction()
			a.Owner, a.Due = "cli:bob", "2026-12-05"
			act, err := svcs[0].AddAction(ctx, "cli:alice", r.No, a)
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(scan(at(23, 0))); got != "[]" { // due today: not late yet
				t.Errorf("on the due date: %s", got)
			}
			want := fmt.Sprintf("[improve.ping.late <nil> [cli:bob cli:sup]]")
			if got := fmt.Sprint(scan(dec(6, 9))); got != want {
				t.Errorf("late: %s; want %s", got, want)
			}
			if got := fmt.Sprint(scan(dec(7, 9))); got != "[]" {
				t.Errorf("late again the next day: %s", got)
			}
			_ = act
		})
	}
}

// TestMetricRegistry: metrics are added by name (twice is an error), and a registered Live metric
// serves thresholds like the built-in ones: p0_unclaimed counts open P0 tickets nobody claimed for the
// window.
func TestMetricRegistry(t *testing.T) {
	r := improve.NewRegistry()
	calls := 0
	m := improve.Metric{Name: "answer", Live: func(ctx context.Context, db *storage.DB, w time.Duration, now time.Time) (*float64, error) {
		calls++
		v := 42.0
		return &v, nil
	}}
	if err := r.Register(m); err != nil {
		t.Fatal(err)
	}
	if err := r.Register(m); err == nil {
		t.Error("registered twice")
	}
	if err := r.Register(improve.Metric{Name: "empty"}); err == nil {
		t.Error("a metric without a source registered")
	}
	for _, n := range []string{"repeat_complaint_pct", "kb_citation_pct", "backlog", "p0_unclaimed"} {
		if _, ok := improve.Metrics.Get(n); !ok {
			t.Errorf("default registry lacks %s", n)
		}
	}
	ctx := context.Background()
	db := storetest.OpenSQLite(t)
	c := &clock{t: dec(5, 10)}
	s := improve.New(improve.Options{DB: db, Agents: agents, Now: c.Now, Metric: r})
	if _, err := s.SetThreshold(ctx, "cli:sup", improve.Threshold{Name: "p0", Metric: "p0_unclaimed", Op: ">", Value: 0, Window: 10 * time.Minute}); !isProblem(err, "improve.err.unknown_metric") {
		t.Errorf("metric of another registry: %v", err)
	}
	if _, err := s.SetThreshold(ctx, "cli:sup", improve.Threshold{Name: "a", Metric: "answer", Op: ">", Value: 41, Window: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.ScanThresholds(ctx, c.Now()); err != nil || n != 1 || calls != 1 {
		t.Errorf("scan: %d changes, %v, %d calls", n, err, calls)
	}

	// p0_unclaimed on the default registry: a P0 created 9:55 is not 10 minutes old at 10:00; at 10:06 it is.
	d := newService(db, c)
	addTickets(t, db, fxTicket{no: "GD20261205001", category: "tech", prio: "P0", created: time.Date(2026, 12, 5, 9, 55, 0, 0, time.UTC)},
		fxTicket{no: "GD20261205002", category: "tech", prio: "P0", assignee: "cli:bob", created: time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)})
	if _, err := d.SetThreshold(ctx, "cli:sup", improve.Threshold{Name: "p0", Metric: "p0_unclaimed", Op: ">", Value: 0, Window: 10 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	if n, _ := d.ScanThresholds(ctx, c.Now()); n != 0 {
		t.Errorf("10:00: %d changes", n)
	}
	if n, _ := d.ScanThresholds(ctx, c.Now().Add(6*time.Minute)); n != 1 {
		t.Errorf("10:06: %d changes; want the crossing", n)
	}
}
