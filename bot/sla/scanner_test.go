package sla_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kefu-dev/kefu/bot/sla"
	"github.com/kefu-dev/kefu/bot/sla/slatest"
)

var shanghai, _ = time.LoadLocation("Asia/Shanghai")

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04:05", s, shanghai)
	if err != nil {
		t, err = time.ParseInLocation("2006-01-02 15:04", s, shanghai)
	}
	if err != nil {
		panic(err)
	}
	return t
}

func policy(t testing.TB) *sla.Policy {
	t.Helper()
	p, err := sla.New(sla.Config{}) // the seeds' defaults
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// put stores a ticket as the engine does after a change: next check from Policy.Next.
func put(m *slatest.MemStore, p *sla.Policy, it sla.Item, now time.Time) {
	m.Put(it, p.Next(it, now))
}

func scanner(t testing.TB, m sla.Store, p *sla.Policy) *sla.Scanner {
	t.Helper()
	s, err := sla.NewScanner(sla.Options{Store: m, Policy: p, Batch: 50})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fired is a notification reduced to what a test compares.
type fired struct {
	Kind   sla.Kind
	Target sla.Target
	Level  int
	At     string
	To     string
}

func summarize(ns []sla.Notify) []fired {
	out := make([]fired, 0, len(ns))
	for _, n := range ns {
		var to []string
		for _, a := range n.Audience {
			to = append(to, string(a))
		}
		out = append(out, fired{n.Kind, n.Target, n.Level, n.At.In(shanghai).Format("15:04:05"), strings.Join(to, ",")})
	}
	return out
}

// A P0 ticket nobody answers: warning, breach, repeats, escalation; an acknowledgement stops the
// pings for the passed deadline but not the later one.
func TestScanEscalationSequence(t *testing.T) {
	p := policy(t)
	m := slatest.NewMemStore()
	m.Lease = time.Minute
	s := scanner(t, m, p)
	created := at("2026-10-17 10:00") // a Saturday: P0 runs 24x7
	it := sla.Item{TicketID: 1, TicketNo: "GD20261017001", Assignee: "cli:alice", Clock: p.Opened(sla.P0, "", created)}
	put(m, p, it, created)

	ctx := t.Context()
	for now := created; now.Before(at("2026-10-17 14:40")); now = now.Add(time.Minute) {
		if now.Equal(at("2026-10-17 12:10")) { // a supervisor presses "ack"
			cur, _, _ := m.Item(1)
			cur.AckedAt = now
			put(m, p, cur, now)
		}
		if _, err := s.Scan(ctx, now); err != nil {
			t.Fatal(err)
		}
	}
	want := []fired{
		{sla.KindWarn, sla.FirstResponse, 0, "10:22:30", "assignee,team"},
		{sla.KindBreach, sla.FirstResponse, 1, "10:30:00", "assignee,supervisors"},
		{sla.KindRepeat, sla.FirstResponse, 1, "11:00:00", "assignee,supervisors"},
		// 11:30 is both repeat 2 and level 2: the level pings, the repeat is skipped.
		{sla.KindEscalate, sla.FirstResponse, 2, "11:30:00", "team_lead,supervisors"},
		{sla.KindRepeat, sla.FirstResponse, 3, "12:00:00", "team_lead,supervisors"},
		// acknowledged at 12:10: nothing more for the first response.
		{sla.KindWarn, sla.Resolution, 0, "13:00:00", "assignee,team"},
		{sla.KindBreach, sla.Resolution, 1, "14:00:00", "assignee,supervisors"},
		{sla.KindCustomerUpdate, "", 0, "14:00:00", ""},
		{sla.KindRepeat, sla.Resolution, 1, "14:30:00", "assignee,supervisors"},
	}
	if diff := cmp.Diff(want, summarize(m.Fired())); diff != "" {
		t.Errorf("notifications (-want +got):\n%s", diff)
	}
}

// The engine's clock changes move the plan: a reply ends the first-response pings; resolving the
// ticket leaves the scan (no next check).
func TestScanFollowsTicketChanges(t *testing.T) {
	p := policy(t)
	m := slatest.NewMemStore()
	s := scanner(t, m, p)
	created := at("2026-10-12 10:00") // Monday
	it := sla.Item{TicketID: 7, TicketNo: "GD20261012007", Clock: p.Opened(sla.P1, "", created)}
	put(m, p, it, created)
	ctx := t.Context()
	for now := created; now.Before(at("2026-10-12 18:00")); now = now.Add(time.Minute) {
		switch now {
		case at("2026-10-12 11:45"):
			it, _, _ = m.Item(7)
			it.Clock = p.AgentReply(it.Clock, now)
			put(m, p, it, now)
		case at("2026-10-12 16:00"):
			it, _, _ = m.Item(7)
			it.Clock = p.StatusChanged(it.Clock, sla.StatusResolved, now)
			put(m, p, it, now)
		}
		if _, err := s.Scan(ctx, now); err != nil {
			t.Fatal(err)
		}
	}
	want := []fired{
		{sla.KindWarn, sla.FirstResponse, 0, "11:30:00", "assignee,team"},
		// 4 business hours after the reply reached the customer.
		{sla.KindCustomerUpdate, "", 0, "15:45:00", ""},
	}
	if diff := cmp.Diff(want, summarize(m.Fired())); diff != "" {
		t.Errorf("notifications (-want +got):\n%s", diff)
	}
	if _, next, _ := m.Item(7); !next.IsZero() {
		t.Errorf("resolved ticket still scheduled at %v", next)
	}
}

// A scanner that was down for hours sends what is still current, once: no stale warning, one
// catch-up repeat, not a burst; and a second restart repeats nothing.
func TestScanRestartCatchesUpOnce(t *testing.T) {
	p := policy(t)
	m := slatest.NewMemStore()
	m.Lease = time.Minute
	created := at("2026-10-17 10:00")
	put(m, p, sla.Item{TicketID: 1, TicketNo: "GD1", Clock: p.Opened(sla.P0, "", created)}, created)
	ctx := t.Context()
	if _, err := scanner(t, m, p).Scan(ctx, at("2026-10-17 10:20")); err != nil {
		t.Fatal(err)
	}
	if n := len(m.Fired()); n != 0 {
		t.Fatalf("fired %d before the warning time", n)
	}
	// down from 10:20 to 12:45, then a fresh process scans.
	got, err := scanner(t, m, p).Scan(ctx, at("2026-10-17 12:45"))
	if err != nil {
		t.Fatal(err)
	}
	want := []fired{
		{sla.KindBreach, sla.FirstResponse, 1, "10:30:00", "assignee,supervisors"},
		{sla.KindEscalate, sla.FirstResponse, 2, "11:30:00", "team_lead,supervisors"},
		{sla.KindRepeat, sla.FirstResponse, 4, "12:30:00", "team_lead,supervisors"},
	}
	if diff := cmp.Diff(want, summarize(got)); diff != "" {
		t.Errorf("catch-up (-want +got):\n%s", diff)
	}
	// Another restart a minute later (lease expired): nothing again.
	again, err := scanner(t, m, p).Scan(ctx, at("2026-10-17 12:47"))
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 0 {
		t.Errorf("second restart fired %v", summarize(again))
	}
}

// world is a deterministic set of tickets and changes, replayed against a store.
type world struct {
	p       *sla.Policy
	tickets []sla.Item
	changes map[time.Time][]func(sla.Item, time.Time) (sla.Item, bool) // by ticket index order
	target  map[time.Time][]int
	every   time.Duration // scan interval (default a minute); changes still happen on their minute
}

func newWorld(p *sla.Policy, n int, start time.Time) *world {
	rng := rand.New(rand.NewPCG(42, uint64(n)))
	w := &world{p: p, changes: map[time.Time][]func(sla.Item, time.Time) (sla.Item, bool){}, target: map[time.Time][]int{}}
	for i := range n {
		created := start.Add(time.Duration(rng.IntN(24*60)) * time.Minute)
		pr := sla.Priorities[rng.IntN(3)]
		w.tickets = append(w.tickets, sla.Item{TicketID: int64(i + 1), TicketNo: fmt.Sprintf("GD%06d", i+1),
			Clock: p.Opened(pr, "", created)})
		// Some tickets get a reply, some go pending and come back, some are acknowledged.
		if rng.IntN(2) == 0 {
			t := created.Add(time.Duration(rng.IntN(6*60)) * time.Minute)
			w.add(t, i, func(it sla.Item, now time.Time) (sla.Item, bool) {
				it.Clock = p.AgentReply(it.Clock, now)
				return it, true
			})
			if rng.IntN(2) == 0 {
				t2 := t.Add(time.Duration(rng.IntN(10*60)) * time.Minute)
				w.add(t2, i, func(it sla.Item, now time.Time) (sla.Item, bool) {
					it.Clock = p.StatusChanged(it.Clock, sla.StatusPending, now)
					return it, true
				})
				w.add(t2.Add(3*time.Hour), i, func(it sla.Item, now time.Time) (sla.Item, bool) {
					it.Clock = p.CustomerMessage(it.Clock, now)
					return it, true
				})
			}
		}
		if rng.IntN(3) == 0 {
			w.add(created.Add(time.Duration(rng.IntN(20*60))*time.Minute), i, func(it sla.Item, now time.Time) (sla.Item, bool) {
				it.AckedAt = now
				return it, true
			})
		}
	}
	return w
}

func (w *world) step() time.Duration {
	if w.every > 0 {
		return w.every
	}
	return time.Minute
}

func (w *world) add(t time.Time, i int, f func(sla.Item, time.Time) (sla.Item, bool)) {
	t = t.Truncate(time.Minute)
	w.changes[t] = append(w.changes[t], f)
	w.target[t] = append(w.target[t], i)
}

// run replays the world from start to end in one-minute steps with `scanners` concurrent scanners
// per step, and returns every notification each Scan reported as recorded by itself.
// testStore is a Store the test can also write tickets to, as the engine would.
type testStore interface {
	sla.Store
	Put(it sla.Item, next time.Time)
	Item(id int64) (sla.Item, time.Time, bool)
}

func (w *world) run(t *testing.T, m testStore, scanners int, start, end time.Time) []sla.Notify {
	t.Helper()
	ctx := t.Context()
	for _, it := range w.tickets {
		m.Put(it, w.p.Next(it, it.Clock.CreatedAt))
	}
	ss := make([]*sla.Scanner, scanners)
	for i := range ss {
		ss[i] = scanner(t, m, w.p)
		if o, ok := m.(interface{ Process(int) sla.Store }); ok {
			ss[i] = scanner(t, o.Process(i), w.p) // one connection pool per simulated process
		}
	}
	var mu sync.Mutex
	var all []sla.Notify
	for now := start; now.Before(end); now = now.Add(time.Minute) {
		for k, f := range w.changes[now] {
			cur, _, _ := m.Item(w.tickets[w.target[now][k]].TicketID)
			if next, ok := f(cur, now); ok {
				m.Put(next, w.p.Next(next, now))
			}
		}
		if now.Sub(start)%w.step() != 0 {
			continue
		}
		var wg sync.WaitGroup
		for _, s := range ss {
			wg.Go(func() {
				got, err := s.Scan(ctx, now)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				all = append(all, got...)
				mu.Unlock()
			})
		}
		wg.Wait()
	}
	return all
}

// Three scanners race on one store, every minute for two days: each notification is recorded by
// exactly one of them, and the set is the same a lone scanner produces.
func TestThreeScannersFireExactlyOnce(t *testing.T) {
	p := policy(t)
	start, end := at("2026-10-12 00:00"), at("2026-10-14 00:00")
	alone := slatest.NewMemStore()
	ref := newWorld(p, 150, start).run(t, alone, 1, start, end)
	if len(ref) < 300 {
		t.Fatalf("reference run fired only %d notifications; the world is too quiet to test anything", len(ref))
	}
	kinds := map[sla.Kind]int{}
	for _, n := range ref {
		kinds[n.Kind]++
	}
	for _, k := range []sla.Kind{sla.KindWarn, sla.KindBreach, sla.KindEscalate, sla.KindRepeat, sla.KindCustomerUpdate} {
		if kinds[k] == 0 {
			t.Errorf("reference run has no %s notification: %v", k, kinds)
		}
	}
	for _, lease := range []time.Duration{0, time.Minute} {
		t.Run(fmt.Sprintf("lease=%v", lease), func(t *testing.T) {
			m := slatest.NewMemStore()
			m.Lease = lease
			got := newWorld(p, 150, start).run(t, m, 3, start, end)
			seen := map[string]int{}
			for _, n := range got {
				seen[n.Key.String()]++
			}
			for k, c := range seen {
				if c != 1 {
					t.Errorf("%s recorded by %d scanners", k, c)
				}
			}
			if diff := cmp.Diff(keys(ref), keys(got)); diff != "" {
				t.Errorf("three scanners vs one (-one +three):\n%s", diff)
			}
			if diff := cmp.Diff(keys(m.Fired()), keys(got)); diff != "" {
				t.Errorf("store log vs scanner reports (-store +scanners):\n%s", diff)
			}
			if lease == 0 && m.MarkCalls() <= len(got) {
				t.Errorf("MarkFired called %d times for %d notifications: the scanners did not actually collide", m.MarkCalls(), len(got))
			}
		})
	}
}

func keys(ns []sla.Notify) map[string]bool {
	out := map[string]bool{}
	for _, n := range ns {
		out[n.Key.String()] = true
	}
	return out
}

// Run ticks on its own: in a synctest bubble the fake clock jumps, and the warning and the breach
// arrive at the scan after their time.
func TestRunTicks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := policy(t)
		m := slatest.NewMemStore()
		m.Lease = time.Minute
		created := time.Now()
		put(m, p, sla.Item{TicketID: 1, TicketNo: "GD1", Clock: p.Opened(sla.P0, "", created)}, created)
		s, err := sla.NewScanner(sla.Options{Store: m, Policy: p, Interval: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()

		time.Sleep(22 * time.Minute)
		synctest.Wait()
		if n := len(m.Fired()); n != 0 {
			t.Fatalf("fired %d notifications before the warning time", n)
		}
		time.Sleep(9 * time.Minute) // now 31m: the scan at 23m warned, the one at 30m breached
		synctest.Wait()
		got := m.Fired()
		if len(got) != 2 || got[0].Kind != sla.KindWarn || got[1].Kind != sla.KindBreach {
			t.Fatalf("after 31 minutes got %v, want a warning and a breach", summarize(got))
		}
		if !got[1].Due.Equal(created.Add(30 * time.Minute)) {
			t.Errorf("breach due %v, want created+30m", got[1].Due)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run returned %v after cancel", err)
		}
	})
}

// failing fails MarkFired for one ticket.
type failing struct {
	*slatest.MemStore
	bad int64
}

func (f failing) MarkFired(ctx context.Context, n sla.Notify) (bool, error) {
	if n.TicketID == f.bad {
		return false, errors.New("disk on fire")
	}
	return f.MemStore.MarkFired(ctx, n)
}

func TestScanErrorSkipsOnlyThatTicket(t *testing.T) {
	p := policy(t)
	m := slatest.NewMemStore()
	m.Lease = time.Minute
	created := at("2026-10-17 10:00")
	for id := int64(1); id <= 3; id++ {
		put(m, p, sla.Item{TicketID: id, TicketNo: fmt.Sprint("GD", id), Clock: p.Opened(sla.P0, "", created)}, created)
	}
	s := scanner(t, failing{m, 2}, p)
	now := at("2026-10-17 10:31")
	got, err := s.Scan(t.Context(), now)
	if err == nil || !strings.Contains(err.Error(), "disk on fire") || !strings.Contains(err.Error(), "GD2") {
		t.Errorf("Scan error = %v, want the failing ticket's error", err)
	}
	if len(got) != 2 {
		t.Errorf("fired %d, want the breach of tickets 1 and 3", len(got))
	}
	if _, next, _ := m.Item(2); !next.Equal(now.Add(time.Minute)) {
		t.Errorf("failed ticket next check %v, want the lease end %v (retry)", next, now.Add(time.Minute))
	}
	// Once the store recovers, the retry records it.
	got, err = scanner(t, m, p).Scan(t.Context(), now.Add(time.Minute))
	if err != nil || len(got) != 1 || got[0].TicketID != 2 {
		t.Errorf("retry fired %v, %v; want ticket 2's breach", summarize(got), err)
	}
}

func TestNewScannerValidates(t *testing.T) {
	if _, err := sla.NewScanner(sla.Options{}); err == nil || !strings.Contains(err.Error(), "Store is nil") ||
		!strings.Contains(err.Error(), "Policy is nil") {
		t.Errorf("NewScanner(empty) = %v", err)
	}
}

func TestNotifyTextRoundTrip(t *testing.T) {
	n := sla.Notify{Key: sla.Key{TicketID: 9, Kind: sla.KindEscalate, Target: sla.Resolution, Level: 2, Due: at("2026-10-17 14:00")},
		TicketNo: "GD20261017009", Priority: sla.P0, Assignee: "slack:U1", LevelName: "team_lead",
		Audience: []sla.Audience{sla.ToTeamLead, sla.ToSupervisors}, At: at("2026-10-17 15:00")}
	back, err := sla.ParseNotify(n.Text())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(n, back, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"", "{}", "not json", `{"kind":"warn"}`} {
		if _, err := sla.ParseNotify(bad); err == nil {
			t.Errorf("ParseNotify(%q) = nil error", bad)
		}
	}
}

func BenchmarkScan10kDue(b *testing.B) {
	p := policy(b)
	created := at("2026-10-17 10:00")
	now := at("2026-10-17 10:31")
	for b.Loop() {
		b.StopTimer()
		m := slatest.NewMemStore()
		m.Lease = time.Minute
		for i := range 10000 {
			it := sla.Item{TicketID: int64(i + 1), TicketNo: "GD", Clock: p.Opened(sla.P0, "", created)}
			m.Put(it, created)
		}
		s, _ := sla.NewScanner(sla.Options{Store: m, Policy: p, Batch: 500})
		b.StartTimer()
		if _, err := s.Scan(b.Context(), now); err != nil {
			b.Fatal(err)
		}
	}
}
