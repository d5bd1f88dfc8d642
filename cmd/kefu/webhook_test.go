package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/webhook"
)

// hookReceiver is an integration's webhook endpoint as the README tells them to write it: it checks
// the signature, answers 2xx, and processes each event id once however often it arrives.
type hookReceiver struct {
	t   testing.TB
	srv *httptest.Server

	mu        sync.Mutex
	secret    string
	requests  int               // every request
	delivered int               // requests answered 2xx (deliveries the sender saw succeed)
	seen      map[string]string // event id → type: processed once each
	badSig    int
	// fail, if set, answers the nth request (1-based) with a status instead (0 = hang past the timeout).
	fail func(n int) (status int, failed bool)
	hang time.Duration
}

func newHookReceiver(t testing.TB) *hookReceiver {
	h := &hookReceiver{t: t, seen: map[string]string{}, hang: time.Second}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookReceiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	h.requests++
	n, secret, fail := h.requests, h.secret, h.fail
	h.mu.Unlock()
	if fail != nil {
		if status, failed := fail(n); failed {
			if status == 0 {
				time.Sleep(h.hang)
				return
			}
			w.WriteHeader(status)
			return
		}
	}
	if err := webhook.Verify(secret, r.Header.Get(webhook.HeaderSignature), body, time.Now(), 5*time.Minute); err != nil {
		h.mu.Lock()
		h.badSig++
		h.mu.Unlock()
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var p webhook.Payload
	if err := json.Unmarshal(body, &p); err != nil || p.ID == "" || p.ID != r.Header.Get(webhook.HeaderEventID) || p.Type != r.Header.Get(webhook.HeaderEventType) {
		h.t.Errorf("webhook: payload %s does not match headers %v", body, r.Header)
	}
	h.mu.Lock()
	h.delivered++
	if _, dup := h.seen[p.ID]; !dup { // dedupe by the event id
		h.seen[p.ID] = p.Type
	}
	h.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (h *hookReceiver) stats() (requests, delivered, distinct, badSig int, seen map[string]string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.requests, h.delivered, len(h.seen), h.badSig, maps.Clone(h.seen)
}

var webhookSecret = regexp.MustCompile(`signing secret \(shown once\): (whsec_\S+)`)

// addWebhook runs `kefu webhook add ARGS…` against dbURL and points the receiver at the secret.
func addWebhook(t testing.TB, dbURL string, h *hookReceiver, args ...string) {
	t.Helper()
	var out bytes.Buffer
	env := dbEnv(dbURL)
	if err := runWebhook(context.Background(), append([]string{"add"}, args...), &out, env); err != nil {
		t.Fatalf("kefu webhook add %v: %v", args, err)
	}
	m := webhookSecret.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("kefu webhook add printed no secret:\n%s", out.String())
	}
	h.mu.Lock()
	h.secret = m[1]
	h.mu.Unlock()
}

// expectedWebhooks lists the webhook events (id → type) the ticket's audit trail raises.
func expectedWebhooks(evs []bot.TicketEvent, types ...string) map[string]string {
	want := map[string]string{}
	for _, ev := range evs {
		if typ, ok := webhook.TypeOf(ev); ok && (len(types) == 0 || slices.Contains(types, typ)) {
			want[webhook.EventID(ev.ID)] = typ
		}
	}
	return want
}

// TestWebhooksJourney: a web chat customer's ticket worked by an agent (claim, reply, resolve), then
// confirmed and rated by the customer. A healthy receiver subscribed to everything gets each event of
// the audit trail exactly once with a valid signature; a receiver that answers 500, then hangs past
// the timeout, then answers 500 again gets its two subscribed events after retries, once each; a
// removed endpoint gets nothing more.
func TestWebhooksJourney(t *testing.T) {
	for name, dsn := range testDatabases(t) {
		t.Run(name, func(t *testing.T) {
			dbURL := dsn(t)
			crm, flaky := newHookReceiver(t), newHookReceiver(t)
			flaky.hang = 700 * time.Millisecond
			flaky.fail = func(n int) (int, bool) {
				switch n {
				case 1, 3:
					return 500, true
				case 2:
					return 0, true // timeout
				}
				return 0, false
			}
			s := startJourneyServer(t, dbURL, nil, func(c *Config) {
				c.Webhooks.MinBackoff, c.Webhooks.MaxBackoff, c.Webhooks.Timeout = 50*time.Millisecond, 200*time.Millisecond, 300*time.Millisecond
			})
			addWebhook(t, dbURL, crm, "crm", crm.srv.URL+"/hooks")
			addWebhook(t, dbURL, flaky, "flaky", flaky.srv.URL, "--events", "ticket.created,ticket.resolved")

			sess, r, no := journeyWebTicket(t, s.e2eServer, "洗衣机滚筒不转了，没法洗衣服，希望尽快上门维修")
			s.cli("claim", no)
			s.cli("reply", no, "您好，师傅明天上午上门")
			got := s.poll(sess, r[len(r)-1].ID, "师傅明天上午上门")
			s.cli("resolve", no, "更换电机")
			ask := s.poll(sess, got.ID, no)
			r = s.say(sess, []reply{ask}, "!已解决")
			r = s.say(sess, r, "!4")
			s.say(sess, r, "师傅很专业")

			_, evs := s.ticketEvents(t, no)
			want := expectedWebhooks(evs)
			wantFlaky := expectedWebhooks(evs, webhook.TicketCreated, webhook.TicketResolved)
			for _, typ := range webhook.Types {
				if !slices.Contains(slices.Collect(maps.Values(want)), typ) {
					t.Fatalf("the journey raised no %s: %v", typ, want)
				}
			}
			waitWithin(t, 20*time.Second, "every webhook delivered", func() bool {
				_, _, a, _, _ := crm.stats()
				_, _, b, _, _ := flaky.stats()
				return a >= len(want) && b >= len(wantFlaky)
			})
			time.Sleep(300 * time.Millisecond) // nothing more may come
			for _, c := range []struct {
				name string
				h    *hookReceiver
				want map[string]string
			}{{"crm", crm, want}, {"flaky", flaky, wantFlaky}} {
				requests, delivered, distinct, badSig, seen := c.h.stats()
				if badSig != 0 || delivered != distinct || !maps.Equal(seen, c.want) {
					t.Errorf("%s: %d requests, %d delivered, %d distinct, %d bad signatures; got %v, want %v",
						c.name, requests, delivered, distinct, badSig, seen, c.want)
				}
				t.Logf("%s: %d events, %d requests", c.name, distinct, requests)
			}
			if requests, _, _, _, _ := flaky.stats(); requests != len(wantFlaky)+3 {
				t.Errorf("flaky receiver: %d requests, want %d (3 failures retried)", requests, len(wantFlaky)+3)
			}

			// Removed: later events are not delivered to it.
			env := dbEnv(dbURL)
			if err := runWebhook(context.Background(), []string{"rm", "crm"}, io.Discard, env); err != nil {
				t.Fatal(err)
			}
			var list bytes.Buffer
			if err := runWebhook(context.Background(), []string{"list"}, &list, env); err != nil || strings.Contains(list.String(), "crm") ||
				!strings.Contains(list.String(), "flaky") || strings.Contains(list.String(), "whsec_") {
				t.Errorf("kefu webhook list after rm: %v\n%s", err, list.String())
			}
			_, _, no2 := journeyWebTicket(t, s.e2eServer, "冰箱不制冷了，里面的东西都坏了")
			waitWithin(t, 10*time.Second, "the second ticket's webhook", func() bool {
				_, _, n, _, _ := flaky.stats()
				return n == len(wantFlaky)+1
			})
			time.Sleep(200 * time.Millisecond)
			if _, _, n, _, _ := crm.stats(); n != len(want) {
				t.Errorf("the removed endpoint got %d events after %s, want %d", n, no2, len(want))
			}
		})
	}
}

// TestReadmeWebhookCommands runs the README's webhook commands exactly as written: the endpoint is
// added with its events and a secret, listed without it, removed.
func TestReadmeWebhookCommands(t *testing.T) {
	cmds := readmeCommands(t, "Webhooks")
	if len(cmds) != 5 {
		t.Fatalf("README Webhooks shows %d kefu commands, want add, list, rotate, test, rm: %q", len(cmds), cmds)
	}
	dbURL := t.TempDir() + "/kefu.db"
	t.Setenv("KEFU_DATABASE_URL", dbURL)
	recv := newSigRecorder(t, true) // stands in for https://crm.example.com
	routeAllTo(t, recv.srv)
	outs := make([]string, len(cmds))
	for i, c := range cmds {
		args := strings.Fields(c)
		if args[1] != "webhook" {
			t.Fatalf("README Webhooks: %q is not a kefu webhook command", c)
		}
		var out bytes.Buffer
		if err := runWebhook(context.Background(), args[2:], &out, os.Getenv); err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		outs[i] = out.String()
	}
	if !webhookSecret.MatchString(outs[0]) || !strings.Contains(outs[0], "survey.rated,ticket.created,ticket.resolved") {
		t.Errorf("add: %s", outs[0])
	}
	if !strings.Contains(outs[1], "https://crm.example.com/hooks/kefu") || strings.Contains(outs[1], "whsec_") {
		t.Errorf("list shows no endpoint or its secret: %s", outs[1])
	}
	added, rotated := webhookSecret.FindStringSubmatch(outs[0]), webhookSecret.FindStringSubmatch(outs[2])
	if rotated == nil || rotated[1] == added[1] || !strings.Contains(outs[2], "old secret too until") {
		t.Errorf("rotate: %s", outs[2])
	}
	h, typ, body, n := recv.last()
	if n != 1 || typ != webhook.Ping || !strings.Contains(outs[3], "answered 204") {
		t.Errorf("test: the receiver got %d requests (%q); printed %s", n, typ, outs[3])
	}
	for _, s := range []string{added[1], rotated[1]} { // --overlap 48h: both sign
		if err := webhook.Verify(s, h, body, time.Now(), time.Minute); err != nil {
			t.Errorf("test ping during the overlap: %v", err)
		}
	}
	if !strings.Contains(outs[4], "removed webhook crm") {
		t.Errorf("rm: %s", outs[4])
	}
	for _, bad := range [][]string{
		{"webhook", "add", "x", "ftp://example.com"},
		{"webhook", "add", "x", "https://example.com", "--events", "ticket.deleted"},
		{"webhook", "rm", "nope"},
		{"webhook", "add", "only-a-name"},
	} {
		var errOut bytes.Buffer
		if code := run(context.Background(), bad, io.Discard, &errOut); code == 0 || errOut.Len() == 0 {
			t.Errorf("kefu %v: exit %d, %q", bad, code, errOut.String())
		}
	}
}
