package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/internal/testenv"
	"github.com/kefu-dev/kefu/storage/storetest"
)

// e2eServer is a real kefu server (serve) on a random loopback port.
type e2eServer struct {
	t     testing.TB
	url   string
	dbURL string
	stop  func()

	metricsURL string // the metrics listener ("" when off)
}

// startServer runs serve on dbURL with the default configuration until the test ends (or stop is
// called). Journeys that need channels configured use startJourneyServer.
func startServer(t testing.TB, dbURL string) *e2eServer {
	t.Helper()
	js := startJourneyServer(t, dbURL, nil, nil)
	// Its own handle on the database is not used here; kept open it would mark the database in use
	// after stop, and kefu restore refuses a database in use (storage.ErrDatabaseInUse).
	js.db.Close()
	return js.e2eServer
}

type reply struct {
	ID      int64  `json:"id"`
	Text    string `json:"text"`
	Buttons []struct {
		Label  string `json:"label"`
		Action string `json:"action"`
	} `json:"buttons"`
}

func (s *e2eServer) post(path string, body any, out any) int {
	s.t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(s.url+path, "application/json", bytes.NewReader(b))
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			s.t.Fatalf("POST %s: decode: %v", path, err)
		}
	}
	return resp.StatusCode
}

func (s *e2eServer) session() string {
	var r struct{ Session string }
	if code := s.post("/api/webchat/sessions", map[string]string{}, &r); code != http.StatusCreated || len(r.Session) < 20 {
		s.t.Fatalf("create session: %d %q", code, r.Session)
	}
	return r.Session
}

// say sends text (or, with a "!" prefix, the button whose label contains the rest) and returns replies.
func (s *e2eServer) say(session string, last []reply, what string) []reply {
	s.t.Helper()
	body := map[string]string{"session": session}
	if strings.HasPrefix(what, "!") {
		label := what[1:]
		for _, r := range last {
			for _, b := range r.Buttons {
				if strings.Contains(b.Label, label) {
					body["action"] = b.Action
				}
			}
		}
		if body["action"] == "" {
			s.t.Fatalf("no button %q in %+v", label, last)
		}
	} else {
		body["text"] = what
	}
	var out struct{ Replies []reply }
	if code := s.post("/api/webchat/messages", body, &out); code != 200 {
		s.t.Fatalf("POST message %q: status %d", what, code)
	}
	if len(out.Replies) == 0 {
		s.t.Fatalf("no reply to %q", what)
	}
	return out.Replies
}

// poll waits for a later message containing want.
func (s *e2eServer) poll(session string, after int64, want string) reply {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second) // generous: a loaded CI machine delays the dispatcher, not the behaviour
	for time.Now().Before(deadline) {
		resp, err := http.Get(fmt.Sprintf("%s/api/webchat/messages?session=%s&after=%d", s.url, session, after))
		if err != nil {
			s.t.Fatal(err)
		}
		var out struct{ Messages []reply }
		json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		for _, m := range out.Messages {
			if strings.Contains(m.Text, want) {
				return m
			}
		}
		time.Sleep(30 * time.Millisecond)
	}
	s.t.Fatalf("no message containing %q after id %d", want, after)
	return reply{}
}

// cli runs `kefu ticket ARGS…` against the server's database, as an agent would while it runs.
func (s *e2eServer) cli(args ...string) string {
	s.t.Helper()
	var out bytes.Buffer
	env := func(k string) string {
		switch k {
		case "KEFU_DATABASE_URL":
			return s.dbURL
		case "KEFU_AGENT":
			return "alice"
		}
		return ""
	}
	if err := runTicket(context.Background(), args, &out, env); err != nil {
		s.t.Fatalf("kefu ticket %v: %v", args, err)
	}
	return out.String()
}

func contains(t *testing.T, rs []reply, want string) {
	t.Helper()
	for _, r := range rs {
		if strings.Contains(r.Text, want) {
			return
		}
	}
	t.Fatalf("no reply containing %q in %+v", want, rs)
}

var ticketNo = regexp.MustCompile(`GD\d{8}\d{3,}`)

// TestEndToEnd walks a whole customer journey through the real server: greeting, FAQ answer,
// clarification, ticket, a CLI agent's reply, resolution, confirmation and the survey — on SQLite and,
// when KEFU_TEST_POSTGRES_DSN is set, on PostgreSQL.
func TestEndToEnd(t *testing.T) {
	for name, dsn := range testDatabases(t) {
		t.Run(name, func(t *testing.T) {
			s := startServer(t, dsn(t))
			sess := s.session()

			r := s.say(sess, nil, "你好")
			contains(t, r, "云朵家电")
			r = s.say(sess, r, "保修期是多久？")
			contains(t, r, "保修")
			r = s.say(sess, r, "!没解决")
			r = s.say(sess, r, "!售后退换")
			if !strings.Contains(r[len(r)-1].Text, "订单") && !strings.Contains(r[len(r)-1].Text, "描述") {
				t.Fatalf("want a clarifying question, got %+v", r)
			}
			// Answer until the bot restates the request for confirmation.
			answers := []string{"洗衣机滚筒不转了，没法洗衣服，希望尽快上门维修", "202611200012345", "!一般"}
			for _, a := range answers {
				if strings.Contains(r[len(r)-1].Text, "对吗") {
					break
				}
				if strings.HasPrefix(a, "!") && !hasButton(r, a[1:]) {
					continue
				}
				r = s.say(sess, r, a)
			}
			contains(t, r, "对吗")
			r = s.say(sess, r, "!提交")
			no := ticketNo.FindString(r[len(r)-1].Text)
			if no == "" {
				t.Fatalf("no ticket number in %+v", r)
			}

			// Another customer cannot see it.
			other := s.session()
			s.say(other, nil, "hello")
			r2 := s.say(other, nil, "what about "+no+"?")
			for _, m := range r2 {
				if strings.Contains(m.Text, "洗衣机") || strings.Contains(m.Text, "washing") {
					t.Fatalf("another customer saw the ticket: %+v", r2)
				}
			}

			list := s.cli("list")
			if !strings.Contains(list, no) {
				t.Fatalf("ticket list lacks %s:\n%s", no, list)
			}
			s.cli("claim", no)
			last := r[len(r)-1].ID
			s.cli("note", no, "内部备注：可能是电机")
			s.cli("reply", no, "您好，师傅明天上午上门")
			got := s.poll(sess, last, "师傅明天上午上门")
			// The note must never reach the customer.
			resp, _ := http.Get(fmt.Sprintf("%s/api/webchat/messages?session=%s&after=0", s.url, sess))
			var all struct{ Messages []reply }
			json.NewDecoder(resp.Body).Decode(&all)
			resp.Body.Close()
			for _, m := range all.Messages {
				if strings.Contains(m.Text, "内部备注") {
					t.Fatal("an internal note reached the customer")
				}
			}

			s.cli("resolve", no, "更换电机")
			ask := s.poll(sess, got.ID, no)
			if len(ask.Buttons) != 2 {
				t.Fatalf("resolution confirmation wants 2 buttons, got %+v", ask)
			}
			r = s.say(sess, []reply{ask}, "!已解决")
			if !hasButton(r, "5") {
				t.Fatalf("want a 1–5 survey, got %+v", r)
			}
			r = s.say(sess, r, "!4")
			s.say(sess, r, "师傅很专业")
			show := s.cli("show", no)
			for _, want := range []string{"rating:    4/5", "师傅很专业", "agent_reply", "note"} {
				if !strings.Contains(show, want) {
					t.Errorf("ticket show lacks %q:\n%s", want, show)
				}
			}
		})
	}
}

// TestRestartKeepsConversation stops the server mid-conversation and starts it again on the same
// database: the customer continues exactly where they were.
func TestRestartKeepsConversation(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "kefu.db")
	s := startServer(t, dsn)
	sess := s.session()
	r := s.say(sess, nil, "你好")
	r = s.say(sess, r, "我要投诉你们的配送员")
	s.stop()

	s2 := startServer(t, dsn)
	// A button from before the restart still works, because the state lives in the database.
	if !hasAnyButton(r) {
		// The complaint path may ask for text instead; answer it.
		r = s2.say(sess, r, "配送员态度恶劣，把包裹扔在门口，希望道歉并处理")
	} else {
		r = s2.say(sess, r, "!"+r[len(r)-1].Buttons[0].Label)
	}
	for _, m := range r {
		if strings.Contains(m.Text, "您好，欢迎") {
			t.Fatalf("the conversation restarted from the greeting after a restart: %+v", r)
		}
	}
}

func hasButton(rs []reply, label string) bool {
	for _, r := range rs {
		for _, b := range r.Buttons {
			if strings.Contains(b.Label, label) {
				return true
			}
		}
	}
	return false
}

func hasAnyButton(rs []reply) bool {
	return len(rs) > 0 && len(rs[len(rs)-1].Buttons) > 0
}

// testDatabases gives a fresh database URL per run: SQLite always, PostgreSQL (its own schema) when
// KEFU_TEST_POSTGRES_DSN is set.
func testDatabases(t testing.TB) map[string]func(t testing.TB) string {
	m := map[string]func(t testing.TB) string{
		"sqlite": func(t testing.TB) string { return filepath.Join(t.TempDir(), "kefu.db") },
	}
	if os.Getenv(storetest.EnvPostgres) != "" {
		m["postgres"] = func(t testing.TB) string { dsn, _ := storetest.PostgresSchemaDSN(t); return dsn }
	} else {
		testenv.Missing(t, testenv.Postgres, "PostgreSQL skipped: "+storetest.EnvPostgres+" is not set")
	}
	return m
}

// TestConsoleMounted checks that serve mounts the supervisors' console behind a sign-in and that the
// first start created the admin account.
func TestConsoleMounted(t *testing.T) {
	s := startServer(t, filepath.Join(t.TempDir(), "kefu.db"))
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(s.url + "/console/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "/console/login") {
		t.Fatalf("GET /console/ without a session: %d %q, want a redirect to sign-in", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, err = c.Get(s.url + "/console/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in page: %d", resp.StatusCode)
	}
	// The admins' webhook test ping is mounted (behind the sign-in: 401 without a session, not 404).
	resp, err = c.PostForm(s.url+"/console/webhooks/test", map[string][]string{"name": {"crm"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("POST /console/webhooks/test without a session: %d, want 401 (mounted, signed-in only)", resp.StatusCode)
	}
}
