package console

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/kefu-dev/kefu/webhook"
)

// The admins' Webhooks page (issue 16): the outbound webhook endpoints (`kefu webhook add`; never
// their secrets) with a test button per endpoint that posts a signed ping through the webhook sender —
// the path every event takes — and shows the receiver's answer, as `kefu webhook test NAME` does.

// WebhookPinger sends a test ping to an endpoint (webhook.Sender).
type WebhookPinger interface {
	Ping(ctx context.Context, id int64) (webhook.PingResult, error)
}

// webhooksData is the webhooks page's data.
type webhooksData struct {
	Endpoints []webhook.Endpoint
	Result    *webhook.PingResult
}

func (c *Console) webhookRoutes() {
	if c.o.Webhooks == nil {
		return
	}
	c.mux.HandleFunc("GET /console/webhooks", c.auth(RoleAdmin, func(w http.ResponseWriter, r *http.Request, s session) {
		c.renderWebhooks(w, r, s, http.StatusOK, nil)
	}))
	c.mux.HandleFunc("POST /console/webhooks/test", c.auth(RoleAdmin, c.webhookTest))
}

func (c *Console) webhookTest(w http.ResponseWriter, r *http.Request, s session) {
	ctx := r.Context()
	ep, err := c.o.DB.WebhookByName(ctx, strings.TrimSpace(r.PostFormValue("name")))
	if errors.Is(err, webhook.ErrNoEndpoint) {
		p := c.webhooksPage(r, s)
		p.Error = c.t(p.Lang, "console.webhooks.unknown")
		c.renderWebhooksPage(w, r, p, http.StatusNotFound, nil)
		return
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res, err := c.o.Webhooks.Ping(ctx, ep.ID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.log.InfoContext(ctx, "console webhook test", "user", s.user.Name, "webhook", ep.Name, "status", res.Status, "ok", res.OK)
	c.renderWebhooks(w, r, s, http.StatusOK, &res)
}

func (c *Console) webhooksPage(r *http.Request, s session) page {
	return page{Lang: c.lang(r, s), User: s.user, CSRF: s.csrf, IsAdmin: true, CanExp: true}
}

func (c *Console) renderWebhooks(w http.ResponseWriter, r *http.Request, s session, status int, res *webhook.PingResult) {
	c.renderWebhooksPage(w, r, c.webhooksPage(r, s), status, res)
}

func (c *Console) renderWebhooksPage(w http.ResponseWriter, r *http.Request, p page, status int, res *webhook.PingResult) {
	eps, err := c.o.DB.Webhooks(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	p.Webhooks = &webhooksData{Endpoints: eps, Result: res}
	c.render(w, r, status, "webhooks.html", p)
}

// PingError is a failed ping's error for the page.
func (p page) PingError(res *webhook.PingResult) string {
	if res == nil || res.Err == nil {
		return ""
	}
	return res.Err.Error()
}

// StatusText is the reason phrase of an HTTP status.
func (p page) StatusText(code int) string { return http.StatusText(code) }
