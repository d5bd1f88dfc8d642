package console

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/flows"
	"github.com/kefu-dev/kefu/kb"
	"github.com/kefu-dev/kefu/storage"
)

// The agents' inbox (issue 17): the views of open tickets with filters, search and counts, server-
// rendered and usable without JavaScript. The ticket page and its actions are in ticket.go.

// Desk is what the inbox needs of the bot engine (*bot.Engine): the very operations the CLI and Slack
// call, so the console duplicates none of them.
type Desk interface {
	bot.Desk
	ReplyFAQ(ctx context.Context, a bot.Actor, no, id string) (bot.Ticket, error)
	Suggestions(t bot.Ticket, k int) []kb.Hit
	CustomerHistory(ctx context.Context, t bot.Ticket, limit int) ([]bot.Ticket, error)
	CustomerProfile(ctx context.Context, customerID int64) (flows.Profile, error)
	Complaint(ctx context.Context, t bot.Ticket) (bot.ComplaintView, error)
	ComplaintConfig() bot.ComplaintConfig
	RecordComplaint(ctx context.Context, a bot.Actor, no string, d bot.ComplaintDetails) (bot.Ticket, error)
	SetComplaintLevel(ctx context.Context, a bot.Actor, no string, level int) (bot.Ticket, error)
	Propose(ctx context.Context, a bot.Actor, no, solution string, amount int64) (bot.Proposal, error)
	Approve(ctx context.Context, a bot.Actor, no string, id int64) (bot.Proposal, error)
	Reject(ctx context.Context, a bot.Actor, no string, id int64, reason string) (bot.Proposal, error)
	RecordVisit(ctx context.Context, a bot.Actor, no, outcome, note string) (bot.ReturnVisit, error)
	AssignTeam(ctx context.Context, a bot.Actor, no, team string) (bot.Ticket, error)
	Agents() []bot.AgentConfig
	Teams() []string
	AgentTeam(id string) string
	TeamMembers(team string) []string
	CanSee(id string, t bot.Ticket) bool
	IsAgent(id string) bool
}

// inboxPageSize is how many tickets one inbox page lists.
const inboxPageSize = 50

// inboxData is page.Inbox.
type inboxData struct {
	View     string
	Views    []string
	Counts   map[string]int
	Page     storage.InboxPage
	Form     url.Values // the filter and search as asked
	Channels []string
	Cats     []string
	Statuses []string
	Levels   []int
	Newer    string // links of the neighbouring pages ("" when none)
	Older    string
	CanAct   bool
}

func (c *Console) inboxRoutes() {
	if c.o.Desk == nil {
		return
	}
	c.mux.HandleFunc("GET /console/inbox", c.auth(RoleAgent, c.inbox))
	c.mux.HandleFunc("GET /console/tickets/{no}", c.auth(RoleAgent, c.ticketPage))
	c.mux.HandleFunc("POST /console/tickets/{no}/{action}", c.auth(RoleAgent, c.ticketAction))
}

// restricted reports whether the account is kept to its own, unassigned and its team's tickets:
// agents are, unless Options.AgentsSeeAllTeams; supervisors and admins see every ticket, and so does an
// agent account linked to a configured supervisor (as bot.Engine.CanSee has it).
func (c *Console) restricted(s session) bool {
	return s.user.Role == RoleAgent && !c.o.AgentsSeeAllTeams && !c.isSupervisor(s.user.AgentID)
}

// views are the views the account may open.
func (c *Console) views(s session) []string {
	if rank(s.user.Role) >= rank(RoleSupervisor) {
		return storage.InboxViews
	}
	return slices.DeleteFunc(slices.Clone(storage.InboxViews), func(v string) bool { return v == storage.ViewAll })
}

// inboxQuery reads the view, filters, search and page from the request.
func (c *Console) inboxQuery(r *http.Request, s session) (storage.InboxQuery, url.Values) {
	q := r.URL.Query()
	form := url.Values{}
	clip := func(k string, n int) string {
		v := strings.TrimSpace(q.Get(k))
		if len(v) > n {
			v = v[:n]
		}
		if v != "" {
			form.Set(k, v)
		}
		return v
	}
	view := q.Get("view")
	if !slices.Contains(c.views(s), view) {
		view = storage.ViewMine
		if s.user.AgentID == "" { // an account that holds no tickets starts at the queue
			view = storage.ViewUnassigned
		}
	}
	form.Set("view", view)
	me := s.user.AgentID
	iq := storage.InboxQuery{View: view, Agent: me, Team: c.o.Desk.AgentTeam(me), Restrict: c.restricted(s),
		Channel: clip("channel", 40), Category: clip("category", 100), Priority: clip("priority", 4), Search: clip("q", 100),
		Now: c.o.Now(), Limit: inboxPageSize}
	iq.Members = c.o.Desk.TeamMembers(iq.Team)
	if st := clip("status", 20); validStatus(st) {
		iq.Status = st
	} else {
		form.Del("status")
	}
	if lv, err := strconv.Atoi(clip("level", 2)); err == nil && lv > 0 {
		iq.ComplaintLevel = lv
	} else {
		form.Del("level")
	}
	iq.Before, _ = strconv.ParseInt(q.Get("before"), 10, 64)
	iq.After, _ = strconv.ParseInt(q.Get("after"), 10, 64)
	return iq, form
}

func validStatus(s string) bool {
	switch bot.Status(s) {
	case bot.StatusOpen, bot.StatusInProgress, bot.StatusPending, bot.StatusResolved, bot.StatusClosed:
		return true
	}
	return false
}

var allStatuses = []string{string(bot.StatusOpen), string(bot.StatusInProgress), string(bot.StatusPending), string(bot.StatusResolved), string(bot.StatusClosed)}

func (c *Console) inbox(w http.ResponseWriter, r *http.Request, s session) {
	ctx := r.Context()
	iq, form := c.inboxQuery(r, s)
	pg, err := c.o.DB.Inbox(ctx, iq)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	counts, err := c.o.DB.InboxCounts(ctx, iq)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	chans, cats, err := c.filterValues(ctx)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d := &inboxData{View: iq.View, Views: c.views(s), Counts: counts, Page: pg, Form: form, Channels: chans, Cats: cats,
		Statuses: allStatuses, CanAct: c.canAct(s)}
	for _, lv := range c.o.Desk.ComplaintConfig().Levels {
		d.Levels = append(d.Levels, lv.Level)
	}
	link := func(k string, id int64) string {
		if id == 0 {
			return ""
		}
		v := url.Values{}
		for key, vs := range form {
			v[key] = vs
		}
		v.Set(k, strconv.FormatInt(id, 10))
		return "/console/inbox?" + v.Encode()
	}
	d.Newer, d.Older = link("after", pg.Newer), link("before", pg.Older)
	p := c.deskPage(r, s)
	p.Inbox = d
	c.render(w, r, http.StatusOK, "inbox.html", p)
}

// deskPage is the page of the inbox and ticket pages.
func (c *Console) deskPage(r *http.Request, s session) page {
	return page{c: c, Lang: c.lang(r, s), User: s.user, CSRF: s.csrf, Now: c.o.Now(), IsAgent: s.user.Role == RoleAgent,
		CanExp: rank(s.user.Role) >= rank(RoleSupervisor), IsAdmin: s.user.Role == RoleAdmin}
}

// canAct reports whether the account may act on tickets: it has an agent id the engine accepts.
func (c *Console) canAct(s session) bool {
	return s.user.AgentID != "" && c.o.Desk.IsAgent(s.user.AgentID)
}

// Priorities lists the priorities for the filter and the priority form.
func (p page) Priorities() []string { return []string{string(bot.P0), string(bot.P1), string(bot.P2)} }

// Clip shortens s to n characters.
func (p page) Clip(s string, n int) string {
	r := []rune(strings.ReplaceAll(s, "\n", " "))
	if len(r) <= n {
		return string(r)
	}
	return string(r[:n-1]) + "…"
}

// nextDue is the SLA clock that runs next: the first response until answered, then the resolution.
func nextDue(t bot.Ticket, now time.Time, paused bool) slaClock {
	if t.FirstResponseAt == nil {
		return clockOf(t.FirstResponseDue, now, false, !t.Open(), paused)
	}
	return clockOf(t.ResolutionDue, now, false, !t.Open(), paused)
}

// Overdue reports whether a ticket's next due time has passed (open tickets not waiting on the customer).
func (p page) Overdue(t bot.Ticket) bool {
	return t.Status != bot.StatusPending && nextDue(t, p.Now, false).State == "overdue"
}

// DueOf tells a ticket's next SLA clock: time left, overdue, paused or done.
func (p page) DueOf(t bot.Ticket) string {
	paused := t.Status == bot.StatusPending
	if p.Inbox != nil {
		paused = paused || p.Inbox.Page.Paused[t.ID]
	}
	return p.Clock(nextDue(t, p.Now, paused))
}

// Clock renders an SLA clock.
func (p page) Clock(k slaClock) string {
	return p.T("inbox.sla."+k.State, "text", k.Left, "at", p.Time(&k.Due)) // "text": the time left or overdue
}

// Label translates prefix+key, or shows the key itself when the catalog has no such label (a
// configured core point, party or solution without one).
func (p page) Label(prefix, key string) string {
	if s := p.T(prefix + key); s != prefix+key {
		return s
	}
	return key
}

// filterValues are the channels and categories the filter lists offer, read from the tickets at most
// once a minute (a DISTINCT over every ticket on each page load would cost more than the page).
func (c *Console) filterValues(ctx context.Context) ([]string, []string, error) {
	c.filterMu.Lock()
	defer c.filterMu.Unlock()
	now := time.Now()
	if c.filterAt.IsZero() || now.Sub(c.filterAt) > time.Minute {
		chans, cats, err := c.o.DB.InboxFilterValues(ctx)
		if err != nil {
			return nil, nil, err
		}
		c.filterChans, c.filterCats, c.filterAt = chans, cats, now
	}
	return c.filterChans, c.filterCats, nil
}
