package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kefu-dev/kefu/storage"
)

// BenchmarkLoad drives the web chat HTTP API of a real server (serve) with 1 and 16 customers and
// counts a message done only when every reply it produced is delivered (its outbox rows are marked
// sent), not when the POST returns. Workloads:
//
//   - faq: each customer asks FAQ questions in its session's language (half the customers Chinese,
//     half English);
//   - ticket: each message opens a ticket ("转人工 …" in a new session; the session is made first and
//     not counted in the latency).
//
// Right after each run, the same number of clients runs a raw single-row commit loop on the same
// database for as long (pgx on PostgreSQL; database/sql with kefu's driver and pragmas on SQLite), and
// the benchmark reports msgs/s, p50/p99 latency, the raw commits/s and their ratio (x-raw): the
// machine is shared and noisy, the ratio much less so.
//
//	go test ./cmd/kefu -run '^$' -bench Load -benchtime 1500x
//	./scripts/with-postgres.sh go test ./cmd/kefu -run '^$' -bench Load/postgres -benchtime 1500x
func BenchmarkLoad(b *testing.B) {
	for name, dsn := range testDatabases(b) {
		for _, w := range []struct {
			kind      string
			customers int
		}{{"faq", 1}, {"faq", 16}, {"ticket", 16}} {
			b.Run(fmt.Sprintf("%s/%s/%d", name, w.kind, w.customers), func(b *testing.B) {
				runLoad(b, dsn(b), w.kind, w.customers)
			})
		}
	}
}

// loadQuestions are FAQ questions of the bundled sample library, per session language.
var loadQuestions = map[string][]string{
	"zh-CN": {"保修期多久", "怎么退货", "多久能发货", "支持哪些付款方式"},
	"en":    {"How long is the warranty?", "How do I return an item?", "How long does shipping take?", "Which payment methods do you accept?"},
}

func runLoad(b *testing.B, dbURL, kind string, customers int) {
	r := load(b, dbURL, kind, customers, b.N)
	b.ReportMetric(r.rate, "msgs/s")
	b.ReportMetric(ms(r.p50), "p50-ms")
	b.ReportMetric(ms(r.p99), "p99-ms")
	b.ReportMetric(r.raw, "raw-commits/s")
	b.ReportMetric(r.rate/r.raw, "x-raw")
	b.ReportMetric(float64(r.peakHeap)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(peakRSS())/(1<<20), "peak-RSS-MiB")
}

// loadResult is one load run: delivered messages per second, latency percentiles, and the raw
// single-row commits per second of as many clients right after it.
type loadResult struct {
	rate, raw float64
	p50, p99  time.Duration
	peakHeap  uint64
}

// load starts a server on dbURL and sends n messages of kind from customers customers (see
// BenchmarkLoad), then runs the raw commit loop.
func load(b *testing.B, dbURL, kind string, customers, n int) loadResult {
	s := startJourneyServer(b, dbURL, nil, func(c *Config) {
		c.Outbox.PollInterval = 100 * time.Millisecond // the default: delivery must not rely on a fast poll
		// ticket runs make a session per message; 16 customers share one address
		c.Web.SessionsPerSecond, c.Web.MessagesPerSecond, c.Web.ClientMessagesPerSecond = -1, -1, -1
	})
	w := newDeliveryWatcher(b, dbURL)
	defer w.stop()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	per := (n + customers - 1) / customers
	dones := make([][]delivery, customers)
	for c := range dones {
		dones[c] = make([]delivery, per)
	}
	var peak atomic.Uint64
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	runtime.GC()
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for c := 0; c < customers; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			lang := []string{"zh-CN", "en"}[c%2]
			sess := ""
			for i := 0; i < per; i++ {
				text := loadQuestions[lang][i%len(loadQuestions[lang])]
				if kind == "ticket" || sess == "" {
					sess = postSession(b, client, s.url, lang)
				}
				body := map[string]string{"session": sess, "text": text}
				if kind == "ticket" {
					// The request for a person first (not timed, like the session): the bot asks the
					// type; the timed message is the answer ("skip"), which opens the ticket.
					rs := post(b, client, s.url, map[string]string{"session": sess, "text": fmt.Sprintf("转人工 订单%d-%d 退款一直没到账", c, i)})
					if len(rs) == 0 || len(rs[len(rs)-1].Buttons) == 0 {
						b.Errorf("转人工: no type question: %+v", rs)
						return
					}
					btns := rs[len(rs)-1].Buttons
					body = map[string]string{"session": sess, "action": btns[len(btns)-1].Action}
				}
				t0 := time.Now()
				rs := post(b, client, s.url, body)
				if len(rs) == 0 {
					return
				}
				ids := make([]int64, len(rs))
				for i, r := range rs {
					ids[i] = r.ID
				}
				// Done when delivered: the watcher checks the rows off the customer's path and
				// counts the later of the response and the recorded delivery (see deliveryWatcher).
				w.check(&dones[c][i], ids, t0, time.Now())
				if i%64 == 0 {
					metrics.Read(sample)
					if v := sample[0].Value.Uint64(); v > peak.Load() {
						peak.Store(v)
					}
				}
			}
		}(c)
	}
	wg.Wait()
	w.drain()
	b.StopTimer()
	var all []time.Duration
	var last time.Time
	for _, ds := range dones {
		for _, d := range ds {
			if d.done.IsZero() {
				continue // not sent (an error was reported) or never posted
			}
			all = append(all, d.done.Sub(d.t0))
			if d.done.After(last) {
				last = d.done
			}
		}
	}
	elapsed := last.Sub(start)
	if len(all) == 0 {
		b.Fatal("no message completed")
	}
	slices.Sort(all)
	rate := float64(len(all)) / elapsed.Seconds()
	if kind == "ticket" {
		var tickets int64
		if err := w.sdb.Gorm().Raw("SELECT COUNT(*) FROM tickets WHERE channel = 'web' AND no NOT LIKE 'BK%'").Scan(&tickets).Error; err != nil {
			b.Fatal(err)
		}
		if tickets < int64(len(all)) {
			b.Fatalf("%d ticket messages opened %d tickets", len(all), tickets)
		}
	}
	s.stop()
	raw := rawCommits(b, dbURL, customers, min(max(elapsed, time.Second), 5*time.Second))
	return loadResult{rate: rate, raw: raw, p50: all[len(all)/2], p99: all[len(all)*99/100], peakHeap: peak.Load()}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// peakRSS is the process's peak resident set (VmHWM), 0 where /proc is missing. The benchmark's
// clients run in the same process, so it is an upper bound for the server's.
func peakRSS() int64 { return procPeakRSS(os.Getpid()) }

func postSession(b *testing.B, client *http.Client, url, lang string) string {
	resp, err := client.Post(url+"/api/webchat/sessions", "application/json", strings.NewReader(`{"lang":"`+lang+`"}`))
	if err != nil {
		b.Error(err)
		return ""
	}
	defer resp.Body.Close()
	var r struct{ Session string }
	json.NewDecoder(resp.Body).Decode(&r)
	if resp.StatusCode != http.StatusCreated {
		b.Errorf("create session: %d", resp.StatusCode)
	}
	return r.Session
}

// loadReply is a reply as the web chat API returns it.
type loadReply struct {
	ID      int64
	Buttons []struct {
		Action string `json:"action"`
	}
}

// post sends one message (a text or an action) and returns its replies (nil after reporting an error).
func post(b *testing.B, client *http.Client, url string, msg map[string]string) []loadReply {
	body, _ := json.Marshal(msg)
	resp, err := client.Post(url+"/api/webchat/messages", "application/json", bytes.NewReader(body))
	if err != nil {
		b.Error(err)
		return nil
	}
	var out struct{ Replies []loadReply }
	json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(out.Replies) == 0 {
		b.Errorf("post message: status %d, %d replies", resp.StatusCode, len(out.Replies))
		return nil
	}
	return out.Replies
}

// delivery is one timed message: posted at t0, done when every reply it produced is delivered.
type delivery struct{ t0, done time.Time }

// deliveryWatcher tells when messages' replies are delivered (outbox rows marked sent), off the
// customers' path: a customer posts its next message as soon as the response is in (the replies it
// carries are on the customer's screen), while one goroutine checks the rows of every message in
// batches. A message is done at the later of its response and the delivery time the server recorded
// (sent_at): replies written as delivered with the message (web chat) are done with the response,
// a reply a dispatcher sends later is done when it was sent. A synchronous check per message would
// add a database round trip of the benchmark's own to every latency and compete with the server for
// the database (issue 14).
type deliveryWatcher struct {
	b       *testing.B
	sdb     *storage.DB
	mu      sync.Mutex
	waiting map[int64]*deliveryCheck
	wake    chan struct{}
	done    chan struct{}
	wg      sync.WaitGroup
}

// deliveryCheck is one message waiting for its rows.
type deliveryCheck struct {
	d    *delivery
	resp time.Time // when the response was in
	left int       // rows not seen sent yet
	last time.Time // the latest sent_at seen
}

func newDeliveryWatcher(b *testing.B, dbURL string) *deliveryWatcher {
	sdb, err := storage.Open(context.Background(), dbURL, storage.Options{SkipMigrations: true, MaxOpenConns: 2})
	if err != nil {
		b.Fatal(err)
	}
	w := &deliveryWatcher{b: b, sdb: sdb, waiting: map[int64]*deliveryCheck{}, wake: make(chan struct{}, 1), done: make(chan struct{})}
	w.wg.Add(1)
	go w.poll()
	return w
}

func (w *deliveryWatcher) stop() {
	close(w.done)
	w.wg.Wait()
	w.sdb.Close()
}

// check records that the message d, posted at t0 and answered at resp, produced the rows ids; d.done
// is set once they are all sent.
func (w *deliveryWatcher) check(d *delivery, ids []int64, t0, resp time.Time) {
	d.t0 = t0
	c := &deliveryCheck{d: d, resp: resp, left: len(ids)}
	w.mu.Lock()
	for _, id := range ids {
		w.waiting[id] = c
	}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// drain waits until every checked row is sent (reporting an error after 30 s).
func (w *deliveryWatcher) drain() {
	deadline := time.Now().Add(30 * time.Second)
	for {
		w.mu.Lock()
		n := len(w.waiting)
		w.mu.Unlock()
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			w.b.Errorf("%d replies not delivered within 30s", n)
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// sentRow is an outbox row marked sent.
type sentRow struct {
	ID     int64
	SentAt time.Time
}

// sent returns the rows of ids that are marked sent.
func (w *deliveryWatcher) sent(ids []int64) ([]sentRow, error) {
	var rows []sentRow
	err := w.sdb.Gorm().Table("outbox").Select("id, sent_at").Where("status = ? AND id IN ?", "sent", ids).Find(&rows).Error
	return rows, err
}

func (w *deliveryWatcher) poll() {
	defer w.wg.Done()
	for {
		w.mu.Lock()
		ids := make([]int64, 0, min(len(w.waiting), 500))
		for id := range w.waiting {
			if len(ids) == cap(ids) {
				break
			}
			ids = append(ids, id)
		}
		w.mu.Unlock()
		if len(ids) == 0 {
			select {
			case <-w.done:
				return
			case <-w.wake:
				continue
			}
		}
		got, err := w.sent(ids)
		if err != nil {
			w.b.Error(err)
			return
		}
		w.mu.Lock()
		for _, r := range got {
			c := w.waiting[r.ID]
			delete(w.waiting, r.ID)
			if r.SentAt.After(c.last) {
				c.last = r.SentAt
			}
			if c.left--; c.left == 0 {
				c.d.done = c.resp
				if c.last.After(c.resp) { // sent after the response: by a dispatcher
					c.d.done = c.last
				}
			}
		}
		w.mu.Unlock()
		select {
		case <-w.done:
			return
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// rawCommits runs clients loops of single-row INSERT commits on dbURL for d and returns commits/s:
// pgx on PostgreSQL, database/sql through kefu's SQLite driver and pragmas (storage.Open) on SQLite.
func rawCommits(b *testing.B, dbURL string, clients int, d time.Duration) float64 {
	ctx := context.Background()
	var n atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	if storage.IsPostgresDSN(dbURL) {
		conns := make([]*pgx.Conn, clients)
		for i := range conns {
			c, err := pgx.Connect(ctx, dbURL)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close(ctx)
			conns[i] = c
		}
		if _, err := conns[0].Exec(ctx, "CREATE TABLE IF NOT EXISTS bench_raw (id BIGSERIAL PRIMARY KEY, v TEXT NOT NULL, at TIMESTAMPTZ NOT NULL)"); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		for _, c := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(deadline) {
					if _, err := c.Exec(ctx, "INSERT INTO bench_raw (v, at) VALUES ($1, $2)", "hello", time.Now()); err != nil {
						b.Error(err)
						return
					}
					n.Add(1)
				}
			}()
		}
		wg.Wait()
		return float64(n.Load()) / time.Since(start).Seconds()
	}
	sdb, err := storage.Open(ctx, dbURL, storage.Options{SkipMigrations: true})
	if err != nil {
		b.Fatal(err)
	}
	defer sdb.Close()
	db, err := sdb.Gorm().DB()
	if err != nil {
		b.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS bench_raw (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT NOT NULL, at DATETIME NOT NULL)"); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				if _, err := db.ExecContext(ctx, "INSERT INTO bench_raw (v, at) VALUES (?, ?)", "hello", time.Now().UTC()); err != nil {
					b.Error(err)
					return
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds()
}
