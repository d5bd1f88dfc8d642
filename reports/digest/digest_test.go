package digest_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/locales"
	"github.com/kefu-dev/kefu/reports"
	"github.com/kefu-dev/kefu/reports/demo"
	"github.com/kefu-dev/kefu/reports/digest"
	"github.com/kefu-dev/kefu/storage"
	"github.com/kefu-dev/kefu/storage/storetest"
)

var (
	sh, _ = time.LoadLocation("Asia/Shanghai")
	// 2026-11-16 is a Monday; demo traffic runs until 17 Nov 08:00 Shanghai.
	trafficEnd = time.Date(2026, 11, 17, 8, 0, 0, 0, sh)
	schedule   = digest.Schedule{Daily: &digest.At{Hour: 9}, Weekly: &digest.At{Hour: 9, Weekday: time.Monday}, Loc: sh}
)

// processes opens n handles on one fresh database, as n kefu processes would.
func processes(t *testing.T, dialect string, n int) []*storage.DB {
	dbs, _ := processesDSN(t, dialect, n)
	return dbs
}

func processesDSN(t *testing.T, dialect string, n int) ([]*storage.DB, string) {
	t.Helper()
	var dsn string
	if dialect == "sqlite" {
		dsn = filepath.Join(t.TempDir(), "kefu.db")
	} else {
		dsn, _ = storetest.PostgresSchemaDSN(t)
	}
	var dbs []*storage.DB
	for i := 0; i < n; i++ {
		db, err := storage.Open(t.Context(), dsn, storage.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs = append(dbs, db)
	}
	if _, err := demo.Generate(t.Context(), dbs[0], demo.Options{Days: 10, TicketsPerDay: 30, End: trafficEnd, Loc: sh, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	return dbs, dsn
}

// slackFake records posts; fail makes the next post fail.
type slackFake struct {
	mu    sync.Mutex
	posts []string
	fail  bool
}

func (s *slackFake) post(_ context.Context, text string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		s.fail = false
		return errors.New("slack: chat.postMessage: 500")
	}
	s.posts = append(s.posts, text)
	return nil
}

func (s *slackFake) texts() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.posts...)
}

func newScheduler(t *testing.T, db *storage.DB, sf *slackFake, now time.Time, owner string) *digest.Scheduler {
	t.Helper()
	s, err := digest.NewScheduler(digest.Options{DB: db, Schedule: schedule, T: locales.Default().T, Lang: "zh-CN",
		ConsoleURL: "https://kefu.example.com/console", Post: sf.post, Owner: owner, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func dialects(t *testing.T, f func(t *testing.T, dialect string)) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		if strings.HasSuffix(t.Name(), "postgres") {
			f(t, "postgres")
		} else {
			f(t, "sqlite")
		}
	})
}

// Three processes tick at the same moment: each digest is posted once; a restart later the same
// morning posts nothing again; the next day's digest is posted the next day.
func TestExactlyOnceAcrossProcessesAndRestarts(t *testing.T) {
	dialects(t, func(t *testing.T, dialect string) {
		dbs, dsn := processesDSN(t, dialect, 3)
		sf := &slackFake{}
		monday := time.Date(2026, 11, 16, 9, 0, 5, 0, sh)
		var wg sync.WaitGroup
		for i, db := range dbs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := newScheduler(t, db, sf, monday, fmt.Sprint("p", i)).Tick(t.Context()); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		posts := sf.texts()
		if len(posts) != 2 {
			t.Fatalf("%d posts, want the daily and the weekly digest once each:\n%s", len(posts), strings.Join(posts, "\n---\n"))
		}
		// The daily digest has the numbers reports.Compute gives for Sunday 15 November.
		rep, err := reports.Compute(t.Context(), dbs[0], reports.Filter{From: time.Date(2026, 11, 15, 0, 0, 0, 0, sh),
			To: time.Date(2026, 11, 16, 0, 0, 0, 0, sh), Now: monday, Loc: sh})
		if err != nil {
			t.Fatal(err)
		}
		daily := posts[0]
		if strings.Contains(posts[1], "日报") {
			daily = posts[1]
		}
		for _, want := range []string{"日报 2026-11-15", fmt.Sprintf("新建工单 %d ｜ 已解决 %d", rep.TicketsCreated, rep.TicketsResolved),
			"<https://kefu.example.com/console/?from=2026-11-15&to=2026-11-15|打开数据看板>"} {
			if !strings.Contains(daily, want) {
				t.Errorf("daily digest lacks %q:\n%s", want, daily)
			}
		}
		if rep.TicketsCreated == 0 {
			t.Error("no tickets on the digest's day: the fixture is wrong")
		}

		// A restart at 11:00 (new handle, new scheduler): nothing is posted twice.
		again, err := storage.Open(t.Context(), dsn, storage.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer again.Close()
		if got, err := newScheduler(t, again, sf, monday.Add(2*time.Hour), "p9").Tick(t.Context()); err != nil || len(got) != 0 {
			t.Errorf("after restart: posted %v, %v; want nothing", got, err)
		}
		// Tuesday 09:00: only Tuesday's daily digest.
		got, err := newScheduler(t, dbs[2], sf, monday.AddDate(0, 0, 1), "p2").Tick(t.Context())
		if err != nil || len(got) != 1 || got[0] != "digest:daily:2026-11-16" {
			t.Errorf("Tuesday: posted %v, %v", got, err)
		}
	})
}

// A failed post gives the claim back, so the next tick posts it; a process that died while posting
// blocks others only until its lease expires.
func TestFailedPostRetriedAndDeadClaimTakenOver(t *testing.T) {
	dialects(t, func(t *testing.T, dialect string) {
		dbs := processes(t, dialect, 1)
		db := dbs[0]
		sf := &slackFake{fail: true}
		at := time.Date(2026, 11, 17, 9, 0, 0, 0, sh)
		s := digest.Schedule{Daily: schedule.Daily, Loc: sh}
		mk := func(now time.Time, owner string) *digest.Scheduler {
			sc, err := digest.NewScheduler(digest.Options{DB: db, Schedule: s, Post: sf.post, Owner: owner, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			return sc
		}
		if _, err := mk(at, "a").Tick(t.Context()); err == nil {
			t.Fatal("failed post: no error")
		}
		if got, err := mk(at.Add(time.Minute), "a").Tick(t.Context()); err != nil || len(got) != 1 || len(sf.texts()) != 1 {
			t.Fatalf("retry: posted %v, %v, %d texts", got, err, len(sf.texts()))
		}

		// Wednesday: process "dead" claimed it at 09:00 and never finished.
		key := "digest:daily:2026-11-17"
		claimedAt := at.AddDate(0, 0, 1)
		if err := db.Gorm().Exec("INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?)", key, "posting dead 0", claimedAt.UTC()).Error; err != nil {
			t.Fatal(err)
		}
		if got, _ := mk(claimedAt.Add(time.Minute), "b").Tick(t.Context()); len(got) != 0 {
			t.Errorf("within the lease: posted %v", got)
		}
		if got, err := mk(claimedAt.Add(3*time.Minute), "b").Tick(t.Context()); err != nil || len(got) != 1 || got[0] != key {
			t.Errorf("after the lease: posted %v, %v; want %s", got, err, key)
		}
		if n := len(sf.texts()); n != 2 {
			t.Errorf("%d posts, want 2", n)
		}
	})
}

// Run keeps ticking on its interval and posts a due digest once, then returns on cancel.
func TestRunPostsOnce(t *testing.T) {
	db := processes(t, "sqlite", 1)[0]
	sf := &slackFake{}
	var calls atomic.Int32
	ctx, cancel := context.WithCancel(t.Context())
	now := time.Date(2026, 11, 17, 9, 30, 0, 0, sh)
	s, err := digest.NewScheduler(digest.Options{DB: db, Schedule: digest.Schedule{Daily: schedule.Daily, Loc: sh}, Post: sf.post,
		Interval: time.Millisecond, Now: func() time.Time {
			if calls.Add(1) == 5 {
				cancel()
			}
			return now
		}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(sf.texts()); n != 1 {
		t.Errorf("%d posts over %d ticks, want 1", n, calls.Load())
	}
}

// /kefu report answers in the asked language with the period's numbers and a console link.
func TestReporter(t *testing.T) {
	db := processes(t, "sqlite", 1)[0]
	now := time.Date(2026, 11, 17, 7, 0, 0, 0, sh) // Tuesday
	r := digest.NewReporter(digest.Options{DB: db, Schedule: digest.Schedule{Loc: sh}, T: locales.Default().T,
		ConsoleURL: "http://localhost:8080/console", Now: func() time.Time { return now }})
	rep, err := reports.Compute(t.Context(), db, reports.Filter{From: time.Date(2026, 11, 16, 0, 0, 0, 0, sh), To: now, Now: now, Loc: sh})
	if err != nil {
		t.Fatal(err)
	}
	text, err := r.Report(t.Context(), "week", "en")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"This week 2026-11-16 to 2026-11-17", fmt.Sprintf("Tickets created %d | resolved %d", rep.TicketsCreated, rep.TicketsResolved),
		"(target ≥ 30%)", "<http://localhost:8080/console/?from=2026-11-16&to=2026-11-17|Open the dashboard>"} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
	zh, err := r.Report(t.Context(), "today", "zh-CN")
	if err != nil || !strings.Contains(zh, "今日数据（2026-11-17）") {
		t.Errorf("zh today: %v\n%s", err, zh)
	}
	if _, err := r.Report(t.Context(), "year", "en"); err == nil {
		t.Error("unknown period: no error")
	}
}
