package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/reports"
	"github.com/kefu-dev/kefu/storage"
	"github.com/kefu-dev/kefu/webhook"
)

// The REST API for integrations (/api/v1/, documented in api/openapi.yaml, which TestOpenAPIMatchesHandlers
// checks against apiRoutes). Every call needs "Authorization: Bearer kefu_…", a per-integration token
// (`kefu api-token create`): read tokens may list and show, write tokens may also change tickets,
// as the agent the token was created for (audited like any agent action). Personal data is masked as
// in Slack: integrations see 张* and 138****5678, never the customer's full name, phone or ID numbers.

// apiRoute is one documented endpoint.
type apiRoute struct {
	method, path string // path in OpenAPI form: /tickets/{no}
	write        bool
	handle       func(a *app, tok storage.APIToken, w http.ResponseWriter, r *http.Request)
}

var apiRoutes = []apiRoute{
	{"GET", "/tickets", false, apiListTickets},
	{"GET", "/tickets/{no}", false, apiShowTicket},
	{"POST", "/tickets/{no}/reply", true, apiReply},
	{"POST", "/tickets/{no}/status", true, apiSetStatus},
	{"GET", "/reports", false, apiReport},
}

const apiPrefix = "/api/v1"

// newAPI returns the /api/v1/ handler.
func newAPI(a *app) http.Handler {
	mux := http.NewServeMux()
	for _, rt := range apiRoutes {
		mux.HandleFunc(rt.method+" "+apiPrefix+rt.path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "no-store")
			tok, ok := apiAuth(a, w, r)
			if !ok {
				return
			}
			if rt.write && tok.Scope != "write" {
				apiError(w, http.StatusForbidden, "forbidden", "this token may only read (scope read)")
				return
			}
			rt.handle(a, tok, w, r)
		})
	}
	mux.HandleFunc(apiPrefix+"/", func(w http.ResponseWriter, r *http.Request) {
		apiError(w, http.StatusNotFound, "not_found", "no such API endpoint (see api/openapi.yaml)")
	})
	return mux
}

func apiAuth(a *app, w http.ResponseWriter, r *http.Request) (storage.APIToken, bool) {
	h := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || token == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="kefu"`)
		apiError(w, http.StatusUnauthorized, "unauthorized", "send Authorization: Bearer <token> (kefu api-token create)")
		return storage.APIToken{}, false
	}
	tok, err := a.db.APITokenByToken(r.Context(), token)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="kefu", error="invalid_token"`)
		if errors.Is(err, storage.ErrTokenNotFound) {
			apiError(w, http.StatusUnauthorized, "unauthorized", "unknown or revoked token")
		} else {
			apiError(w, http.StatusServiceUnavailable, "unavailable", "the database is unavailable")
		}
		return storage.APIToken{}, false
	}
	return tok, true
}

func apiError(w http.ResponseWriter, code int, kind, msg string) {
	apiJSON(w, code, map[string]string{"error": kind, "message": msg})
}

func apiJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func apiListTickets(a *app, _ storage.APIToken, w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := bot.TicketFilter{Limit: 50}
	if s := q.Get("status"); s != "" {
		for _, st := range strings.Split(s, ",") {
			switch bot.Status(st) {
			case bot.StatusOpen, bot.StatusInProgress, bot.StatusPending, bot.StatusResolved, bot.StatusClosed:
				f.Statuses = append(f.Statuses, bot.Status(st))
			default:
				apiError(w, http.StatusBadRequest, "bad_request", "status: open, in_progress, pending, resolved or closed (comma-separated)")
				return
			}
		}
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 500 {
			apiError(w, http.StatusBadRequest, "bad_request", "limit: 1…500")
			return
		}
		f.Limit = n
	}
	f.Assignee = q.Get("assignee")
	ts, err := a.engine.ListTickets(r.Context(), f)
	if err != nil {
		apiStoreError(a, w, r.Context(), err)
		return
	}
	out := make([]webhook.Ticket, len(ts))
	for i, t := range ts {
		out[i] = webhook.TicketOf(t)
	}
	apiJSON(w, http.StatusOK, map[string]any{"tickets": out})
}

func apiShowTicket(a *app, _ storage.APIToken, w http.ResponseWriter, r *http.Request) {
	t, evs, err := a.engine.Ticket(r.Context(), r.PathValue("no"))
	if err != nil {
		apiStoreError(a, w, r.Context(), err)
		return
	}
	m := t.Masker()
	type event struct {
		Kind  string    `json:"kind"`
		Actor string    `json:"actor"`
		Text  string    `json:"text"`
		At    time.Time `json:"at"`
	}
	out := make([]event, len(evs))
	for i, e := range evs {
		out[i] = event{Kind: string(e.Kind), Actor: e.Actor, Text: m.Text(e.Text), At: e.At}
	}
	apiJSON(w, http.StatusOK, map[string]any{"ticket": webhook.TicketOf(t), "events": out})
}

func apiReply(a *app, tok storage.APIToken, w http.ResponseWriter, r *http.Request) {
	var body struct {
		Text string `json:"text"`
	}
	if !apiDecode(w, r, &body) {
		return
	}
	if strings.TrimSpace(body.Text) == "" {
		apiError(w, http.StatusBadRequest, "bad_request", "text is required")
		return
	}
	t, err := a.engine.Reply(r.Context(), apiActor(tok), r.PathValue("no"), body.Text)
	if err != nil {
		apiStoreError(a, w, r.Context(), err)
		return
	}
	apiJSON(w, http.StatusOK, map[string]any{"ticket": webhook.TicketOf(t)})
}

func apiSetStatus(a *app, tok storage.APIToken, w http.ResponseWriter, r *http.Request) {
	var body struct {
		Status string `json:"status"`
	}
	if !apiDecode(w, r, &body) {
		return
	}
	switch bot.Status(body.Status) {
	case bot.StatusInProgress, bot.StatusPending, bot.StatusResolved, bot.StatusClosed:
	default:
		apiError(w, http.StatusBadRequest, "bad_request", "status: in_progress, pending, resolved or closed")
		return
	}
	t, err := a.engine.SetStatus(r.Context(), apiActor(tok), r.PathValue("no"), bot.Status(body.Status))
	if err != nil {
		apiStoreError(a, w, r.Context(), err)
		return
	}
	apiJSON(w, http.StatusOK, map[string]any{"ticket": webhook.TicketOf(t)})
}

func apiReport(a *app, _ storage.APIToken, w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	now := time.Now()
	to := now.In(a.loc)
	to = time.Date(to.Year(), to.Month(), to.Day(), 0, 0, 0, 0, a.loc).AddDate(0, 0, 1)
	from := to.AddDate(0, 0, -30)
	for _, p := range []struct {
		key string
		dst *time.Time
		add int
	}{{"from", &from, 0}, {"to", &to, 1}} {
		if v := q.Get(p.key); v != "" {
			d, err := time.ParseInLocation("2006-01-02", v, a.loc)
			if err != nil {
				apiError(w, http.StatusBadRequest, "bad_request", p.key+": YYYY-MM-DD")
				return
			}
			*p.dst = d.AddDate(0, 0, p.add)
		}
	}
	if !from.Before(to) {
		apiError(w, http.StatusBadRequest, "bad_request", "from must not be after to")
		return
	}
	rep, err := reports.Compute(r.Context(), a.db, reports.Filter{From: from, To: to, Loc: a.loc, Now: now})
	if err != nil {
		apiStoreError(a, w, r.Context(), err)
		return
	}
	apiJSON(w, http.StatusOK, rep)
}

// apiActor is who a write token acts as: the agent it was created for.
func apiActor(tok storage.APIToken) bot.Actor {
	return bot.Actor{ID: tok.ActAs, Name: "api:" + tok.Name}
}

func apiDecode(w http.ResponseWriter, r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		apiError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "send Content-Type: application/json")
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		apiError(w, http.StatusBadRequest, "bad_request", "malformed JSON body")
		return false
	}
	return true
}

func apiStoreError(a *app, w http.ResponseWriter, ctx context.Context, err error) {
	switch {
	case errors.Is(err, bot.ErrNotFound), errors.Is(err, bot.ErrUnknownTkt):
		apiError(w, http.StatusNotFound, "not_found", "no such ticket")
	case errors.Is(err, bot.ErrForbidden):
		apiError(w, http.StatusForbidden, "forbidden", "the token's agent may not act on tickets (see agents: in kefu.yaml)")
	case errors.Is(err, bot.ErrBadInput):
		apiError(w, http.StatusBadRequest, "bad_request", "the ticket cannot change that way")
	case errors.Is(err, bot.ErrConflict):
		apiError(w, http.StatusConflict, "conflict", "the ticket cannot change that way now")
	default:
		a.log.ErrorContext(ctx, "api: request failed", "err", err, "request_id", requestID(ctx))
		apiError(w, http.StatusInternalServerError, "internal", "the request failed; see the server log (request id in X-Request-Id)")
	}
}
