package console

import (
	"net/http"
	"sort"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/reports"
)

// The supervisors' complaints page (issue 11): every complaint ticket still open or created in the
// period, with its level, core points, responsible party, proposals (state, amount, approver),
// follow-through tasks and return visits (due, done, overdue), above the period's repeat-complaint
// rate (二次投诉率) and return-visit counts from the report. Read-only: the actions are on the ticket
// page. Personal data (verification notes, reasons, visit and task notes) is masked as everywhere.

// complaintsData is page.Complaints.
type complaintsData struct {
	Rows    []complaintRow
	R       reports.Report
	Levels  []reports.Count
	Tickets bool // the ticket pages exist (link the numbers)
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
}

func (c *Console) complaintsPage(w http.ResponseWriter, r *http.Request, s session) {
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
	d := &complaintsData{R: rep, Levels: rep.Complaints.ByLevel, Tickets: true}
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
		CanExp: true, IsAdmin: s.user.Role == RoleAdmin, Complaints: d}
	c.render(w, r, http.StatusOK, "complaints.html", p)
}

// Late reports whether an undone return visit is past its due time (the page's clock).
func (p page) Late(due time.Time) bool { return p.Now.After(due) }
