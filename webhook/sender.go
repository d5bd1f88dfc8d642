package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-dev/kefu/bot"
)

// Endpoint is a receiver of webhooks.
type Endpoint struct {
	ID        int64
	Name      string
	URL       string
	Secret    string   // signing secret (whsec_…)
	Events    []string // subscribed event types
	CreatedAt time.Time
	// OldSecret is the secret a rotation replaced (`kefu webhook rotate`): deliveries are signed with
	// it too until OldSecretUntil, so that receivers can switch to the new one without refusing any.
	OldSecret      string
	OldSecretUntil time.Time
}

// SigningSecrets are the secrets a delivery at now is signed with: the current one, and the one a
// rotation replaced while its overlap lasts.
func (e Endpoint) SigningSecrets(now time.Time) []string {
	if e.OldSecret != "" && now.Before(e.OldSecretUntil) {
		return []string{e.Secret, e.OldSecret}
	}
	return []string{e.Secret}
}

// Wants reports whether the endpoint subscribed to typ.
func (e Endpoint) Wants(typ string) bool {
	for _, t := range e.Events {
		if t == typ {
			return true
		}
	}
	return false
}

// ErrNoEndpoint means the endpoint was removed.
var ErrNoEndpoint = errors.New("webhook: no such endpoint")

// Endpoints looks endpoints up (storage.DB implements it). It returns ErrNoEndpoint for a removed one.
type Endpoints interface {
	WebhookEndpoint(ctx context.Context, id int64) (Endpoint, error)
}

// Chat is the outbox chat id of endpoint's deliveries about ticket no: deliveries of one chat go out
// in order, one at a time.
func Chat(endpointID int64, ticketNo string) string {
	return strconv.FormatInt(endpointID, 10) + ":" + ticketNo
}

func endpointOf(chat string) (int64, error) {
	id, _, _ := strings.Cut(chat, ":")
	return strconv.ParseInt(id, 10, 64)
}

// Sender is the bot.Adapter of channel "webhook": Send posts one outbox row's payload to its endpoint.
type Sender struct {
	Endpoints Endpoints
	// Client makes the requests (default: a 15 s timeout and no redirects — a redirect is answered as
	// a failure, since following it would re-post the signed body somewhere not configured).
	Client    *http.Client
	UserAgent string
	Now       func() time.Time
}

var _ bot.Adapter = (*Sender)(nil)

// Channel implements bot.Adapter.
func (s *Sender) Channel() bot.Channel { return Channel }

// Run implements bot.Adapter: webhooks receive nothing.
func (s *Sender) Run(ctx context.Context, _ bot.Sink) error {
	<-ctx.Done()
	return nil
}

var defaultClient = &http.Client{
	Timeout:       15 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// Send implements bot.Adapter. A 2xx answer is a delivery; 410 Gone gives up on the row at once; 429
// with Retry-After waits as asked (at most an hour); anything else, a timeout or a refused connection
// is retried with the dispatcher's backoff. The "message id" is the receiver's HTTP status.
func (s *Sender) Send(ctx context.Context, r bot.Reply) (string, error) {
	epID, err := endpointOf(r.ChatID)
	if err != nil {
		return "", &bot.PermanentError{Err: fmt.Errorf("webhook: bad chat id %q", r.ChatID)}
	}
	ep, err := s.Endpoints.WebhookEndpoint(ctx, epID)
	if errors.Is(err, ErrNoEndpoint) {
		return "", &bot.PermanentError{Err: fmt.Errorf("webhook endpoint %d was removed", epID)}
	}
	if err != nil {
		return "", err
	}
	code, resp, err := s.post(ctx, ep, r.OutboxID, []byte(r.Text))
	if err != nil {
		return "", err
	}
	switch {
	case code >= 200 && code < 300:
		return strconv.Itoa(code), nil
	case code == http.StatusGone:
		return "", &bot.PermanentError{Err: fmt.Errorf("webhook %s: the endpoint answered 410 Gone", ep.Name)}
	case code == http.StatusTooManyRequests:
		if secs, err := strconv.Atoi(resp.Get("Retry-After")); err == nil && secs > 0 {
			return "", &bot.RateLimitedError{Wait: min(time.Duration(secs)*time.Second, time.Hour)}
		}
	}
	return "", fmt.Errorf("webhook %s: the endpoint answered %d %s", ep.Name, code, http.StatusText(code))
}

// post signs body (a Payload) and posts it to ep: the one delivery path of events and pings. It
// returns the receiver's status and headers; an error means no answer (or a body that is no payload).
func (s *Sender) post(ctx context.Context, ep Endpoint, delivery int64, body []byte) (int, http.Header, error) {
	var head struct{ ID, Type string }
	if err := json.Unmarshal(body, &head); err != nil || head.ID == "" {
		return 0, nil, &bot.PermanentError{Err: fmt.Errorf("webhook: delivery %d holds no payload", delivery)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(body))
	if err != nil {
		return 0, nil, &bot.PermanentError{Err: fmt.Errorf("webhook %s: %w", ep.Name, err)}
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	req.Header.Set("Content-Type", "application/json")
	ua := s.UserAgent
	if ua == "" {
		ua = "kefu-webhook"
	}
	req.Header.Set("User-Agent", ua)
	req.Header.Set(HeaderEventID, head.ID)
	req.Header.Set(HeaderEventType, head.Type)
	req.Header.Set(HeaderDelivery, strconv.FormatInt(delivery, 10))
	t := now()
	req.Header.Set(HeaderSignature, SignAll(ep.SigningSecrets(t), t, body))
	c := s.Client
	if c == nil {
		c = defaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		// The URL is the operator's; the error text names it without any secret.
		return 0, nil, fmt.Errorf("webhook %s: %w", ep.Name, err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode, resp.Header, nil
}

// PingResult is what a test ping found: the receiver's HTTP status (0: no answer, see Err), whether
// it accepted the ping (2xx) and how long the request took.
type PingResult struct {
	Endpoint string
	EventID  string
	Status   int
	OK       bool
	Took     time.Duration
	Err      error
}

// Ping posts a signed "ping" event to endpoint id through the delivery path of every event (same
// signature, with both secrets during a rotation's overlap, same headers, client and redirect rule)
// and reports the receiver's answer. It is sent at once, not queued: its point is the answer. The
// error is for the endpoint lookup (ErrNoEndpoint); a receiver that fails is a result, not an error.
func (s *Sender) Ping(ctx context.Context, id int64) (PingResult, error) {
	ep, err := s.Endpoints.WebhookEndpoint(ctx, id)
	if err != nil {
		return PingResult{}, err
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	p := NewPing(ep.Name, now())
	body, err := json.Marshal(p)
	if err != nil {
		return PingResult{}, fmt.Errorf("webhook %s: ping: %w", ep.Name, err)
	}
	start := time.Now()
	code, _, err := s.post(ctx, ep, 0, body)
	return PingResult{Endpoint: ep.Name, EventID: p.ID, Status: code, OK: err == nil && code >= 200 && code < 300, Took: time.Since(start), Err: err}, nil
}
