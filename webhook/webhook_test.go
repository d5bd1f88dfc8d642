package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
)

func TestSignVerify(t *testing.T) {
	secret := NewSecret()
	if !strings.HasPrefix(secret, SecretPrefix) || len(secret) < 40 || secret == NewSecret() {
		t.Fatalf("secret %q: want a fresh whsec_ secret of 32 random bytes", secret)
	}
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"id":"evt_1","type":"ticket.created"}`)
	good := Sign(secret, now, body)
	if !strings.HasPrefix(good, "t=1800000000,v1=") {
		t.Fatalf("header %q", good)
	}
	for _, c := range []struct {
		name, secret, header string
		body                 []byte
		at                   time.Time
		want                 error
	}{
		{"valid", secret, good, body, now, nil},
		{"valid within tolerance", secret, good, body, now.Add(4 * time.Minute), nil},
		{"second v1 matches (rotation)", secret, "t=1800000000,v1=00ff," + strings.Split(good, ",")[1], body, now, nil},
		{"tampered body", secret, good, []byte(`{"id":"evt_1","type":"ticket.resolved"}`), now, ErrBadSignature},
		{"wrong secret", NewSecret(), good, body, now, ErrBadSignature},
		{"timestamp changed", secret, strings.Replace(good, "t=1800000000", "t=1800000001", 1), body, now, ErrBadSignature},
		{"replayed later", secret, good, body, now.Add(6 * time.Minute), ErrStale},
		{"from the future", secret, good, body, now.Add(-6 * time.Minute), ErrStale},
		{"no v1", secret, "t=1800000000", body, now, ErrMalformed},
		{"no timestamp", secret, strings.Split(good, ",")[1], body, now, ErrMalformed},
		{"garbage", secret, "sha256=abc", body, now, ErrMalformed},
		{"empty", secret, "", body, now, ErrMalformed},
	} {
		if err := Verify(c.secret, c.header, c.body, c.at, 5*time.Minute); !errors.Is(err, c.want) {
			t.Errorf("%s: Verify = %v, want %v", c.name, err, c.want)
		}
	}
}

func TestTypeOf(t *testing.T) {
	for _, c := range []struct {
		ev   bot.TicketEvent
		want string
	}{
		{bot.TicketEvent{Kind: bot.EvCreated}, TicketCreated},
		{bot.TicketEvent{Kind: bot.EvResolved}, TicketResolved},
		{bot.TicketEvent{Kind: bot.EvStatus, Text: "in_progress->resolved"}, TicketResolved},
		{bot.TicketEvent{Kind: bot.EvStatus, Text: "open->in_progress"}, TicketUpdated},
		{bot.TicketEvent{Kind: bot.EvAssigned, Text: "->cli:bob"}, TicketUpdated},
		{bot.TicketEvent{Kind: bot.EvAgentReply}, TicketUpdated},
		{bot.TicketEvent{Kind: bot.EvCustomerMessage}, TicketUpdated},
		{bot.TicketEvent{Kind: bot.EvClosed}, TicketUpdated},
		{bot.TicketEvent{Kind: bot.EvRated, Text: "5"}, SurveyRated},
		{bot.TicketEvent{Kind: bot.EvNote, Internal: true}, ""},
		{bot.TicketEvent{Kind: bot.EvEscalated, Internal: true}, ""}, // complaint bookkeeping
		{bot.TicketEvent{Kind: bot.EvSLA}, ""},
		{bot.TicketEvent{Kind: "complaint_level", Internal: true}, ""},
	} {
		got, ok := TypeOf(c.ev)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("TypeOf(%s %q internal=%v) = %q %v, want %q", c.ev.Kind, c.ev.Text, c.ev.Internal, got, ok, c.want)
		}
	}
}

func TestPayloadMasksPersonalData(t *testing.T) {
	tk := bot.Ticket{No: "GD20261203001", Status: bot.StatusOpen, CustomerName: "王小明", CustomerPhone: "13812345678",
		Summary: "王小明的快递丢了，电话 13812345678", Channel: bot.ChannelWeb}
	b, err := json.Marshal(NewPayload(42, TicketCreated, bot.TicketEvent{Kind: bot.EvCreated, Actor: "customer", At: time.Now()}, tk))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, secret := range []string{"王小明", "13812345678"} {
		if strings.Contains(s, secret) {
			t.Errorf("payload leaks %q: %s", secret, s)
		}
	}
	for _, want := range []string{`"id":"evt_42"`, `"type":"ticket.created"`, `"change":"created"`, `"customer":"王*"`, `138****5678`} {
		if !strings.Contains(s, want) {
			t.Errorf("payload lacks %s: %s", want, s)
		}
	}
}

type endpoints map[int64]Endpoint

func (e endpoints) WebhookEndpoint(_ context.Context, id int64) (Endpoint, error) {
	if ep, ok := e[id]; ok {
		return ep, nil
	}
	return Endpoint{}, ErrNoEndpoint
}

// TestSenderOutcomes: the receiver's answer decides what the dispatcher does with the row.
func TestSenderOutcomes(t *testing.T) {
	var status atomic.Int32
	var gotSig, gotID, gotType, gotDelivery atomic.Value
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotSig.Store(r.Header.Get(HeaderSignature))
		gotID.Store(r.Header.Get(HeaderEventID))
		gotType.Store(r.Header.Get(HeaderEventType))
		gotDelivery.Store(r.Header.Get(HeaderDelivery))
		switch code := int(status.Load()); code {
		case 302:
			http.Redirect(w, r, "http://example.invalid/", code)
		case 429:
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(code)
		case 0:
			time.Sleep(300 * time.Millisecond) // slower than the client's timeout
		default:
			w.WriteHeader(code)
		}
	}))
	defer recv.Close()
	secret := NewSecret()
	s := &Sender{Endpoints: endpoints{3: {ID: 3, Name: "crm", URL: recv.URL, Secret: secret}},
		Client: &http.Client{Timeout: 100 * time.Millisecond, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	body := `{"id":"evt_9","type":"survey.rated"}`
	row := bot.Reply{OutboxID: 77, Channel: Channel, ChatID: Chat(3, "GD20261203001"), Text: body}
	for _, c := range []struct {
		status    int32
		ok        bool
		permanent bool
		wait      time.Duration
	}{
		{200, true, false, 0},
		{204, true, false, 0},
		{500, false, false, 0},
		{0, false, false, 0}, // timeout
		{302, false, false, 0},
		{404, false, false, 0},
		{429, false, false, 7 * time.Second},
		{410, false, true, 0},
	} {
		status.Store(c.status)
		_, err := s.Send(context.Background(), row)
		var perm *bot.PermanentError
		var rl *bot.RateLimitedError
		switch {
		case (err == nil) != c.ok:
			t.Errorf("status %d: err %v", c.status, err)
		case errors.As(err, &perm) != c.permanent:
			t.Errorf("status %d: permanent %v: %v", c.status, !c.permanent, err)
		case c.wait > 0 && (!errors.As(err, &rl) || rl.Wait != c.wait):
			t.Errorf("status %d: want a rate limit of %v: %v", c.status, c.wait, err)
		}
		if err := Verify(secret, gotSig.Load().(string), []byte(body), time.Now(), time.Minute); err != nil {
			t.Errorf("status %d: signature: %v", c.status, err)
		}
		if gotID.Load() != "evt_9" || gotType.Load() != "survey.rated" || gotDelivery.Load() != "77" {
			t.Errorf("status %d: headers id %v type %v delivery %v", c.status, gotID.Load(), gotType.Load(), gotDelivery.Load())
		}
	}
	// A removed endpoint: given up at once, nothing posted.
	row.ChatID = Chat(4, "GD20261203001")
	var perm *bot.PermanentError
	if _, err := s.Send(context.Background(), row); !errors.As(err, &perm) {
		t.Errorf("removed endpoint: %v, want a permanent error", err)
	}
}
