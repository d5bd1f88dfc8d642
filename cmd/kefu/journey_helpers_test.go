package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/storage"
)

// journeyServer is a real kefu server (serve) configured through KEFU_* variables, as an operator
// would configure it, plus a database handle the test uses to observe the outbox and tickets.
type journeyServer struct {
	*e2eServer
	db *storage.DB
}

// dbEnv is an environment that names the database dbURL and nothing else.
func dbEnv(dbURL string) func(string) string {
	return func(k string) string {
		if k == "KEFU_DATABASE_URL" {
			return dbURL
		}
		return ""
	}
}

// startJourneyServer runs serve on dbURL with the given KEFU_* environment (KEFU_DATABASE_URL is
// set from dbURL) and mod applied to the loaded config, until the test ends or stop is called.
func startJourneyServer(t testing.TB, dbURL string, env map[string]string, mod func(*Config)) *journeyServer {
	t.Helper()
	cfg, err := loadConfig("", func(k string) string {
		if k == "KEFU_DATABASE_URL" {
			return dbURL
		}
		return env[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Outbox.PollInterval = 20 * time.Millisecond
	// The fakes enforce no pacing of their own unless a test asks for it (SetFloodLimits): keep
	// Telegram's per-chat gap short so journeys run at the server's speed.
	cfg.Telegram.PerChatInterval = 50 * time.Millisecond
	if mod != nil {
		mod(&cfg)
	}
	return &journeyServer{e2eServer: runServer(t, cfg), db: openTestDB(t, dbURL)}
}

// runServer runs serve with cfg on its own port until the test ends or stop is called, and waits
// until it is ready. KEFU_TEST_LOG=1 shows its log.
func runServer(t testing.TB, cfg Config) *e2eServer {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	if os.Getenv("KEFU_TEST_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var metricsURL string
	if cfg.Metrics.Addr != "" && cfg.Metrics.Addr != "off" && cfg.Metrics.ln == nil {
		// Every server in the test process gets its own metrics port.
		if cfg.Metrics.ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		metricsURL = "http://" + cfg.Metrics.ln.Addr().String()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, ln, logger, io.Discard) }()
	s := &e2eServer{t: t, url: "http://" + ln.Addr().String(), dbURL: cfg.DatabaseURL, metricsURL: metricsURL}
	var stopped bool
	s.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve returned %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop within 15s of cancel")
		}
	}
	t.Cleanup(s.stop)
	waitFor(t, "server ready", func() bool {
		select {
		case err := <-done:
			t.Fatalf("serve stopped at start: %v", err)
		default:
		}
		resp, err := http.Get(s.url + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return s
}

// openTestDB opens a second handle on the server's database (migrations are idempotent).
func openTestDB(t testing.TB, dbURL string) *storage.DB {
	t.Helper()
	db, err := storage.Open(context.Background(), dbURL, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// waitFor polls cond until it holds, failing the test after 30 s. Polling (rather than a fixed
// sleep) keeps the journeys as fast as the server is.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	waitWithin(t, 30*time.Second, what, cond)
}

// waitWithin polls cond until it holds, failing the test after d.
func waitWithin(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(15 * time.Millisecond)
	}
}

// outboxDrained reports whether every outbox row of the chat is sent; a failed row fails the test.
func (s *journeyServer) outboxDrained(t testing.TB, ch bot.Channel, chatID string) bool {
	t.Helper()
	rows, err := s.db.OutboxRows(context.Background(), ch, chatID)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		switch r.Status {
		case "sent":
		case "failed":
			t.Fatalf("outbox row %d to %s/%s failed: %s", r.ID, ch, chatID, r.LastError)
		default:
			return false
		}
	}
	return true
}

// outboxTexts lists the texts of a chat's outbox rows, oldest first.
func (s *journeyServer) outboxTexts(t testing.TB, ch bot.Channel, chatID string) []string {
	t.Helper()
	rows, err := s.db.OutboxRows(context.Background(), ch, chatID)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Text
	}
	return out
}

// ticketEvents returns a ticket and its events, read from the database.
func (s *journeyServer) ticketEvents(t testing.TB, no string) (bot.Ticket, []bot.TicketEvent) {
	t.Helper()
	tk, err := s.db.TicketByNo(context.Background(), no)
	if err != nil {
		t.Fatalf("ticket %s: %v", no, err)
	}
	evs, err := s.db.TicketEvents(context.Background(), tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	return tk, evs
}

// mustContain fails unless s contains every want.
func mustContain(t testing.TB, what, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Fatalf("%s lacks %q:\n%s", what, w, s)
		}
	}
}
