package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/bot/sla"
	"github.com/kefu-dev/kefu/kb"
	"github.com/kefu-dev/kefu/storage"
)

// promMetrics are kefu's Prometheus metrics. Each server has its own registry (not the global one), so
// tests can run several servers in one process. Label values are bounded: routes are the mux
// patterns, channels the configured platforms; no label ever holds a chat id, a ticket number or text.
type promMetrics struct {
	reg *prometheus.Registry

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	inbound      *prometheus.CounterVec
	sends        *prometheus.CounterVec
	sendDuration *prometheus.HistogramVec
	slaScan      prometheus.Histogram
	slaScanFail  prometheus.Counter
	slaDue       prometheus.Counter
	slaFired     *prometheus.CounterVec
	slaLateness  *prometheus.HistogramVec
	faqDecisions *prometheus.CounterVec
	faqScore     prometheus.Histogram

	platforms  sync.Map // channel -> *platformState (the last send's outcome, for /readyz)
	collectors []prometheus.Collector
}

// platformState is what the last send to a platform showed.
type platformState struct {
	mu      sync.Mutex
	lastOK  time.Time
	lastErr time.Time
}

// platformStatus is /readyz's line for ch: "ok" until a send fails, then "failing since …" until one
// succeeds again. Only transient failures count: a permanent one (a blocked chat) says nothing about
// the platform.
func (m *promMetrics) platformStatus(ch string) string {
	v, ok := m.platforms.Load(ch)
	if !ok {
		return "ok (nothing sent yet)"
	}
	p := v.(*platformState)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lastErr.After(p.lastOK) {
		// No error text: it can hold a URL with the bot token (Telegram). The log has the details.
		return "failing since " + p.lastErr.UTC().Format(time.RFC3339)
	}
	return "ok"
}

func (m *promMetrics) recordSend(ch string, err error) {
	v, _ := m.platforms.LoadOrStore(ch, &platformState{})
	p := v.(*platformState)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err == nil {
		p.lastOK = time.Now()
		return
	}
	p.lastErr = time.Now()
}

func newMetrics(db *storage.DB, log *slog.Logger) (*promMetrics, error) {
	reg := prometheus.NewRegistry()
	m := &promMetrics{
		reg: reg,
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kefu_http_requests_total", Help: "HTTP requests served, by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "kefu_http_request_duration_seconds", Help: "HTTP request latency by route pattern and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
		inbound: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kefu_inbound_messages_total", Help: "Inbound customer messages and button presses handed to the engine, by channel and result (ok, error).",
		}, []string{"channel", "result"}),
		sends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kefu_outbox_sends_total", Help: "Outbox send attempts by channel and outcome: sent, retry (transient error, retried with backoff), rate_limited (429), permanent (never retried). Web chat replies carried in the HTTP response count as sent.",
		}, []string{"channel", "outcome"}),
		sendDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "kefu_outbox_send_duration_seconds", Help: "Platform send latency by channel.",
			Buckets: prometheus.DefBuckets,
		}, []string{"channel"}),
		slaScan: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "kefu_sla_scan_duration_seconds", Help: "Duration of one SLA scan.",
			Buckets: []float64{.001, .005, .01, .05, .1, .5, 1, 5, 30},
		}),
		slaScanFail: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kefu_sla_scan_errors_total", Help: "SLA scans that failed (database errors; the next scan retries).",
		}),
		slaDue: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kefu_sla_due_tickets_total", Help: "Tickets the SLA scanner found due for a check.",
		}),
		slaFired: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kefu_sla_notifications_total", Help: "SLA notifications recorded by this process, by kind (warn, breach, escalate, repeat, update).",
		}, []string{"kind"}),
		slaLateness: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "kefu_sla_notification_lateness_seconds", Help: "How late an SLA notification was recorded after its planned time, by kind.",
			Buckets: []float64{.1, .5, 1, 5, 15, 30, 60, 120, 300, 900, 3600},
		}, []string{"kind"}),
		faqDecisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kefu_faq_decisions_total", Help: "FAQ lookups by decision: answered, suggested, no_match.",
		}, []string{"decision"}),
		faqScore: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "kefu_faq_confidence", Help: "Calibrated confidence of the best FAQ hit per lookup.",
			Buckets: prometheus.LinearBuckets(0.1, 0.1, 10),
		}),
	}
	bi := buildInfo()
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "kefu_build_info", Help: "Build information (value 1).",
		ConstLabels: prometheus.Labels{"version": bi.Version, "commit": bi.Commit, "goversion": bi.GoVersion},
	})
	build.Set(1)
	pool, err := db.SQLDB()
	if err != nil {
		return nil, err
	}
	m.collectors = []prometheus.Collector{
		m.httpRequests, m.httpDuration, m.inbound, m.sends, m.sendDuration, m.slaScan, m.slaScanFail,
		m.slaDue, m.slaFired, m.slaLateness, m.faqDecisions, m.faqScore, build,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(pool, "kefu"),
		&outboxCollector{db: db, log: log},
		&mediaRetryCollector{db: db, log: log},
	}
	for _, c := range m.collectors {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	for _, d := range []string{"answered", "suggested", "no_match"} {
		m.faqDecisions.WithLabelValues(d) // present at 0 before the first lookup
	}
	return m, nil
}

// handler serves /metrics and, when enabled, /debug/pprof/ (never on the public address).
func (m *promMetrics) handler(withPprof bool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg}))
	if withPprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return mux
}

// observeHTTP records one request.
func (m *promMetrics) observeHTTP(route, method string, code int, d time.Duration) {
	m.httpRequests.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
	m.httpDuration.WithLabelValues(route, method).Observe(d.Seconds())
}

// observeFAQ records one FAQ decision and its best score.
func (m *promMetrics) observeFAQ(d kb.Decision, hits []kb.Hit) {
	name := "no_match"
	switch d {
	case kb.Answer:
		name = "answered"
	case kb.Suggest:
		name = "suggested"
	}
	m.faqDecisions.WithLabelValues(name).Inc()
	score := 0.0
	if len(hits) > 0 {
		score = hits[0].Score
	}
	m.faqScore.Observe(score)
}

func (m *promMetrics) observeScan(elapsed time.Duration, _ int, err error) {
	m.slaScan.Observe(elapsed.Seconds())
	if err != nil {
		m.slaScanFail.Inc()
	}
}

// sink counts what the adapters hand to the engine.
func (m *promMetrics) sink(next bot.Sink) bot.Sink {
	ms := meteredSink{next: next, m: m}
	if in, ok := next.(bot.InlineSink); ok {
		// Keep the engine's inline delivery (web chat's one commit per message) visible to adapters.
		return meteredInlineSink{meteredSink: ms, in: in}
	}
	return ms
}

type meteredSink struct {
	next bot.Sink
	m    *promMetrics
}

func (s meteredSink) Deliver(ctx context.Context, ev bot.Event) error {
	err := s.next.Deliver(ctx, ev)
	s.count(ev, err)
	return err
}

func (s meteredSink) count(ev bot.Event, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	s.m.inbound.WithLabelValues(string(ev.Channel), result).Inc()
}

type meteredInlineSink struct {
	meteredSink
	in bot.InlineSink
}

// DeliverInline counts the replies the HTTP response carries as sent (they are recorded so in the
// message's transaction); no platform send happened, so there is no send latency to observe.
func (s meteredInlineSink) DeliverInline(ctx context.Context, ev bot.Event) ([]bot.Reply, error) {
	rs, err := s.in.DeliverInline(ctx, ev)
	s.count(ev, err)
	if len(rs) > 0 {
		s.m.sends.WithLabelValues(string(ev.Channel), "sent").Add(float64(len(rs)))
	}
	return rs, err
}

// adapter counts an adapter's sends by outcome, as the dispatcher will treat them.
func (m *promMetrics) adapter(a bot.Adapter) bot.Adapter {
	ma := &meteredAdapter{Adapter: a, m: m}
	if e, ok := a.(bot.Editor); ok {
		return &meteredEditor{meteredAdapter: ma, Editor: e}
	}
	return ma
}

type meteredAdapter struct {
	bot.Adapter
	m *promMetrics
}

func (a *meteredAdapter) Send(ctx context.Context, r bot.Reply) (string, error) {
	start := time.Now()
	id, err := a.Adapter.Send(ctx, r)
	ch := string(a.Channel())
	a.m.sendDuration.WithLabelValues(ch).Observe(time.Since(start).Seconds())
	var rl *bot.RateLimitedError
	var perm *bot.PermanentError
	outcome := "sent"
	switch {
	case err == nil:
	case errors.As(err, &perm):
		outcome = "permanent"
	case errors.As(err, &rl):
		outcome = "rate_limited"
	case ctx.Err() != nil:
		outcome = "interrupted" // shutting down: the row is released, not counted as an attempt
	default:
		outcome = "retry"
	}
	if outcome != "permanent" && outcome != "interrupted" {
		a.m.recordSend(ch, err)
	}
	a.m.sends.WithLabelValues(ch, outcome).Inc()
	return id, err
}

// meteredEditor keeps the optional bot.Editor capability visible through the wrapper.
type meteredEditor struct {
	*meteredAdapter
	bot.Editor
}

// slaStore counts due tickets and recorded notifications with their lateness.
func (m *promMetrics) slaStore(s sla.Store) sla.Store { return &meteredSLAStore{Store: s, m: m} }

type meteredSLAStore struct {
	sla.Store
	m *promMetrics
}

func (s *meteredSLAStore) DueForAction(ctx context.Context, now time.Time, limit int) ([]sla.Item, error) {
	items, err := s.Store.DueForAction(ctx, now, limit)
	s.m.slaDue.Add(float64(len(items)))
	return items, err
}

func (s *meteredSLAStore) MarkFired(ctx context.Context, n sla.Notify) (bool, error) {
	ok, err := s.Store.MarkFired(ctx, n)
	if ok && err == nil {
		kind := string(n.Kind)
		s.m.slaFired.WithLabelValues(kind).Inc()
		if !n.At.IsZero() {
			s.m.slaLateness.WithLabelValues(kind).Observe(max(time.Since(n.At), 0).Seconds())
		}
	}
	return ok, err
}

// outboxCollector reads the outbox backlog at scrape time (pending rows and the age of the oldest per
// channel, failed rows), so the numbers cover every kefu process sharing the database.
type outboxCollector struct {
	db  *storage.DB
	log *slog.Logger
}

var (
	outboxPendingDesc = prometheus.NewDesc("kefu_outbox_pending", "Outbox rows waiting to be sent, by channel.", []string{"channel"}, nil)
	outboxOldestDesc  = prometheus.NewDesc("kefu_outbox_oldest_pending_age_seconds", "Age of the oldest pending outbox row, by channel.", []string{"channel"}, nil)
	outboxFailedDesc  = prometheus.NewDesc("kefu_outbox_failed", "Outbox rows that failed permanently or ran out of attempts, by channel.", []string{"channel"}, nil)
	outboxUpDesc      = prometheus.NewDesc("kefu_outbox_scrape_ok", "1 when the outbox backlog could be read from the database.", nil, nil)
)

func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- outboxPendingDesc
	ch <- outboxOldestDesc
	ch <- outboxFailedDesc
	ch <- outboxUpDesc
}

func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	rows, err := c.db.OutboxBacklog(ctx)
	if err != nil {
		c.log.Warn("metrics: outbox backlog", "err", err)
		ch <- prometheus.MustNewConstMetric(outboxUpDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(outboxUpDesc, prometheus.GaugeValue, 1)
	now := time.Now()
	for _, r := range rows {
		ch <- prometheus.MustNewConstMetric(outboxPendingDesc, prometheus.GaugeValue, float64(r.Pending), r.Channel)
		ch <- prometheus.MustNewConstMetric(outboxFailedDesc, prometheus.GaugeValue, float64(r.Failed), r.Channel)
		age := 0.0
		if !r.OldestPending.IsZero() {
			age = max(now.Sub(r.OldestPending), 0).Seconds()
		}
		ch <- prometheus.MustNewConstMetric(outboxOldestDesc, prometheus.GaugeValue, age, r.Channel)
	}
}
