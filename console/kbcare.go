package console

import (
	"net/http"
	"time"

	"github.com/kefu-dev/kefu/storage"
)

// The knowledge base's upkeep page (issue 11, the knowledge loop): what `kefu kb stats` lists, for
// supervisors — the entries customers marked unhelpful in the last 30 days (worst first, to revise),
// the month's new or revised entries against the seeds' target of 10, and the drafts waiting for a
// supervisor (published or rejected with `kefu kb publish|reject`).

// kbCareDays is the period of citations the unhelpful list looks at (as `kefu kb stats` by default).
const kbCareDays = 30

// kbCareData is page.KB.
type kbCareData struct {
	Care   storage.FAQCare
	Month  string
	Target int
	Days   int
}

func (c *Console) kbCareRoutes() {
	c.mux.HandleFunc("GET /console/kb", c.auth(RoleSupervisor, c.kbCarePage))
}

func (c *Console) kbCarePage(w http.ResponseWriter, r *http.Request, s session) {
	ctx := r.Context()
	now := c.o.Now().In(c.o.Loc)
	stats, err := c.o.DB.FAQStats(ctx, now.AddDate(0, 0, -kbCareDays))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, c.o.Loc)
	care, err := c.o.DB.FAQCare(ctx, stats, month)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	p := page{c: c, Lang: c.lang(r, s), User: s.user, CSRF: s.csrf, Now: now, CanExp: true, IsAdmin: s.user.Role == RoleAdmin,
		KBCare: &kbCareData{Care: care, Month: month.Format("2006-01"), Target: storage.FAQCareTarget, Days: kbCareDays}}
	c.render(w, r, http.StatusOK, "kb.html", p)
}
