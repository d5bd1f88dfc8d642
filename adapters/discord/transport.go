package discord

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// discordHost is the host discordgo's Endpoint* variables point at. They are computed at package
// init, so changing discordgo.EndpointAPI redirects nothing; instead every request passes through
// rewriteTransport, which keeps the session free of globals (tests run in parallel).
const discordHost = "discord.com"

// rewriteTransport sends discord.com requests to base (scheme, host and optional path prefix kept
// from base) and, when gateway is set, answers GET /gateway and /gateway/bot itself so discordgo
// connects to that websocket URL instead of the one the REST API hands out.
type rewriteTransport struct {
	base    *url.URL // nil: leave the request's host alone
	gateway string   // "": ask the REST API
	next    http.RoundTripper
}

func (t *rewriteTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != discordHost {
		return t.next.RoundTrip(req)
	}
	if t.gateway != "" && req.Method == http.MethodGet && isGatewayPath(req.URL.Path) {
		return gatewayResponse(req, t.gateway)
	}
	if t.base == nil {
		return t.next.RoundTrip(req)
	}
	out := req.Clone(req.Context())
	u := *req.URL
	u.Scheme = t.base.Scheme
	u.Host = t.base.Host
	u.Path = strings.TrimSuffix(t.base.Path, "/") + req.URL.Path
	if req.URL.RawPath != "" {
		u.RawPath = strings.TrimSuffix(t.base.EscapedPath(), "/") + req.URL.RawPath
	}
	out.URL = &u
	out.Host = u.Host
	return t.next.RoundTrip(out)
}

func isGatewayPath(p string) bool {
	p = strings.TrimSuffix(p, "/")
	return strings.HasSuffix(p, "/gateway") || strings.HasSuffix(p, "/gateway/bot")
}

// gatewayResponse is what Discord answers to GET /gateway(/bot), pointing at the configured URL.
func gatewayResponse(req *http.Request, gw string) (*http.Response, error) {
	body, err := json.Marshal(map[string]any{
		"url":    gw,
		"shards": 1,
		"session_start_limit": map[string]int{
			"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("discord: gateway response: %w", err)
	}
	return &http.Response{
		Status:        "200 OK",
		StatusCode:    http.StatusOK,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": []string{"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}, nil
}
