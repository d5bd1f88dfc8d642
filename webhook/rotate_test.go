package webhook

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
)

// TestSenderSignsWithBothSecretsDuringOverlap: after a rotation a delivery carries a v1 signature
// for the new secret and one for the old, until the overlap ends; then only the new one. A receiver
// still configured with the old secret verifies during the overlap and refuses after it.
func TestSenderSignsWithBothSecretsDuringOverlap(t *testing.T) {
	var mu sync.Mutex
	var sig string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		sig = r.Header.Get(HeaderSignature)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()
	oldSecret, newSecret := NewSecret(), NewSecret()
	until := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	now := until.Add(-time.Hour)
	s := &Sender{Endpoints: endpoints{3: {ID: 3, Name: "crm", URL: recv.URL, Secret: newSecret, OldSecret: oldSecret, OldSecretUntil: until}},
		Now: func() time.Time { return now }}
	body := `{"id":"evt_9","type":"survey.rated"}`
	row := bot.Reply{OutboxID: 1, Channel: Channel, ChatID: Chat(3, "GD20261203001"), Text: body}
	for _, c := range []struct {
		name        string
		at          time.Time
		v1s         int
		oldVerifies bool
	}{
		{"during the overlap", until.Add(-time.Hour), 2, true},
		{"a second before it ends", until.Add(-time.Second), 2, true},
		{"after the overlap", until.Add(time.Second), 1, false},
	} {
		now = c.at
		if _, err := s.Send(context.Background(), row); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		mu.Lock()
		h := sig
		mu.Unlock()
		if n := strings.Count(h, "v1="); n != c.v1s {
			t.Errorf("%s: header %q has %d v1 signatures, want %d", c.name, h, n, c.v1s)
		}
		if err := Verify(newSecret, h, []byte(body), c.at, time.Minute); err != nil {
			t.Errorf("%s: the new secret does not verify: %v", c.name, err)
		}
		if err := Verify(oldSecret, h, []byte(body), c.at, time.Minute); (err == nil) != c.oldVerifies {
			t.Errorf("%s: the old secret verifies = %v, want %v", c.name, err == nil, c.oldVerifies)
		}
	}
}

// TestPing: a ping goes through Send's path (signed, with the delivery headers) and reports the
// receiver's status, whether it accepted the ping or not, and a receiver that cannot be reached.
func TestPing(t *testing.T) {
	var mu sync.Mutex
	var gotType, gotID, gotBody string
	var sigOK bool
	secret := NewSecret()
	status := http.StatusOK
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		gotType, gotID, gotBody = r.Header.Get(HeaderEventType), r.Header.Get(HeaderEventID), string(b)
		sigOK = Verify(secret, r.Header.Get(HeaderSignature), b, time.Now(), time.Minute) == nil
		w.WriteHeader(status)
	}))
	defer recv.Close()
	s := &Sender{Endpoints: endpoints{3: {ID: 3, Name: "crm", URL: recv.URL, Secret: secret}, 5: {ID: 5, Name: "gone", URL: "http://127.0.0.1:1/", Secret: secret}}}
	for _, c := range []struct {
		status int
		ok     bool
	}{{200, true}, {204, true}, {500, false}, {401, false}, {410, false}} {
		mu.Lock()
		status = c.status
		mu.Unlock()
		res, err := s.Ping(context.Background(), 3)
		if err != nil {
			t.Fatalf("ping: %v", err)
		}
		mu.Lock()
		if res.Status != c.status || res.OK != c.ok || gotType != Ping || !strings.HasPrefix(gotID, "ping_") || !sigOK ||
			!strings.Contains(gotBody, `"type":"ping"`) || !strings.Contains(gotBody, `"endpoint":"crm"`) {
			t.Errorf("status %d: result %+v; receiver saw type %q id %q signature ok %v body %s", c.status, res, gotType, gotID, sigOK, gotBody)
		}
		mu.Unlock()
	}
	res, err := s.Ping(context.Background(), 5)
	if err != nil || res.OK || res.Status != 0 || res.Err == nil {
		t.Errorf("unreachable receiver: %+v, %v; want a failed result with the error", res, err)
	}
	if _, err := s.Ping(context.Background(), 9); !errors.Is(err, ErrNoEndpoint) {
		t.Errorf("ping of a removed endpoint: %v, want ErrNoEndpoint", err)
	}
}
