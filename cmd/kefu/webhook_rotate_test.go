package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/webhook"
)

// sigRecorder is a receiver that keeps the last request's signature header and body and answers
// status.
type sigRecorder struct {
	mu     sync.Mutex
	srv    *httptest.Server
	header string
	typ    string
	body   []byte
	n      int
	status int
}

func newSigRecorder(t testing.TB, tls bool) *sigRecorder {
	r := &sigRecorder{status: http.StatusNoContent}
	h := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.header, r.typ, r.body, r.n = req.Header.Get(webhook.HeaderSignature), req.Header.Get(webhook.HeaderEventType), b, r.n+1
		status := r.status
		r.mu.Unlock()
		w.WriteHeader(status)
	})
	if tls {
		r.srv = httptest.NewTLSServer(h)
	} else {
		r.srv = httptest.NewServer(h)
	}
	t.Cleanup(r.srv.Close)
	return r
}

func (r *sigRecorder) last() (header, typ string, body []byte, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.header, r.typ, r.body, r.n
}

var rotatedSecret = regexp.MustCompile(`signing secret \(shown once\): (whsec_\S+)`)

// TestWebhookRotateAndTest: `kefu webhook rotate` prints a new secret; during the overlap the test
// ping (and every delivery: same path) verifies with the old and with the new secret, so a receiver
// switches without refusing anything; a rotation with --overlap 0 stops the old secret at once. `kefu
// webhook test` reports the receiver's status and fails (exit 1) when it refuses the ping.
func TestWebhookRotateAndTest(t *testing.T) {
	for name, dsn := range testDatabases(t) {
		t.Run(name, func(t *testing.T) {
			dbURL := dsn(t)
			env := dbEnv(dbURL)
			recv := newSigRecorder(t, false)
			kefu := func(args ...string) (string, error) {
				var out bytes.Buffer
				err := runWebhook(context.Background(), args, &out, env)
				return out.String(), err
			}
			out, err := kefu("add", "crm", recv.srv.URL+"/hooks")
			if err != nil {
				t.Fatal(err)
			}
			first := rotatedSecret.FindStringSubmatch(out)[1]

			out, err = kefu("rotate", "crm", "--overlap", "1h")
			m := rotatedSecret.FindStringSubmatch(out)
			if err != nil || m == nil || m[1] == first || !strings.Contains(out, "old secret too until") {
				t.Fatalf("rotate: %v\n%s", err, out)
			}
			second := m[1]
			list, _ := kefu("list")
			if strings.Contains(list, "whsec_") || !regexp.MustCompile(`crm .* \d{4}-\d\d-\d\d \d\d:\d\d\s*\n`).MatchString(list) || strings.Contains(list, "–\n") {
				t.Errorf("list during the overlap shows no end of it (or a secret):\n%s", list)
			}

			out, err = kefu("test", "crm")
			h, typ, body, _ := recv.last()
			if err != nil || !strings.Contains(out, "answered 204") || typ != webhook.Ping {
				t.Fatalf("test: %v, type %q\n%s", err, typ, out)
			}
			for _, s := range []string{first, second} {
				if err := webhook.Verify(s, h, body, time.Now(), time.Minute); err != nil {
					t.Errorf("during the overlap a receiver with secret %.10s… refuses the ping: %v (%s)", s, err, h)
				}
			}

			out, err = kefu("rotate", "crm", "--overlap", "0")
			third := rotatedSecret.FindStringSubmatch(out)
			if err != nil || third == nil || !strings.Contains(out, "signs nothing more") {
				t.Fatalf("rotate --overlap 0: %v\n%s", err, out)
			}
			if _, err := kefu("test", "crm"); err != nil {
				t.Fatal(err)
			}
			h, _, body, _ = recv.last()
			if err := webhook.Verify(third[1], h, body, time.Now(), time.Minute); err != nil || strings.Count(h, "v1=") != 1 {
				t.Errorf("after a rotation without overlap: %v, header %s (want one v1, the new secret)", err, h)
			}
			for _, s := range []string{first, second} {
				if webhook.Verify(s, h, body, time.Now(), time.Minute) == nil {
					t.Errorf("an old secret %.10s… still verifies after a rotation without overlap", s)
				}
			}
			if list, _ := kefu("list"); !strings.Contains(list, "–\n") {
				t.Errorf("list shows an overlap after --overlap 0:\n%s", list)
			}

			// A receiver that refuses: the status is reported, the command fails.
			recv.mu.Lock()
			recv.status = http.StatusUnauthorized
			recv.mu.Unlock()
			t.Setenv("KEFU_DATABASE_URL", dbURL)
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), []string{"webhook", "test", "crm"}, &stdout, &stderr)
			if code == 0 || !strings.Contains(stdout.String()+stderr.String(), "401") {
				t.Errorf("test against a 401 receiver: exit %d\n%s%s", code, stdout.String(), stderr.String())
			}
			for _, bad := range [][]string{{"rotate", "nope"}, {"test", "nope"}, {"rotate", "crm", "--overlap", "-1h"}, {"rotate"}, {"test"}} {
				if _, err := kefu(bad...); err == nil {
					t.Errorf("kefu webhook %v: no error", bad)
				}
			}
		})
	}
}

// routeAllTo makes http.DefaultTransport (the webhook sender's) connect every request to srv and
// trust its certificate, so that the README's commands run as written against a local receiver.
func routeAllTo(t *testing.T, srv *httptest.Server) {
	orig := http.DefaultTransport
	tr := orig.(*http.Transport).Clone()
	addr := srv.Listener.Addr().String()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} // the test server's certificate is for 127.0.0.1
	http.DefaultTransport = tr
	t.Cleanup(func() { http.DefaultTransport = orig })
}
