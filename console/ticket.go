package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/flows"
	"github.com/kefu-dev/kefu/kb"
	"github.com/kefu-dev/kefu/pii"
	"github.com/kefu-dev/kefu/storage"
)

// The ticket page (issue 17): the conversation across the customer's channels, intake fields, the
// customer's earlier tickets, SLA clocks, audit trail and FAQ suggestions, with every desk action as a
// plain POST form. Personal data is masked as on Slack cards and `kefu ticket show` (t.Masker()).

// convItem is one entry of the conversation.
type convItem struct {
	Kind        string // customer | bot | agent | note
	Who         string
	At          time.Time
	Channel     bot.Channel
	Text        string
	Attachments []bot.Attachment
	Internal    bool
	Button      string // a pressed button's payload (page.ButtonLabel names it)
}

// slaClock is one SLA clock as the page shows it.
type slaClock struct {
	State string // answered | done | paused | left | overdue
	Left  string // the time left or overdue ("1h05m")
	Due   time.Time
}

// ticketData is page.Ticket.
type ticketData struct {
	T           bot.Ticket    // personal data masked
	Profile     flows.Profile // what the customer gave at intake, masked
	Macros      []MacroView   // the canned replies the agent may pick (macros.go)
	Conv        []convItem
	History     []bot.Ticket
	Events      []bot.TicketEvent
	Suggestions []kb.Hit
	Complaint   bot.ComplaintView
	FirstResp   slaClock
	Resolution  slaClock
	Acked       *time.Time
	Agents      []bot.AgentConfig
	Teams       []string
	Statuses    []string
	Levels      []int
	Solutions   []bot.Solution
	Points      []string
	Parties     []string
	Form        url.Values
	CanAct      bool
	HandOff     bool // the WeCom hand-off button (Options.HandOff set)
	Supervisor  bool
	Done        string // the action that just succeeded
	// Revealed is the one personal-data field a supervisor's recorded reveal shows in full (reveal.go).
	Revealed *revealedField
	// Collision is the collision notice as the page loads (who else has the ticket open), so that it
	// shows without JavaScript; live.js keeps it current.
	Collision string
}

// revealedField is a field shown unmasked by a reveal.
type revealedField struct{ Field, Value string }

// ticketVisible reports whether the account may open t (see restricted and bot.Engine.CanSee).
func (c *Console) ticketVisible(s session, t bot.Ticket) bool {
	return !c.restricted(s) || c.o.Desk.CanSee(s.user.AgentID, t)
}

// visibleTicket is ticket no with its events, or false once it has answered: the not-found page when
// there is no such ticket or s may not open it (see ticketVisible), the failure page on any other error.
func (c *Console) visibleTicket(w http.ResponseWriter, r *http.Request, s session, no string) (bot.Ticket, []bot.TicketEvent, bool) {
	t, evs, err := c.o.Desk.Ticket(r.Context(), no)
	if errors.Is(err, bot.ErrUnknownTkt) || errors.Is(err, bot.ErrNotFound) || (err == nil && !c.ticketVisible(s, t)) {
		c.notFound(w, r, s)
		return bot.Ticket{}, nil, false
	}
	if err != nil {
		c.fail(w, r, err)
		return bot.Ticket{}, nil, false
	}
	return t, evs, true
}

func (c *Console) ticketPage(w http.ResponseWriter, r *http.Request, s session) {
	done := r.URL.Query().Get("done")
	if !slices.Contains(ticketActions, done) {
		done = ""
	}
	c.renderTicket(w, r, s, http.StatusOK, "", url.Values{}, done)
}

// convSince is how far before a ticket's creation its conversation starts on the page (the intake chat).
const convSince = 2 * time.Hour

func (c *Console) renderTicket(w http.ResponseWriter, r *http.Request, s session, status int, msg string, form url.Values, done string) {
	c.renderTicketRevealing(w, r, s, status, msg, form, done, "")
}

// renderTicketRevealing is renderTicket with one personal-data field (reveal.go's revealFields)
// unmasked: only ever called by a recorded reveal.
func (c *Console) renderTicketRevealing(w http.ResponseWriter, r *http.Request, s session, status int, msg string, form url.Values, done, revealed string) {
	ctx := r.Context()
	t, evs, ok := c.visibleTicket(w, r, s, r.PathValue("no"))
	if !ok {
		return
	}
	var err error
	d := &ticketData{Form: form, CanAct: c.canAct(s), HandOff: c.o.HandOff != nil, Done: done, Agents: c.o.Desk.Agents(), Teams: c.o.Desk.Teams(), Statuses: allStatuses}
	d.Supervisor = d.CanAct && c.isSupervisor(s.user.AgentID)
	if d.History, err = c.o.Desk.CustomerHistory(ctx, t, 10); err != nil {
		c.fail(w, r, err)
		return
	}
	if d.Profile, err = c.o.Desk.CustomerProfile(ctx, t.CustomerID); err != nil {
		c.fail(w, r, err)
		return
	}
	rawName, rawPhone, rawEmail := firstNonEmpty(d.Profile.Name, t.CustomerName), firstNonEmpty(d.Profile.Phone, t.CustomerPhone), d.Profile.Email
	d.Profile = flows.Profile{Name: pii.MaskName(d.Profile.Name), Phone: pii.MaskPhone(d.Profile.Phone), Email: maskEmail(d.Profile.Email)}
	if d.Complaint, err = c.o.Desk.Complaint(ctx, t); err != nil {
		c.fail(w, r, err)
		return
	}
	msgs, err := c.o.DB.CustomerMessages(ctx, t.CustomerID, t.CreatedAt.Add(-convSince), t.ClosedAt, 300)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	st, err := c.o.DB.TicketSLAState(ctx, t.ID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d.Suggestions = c.o.Desk.Suggestions(t, 3)
	if d.Macros, err = c.MacrosFor(ctx, t, s.user.AgentID, s.user.Name); err != nil {
		c.fail(w, r, err)
		return
	}
	cc := c.o.Desk.ComplaintConfig()
	for _, lv := range cc.Levels {
		d.Levels = append(d.Levels, lv.Level)
	}
	d.Solutions, d.Points, d.Parties = cc.Solutions, cc.CorePoints, cc.Parties
	now := c.o.Now()
	paused := st.PausedSince != nil || t.Status == bot.StatusPending
	d.FirstResp = clockOf(t.FirstResponseDue, now, t.FirstResponseAt != nil, !t.Open(), paused)
	d.Resolution = clockOf(t.ResolutionDue, now, false, !t.Open(), paused)
	d.Acked = st.AckedAt

	m := t.Masker()
	d.Conv = conversation(msgs, evs, m)
	for i := range d.History {
		d.History[i].Summary = m.Text(d.History[i].Summary)
	}
	for i := range evs {
		evs[i].Text = m.Text(evs[i].Text)
		for j := range evs[i].Attachments {
			evs[i].Attachments[j].Name = m.Text(evs[i].Attachments[j].Name)
		}
	}
	d.Events = evs
	for i := range d.Complaint.Tasks { // follow-through tasks (console/complaints.go changes them)
		d.Complaint.Tasks[i].Note = m.Text(d.Complaint.Tasks[i].Note)
	}
	for i := range d.Complaint.Visits {
		d.Complaint.Visits[i].Note = m.Text(d.Complaint.Visits[i].Note)
	}
	d.Complaint.Details.Verification = m.Text(d.Complaint.Details.Verification)
	t.CustomerName, t.CustomerPhone = m.Name(t.CustomerName), m.Phone(t.CustomerPhone)
	t.Summary, t.Description, t.OrderNo, t.RatingComment = m.Text(t.Summary), m.Text(t.Description), m.Text(t.OrderNo), m.Text(t.RatingComment)
	for i := range t.Attachments {
		t.Attachments[i].Name = m.Text(t.Attachments[i].Name)
	}
	switch revealed {
	case "name":
		d.Revealed = &revealedField{Field: revealed, Value: rawName}
	case "phone":
		d.Revealed = &revealedField{Field: revealed, Value: rawPhone}
	case "email":
		d.Revealed = &revealedField{Field: revealed, Value: rawEmail}
	}
	d.T = t
	p := c.deskPage(r, s)
	// Opening the page counts as viewing the ticket (a plain-forms page sends no heartbeat: it shows
	// to the others for one presence TTL), and the others who have it open are named on the page.
	others, err := c.o.DB.TouchPresence(ctx, t.No, s.user, storage.PresenceViewing, now, c.presenceTTL())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d.Collision = c.collisionNotice(p.Lang, others)
	p.Ticket, p.Error = d, msg
	if done != "" {
		p.Notice = c.t(p.Lang, "inbox.done."+done)
	}
	c.render(w, r, status, "ticket.html", p)
}

func (c *Console) isSupervisor(id string) bool {
	for _, a := range c.o.Desk.Agents() {
		if a.ID == id {
			return a.Supervisor
		}
	}
	return false
}

func (c *Console) notFound(w http.ResponseWriter, r *http.Request, s session) {
	p := c.deskPage(r, s)
	p.Error = c.t(p.Lang, "inbox.err.no_ticket", "no", bot.NormalizeTicketNo(r.PathValue("no")))
	c.render(w, r, http.StatusNotFound, "ticket.html", p)
}

// clockOf is an SLA clock at now.
func clockOf(due, now time.Time, answered, done, paused bool) slaClock {
	k := slaClock{Due: due}
	switch {
	case answered:
		k.State = "answered"
	case done:
		k.State = "done"
	case paused:
		k.State = "paused"
	case due.IsZero():
		k.State = "done"
	case now.After(due):
		k.State, k.Left = "overdue", shortDur(now.Sub(due))
	default:
		k.State, k.Left = "left", shortDur(due.Sub(now))
	}
	return k
}

// shortDur writes 3d4h, 2h05m or 7m.
func shortDur(d time.Duration) string {
	m := int(d.Round(time.Minute) / time.Minute)
	switch {
	case m >= 24*60:
		return fmt.Sprintf("%dd%dh", m/(24*60), m%(24*60)/60)
	case m >= 60:
		return fmt.Sprintf("%dh%02dm", m/60, m%60)
	}
	return fmt.Sprintf("%dm", m)
}

// conversation merges the customer's messages with the ticket's agent replies and notes, oldest first.
// An outgoing message written in the same desk transaction as an agent_reply event (same time, same
// conversation) is that agent's reply; other outgoing messages are the bot's.
func conversation(msgs []storage.ConvMessage, evs []bot.TicketEvent, m pii.Masker) []convItem {
	key := func(t time.Time) int64 { return t.Truncate(time.Millisecond).UnixMilli() }
	replies := map[int64][]int{} // time → indexes of agent_reply events
	for i, e := range evs {
		if e.Kind == bot.EvAgentReply {
			replies[key(e.At)] = append(replies[key(e.At)], i)
		}
	}
	used := map[int]bool{}
	var out []convItem
	for _, x := range msgs {
		it := convItem{At: x.At, Channel: x.Channel, Text: m.Text(x.Text), Attachments: maskedAttachments(x.Attachments, m)}
		switch {
		case x.Direction == "in":
			it.Kind = "customer"
			if it.Text == "" && x.Payload != "" { // a pressed button: its payload says which
				it.Button = x.Payload
			}
		default:
			it.Kind = "bot"
			for _, i := range replies[key(x.At)] {
				if !used[i] && (evs[i].Channel == "" || evs[i].Channel == x.Channel) {
					used[i] = true
					it.Kind, it.Who, it.Text = "agent", evs[i].Actor, m.Text(evs[i].Text)
					break
				}
			}
		}
		out = append(out, it)
	}
	for i, e := range evs {
		switch {
		case e.Kind == bot.EvAgentReply && !used[i]:
			out = append(out, convItem{Kind: "agent", Who: e.Actor, At: e.At, Channel: e.Channel, Text: m.Text(e.Text)})
		case e.Kind == bot.EvNote:
			out = append(out, convItem{Kind: "note", Who: e.Actor, At: e.At, Text: m.Text(e.Text), Internal: true,
				Attachments: maskedAttachments(e.Attachments, m)})
		}
	}
	slices.SortStableFunc(out, func(a, b convItem) int { return a.At.Compare(b.At) })
	return out
}

func maskedAttachments(as []bot.Attachment, m pii.Masker) []bot.Attachment {
	out := slices.Clone(as)
	for i := range out {
		out[i].Name = m.Text(out[i].Name)
	}
	return out
}

// SLAAcker acknowledges a ticket's SLA breach for an agent (the repeated pings stop): kefu serve
// passes the function the CLI's `kefu ticket ack` and Slack's button call.
type SLAAcker func(ctx context.Context, a bot.Actor, no string) error

// ticketActions are the POST /console/tickets/{no}/{action} forms.
var ticketActions = []string{"claim", "assign", "team", "reply", "faq", "note", "priority", "status", "resolve", "close",
	"escalate", "ack", "complaint", "level", "propose", "approve", "reject", "visit", "handoff"}

// handOffRefused is a WeCom hand-off the platform or the configuration refused: its text is shown.
type handOffRefused struct{ text string }

func (e *handOffRefused) Error() string { return "console: hand-off refused: " + e.text }

// ticketAction runs one desk operation for the signed-in account's agent. Errors re-render the ticket
// page with a localized message and the form's input kept; nothing changed.
func (c *Console) ticketAction(w http.ResponseWriter, r *http.Request, s session) {
	ctx := r.Context()
	action := r.PathValue("action")
	if !slices.Contains(ticketActions, action) {
		http.NotFound(w, r)
		return
	}
	no := bot.NormalizeTicketNo(r.PathValue("no"))
	t, _, ok := c.visibleTicket(w, r, s, no)
	if !ok {
		return
	}
	lang := c.lang(r, s)
	f := r.PostForm
	f.Set("_action", action)
	if !c.canAct(s) {
		c.renderTicket(w, r, s, http.StatusForbidden, c.t(lang, "inbox.err.no_agent"), f, "")
		return
	}
	err := c.act(ctx, bot.Actor{ID: s.user.AgentID}, no, action, sendValues(action, f, t.CustomerName))
	if hr := (*handOffRefused)(nil); errors.As(err, &hr) {
		c.renderTicket(w, r, s, http.StatusConflict, hr.text, f, "")
		return
	}
	var wc *bot.WindowClosedError
	if errors.As(err, &wc) { // refused at once: say when the platform's window closed and what the agent can do
		c.log.InfoContext(ctx, "console reply refused: reply window closed", "user", s.user.Name, "ticket", no, "action", action, "err", err)
		var kv []any
		for k, v := range wc.Args(func(t time.Time) string { return t.In(c.o.Loc).Format("2006-01-02 15:04 MST") }) {
			kv = append(kv, k, v)
		}
		msg := c.t(lang, wc.Key(), kv...)
		c.renderTicket(w, r, s, http.StatusConflict, msg, f, "")
		return
	}
	if err != nil {
		status, key := problemOf(err)
		if status == http.StatusInternalServerError {
			c.fail(w, r, err)
			return
		}
		c.log.InfoContext(ctx, "console desk action refused", "user", s.user.Name, "ticket", no, "action", action, "err", err)
		c.renderTicket(w, r, s, status, c.t(lang, key), f, "")
		return
	}
	c.log.InfoContext(ctx, "console desk action", "user", s.user.Name, "agent", s.user.AgentID, "ticket", no, "action", action)
	http.Redirect(w, r, "/console/tickets/"+url.PathEscape(no)+"?done="+action, http.StatusSeeOther)
}

// errEmpty refuses a form without the text the action needs.
var errEmpty = fmt.Errorf("console: empty text: %w", bot.ErrBadInput)

// act calls the engine operation of one action.
func (c *Console) act(ctx context.Context, a bot.Actor, no, action string, f url.Values) error {
	d := c.o.Desk
	text := strings.TrimSpace(f.Get("text"))
	var err error
	switch action {
	case "claim":
		_, err = d.Claim(ctx, a, no)
	case "assign":
		_, err = d.Assign(ctx, a, no, strings.TrimSpace(f.Get("assignee")))
	case "team":
		_, err = d.AssignTeam(ctx, a, no, f.Get("team"))
	case "reply":
		if text == "" {
			return errEmpty
		}
		_, err = d.Reply(ctx, a, no, text)
	case "faq":
		_, err = d.ReplyFAQ(ctx, a, no, f.Get("faq"))
	case "note":
		if text == "" {
			return errEmpty
		}
		_, err = d.Note(ctx, a, no, text)
	case "priority":
		_, err = d.SetPriority(ctx, a, no, bot.Priority(f.Get("priority")))
	case "status":
		_, err = d.SetStatus(ctx, a, no, bot.Status(f.Get("status")))
	case "resolve":
		_, err = d.Resolve(ctx, a, no, text)
	case "close":
		_, err = d.Close(ctx, a, no)
	case "escalate":
		if text == "" {
			return errEmpty
		}
		_, err = d.Escalate(ctx, a, no, text)
	case "handoff":
		if c.o.HandOff == nil {
			return fmt.Errorf("console: handoff: %w", bot.ErrNotFound)
		}
		text, done, herr := c.o.HandOff(ctx, a, no)
		if herr == nil && !done {
			herr = &handOffRefused{text}
		}
		err = herr
	case "ack":
		if c.o.AckSLA == nil {
			return fmt.Errorf("console: ack: %w", bot.ErrNotFound)
		}
		err = c.o.AckSLA(ctx, a, no)
	case "complaint":
		_, err = d.RecordComplaint(ctx, a, no, bot.ComplaintDetails{CorePoints: f["point"], Verification: f.Get("verification"),
			Responsible: f.Get("responsible")})
	case "level":
		lv, perr := strconv.Atoi(f.Get("level"))
		if perr != nil {
			return fmt.Errorf("console: level %q: %w", f.Get("level"), bot.ErrBadInput)
		}
		_, err = d.SetComplaintLevel(ctx, a, no, lv)
	case "propose":
		var fen int64
		if s := strings.TrimSpace(f.Get("amount")); s != "" {
			if fen, err = bot.ParseYuan(s); err != nil {
				return err
			}
		}
		_, err = d.Propose(ctx, a, no, f.Get("solution"), fen)
	case "approve", "reject":
		id, perr := strconv.ParseInt(f.Get("proposal"), 10, 64)
		if perr != nil {
			return fmt.Errorf("console: proposal %q: %w", f.Get("proposal"), bot.ErrBadInput)
		}
		if action == "approve" {
			_, err = d.Approve(ctx, a, no, id)
		} else {
			_, err = d.Reject(ctx, a, no, id, text)
		}
	case "visit":
		_, err = d.RecordVisit(ctx, a, no, f.Get("outcome"), text)
	}
	return err
}

// problems maps desk errors to a status and a locale key, the first that matches wins.
var problems = []struct {
	err    error
	status int
	key    string
}{
	{errEmpty, http.StatusBadRequest, "inbox.err.empty"},
	{bot.ErrUnknownSolution, http.StatusBadRequest, "inbox.err.solution"},
	{bot.ErrNotComplaint, http.StatusBadRequest, "inbox.err.not_complaint"},
	{bot.ErrNoVisit, http.StatusConflict, "inbox.err.no_visit"},
	{bot.ErrBadInput, http.StatusBadRequest, "inbox.err.bad_input"},
	{bot.ErrForbidden, http.StatusForbidden, "inbox.err.forbidden"},
	{bot.ErrClosed, http.StatusConflict, "inbox.err.closed"},
	{bot.ErrNoReply, http.StatusConflict, "inbox.err.no_reply"},
	{bot.ErrConflict, http.StatusConflict, "inbox.err.conflict"},
	{bot.ErrUnknownTkt, http.StatusNotFound, "inbox.err.no_ticket"},
	{bot.ErrNotFound, http.StatusBadRequest, "inbox.err.not_found"},
}

// problemOf maps a desk error to a status and a locale key; 500 for anything unexpected.
func problemOf(err error) (int, string) {
	for _, p := range problems {
		if errors.Is(err, p.err) {
			return p.status, p.key
		}
	}
	return http.StatusInternalServerError, ""
}

// Kept is the value the failed form of action had for key, so nothing typed is lost.
func (d *ticketData) Kept(action, key string) string {
	if d.Form.Get("_action") != action {
		return ""
	}
	return d.Form.Get(key)
}

// KB is the size of an attachment for people ("12 KB").
func (p page) KB(n int64) string {
	switch {
	case n <= 0:
		return ""
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1024*1024:
		return fmt.Sprintf("%.0f KB", float64(n)/1024)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/(1024*1024))
}

// Yuan renders an amount in fen as yuan.
func (p page) Yuan(fen int64) string { return bot.Yuan(fen) }

func maskEmail(e string) string {
	if e == "" {
		return ""
	}
	return pii.MaskEmail(e)
}
