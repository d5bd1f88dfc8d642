package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/reports"
)

// The supervisors' complaints page (issue 11): every complaint ticket still open or created in the
// period, with its level, core points, responsible party, proposals (state, amount, approver),
// follow-through tasks and return visits (due, done, overdue), above the period's repeat-complaint
// rate (二次投诉率) and return-visit counts from the report. Supervisors add follow-through tasks and
// mark them done, cancelled or open again here (CSRF-checked forms, audited by the engine); the other
// actions are on the ticket page. Personal data (verification notes, reasons, visit and task notes)
// is masked as everywhere.

// complaintsData is page.Complaints.
type complaintsData struct {
	Rows    []complaintRow
	R       reports.Report
	Levels  []reports.Count
	Tickets bool     // the ticket pages exist (link the numbers)
	Kinds   []string // task kinds, when tasks can be changed here
	Form    url.Values
	FormNo  string // the ticket whose task form failed
}

// taskRunner is the engine's follow-through task side, found on Options.Desk (*bot.Engine has it).
type taskRunner interface {
	AddTask(ctx context.Context, a bot.Actor, no string, n bot.NewTask) (bot.Task, error)
	SetTaskState(ctx context.Context, a bot.Actor, no string, id int64, s bot.TaskState, note string) (bot.Task, error)
	TaskKinds() []string
}

// complaintRow is one complaint ticket on the page.
type complaintRow struct {
	T             bot.Ticket
	V             bot.ComplaintView
	LateTasks     int
	OverdueVisits int
}

// complaintsPageSize bounds the page (newest first).
const complaintsPageSize = 200

func (c *Console) complaintsRoutes() {
	if c.o.Desk == nil { // the complaint records are read through the engine
		return
	}
	c.mux.HandleFunc("GET /console/complaints", c.auth(RoleSupervisor, c.complaintsPage))
	if _, ok := c.o.Desk.(taskRunner); ok {
		c.mux.HandleFunc("POST /console/complaints/{no}/tasks", c.auth(RoleSupervisor, c.complaintTask))
		c.mux.HandleFunc("POST /console/complaints/{no}/tasks/{id}", c.auth(RoleSupervisor, c.complaintTask))
	}
}

func (c *Console) complaintsPage(w http.ResponseWriter, r *http.Request, s session) {
	c.renderComplaints(w, r, s, http.StatusOK, "", &complaintsData{})
}

// complaintTask adds a task (no id) or moves task id to the posted state, as the signed-in supervisor's
// agent id; a refusal re-renders the page with the reason and changes nothing.
func (c *Console) complaintTask(w http.ResponseWriter, r *http.Request, s session) {
	ctx := r.Context()
	tr := c.o.Desk.(taskRunner)
	lang := c.lang(r, s)
	no := bot.NormalizeTicketNo(r.PathValue("no"))
	f := r.PostForm
	fail := func(status int, key string) {
		c.renderComplaints(w, r, s, status, c.t(lang, key), &complaintsData{Form: f, FormNo: no})
	}
	if s.user.AgentID == "" {
		fail(http.StatusForbidden, "console.complaints.err.no_agent")
		return
	}
	a := bot.Actor{ID: s.user.AgentID}
	var err error
	if idText := r.PathValue("id"); idText != "" {
		id, perr := strconv.ParseInt(idText, 10, 64)
		state := bot.TaskState(f.Get("state"))
		if perr != nil || id <= 0 {
			http.NotFound(w, r)
			return
		}
		_, err = tr.SetTaskState(ctx, a, no, id, state, f.Get("note"))
	} else {
		due, ok := c.taskDue(f.Get("due"), f.Get("hours"))
		if !ok {
			fail(http.StatusBadRequest, "console.complaints.err.task")
			return
		}
		_, err = tr.AddTask(ctx, a, no, bot.NewTask{Kind: f.Get("kind"), Owner: f.Get("owner"), Due: due, Note: f.Get("note")})
	}
	switch {
	case err == nil:
		c.log.InfoContext(ctx, "console task change", "user", s.user.Name, "agent", a.ID, "ticket", no)
		http.Redirect(w, r, "/console/complaints#c-"+url.PathEscape(no), http.StatusSeeOther)
	case errors.Is(err, bot.ErrUnknownTkt), errors.Is(err, bot.ErrNoTask):
		fail(http.StatusNotFound, "console.complaints.err.not_found")
	case errors.Is(err, bot.ErrForbidden):
		fail(http.StatusForbidden, "console.complaints.err.no_agent")
	case errors.Is(err, bot.ErrConflict), errors.Is(err, bot.ErrClosed):
		fail(http.StatusConflict, "console.complaints.err.conflict")
	case errors.Is(err, bot.ErrBadInput):
		fail(http.StatusBadRequest, "console.complaints.err.task")
	default:
		c.fail(w, r, err)
	}
}

// taskDue reads the add form's due time: a local date and time (datetime-local), else hours from now.
func (c *Console) taskDue(at, hours string) (time.Time, bool) {
	if t, err := time.ParseInLocation("2006-01-02T15:04", strings.TrimSpace(at), c.o.Loc); err == nil {
		return t, true
	}
	h, err := strconv.Atoi(strings.TrimSpace(hours))
	if err != nil || h <= 0 || h > 24*366 {
		return time.Time{}, false
	}
	return c.o.Now().Add(time.Duration(h) * time.Hour), true
}

func (c *Console) renderComplaints(w http.ResponseWriter, r *http.Request, s session, status int, msg string, d *complaintsData) {
	ctx := r.Context()
	f, v := c.filter(r, s)
	f.Agent = "" // the page is the whole team's
	rep, err := reports.Compute(ctx, c.o.DB, f)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	ts, err := c.o.DB.ComplaintTickets(ctx, f.From, complaintsPageSize)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	now := c.o.Now()
	d.R, d.Levels, d.Tickets = rep, rep.Complaints.ByLevel, true
	if tr, ok := c.o.Desk.(taskRunner); ok {
		d.Kinds = tr.TaskKinds()
	}
	for _, t := range ts {
		cv, err := c.o.Desk.Complaint(ctx, t)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		m := t.Masker()
		cv.Details.Verification = m.Text(cv.Details.Verification)
		row := complaintRow{T: t}
		for i := range cv.Proposals {
			cv.Proposals[i].Reason = m.Text(cv.Proposals[i].Reason)
		}
		for i := range cv.Visits {
			cv.Visits[i].Note = m.Text(cv.Visits[i].Note)
			if !cv.Visits[i].Done() && now.After(cv.Visits[i].DueAt) {
				row.OverdueVisits++
			}
		}
		for i := range cv.Tasks {
			cv.Tasks[i].Note = m.Text(cv.Tasks[i].Note)
			if cv.Tasks[i].Late(now) {
				row.LateTasks++
			}
		}
		row.V = cv
		d.Rows = append(d.Rows, row)
	}
	// What needs a supervisor first: open tickets, then the most severe level, then the newest.
	sort.SliceStable(d.Rows, func(i, j int) bool {
		a, b := d.Rows[i].T, d.Rows[j].T
		if a.Open() != b.Open() {
			return a.Open()
		}
		if a.ComplaintLevel != b.ComplaintLevel {
			return a.ComplaintLevel < b.ComplaintLevel
		}
		return a.CreatedAt.After(b.CreatedAt)
	})
	p := page{c: c, Lang: c.lang(r, s), User: s.user, CSRF: s.csrf, Filter: v, Query: v.query(), Now: now,
		CanExp: true, IsAdmin: s.user.Role == RoleAdmin, Complaints: d, Error: msg}
	c.render(w, r, status, "complaints.html", p)
}

// Late reports whether an undone return visit is past its due time (the page's clock).
func (p page) Late(due time.Time) bool { return p.Now.After(due) }

// TaskMoves are the states a task in state may move to (bot.SetTaskState's rules).
func (p page) TaskMoves(state bot.TaskState) []string {
	switch state {
	case bot.TaskOpen:
		return []string{string(bot.TaskDone), string(bot.TaskCancelled)}
	case bot.TaskDone, bot.TaskCancelled:
		return []string{string(bot.TaskOpen)}
	}
	return nil
}
