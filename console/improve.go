package console

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/improve"
)

// Improvement pages (package improve): records, their actions and effect check, targets. Agents see
// and move the actions they own; supervisors see and do everything. Every form carries the CSRF
// token (auth checks it); bad input re-renders the form with the localized problem and stores nothing.

// improveData is page.Improve on the improvement pages.
type improveData struct {
	Records  []improve.Record
	Record   *improve.Record
	Actions  []improve.Action
	Effect   *improve.Effect
	Targets  []improve.TargetStatus
	Agents   []bot.AgentConfig
	Metrics  []string
	States   map[int64][]string // the states each action may move to
	Form     url.Values         // the values of a form that failed, or the prefilled ones
	Category string
}

func (c *Console) improveRoutes() {
	if c.o.Improve == nil {
		return
	}
	c.mux.HandleFunc("GET /console/improve", c.auth(RoleAgent, c.improveList))
	c.mux.HandleFunc("GET /console/improve/new", c.auth(RoleSupervisor, c.improveNew))
	c.mux.HandleFunc("POST /console/improve", c.auth(RoleSupervisor, c.improveCreate))
	c.mux.HandleFunc("GET /console/improve/{no}", c.auth(RoleAgent, c.improveRecord))
	c.mux.HandleFunc("POST /console/improve/{no}/actions", c.auth(RoleSupervisor, c.improveAddAction))
	c.mux.HandleFunc("POST /console/improve/actions/{id}/state", c.auth(RoleAgent, c.improveState))
	c.mux.HandleFunc("GET /console/targets", c.auth(RoleSupervisor, c.targetsPage))
	c.mux.HandleFunc("POST /console/targets", c.auth(RoleSupervisor, c.setTarget))
}

// improveActor is the signed-in account as the improvement service knows it: the account's agent id
// (so agents act on the actions they own), else "console:<name>"; supervisors and admins are supervisors.
func (c *Console) improveActor(s session) (string, *improve.Service) {
	id := s.user.AgentID
	if id == "" {
		id = "console:" + s.user.Name
	}
	return id, c.o.Improve.Trusting(id, rank(s.user.Role) >= rank(RoleSupervisor))
}

func (c *Console) improvePage(r *http.Request, s session, d *improveData) page {
	return page{c: c, Lang: c.lang(r, s), User: s.user, CSRF: s.csrf, Now: c.o.Now(), IsAgent: s.user.Role == RoleAgent,
		CanExp: rank(s.user.Role) >= rank(RoleSupervisor), IsAdmin: s.user.Role == RoleAdmin, Improve: d}
}

// problem renders err for the page: a validation problem in the page's language, else nothing (the
// caller fails the request).
func (c *Console) problem(lang string, err error) (string, int, bool) {
	var p *improve.Problem
	if !errors.As(err, &p) {
		return "", 0, false
	}
	status := http.StatusBadRequest
	if errors.Is(err, bot.ErrForbidden) {
		status = http.StatusForbidden
	}
	return c.t(lang, p.Key, kvOf(p.Args)...), status, true
}

func kvOf(m map[string]any) []any {
	var kv []any
	for k, v := range m {
		kv = append(kv, k, v)
	}
	return kv
}

func (c *Console) improveList(w http.ResponseWriter, r *http.Request, s session) {
	c.renderImproveList(w, r, s, http.StatusOK, "", &improveData{Form: url.Values{}})
}

func (c *Console) renderImproveList(w http.ResponseWriter, r *http.Request, s session, status int, msg string, d *improveData) {
	ctx := r.Context()
	id, svc := c.improveActor(s)
	var err error
	if s.user.Role == RoleAgent {
		d.Actions, err = svc.Actions(ctx, id, true)
	} else {
		if d.Records, err = svc.List(ctx, improve.ListFilter{Category: r.URL.Query().Get("category")}); err == nil {
			d.Actions, err = svc.Actions(ctx, "", false)
		}
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d.Agents, d.States = svc.Agents(), c.moves(svc, id, s, d.Actions)
	p := c.improvePage(r, s, d)
	p.Error = msg
	c.render(w, r, status, "improve.html", p)
}

// moves lists the states each action may go to for this user (owner or supervisor).
func (c *Console) moves(svc *improve.Service, id string, s session, as []improve.Action) map[int64][]string {
	out := map[int64][]string{}
	for _, a := range as {
		if a.Owner == id || rank(s.user.Role) >= rank(RoleSupervisor) {
			out[a.ID] = improve.NextStates(a.State)
		}
	}
	return out
}

// improveNew is the creation form, prefilled from a top-5 row (?category=).
func (c *Console) improveNew(w http.ResponseWriter, r *http.Request, s session) {
	d := &improveData{Form: url.Values{"category": {r.URL.Query().Get("category")}}, Category: r.URL.Query().Get("category")}
	c.renderImproveList(w, r, s, http.StatusOK, "", d)
}

func (c *Console) improveCreate(w http.ResponseWriter, r *http.Request, s session) {
	id, svc := c.improveActor(s)
	f := r.PostForm
	in := improve.NewRecord{Phenomenon: f.Get("phenomenon"), RootCause: f.Get("root_cause"), Category: f.Get("category"),
		Tickets: strings.Fields(strings.ReplaceAll(f.Get("tickets"), ",", " "))}
	for i := 1; i <= improve.MaxWhys; i++ {
		in.Whys = append(in.Whys, f.Get("why"+strconv.Itoa(i)))
	}
	rec, err := svc.Create(r.Context(), id, in)
	if err != nil {
		if msg, status, ok := c.problem(c.lang(r, s), err); ok {
			c.renderImproveList(w, r, s, status, msg, &improveData{Form: f})
			return
		}
		c.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/improve/"+rec.No, http.StatusSeeOther)
}

func (c *Console) improveRecord(w http.ResponseWriter, r *http.Request, s session) {
	c.renderRecord(w, r, s, http.StatusOK, "", url.Values{})
}

func (c *Console) renderRecord(w http.ResponseWriter, r *http.Request, s session, status int, msg string, form url.Values) {
	ctx := r.Context()
	id, svc := c.improveActor(s)
	rec, err := svc.Record(ctx, r.PathValue("no"))
	if err != nil {
		if _, _, ok := c.problem(c.lang(r, s), err); ok {
			http.NotFound(w, r)
			return
		}
		c.fail(w, r, err)
		return
	}
	d := &improveData{Record: &rec, Form: form, Agents: svc.Agents()}
	if s.user.Role == RoleAgent { // agents see the actions they own, not the whole analysis
		owns := false
		for _, a := range rec.Actions {
			owns = owns || a.Owner == id
		}
		if !owns {
			c.forbidden(w, r, s)
			return
		}
	}
	weeks, _ := strconv.Atoi(r.URL.Query().Get("weeks"))
	if weeks <= 0 || weeks > 52 {
		weeks = 4
	}
	e, err := svc.Effect(ctx, rec.No, weeks)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d.Effect = &e
	d.States = c.moves(svc, id, s, rec.Actions)
	p := c.improvePage(r, s, d)
	p.Error = msg
	p.Loc = c.o.Loc
	c.render(w, r, status, "improve_record.html", p)
}

func (c *Console) improveAddAction(w http.ResponseWriter, r *http.Request, s session) {
	id, svc := c.improveActor(s)
	f := r.PostForm
	_, err := svc.AddAction(r.Context(), id, r.PathValue("no"), improve.NewAction{Term: f.Get("term"), Description: f.Get("description"),
		Owner: f.Get("owner"), Due: f.Get("due"), Acceptance: f.Get("acceptance")})
	if err != nil {
		if msg, status, ok := c.problem(c.lang(r, s), err); ok {
			c.renderRecord(w, r, s, status, msg, f)
			return
		}
		c.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/improve/"+url.PathEscape(r.PathValue("no")), http.StatusSeeOther)
}

func (c *Console) improveState(w http.ResponseWriter, r *http.Request, s session) {
	id, svc := c.improveActor(s)
	aid, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	a, err := svc.SetActionState(r.Context(), id, aid, r.PostFormValue("state"))
	if err != nil {
		if msg, status, ok := c.problem(c.lang(r, s), err); ok {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			http.Error(w, msg, status)
			return
		}
		c.fail(w, r, err)
		return
	}
	back := "/console/improve/" + url.PathEscape(a.RecordNo)
	if s.user.Role == RoleAgent && r.PostFormValue("back") == "list" {
		back = "/console/improve"
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

func (c *Console) targetsPage(w http.ResponseWriter, r *http.Request, s session) {
	c.renderTargets(w, r, s, http.StatusOK, "", url.Values{})
}

func (c *Console) renderTargets(w http.ResponseWriter, r *http.Request, s session, status int, msg string, form url.Values) {
	ctx := r.Context()
	_, svc := c.improveActor(s)
	ts, err := svc.Targets(ctx, time.Time{}, time.Time{})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	st, err := svc.Evaluate(ctx, ts)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	p := c.improvePage(r, s, &improveData{Targets: st, Agents: svc.Agents(), Metrics: svc.MetricNames(), Form: form})
	p.Error = msg
	c.render(w, r, status, "targets.html", p)
}

func (c *Console) setTarget(w http.ResponseWriter, r *http.Request, s session) {
	id, svc := c.improveActor(s)
	f := r.PostForm
	v, err := strconv.ParseFloat(strings.TrimSpace(f.Get("value")), 64)
	if err != nil {
		c.renderTargets(w, r, s, http.StatusBadRequest, c.t(c.lang(r, s), "improve.err.value"), f)
		return
	}
	_, err = svc.SetTarget(r.Context(), id, improve.Target{Metric: f.Get("metric"), Period: f.Get("period"), Op: f.Get("op"), Value: v,
		Owner: f.Get("owner"), Review: f.Get("review")})
	if err != nil {
		if msg, status, ok := c.problem(c.lang(r, s), err); ok {
			c.renderTargets(w, r, s, status, msg, f)
			return
		}
		c.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/targets", http.StatusSeeOther)
}

// doneOf counts the done actions.
func doneOf(as []improve.Action) int {
	n := 0
	for _, a := range as {
		if a.State == improve.StateDone {
			n++
		}
	}
	return n
}
