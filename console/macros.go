package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/pii"
	"github.com/kefu-dev/kefu/storage"
)

// Canned replies (macros, issue 17): supervisors keep them per team on /console/macros (or with
// `kefu macro`); the ticket page's picker fills the reply box with one — a POST that re-renders the page
// with the text (no JavaScript), or live.js from the option's data-text.
//
// Placeholders: {{ticket_no}}, {{agent_name}} and {{due}} (the resolution deadline) are filled in when
// the macro is picked. {{customer_name}} stays as it is in the reply box — the agent sees only masked
// names — and is replaced by the customer's name when the reply is sent to that customer's own chat
// (by their masked name in an internal note).

// MacroPlaceholders are the placeholders a macro body may hold.
var MacroPlaceholders = []string{"customer_name", "ticket_no", "agent_name", "due"}

// CustomerNamePlaceholder is replaced when a reply is sent (ExpandCustomerName).
const CustomerNamePlaceholder = "{{customer_name}}"

var placeholderRe = regexp.MustCompile(`\{\{\s*([^{}]*?)\s*\}\}`)

// Macro limits.
const (
	maxMacroName = 64
	maxMacroBody = 4000
)

// ErrMacroPlaceholder is CheckMacro's answer to a placeholder it does not know.
var ErrMacroPlaceholder = errors.New("console: unknown placeholder")

// CheckMacro validates a macro: a name, a body within the limits, known placeholders only.
func CheckMacro(name, body string) error {
	if strings.TrimSpace(name) == "" || utf8.RuneCountInString(name) > maxMacroName || strings.TrimSpace(body) == "" || utf8.RuneCountInString(body) > maxMacroBody {
		return errors.New("console: a macro needs a name (at most 64 characters) and a text (at most 4000)")
	}
	for _, m := range placeholderRe.FindAllStringSubmatch(body, -1) {
		if !slices.Contains(MacroPlaceholders, m[1]) {
			return fmt.Errorf("%w {{%s}} (known: {{customer_name}}, {{ticket_no}}, {{agent_name}}, {{due}})", ErrMacroPlaceholder, m[1])
		}
	}
	return nil
}

// macroKnown lists the placeholders for messages.
const macroKnown = "{{customer_name}} {{ticket_no}} {{agent_name}} {{due}}"

// MacroValues fill a macro's placeholders when it is picked.
type MacroValues struct {
	TicketNo, AgentName, Due string
}

// RenderMacro fills {{ticket_no}}, {{agent_name}} and {{due}}; {{customer_name}} is normalized and kept
// for ExpandCustomerName.
func RenderMacro(body string, v MacroValues) string {
	return placeholderRe.ReplaceAllStringFunc(body, func(s string) string {
		switch strings.TrimSpace(strings.Trim(s, "{}")) {
		case "ticket_no":
			return v.TicketNo
		case "agent_name":
			return v.AgentName
		case "due":
			return v.Due
		case "customer_name":
			return CustomerNamePlaceholder
		}
		return s
	})
}

// ExpandCustomerName replaces {{customer_name}} in a reply with the customer's name as the reader may
// see it: the name itself in the customer's own chat, masked (pii.MaskName) in an internal note. An
// unknown name leaves nothing behind.
func ExpandCustomerName(text, name string, masked bool) string {
	if masked {
		name = pii.MaskName(name)
	}
	return strings.ReplaceAll(text, CustomerNamePlaceholder, name)
}

// MacroView is a macro as the ticket page's picker offers it.
type MacroView struct {
	ID   int64
	Name string
	Team string
	Text string // rendered for the ticket ({{customer_name}} kept)
}

// MacrosFor lists the macros an agent may pick on ticket t — the ticket's team's (else the agent's
// team's) and those for every team — rendered for t. The inbox's ticket page calls it.
func (c *Console) MacrosFor(ctx context.Context, t bot.Ticket, agentID, userName string) ([]MacroView, error) {
	teams := []string{""}
	team := t.Team
	if team == "" && c.o.Desk != nil {
		team = c.o.Desk.AgentTeam(agentID)
	}
	if team != "" {
		teams = append(teams, team)
	}
	ms, err := c.o.DB.Macros(ctx, teams...)
	if err != nil {
		return nil, err
	}
	v := MacroValues{TicketNo: t.No, AgentName: c.agentName(agentID, userName)}
	if !t.ResolutionDue.IsZero() {
		v.Due = t.ResolutionDue.In(c.o.Loc).Format("2006-01-02 15:04")
	}
	out := make([]MacroView, len(ms))
	for i, m := range ms {
		out[i] = MacroView{ID: m.ID, Name: m.Name, Team: m.Team, Text: RenderMacro(m.Body, v)}
	}
	return out, nil
}

// agentName is the configured agent's name, else the account's.
func (c *Console) agentName(agentID, userName string) string {
	if c.o.Desk != nil {
		for _, a := range c.o.Desk.Agents() {
			if a.ID == agentID && a.Name != "" {
				return a.Name
			}
		}
	}
	return userName
}

func (c *Console) macroRoutes() {
	c.mux.HandleFunc("GET /console/macros", c.auth(RoleSupervisor, c.macrosPage))
	c.mux.HandleFunc("POST /console/macros", c.auth(RoleSupervisor, c.addMacro))
	c.mux.HandleFunc("POST /console/macros/delete", c.auth(RoleSupervisor, c.deleteMacro))
	if c.o.Desk != nil {
		c.mux.HandleFunc("POST /console/tickets/{no}/macro", c.auth(RoleAgent, c.pickMacro))
	}
}

// macroData is the macros page's data.
type macroData struct {
	Macros []storage.Macro
	Teams  []string
	Form   url.Values
	Holder string // the placeholders, for the hint
}

func (c *Console) renderMacros(w http.ResponseWriter, r *http.Request, s session, status int, errMsg, notice string, form url.Values) {
	ms, err := c.o.DB.Macros(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d := &macroData{Macros: ms, Form: form, Holder: macroKnown}
	if d.Form == nil {
		d.Form = url.Values{}
	}
	if c.o.Desk != nil {
		d.Teams = c.o.Desk.Teams()
	}
	c.render(w, r, status, "macros.html", page{Lang: c.lang(r, s), User: s.user, CSRF: s.csrf, Error: errMsg, Notice: notice,
		IsAdmin: s.user.Role == RoleAdmin, CanExp: true, Macros: d})
}

func (c *Console) macrosPage(w http.ResponseWriter, r *http.Request, s session) {
	c.renderMacros(w, r, s, http.StatusOK, "", "", nil)
}

func (c *Console) addMacro(w http.ResponseWriter, r *http.Request, s session) {
	lang := c.lang(r, s)
	team, name, body := strings.TrimSpace(r.PostFormValue("team")), strings.TrimSpace(r.PostFormValue("name")), strings.TrimSpace(r.PostFormValue("body"))
	form := url.Values{"team": {team}, "name": {name}, "body": {body}}
	if team != "" && c.o.Desk != nil && !slices.Contains(c.o.Desk.Teams(), team) {
		c.renderMacros(w, r, s, http.StatusBadRequest, c.t(lang, "console.macro.bad_team", "name", team), "", form)
		return
	}
	if err := CheckMacro(name, body); err != nil {
		key := "console.macro.invalid"
		if errors.Is(err, ErrMacroPlaceholder) {
			key = "console.macro.placeholder"
		}
		c.renderMacros(w, r, s, http.StatusBadRequest, c.t(lang, key, "known", macroKnown), "", form)
		return
	}
	_, err := c.o.DB.AddMacro(r.Context(), storage.Macro{Team: team, Name: name, Body: body, CreatedBy: actorOf(s)})
	if errors.Is(err, bot.ErrDuplicate) {
		c.renderMacros(w, r, s, http.StatusConflict, c.t(lang, "console.macro.exists"), "", form)
		return
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.log.InfoContext(r.Context(), "console macro added", "by", s.user.Name, "team", team, "name", name)
	c.renderMacros(w, r, s, http.StatusOK, "", c.t(lang, "console.macro.added"), nil)
}

func (c *Console) deleteMacro(w http.ResponseWriter, r *http.Request, s session) {
	lang := c.lang(r, s)
	id, _ := strconv.ParseInt(r.PostFormValue("id"), 10, 64)
	err := c.o.DB.DeleteMacro(r.Context(), id)
	if errors.Is(err, bot.ErrNotFound) {
		c.renderMacros(w, r, s, http.StatusNotFound, c.t(lang, "console.macro.not_found"), "", nil)
		return
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.log.InfoContext(r.Context(), "console macro deleted", "by", s.user.Name, "id", id)
	c.renderMacros(w, r, s, http.StatusOK, "", c.t(lang, "console.macro.deleted"), nil)
}

// pickMacro is the picker without JavaScript: the ticket page again, its reply box filled with the
// macro (after what the agent had typed, which the form sends along).
func (c *Console) pickMacro(w http.ResponseWriter, r *http.Request, s session) {
	ctx := r.Context()
	t, _, ok := c.visibleTicket(w, r, s, r.PathValue("no"))
	if !ok {
		return
	}
	id, _ := strconv.ParseInt(r.PostFormValue("macro"), 10, 64)
	ms, err := c.MacrosFor(ctx, t, s.user.AgentID, s.user.Name)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	i := slices.IndexFunc(ms, func(m MacroView) bool { return m.ID == id })
	f := url.Values{"_action": {"reply"}, "text": {r.PostFormValue("text")}}
	if i < 0 {
		c.renderTicket(w, r, s, http.StatusNotFound, c.t(c.lang(r, s), "console.macro.not_found"), f, "")
		return
	}
	text := strings.TrimSpace(f.Get("text"))
	if text != "" {
		text += "\n"
	}
	f.Set("text", text+ms[i].Text)
	c.renderTicket(w, r, s, http.StatusOK, "", f, "")
}

// CanMacros shows the macros page's link (supervisors and admins).
func (p page) CanMacros() bool { return rank(p.User.Role) >= rank(RoleSupervisor) }

// sendValues is the form an action is run with: {{customer_name}} of a reply or note replaced by the
// customer's name (masked in a note). The form the page keeps on an error stays unexpanded.
func sendValues(action string, f url.Values, customerName string) url.Values {
	text := f.Get("text")
	if (action != "reply" && action != "note") || !strings.Contains(text, CustomerNamePlaceholder) {
		return f
	}
	out := url.Values{}
	for k, v := range f {
		out[k] = slices.Clone(v)
	}
	out.Set("text", ExpandCustomerName(text, customerName, action == "note"))
	return out
}
