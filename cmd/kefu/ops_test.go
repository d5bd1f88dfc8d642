package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape reads the server's /metrics into metric families.
func (s *e2eServer) scrape(t testing.TB) map[string]*dto.MetricFamily {
	t.Helper()
	if s.metricsURL == "" {
		t.Fatal("the server has no metrics listener")
	}
	resp, err := http.Get(s.metricsURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d", resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// metricValue sums the samples of name whose labels include want (counter, gauge, or a histogram's
// sample count); ok is false when the metric is absent.
func metricValue(fams map[string]*dto.MetricFamily, name string, want map[string]string) (v float64, ok bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		for k, w := range want {
			if labels[k] != w {
				continue next
			}
		}
		ok = true
		switch {
		case m.Counter != nil:
			v += m.Counter.GetValue()
		case m.Gauge != nil:
			v += m.Gauge.GetValue()
		case m.Histogram != nil:
			v += float64(m.Histogram.GetSampleCount())
		case m.Untyped != nil:
			v += m.Untyped.GetValue()
		}
	}
	return v, ok
}

// TestMetricsMoveAfterJourney runs web chat journeys against a real server and checks that every
// family the issue asks for is exported on the separate metrics address and moves with the traffic.
func TestMetricsMoveAfterJourney(t *testing.T) {
	s := startServer(t, filepath.Join(t.TempDir(), "kefu.db"))
	before := s.scrape(t)
	for _, name := range []string{
		"kefu_build_info", "kefu_http_requests_total", "kefu_faq_decisions_total", "kefu_faq_confidence",
		"kefu_sla_scan_duration_seconds", "go_sql_open_connections", "go_sql_max_open_connections",
		"kefu_outbox_scrape_ok", "process_start_time_seconds",
	} {
		if _, ok := before[name]; !ok {
			t.Errorf("/metrics lacks %s before any traffic", name)
		}
	}
	if v, _ := metricValue(before, "kefu_build_info", map[string]string{"version": buildInfo().Version}); v != 1 {
		t.Errorf("kefu_build_info{version=%q} = %v, want 1", buildInfo().Version, v)
	}

	journey := func() {
		sess := s.session()
		r := s.say(sess, nil, "你好")
		r = s.say(sess, r, "保修期是多久？")
		contains(t, r, "保修")
		s.say(sess, r, "!没解决")
	}
	journey()
	mid := s.scrape(t)
	journey()
	waitFor(t, "the outbox drained and counted", func() bool {
		after := s.scrape(t)
		sent, _ := metricValue(after, "kefu_outbox_sends_total", map[string]string{"channel": "web", "outcome": "sent"})
		pending, _ := metricValue(after, "kefu_outbox_pending", map[string]string{"channel": "web"})
		midSent, _ := metricValue(mid, "kefu_outbox_sends_total", map[string]string{"channel": "web", "outcome": "sent"})
		return sent > midSent && pending == 0
	})
	after := s.scrape(t)
	for _, c := range []struct {
		name   string
		labels map[string]string
	}{
		{"kefu_inbound_messages_total", map[string]string{"channel": "web", "result": "ok"}},
		{"kefu_faq_decisions_total", map[string]string{"decision": "answered"}},
		{"kefu_faq_confidence", nil},
		{"kefu_http_requests_total", map[string]string{"route": "/api/webchat/messages", "method": "POST", "code": "200"}},
		{"kefu_http_request_duration_seconds", map[string]string{"route": "/api/webchat/messages", "method": "POST"}},
		// (kefu_outbox_send_duration_seconds{channel="web"} stays: web chat replies ride in the HTTP
		// response, recorded as sent with the message, and are never sent by the dispatcher.)
	} {
		b, _ := metricValue(mid, c.name, c.labels)
		a, ok := metricValue(after, c.name, c.labels)
		if !ok || a <= b {
			t.Errorf("%s%v did not move: %v -> %v (present %v)", c.name, c.labels, b, a, ok)
		}
	}
	if v, _ := metricValue(after, "kefu_sla_scan_duration_seconds", nil); v < 1 {
		t.Errorf("no SLA scan observed: %v", v)
	}
	if v, _ := metricValue(after, "go_sql_max_open_connections", map[string]string{"db_name": "kefu"}); v != 4 {
		t.Errorf("SQLite pool max open = %v, want the default 4", v)
	}
}

// TestAccessLogAndRequestID checks the access log line (route pattern, status, request id; never the
// query with the web chat session nor the message text) and the X-Request-Id header.
func TestAccessLogAndRequestID(t *testing.T) {
	var mu sync.Mutex
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(lockedWriter{&mu, &buf}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/thing", func(w http.ResponseWriter, r *http.Request) {
		if requestID(r.Context()) == "" {
			t.Error("no request id in the handler's context")
		}
		w.WriteHeader(http.StatusTeapot)
		io.WriteString(w, "hi")
	})
	h := accessLog(mux, log, nil)
	for _, tc := range []struct{ sent, want string }{
		{"abc-123.X_y", "abc-123.X_y"}, // a proxy's id is kept
		{"bad id\nwith newline", ""},   // anything else is replaced
		{strings.Repeat("a", 65), ""},  // too long
		{"", ""},                       // none
	} {
		req, _ := http.NewRequest("GET", "http://kefu/api/thing?session=SECRETSESSION&text=我的手机号13812345678", nil)
		if tc.sent != "" {
			req.Header.Set("X-Request-Id", tc.sent)
		}
		rec := &responseRecorder{header: http.Header{}}
		h.ServeHTTP(rec, req)
		got := rec.header.Get("X-Request-Id")
		if tc.want != "" && got != tc.want || tc.want == "" && (!validRequestID(got) || got == tc.sent) {
			t.Errorf("sent %q: X-Request-Id %q", tc.sent, got)
		}
		mu.Lock()
		line := buf.String()
		buf.Reset()
		mu.Unlock()
		for _, want := range []string{`"route":"GET /api/thing"`, `"status":418`, `"method":"GET"`, `"request_id":"` + got + `"`, `"duration"`} {
			if !strings.Contains(line, want) {
				t.Errorf("access log lacks %s: %s", want, line)
			}
		}
		for _, never := range []string{"SECRETSESSION", "13812345678", "session=", "/api/thing?"} {
			if strings.Contains(line, never) {
				t.Errorf("access log leaks %q: %s", never, line)
			}
		}
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

type responseRecorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (r *responseRecorder) Header() http.Header         { return r.header }
func (r *responseRecorder) WriteHeader(c int)           { r.code = c }
func (r *responseRecorder) Write(b []byte) (int, error) { return r.body.Write(b) }

// TestReadyzReportsEachPart checks /readyz: the database and every configured platform on a line.
func TestReadyzReportsEachPart(t *testing.T) {
	s := startServer(t, filepath.Join(t.TempDir(), "kefu.db"))
	resp, err := http.Get(s.url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Request-Id") == "" {
		t.Fatalf("readyz: %d, request id %q", resp.StatusCode, resp.Header.Get("X-Request-Id"))
	}
	mustContain(t, "/readyz", string(b), "ready\n", "database: ok\n", "web: ok")
}

// TestVersionCommand checks `kefu version` and its JSON form.
func TestVersionCommand(t *testing.T) {
	out := captureStdout(t, func() {
		if code := run(context.Background(), []string{"version"}, io.Discard, io.Discard); code != 0 {
			t.Fatalf("exit %d", code)
		}
	})
	bi := buildInfo()
	if !strings.HasPrefix(out, "kefu "+bi.Version+" (commit ") || !strings.Contains(out, bi.GoVersion) {
		t.Errorf("kefu version: %q", out)
	}
	js := captureStdout(t, func() { run(context.Background(), []string{"version", "--json"}, io.Discard, io.Discard) })
	mustContain(t, "kefu version --json", js, `"version": "`+bi.Version+`"`, `"go_version"`)
	if code := run(context.Background(), []string{"version", "--bogus"}, io.Discard, io.Discard); code != 2 {
		t.Errorf("a bad flag: exit %d, want 2", code)
	}
	// An image's build has no .git: the commit comes from the Dockerfile's COMMIT (-X main.commit).
	if buildInfo().Commit == "" {
		old := commit
		commit = "0123456789abcdef0123456789abcdef01234567"
		defer func() { commit = old }()
		out := captureStdout(t, func() { run(context.Background(), []string{"version"}, io.Discard, io.Discard) })
		mustContain(t, "kefu version with -X main.commit", out, "(commit 0123456789ab")
	}
}

// captureStdout runs f with os.Stdout going to a pipe and returns what it wrote.
func captureStdout(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	done := make(chan string)
	go func() { b, _ := io.ReadAll(r); done <- string(b) }()
	defer func() { os.Stdout = old }()
	f()
	w.Close()
	os.Stdout = old
	return <-done
}

// TestGrafanaDashboardUsesRealMetrics checks that every metric the sample dashboard queries is one
// kefu exports, so the dashboard cannot drift from the code.
func TestGrafanaDashboardUsesRealMetrics(t *testing.T) {
	b, err := os.ReadFile("../../deploy/grafana/kefu.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	db := openTestDB(t, filepath.Join(t.TempDir(), "kefu.db"))
	m, err := newMetrics(db, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	descs := make(chan *prometheus.Desc, 1000)
	for _, c := range m.collectors {
		c.Describe(descs)
	}
	close(descs)
	fq := regexp.MustCompile(`fqName: "([^"]+)"`)
	for d := range descs {
		if mm := fq.FindStringSubmatch(d.String()); mm != nil {
			known[mm[1]] = true
		}
	}
	name := regexp.MustCompile(`\b(kefu_[a-z_]+|go_sql_[a-z_]+)`)
	used := 0
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			for _, n := range name.FindAllString(tg.Expr, -1) {
				used++
				base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(n, "_bucket"), "_count"), "_sum")
				if !known[n] && !known[base] {
					t.Errorf("panel %q queries %s, which kefu does not export", p.Title, n)
				}
			}
		}
	}
	if len(dash.Panels) < 8 || used < 10 {
		t.Errorf("dashboard has %d panels using %d metrics", len(dash.Panels), used)
	}
}
