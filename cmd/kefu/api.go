package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/locales"
	"github.com/kefu-dev/kefu/pii"
	"github.com/kefu-dev/kefu/reports"
	"github.com/kefu-dev/kefu/storage"
	"github.com/kefu-dev/kefu/webhook"
)

// The REST API for integrations (/api/v1/, documented in api/openapi.yaml, which TestOpenAPIMatchesHandlers
// checks against apiRoutes). Every call needs "Authorization: Bearer kefu_…", a per-integration token
// (`kefu api-token create`): read tokens may list and show, write tokens may also open and change
// tickets, as the agent the token was created for (audited like any agent action). Personal data is
// masked as in Slack: integrations see 张* and 138****5678, never the customer's full name, phone or
// ID numbers. Errors are {"error": a stable machine code, "message": text in the Accept-Language
// (zh-CN by default, or en)}; the codes are listed in openapi.yaml.

// apiRoute is one documented endpoint.
type apiRoute struct {
	method, path string // path in OpenAPI form: /tickets/{no}
	write        bool
	handle       func(a *app, tok storage.APIToken, w http.ResponseWriter, r *http.Request)
}

var apiRoutes = []apiRoute{
	{"GET", "/tickets", false, apiListTickets},
	{"POST", "/tickets", true, apiCreateTicket},
	{"GET", "/tickets/{no}", false, apiShowTicket},
	{"POST", "/tickets/{no}/reply", true, apiReply},
	{"POST", "/tickets/{no}/status", true, apiSetStatus},
	{"GET", "/customers", false, apiListCustomers},
	{"GET", "/customers/{id}", false, apiShowCustomer},
	{"GET", "/reports", false, apiReport},
}

const apiPrefix = "/api/v1"

// apiErrorCodes are the machine codes of API errors (each has the locales key "api.error.<code>").
var apiErrorCodes = []string{"unauthorized", "invalid_token", "insufficient_scope", "forbidden", "not_found",
	"ticket_not_found", "customer_not_found", "bad_request", "invalid_json", "unsupported_media_type", "invalid_status",
	"invalid_limit", "invalid_date", "invalid_range", "invalid_id", "text_required", "invalid_ticket", "conflict",
	"duplicate_request", "unavailable", "internal"}

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
				w.Header().Set("WWW-Authenticate", `Bearer realm="kefu", error="insufficient_scope", scope="write"`)
				apiError(a, w, r, http.StatusForbidden, "insufficient_scope", nil)
				return
			}
			rt.handle(a, tok, w, r)
		})
	}
	mux.HandleFunc(apiPrefix+"/", func(w http.ResponseWriter, r *http.Request) {
		apiError(a, w, r, http.StatusNotFound, "not_found", nil)
	})
	return mux
}

func apiAuth(a *app, w http.ResponseWriter, r *http.Request) (storage.APIToken, bool) {
	h := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || token == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="kefu"`)
		apiError(a, w, r, http.StatusUnauthorized, "unauthorized", nil)
		return storage.APIToken{}, false
	}
	tok, err := a.db.APITokenByToken(r.Context(), token)
	if err != nil {
		if errors.Is(err, storage.ErrTokenNotFound) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="kefu", error="invalid_token"`)
			apiError(a, w, r, http.StatusUnauthorized, "invalid_token", nil)
		} else {
			apiError(a, w, r, http.StatusServiceUnavailable, "unavailable", nil)
		}
		return storage.APIToken{}, false
	}
	return tok, true
}

// apiLangs are the catalog's languages, zh-CN (the default) first.
var apiLangs = language.NewMatcher([]language.Tag{language.MustParse(locales.ZhCN), language.English})

// apiLang is the language of r's answers: the best Accept-Language match, zh-CN by default.
func apiLang(r *http.Request) string {
	tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil || len(tags) == 0 {
		return locales.ZhCN
	}
	_, i, conf := apiLangs.Match(tags...)
	if conf == language.No || i != 1 {
		return locales.ZhCN
	}
	return locales.En
}

// apiError answers {"error": code, "message": localized}; args fill the message's placeholders.
func apiError(a *app, w http.ResponseWriter, r *http.Request, status int, code string, args map[string]any) {
	w.Header().Set("Content-Language", apiLang(r))
	w.Header().Add("Vary", "Accept-Language")
	apiJSON(w, status, map[string]string{"error": code, "message": a.localizedT()(apiLang(r), "api.error."+code, args)})
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
				apiError(a, w, r, http.StatusBadRequest, "invalid_status", nil)
				return
			}
		}
	}
	n, ok := apiLimit(a, w, r)
	if !ok {
		return
	}
	f.Limit = n
	f.Assignee = q.Get("assignee")
	ts, err := a.engine.ListTickets(r.Context(), f)
	if err != nil {
		apiStoreError(a, w, r, err)
		return
	}
	apiJSON(w, http.StatusOK, map[string]any{"tickets": apiTickets(ts)})
}

// apiLimit reads ?limit= (1…500, default 50).
func apiLimit(a *app, w http.ResponseWriter, r *http.Request) (int, bool) {
	l := r.URL.Query().Get("limit")
	if l == "" {
		return 50, true
	}
	n, err := strconv.Atoi(l)
	if err != nil || n < 1 || n > 500 {
		apiError(a, w, r, http.StatusBadRequest, "invalid_limit", nil)
		return 0, false
	}
	return n, true
}

func apiShowTicket(a *app, _ storage.APIToken, w http.ResponseWriter, r *http.Request) {
	t, evs, err := a.engine.Ticket(r.Context(), r.PathValue("no"))
	if err != nil {
		apiStoreError(a, w, r, err)
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

// apiNewTicket is the body of POST /tickets (the NewTicket schema).
type apiNewTicket struct {
	Customer struct {
		ID    string `json:"id"`
		Name  string `json:"name"`
		Phone string `json:"phone"`
		Lang  string `json:"lang"`
	} `json:"customer"`
	Summary     string `json:"summary"`
	Description string `json:"description"`
	Category    string `json:"category"`
	Priority    string `json:"priority"`
}

// apiCreateTicket opens a ticket for one of the integration's customers (POST /tickets). The
// Idempotency-Key header makes a retried call safe: a retry gets the ticket the first call opened (200,
// Idempotent-Replayed: true) and opens nothing; 409 duplicate_request only while that first call has not
// committed its ticket yet.
func apiCreateTicket(a *app, tok storage.APIToken, w http.ResponseWriter, r *http.Request) {
	var body apiNewTicket
	if !apiDecode(a, w, r, &body) {
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if len(key) > 200 || len(body.Customer.ID) > 200 || len(body.Description) > 20000 || len(body.Summary) > 2000 {
		apiError(a, w, r, http.StatusBadRequest, "invalid_ticket", nil)
		return
	}
	t, err := a.engine.OpenTicket(r.Context(), apiActor(tok), bot.NewTicket{Source: tok.Name, CustomerID: body.Customer.ID,
		Name: body.Customer.Name, Phone: body.Customer.Phone, Lang: body.Customer.Lang, Category: body.Category,
		Priority: bot.Priority(strings.ToUpper(body.Priority)), Summary: body.Summary, Description: body.Description, RequestID: key})
	switch {
	case errors.Is(err, bot.ErrBadInput):
		apiError(a, w, r, http.StatusBadRequest, "invalid_ticket", nil)
		return
	case errors.Is(err, bot.ErrDuplicate):
		prev, perr := a.db.TicketOfInbound(r.Context(), string(bot.ChannelAPI), tok.Name+":"+key)
		if perr != nil {
			apiError(a, w, r, http.StatusConflict, "duplicate_request", nil)
			return
		}
		w.Header().Set("Location", apiPrefix+"/tickets/"+prev.No)
		w.Header().Set("Idempotent-Replayed", "true")
		apiJSON(w, http.StatusOK, map[string]any{"ticket": webhook.TicketOf(prev)})
		return
	case err != nil:
		apiStoreError(a, w, r, err)
		return
	}
	w.Header().Set("Location", apiPrefix+"/tickets/"+t.No)
	apiJSON(w, http.StatusCreated, map[string]any{"ticket": webhook.TicketOf(t)})
}

func apiReply(a *app, tok storage.APIToken, w http.ResponseWriter, r *http.Request) {
	var body struct {
		Text string `json:"text"`
	}
	if !apiDecode(a, w, r, &body) {
		return
	}
	if strings.TrimSpace(body.Text) == "" {
		apiError(a, w, r, http.StatusBadRequest, "text_required", nil)
		return
	}
	t, err := a.engine.Reply(r.Context(), apiActor(tok), r.PathValue("no"), body.Text)
	if err != nil {
		apiStoreError(a, w, r, err)
		return
	}
	apiJSON(w, http.StatusOK, map[string]any{"ticket": webhook.TicketOf(t)})
}

func apiSetStatus(a *app, tok storage.APIToken, w http.ResponseWriter, r *http.Request) {
	var body struct {
		Status string `json:"status"`
	}
	if !apiDecode(a, w, r, &body) {
		return
	}
	switch bot.Status(body.Status) {
	case bot.StatusInProgress, bot.StatusPending, bot.StatusResolved, bot.StatusClosed:
	default:
		apiError(a, w, r, http.StatusBadRequest, "invalid_status", nil)
		return
	}
	t, err := a.engine.SetStatus(r.Context(), apiActor(tok), r.PathValue("no"), bot.Status(body.Status))
	if err != nil {
		apiStoreError(a, w, r, err)
		return
	}
	apiJSON(w, http.StatusOK, map[string]any{"ticket": webhook.TicketOf(t)})
}

// apiCustomer is a customer as integrations see them (masked).
type apiCustomer struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Phone       string    `json:"phone"`
	Lang        string    `json:"lang"`
	Channels    []string  `json:"channels"`
	Tickets     int       `json:"tickets"`
	OpenTickets int       `json:"open_tickets"`
	CreatedAt   time.Time `json:"created_at"`
}

func toAPICustomer(c storage.CustomerSummary) apiCustomer {
	ch := c.Channels
	if ch == nil {
		ch = []string{}
	}
	return apiCustomer{ID: c.ID, Name: pii.MaskName(c.Name), Phone: pii.MaskPhone(c.Phone), Lang: c.Lang, Channels: ch,
		Tickets: c.Tickets, OpenTickets: c.OpenTickets, CreatedAt: c.CreatedAt}
}

// apiListCustomers lists customers by id, a page at a time: ?after=<the last id of the page before>.
func apiListCustomers(a *app, _ storage.APIToken, w http.ResponseWriter, r *http.Request) {
	n, ok := apiLimit(a, w, r)
	if !ok {
		return
	}
	var after int64
	if s := r.URL.Query().Get("after"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v < 0 {
			apiError(a, w, r, http.StatusBadRequest, "invalid_id", nil)
			return
		}
		after = v
	}
	cs, err := a.db.Customers(r.Context(), after, n)
	if err != nil {
		apiStoreError(a, w, r, err)
		return
	}
	out := make([]apiCustomer, len(cs))
	for i, c := range cs {
		out[i] = toAPICustomer(c)
	}
	page := map[string]any{"customers": out}
	if len(cs) == n {
		page["next_after"] = cs[len(cs)-1].ID
	}
	apiJSON(w, http.StatusOK, page)
}

func apiShowCustomer(a *app, _ storage.APIToken, w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		apiError(a, w, r, http.StatusBadRequest, "invalid_id", nil)
		return
	}
	c, err := a.db.Customer(r.Context(), id)
	if errors.Is(err, bot.ErrNotFound) {
		apiError(a, w, r, http.StatusNotFound, "customer_not_found", map[string]any{"id": id})
		return
	}
	if err != nil {
		apiStoreError(a, w, r, err)
		return
	}
	ts, err := a.engine.ListTickets(r.Context(), bot.TicketFilter{CustomerID: id, Limit: 100,
		Statuses: []bot.Status{bot.StatusOpen, bot.StatusInProgress, bot.StatusPending, bot.StatusResolved, bot.StatusClosed}})
	if err != nil {
		apiStoreError(a, w, r, err)
		return
	}
	apiJSON(w, http.StatusOK, map[string]any{"customer": toAPICustomer(c), "tickets": apiTickets(ts)})
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
				apiError(a, w, r, http.StatusBadRequest, "invalid_date", map[string]any{"param": p.key})
				return
			}
			*p.dst = d.AddDate(0, 0, p.add)
		}
	}
	if !from.Before(to) {
		apiError(a, w, r, http.StatusBadRequest, "invalid_range", nil)
		return
	}
	rep, err := reports.Compute(r.Context(), a.db, reports.Filter{From: from, To: to, Loc: a.loc, Now: now})
	if err != nil {
		apiStoreError(a, w, r, err)
		return
	}
	apiJSON(w, http.StatusOK, rep)
}

// apiActor is who a write token acts as: the agent it was created for.
func apiActor(tok storage.APIToken) bot.Actor {
	return bot.Actor{ID: tok.ActAs, Name: "api:" + tok.Name}
}

func apiDecode(a *app, w http.ResponseWriter, r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		apiError(a, w, r, http.StatusUnsupportedMediaType, "unsupported_media_type", nil)
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		apiError(a, w, r, http.StatusBadRequest, "invalid_json", nil)
		return false
	}
	return true
}

func apiStoreError(a *app, w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, bot.ErrNotFound), errors.Is(err, bot.ErrUnknownTkt):
		apiError(a, w, r, http.StatusNotFound, "ticket_not_found", map[string]any{"no": r.PathValue("no")})
	case errors.Is(err, bot.ErrForbidden):
		apiError(a, w, r, http.StatusForbidden, "forbidden", nil)
	case errors.Is(err, bot.ErrBadInput):
		apiError(a, w, r, http.StatusBadRequest, "bad_request", nil)
	case errors.Is(err, bot.ErrConflict), errors.Is(err, bot.ErrClosed):
		apiError(a, w, r, http.StatusConflict, "conflict", nil)
	default:
		ctx := r.Context()
		if ctx.Err() == nil {
			ctx = context.WithoutCancel(ctx)
		}
		a.log.ErrorContext(ctx, "api: request failed", "err", err, "request_id", requestID(ctx))
		apiError(a, w, r, http.StatusInternalServerError, "internal", map[string]any{"request_id": requestID(ctx)})
	}
}

// apiTickets is ts as the API (and the webhooks) show tickets.
func apiTickets(ts []bot.Ticket) []webhook.Ticket {
	out := make([]webhook.Ticket, len(ts))
	for i, t := range ts {
		out[i] = webhook.TicketOf(t)
	}
	return out
}
