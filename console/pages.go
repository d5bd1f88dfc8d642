package console

import (
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/flows"
	"github.com/kefu-dev/kefu/improve"
	"github.com/kefu-dev/kefu/reports"
	"github.com/kefu-dev/kefu/reports/export"
	"github.com/kefu-dev/kefu/storage"
)

//go:embed templates/*.html
var templateFS embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"dur":   reports.Dur,
	"pct":   reports.Pct,
	"num":   reports.Num,
	"hours": func(s float64) string { return reports.Dur(&s) },
	"float": func(f float64) *float64 { return &f },
	"inc":   func(i int) int { return i + 1 },
	"rowsOf": func(p page, rows []reports.Row, id string) map[string]any {
		return map[string]any{"P": p, "Rows": rows, "ID": id}
	},
	"actionsOf": func(p page, as []improve.Action, back string) map[string]any {
		return map[string]any{"P": p, "Actions": as, "Back": back}
	},
	"doneOf":  doneOf,
	"whyNums": func() []int { return []int{1, 2, 3, 4, 5} },
	"timePtr": func(t time.Time) *time.Time { return &t },
	"attachmentArgs": func(p page, a bot.Attachment) map[string]any {
		return map[string]any{"P": p, "A": a}
	},
}).ParseFS(templateFS, "templates/*.html"))

// page is what every template gets.
type page struct {
	c       *Console
	Lang    string
	User    storage.User
	CSRF    string
	Error   string
	Notice  string
	Now     time.Time
	Loc     *time.Location
	Filter  formValues
	Query   string
	Links   struct{ CSV, XLSX, Monthly template.URL }
	R       reports.Report
	JSON    string
	Labels  string
	Options struct{ Channels, Categories, Priorities, Agents []string }
	IsAgent bool
	CanExp  bool
	IsAdmin bool
	Month   string
	Users   []storage.User
	Roles   []string
	// Improve is the improvement pages' data (console/improve.go); ImproveOn shows their links.
	Improve   *improveData
	ImproveOn bool
	// Inbox and Ticket are the agents' inbox pages' data (inbox.go, ticket.go); InboxOn shows their link.
	Inbox   *inboxData
	Ticket  *ticketData
	InboxOn bool
	// Acc is the users page's account administration data (console/accounts.go).
	Acc accountsData
	// Macros is the macros page's data (console/macros.go).
	Macros *macroData
	// Complaints is the supervisors' complaints page's data (console/complaints.go); ComplaintsOn
	// shows its link.
	Complaints   *complaintsData
	ComplaintsOn bool
	// KBCare is the knowledge base's upkeep page's data (console/kbcare.go); KBOn shows its link.
	KBCare *kbCareData
	KBOn   bool
	// Webhooks is the admins' webhooks page's data (console/webhooks.go); WebhooksOn shows its link.
	Webhooks   *webhooksData
	WebhooksOn bool
}

// T translates a key in the page's language.
func (p page) T(key string, kv ...any) string { return p.c.t(p.Lang, key, kv...) }

// Category is a ticket category's label in the page's language: 「未分类 / Uncategorized」 for none
// (never a blank cell), the catalog's name for a known key, the key itself for a configured category
// the catalog does not name.
func (p page) Category(key string) string {
	if key == "" {
		return p.T("category.none")
	}
	if s := p.T("category." + key); s != "" && s != "category."+key {
		return s
	}
	return key
}

// Time formats a time in the console's zone.
func (p page) Time(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.In(p.Loc).Format("2006-01-02 15:04")
}

// OtherLang is the language the switch link offers.
func (p page) OtherLang() string {
	if p.Lang == "en" {
		return "zh-CN"
	}
	return "en"
}

func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	p.c = c
	p.ImproveOn = c.o.Improve != nil && rank(p.User.Role) >= rank(RoleAgent) && p.User.Name != ""
	p.InboxOn = c.o.Desk != nil && p.User.Name != ""
	p.ComplaintsOn = c.o.Desk != nil && p.User.Name != "" && rank(p.User.Role) >= rank(RoleSupervisor)
	p.KBOn = p.User.Name != "" && rank(p.User.Role) >= rank(RoleSupervisor)
	p.WebhooksOn = c.o.Webhooks != nil && p.User.Role == RoleAdmin
	if p.Loc == nil {
		p.Loc = c.o.Loc
	}
	if q := r.URL.Query().Get("lang"); q != "" {
		c.setCookie(w, langCookie, p.Lang, 365*24*3600)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	var b strings.Builder
	if err := pages.ExecuteTemplate(&b, name, p); err != nil {
		c.fail(w, r, err)
		return
	}
	w.WriteHeader(status)
	w.Write([]byte(b.String()))
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	c.renderLogin(w, r, http.StatusOK, "")
}

func (c *Console) renderLogin(w http.ResponseWriter, r *http.Request, status int, msg string) {
	tok := token(24)
	c.setCookie(w, loginCookie, tok, 3600)
	c.render(w, r, status, "login.html", page{Lang: c.lang(r, session{}), CSRF: tok, Error: msg})
}

func (c *Console) forbidden(w http.ResponseWriter, r *http.Request, s session) {
	c.render(w, r, http.StatusForbidden, "forbidden.html", page{Lang: c.lang(r, s), User: s.user, CSRF: s.csrf})
}

func (c *Console) dashboard(w http.ResponseWriter, r *http.Request, s session) {
	f, v := c.filter(r, s)
	rep, err := reports.Compute(r.Context(), c.o.DB, f)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	p := page{c: c, Lang: c.lang(r, s), User: s.user, CSRF: s.csrf, Filter: v, Query: v.query(), R: rep,
		IsAgent: s.user.Role == RoleAgent, CanExp: rank(s.user.Role) >= rank(RoleSupervisor), IsAdmin: s.user.Role == RoleAdmin,
		Now: c.o.Now(), Month: c.o.Now().In(c.o.Loc).AddDate(0, -1, 0).Format("2006-01")}
	p.Links.CSV = template.URL("/console/export/tickets?" + p.Query + "&format=csv")
	p.Links.XLSX = template.URL("/console/export/tickets?" + p.Query + "&format=xlsx")
	p.Links.Monthly = template.URL("/console/export/monthly?month=" + p.Month)
	b, _ := json.Marshal(rep)
	p.JSON = string(b)
	labels := map[string]string{}
	for _, k := range []string{"console.created", "console.first_response", "console.resolution", "console.median", "console.p90",
		"console.hours", "console.count", "console.score", "console.mean_csat", "console.tickets", "console.csat"} {
		labels[strings.TrimPrefix(k, "console.")] = p.T(k)
	}
	for _, x := range rep.TopProblems { // the charts name categories as the tables do ("" is uncategorized)
		labels["cat:"+x.Category] = p.Category(x.Category)
	}
	for _, x := range rep.ResolutionBox {
		labels["cat:"+x.Category] = p.Category(x.Category)
	}
	lb, _ := json.Marshal(labels)
	p.Labels = string(lb)
	p.Options.Channels = []string{string(bot.ChannelWeb), string(bot.ChannelTelegram), string(bot.ChannelDiscord),
		string(bot.ChannelWeChat), string(bot.ChannelWeCom), string(bot.ChannelEmail)}
	cats := map[string]bool{}
	for _, cat := range flows.DefaultConfig().Categories {
		cats[cat.Key] = true
	}
	for _, b := range rep.ResolutionBox {
		cats[b.Category] = true
	}
	for k := range cats {
		p.Options.Categories = append(p.Options.Categories, k)
	}
	sort.Strings(p.Options.Categories)
	p.Options.Priorities = []string{"P0", "P1", "P2"}
	for _, a := range rep.Agents {
		if a.Key != reports.Unassigned {
			p.Options.Agents = append(p.Options.Agents, a.Key)
		}
	}
	sort.Strings(p.Options.Agents)
	c.render(w, r, http.StatusOK, "dashboard.html", p)
}

func (c *Console) reportJSON(w http.ResponseWriter, r *http.Request, s session) {
	f, _ := c.filter(r, s)
	rep, err := reports.Compute(r.Context(), c.o.DB, f)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(rep)
}

func (c *Console) exportTickets(w http.ResponseWriter, r *http.Request, s session) {
	// A long range takes longer than the server's write timeout (meant for slow readers of small
	// answers); a supervisor's export gets its own, longer deadline.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(exportWriteTimeout))
	f, v := c.filter(r, s)
	name := "kefu-tickets-" + v.From + "-" + v.To
	var err error
	if r.URL.Query().Get("format") == "xlsx" {
		w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.xlsx"`)
		err = export.TicketsXLSX(r.Context(), c.o.DB, f, c.o.Loc, w)
	} else {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
		err = export.TicketsCSV(r.Context(), c.o.DB, f, c.o.Loc, w)
	}
	if err != nil {
		c.log.ErrorContext(r.Context(), "export failed", "err", err) // headers are sent; the download is cut short
	}
}

// exportWriteTimeout bounds one export download.
const exportWriteTimeout = 15 * time.Minute

func (c *Console) exportMonthly(w http.ResponseWriter, r *http.Request, s session) {
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(exportWriteTimeout))
	month := r.URL.Query().Get("month")
	f, err := export.MonthFilter(month, c.o.Loc)
	if err != nil {
		http.Error(w, c.t(c.lang(r, s), "console.error"), http.StatusBadRequest)
		return
	}
	f.Now = c.o.Now()
	rep, err := reports.Compute(r.Context(), c.o.DB, f)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	var extra []export.Sheet
	if c.o.Improve != nil {
		sh, err := c.o.Improve.MonthlySheet(r.Context(), f.From, f.To)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		extra = append(extra, sh)
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="kefu-monthly-`+month+`.xlsx"`)
	if err := export.MonthlyXLSX(rep, month, w, extra...); err != nil {
		c.log.ErrorContext(r.Context(), "monthly export failed", "err", err)
	}
}

func (c *Console) usersPage(w http.ResponseWriter, r *http.Request, s session) {
	c.renderUsers(w, r, s, http.StatusOK, "", "")
}

func (c *Console) renderUsers(w http.ResponseWriter, r *http.Request, s session, status int, errMsg, notice string) {
	c.renderUsersWith(w, r, s, status, errMsg, notice, accountsData{})
}

func (c *Console) renderUsersWith(w http.ResponseWriter, r *http.Request, s session, status int, errMsg, notice string, acc accountsData) {
	us, err := c.o.DB.Users(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if acc.Audit, err = c.o.DB.AccountAudit(r.Context(), "", 50); err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, status, "users.html", page{Lang: c.lang(r, s), User: s.user, CSRF: s.csrf, Users: us, IsAdmin: true, CanExp: true,
		Error: errMsg, Notice: notice, Roles: []string{RoleAgent, RoleSupervisor, RoleAdmin}, Acc: acc})
}

func (c *Console) addUser(w http.ResponseWriter, r *http.Request, s session) {
	lang := c.lang(r, s)
	name := strings.TrimSpace(r.PostFormValue("name"))
	role := r.PostFormValue("role")
	pw := r.PostFormValue("password")
	if name == "" || len(name) > 64 || !ValidRole(role) || len(pw) < 8 {
		c.renderUsers(w, r, s, http.StatusBadRequest, c.t(lang, "console.user_invalid"), "")
		return
	}
	if len(pw) > maxPasswordBytes { // bcrypt's limit: refused, not a 500
		c.renderUsers(w, r, s, http.StatusBadRequest, c.t(lang, "console.password_too_long"), "")
		return
	}
	hash, err := HashPassword(pw, c.o.BcryptCost)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	u, err := c.o.DB.CreateUser(r.Context(), storage.User{Name: name, Role: role, AgentID: strings.TrimSpace(r.PostFormValue("agent_id")), PasswordHash: hash})
	if err == nil {
		err = c.o.DB.LogAccountAdded(r.Context(), actorOf(s), u)
	}
	if errors.Is(err, bot.ErrDuplicate) {
		c.renderUsers(w, r, s, http.StatusConflict, c.t(lang, "console.user_exists"), "")
		return
	}
	if errors.Is(err, storage.ErrAgentIDTaken) {
		c.renderUsers(w, r, s, http.StatusConflict, c.t(lang, "console.acc.agent_id_taken"), "")
		return
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.log.InfoContext(r.Context(), "console account added", "by", s.user.Name, "user", name, "role", role)
	c.renderUsers(w, r, s, http.StatusOK, "", c.t(lang, "console.user_added"))
}
