package storage

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/kefu-dev/kefu/bot"
)

// The agents' inbox (issue 17, console/inbox.go): one page of open tickets per view, newest first,
// paged by keyset on id (never OFFSET), and the number of tickets in every view in one pass.

// Inbox views.
const (
	ViewMine       = "mine"
	ViewUnassigned = "unassigned"
	ViewTeam       = "team"
	ViewOverdue    = "overdue"
	ViewDueSoon    = "due_soon"
	ViewWaiting    = "waiting"
	ViewAll        = "all"
)

// InboxViews lists the views in the order the console shows them.
var InboxViews = []string{ViewMine, ViewUnassigned, ViewTeam, ViewOverdue, ViewDueSoon, ViewWaiting, ViewAll}

// InboxQuery selects a page of the inbox.
type InboxQuery struct {
	View     string
	Agent    string   // the viewer's agent id (view "mine"); "" matches nobody's tickets
	Team     string   // the viewer's team (view "team")
	Members  []string // the ids of the team's agents
	Restrict bool     // keep to the tickets the viewer may see (bot.Engine.CanSee); false: every ticket
	// Filters; empty: any. Without Status only open tickets (open, in_progress, pending) are listed.
	Channel, Category, Priority, Status string
	ComplaintLevel                      int
	Search                              string // see search
	Now                                 time.Time
	DueSoon                             time.Duration // "due soon" window (default 1 h)
	Before, After                       int64         // keyset: ids below Before (next page) or above After (previous page)
	Limit                               int           // default 50, at most 200
}

// InboxPage is one page of an inbox view.
type InboxPage struct {
	Tickets []bot.Ticket
	Paused  map[int64]bool // tickets whose SLA clock is paused (waiting on the customer)
	// Newer and Older are the keyset cursors of the neighbouring pages; 0 when there is none.
	Newer, Older int64
}

// openStatusSQL is the predicate of the partial indexes on open tickets, written as a literal so both
// databases match it to the indexes (a bound parameter would not).
const openStatusSQL = "status IN ('open', 'in_progress', 'pending')"

// inboxCols are the columns an inbox row shows (not the long encrypted texts but the summary).
var inboxCols = []string{"id", "no", "channel", "customer_id", "customer_name", "category", "priority", "status", "summary",
	"assignee", "team", "complaint", "complaint_level", "escalated", "created_at", "first_response_due", "resolution_due",
	"first_response_at", "lang"}

var ticketNoRe = regexp.MustCompile(`^GD\d{1,12}$`)

// base applies visibility, filters and search, but not the view.
func (db *DB) inboxBase(g *gorm.DB, q InboxQuery) *gorm.DB {
	if q.Status != "" {
		g = g.Where("status = ?", q.Status)
	} else {
		g = g.Where(openStatusSQL)
	}
	if q.Restrict {
		me := q.Agent
		if me == "" {
			me = noneID
		}
		if q.Team != "" {
			g = g.Where("(assignee = ? OR (assignee = '' AND team IN ('', ?)) OR team = ? OR assignee IN ?)", me, q.Team, q.Team, nonEmpty(q.Members))
		} else {
			g = g.Where("(assignee = ? OR (assignee = '' AND team = ''))", me)
		}
	}
	for _, f := range [][2]string{{"channel", q.Channel}, {"category", q.Category}, {"priority", q.Priority}} {
		if f[1] != "" {
			g = g.Where(f[0]+" = ?", f[1])
		}
	}
	if q.ComplaintLevel > 0 {
		g = g.Where("complaint_level = ?", q.ComplaintLevel)
	}
	return db.search(g, q.Search)
}

// search narrows to what a search box can find over encrypted data. Searchable: a ticket number (or
// its prefix, "GD20261120"), and exact customer identifiers through their keyed hashes — a phone
// number (the ticket's or the customer's), a platform user id (e-mail address, WeChat openid …) —
// plus an exact order number or category. NOT searchable: names, summaries, descriptions and message
// texts. They are sealed at rest with a random nonce (package pii, storage/keys.go), so the database
// cannot compare them with anything, and decrypting every ticket to scan it would defeat both the
// encryption and the page's speed; their words are therefore not indexed anywhere.
func (db *DB) search(g *gorm.DB, s string) *gorm.DB {
	s = strings.TrimSpace(s)
	if s == "" {
		return g
	}
	if no := strings.ToUpper(s); ticketNoRe.MatchString(no) {
		if len(no) >= len("GD20060102001") {
			return g.Where("no = ?", no)
		}
		return g.Where("no LIKE ?", no+"%")
	}
	hs := db.keys.Hashes(s)
	return g.Where(`(customer_phone_hash IN ? OR customer_id IN (SELECT id FROM customers WHERE phone_hash IN ?)
		OR customer_id IN (SELECT customer_id FROM identities WHERE platform_user_id_hash IN ?) OR order_no = ? OR category = ?)`,
		nonEmpty(hs), nonEmpty(hs), nonEmpty(hs), s, s)
}

// nonEmpty keeps an IN list valid: an empty list becomes one value no row has.
func nonEmpty(xs []string) []string {
	if len(xs) == 0 {
		return []string{noneID}
	}
	return xs
}

func (q InboxQuery) soon() time.Time {
	d := q.DueSoon
	if d <= 0 {
		d = time.Hour
	}
	return q.now().Add(d)
}

func (q InboxQuery) now() time.Time {
	if q.Now.IsZero() {
		return time.Now().UTC()
	}
	return q.Now.UTC()
}

// The SLA views leave out pending tickets: their clock is paused while the customer is asked.
const (
	overdueSQL = "(status IN ('open', 'in_progress') AND ((first_response_at IS NULL AND first_response_due < ?) OR resolution_due < ?))"
	dueSoonSQL = "(status IN ('open', 'in_progress') AND NOT ((first_response_at IS NULL AND first_response_due < ?) OR resolution_due < ?) AND ((first_response_at IS NULL AND first_response_due < ?) OR resolution_due < ?))"
)

// view narrows to one view.
func (q InboxQuery) view(g *gorm.DB) (*gorm.DB, error) {
	now, soon := q.now(), q.soon()
	switch q.View {
	case ViewMine:
		me := q.Agent
		if me == "" {
			me = noneID
		}
		return g.Where("assignee = ?", me), nil
	case ViewUnassigned:
		return g.Where("assignee = ''"), nil
	case ViewTeam:
		if q.Team == "" {
			return g.Where("1 = 0"), nil
		}
		return g.Where("(team = ? OR assignee IN ?)", q.Team, nonEmpty(q.Members)), nil
	case ViewOverdue:
		return g.Where(overdueSQL, now, now), nil
	case ViewDueSoon:
		return g.Where(dueSoonSQL, now, now, soon, soon), nil
	case ViewWaiting:
		return g.Where("status = 'pending'"), nil
	case ViewAll:
		return g, nil
	}
	return nil, fmt.Errorf("storage: inbox view %q: %w", q.View, bot.ErrBadInput)
}

// Inbox returns one page of a view.
func (db *DB) Inbox(ctx context.Context, q InboxQuery) (InboxPage, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 200)
	g, err := q.view(db.inboxBase(db.gdb.WithContext(ctx).Model(&ticket{}), q))
	if err != nil {
		return InboxPage{}, err
	}
	var rows []ticket
	back := q.After > 0 && q.Before == 0
	switch {
	case back:
		g = g.Where("id > ?", q.After).Order("id ASC")
	case q.Before > 0:
		g = g.Where("id < ?", q.Before).Order("id DESC")
	default:
		g = g.Order("id DESC")
	}
	if err := g.Select(inboxCols).Limit(limit + 1).Find(&rows).Error; err != nil {
		return InboxPage{}, fmt.Errorf("storage: inbox %s: %w", q.View, err)
	}
	more := len(rows) > limit
	if more {
		rows = rows[:limit]
	}
	if back {
		slices.Reverse(rows)
	}
	p := InboxPage{Paused: map[int64]bool{}}
	for _, r := range rows {
		p.Tickets = append(p.Tickets, r.toBot())
		if r.Status == string(bot.StatusPending) { // the SLA clock pauses while the customer is asked
			p.Paused[r.ID] = true
		}
	}
	if len(rows) > 0 {
		first, last := rows[0].ID, rows[len(rows)-1].ID
		if back {
			if more {
				p.Newer = first
			}
			p.Older = last
		} else {
			if q.Before > 0 {
				p.Newer = first
			}
			if more {
				p.Older = last
			}
		}
	} else if back {
		p.Older = q.After + 1
	} else if q.Before > 0 {
		p.Newer = q.Before - 1
	}
	return p, nil
}

// InboxCounts returns the number of tickets of every view (InboxViews) under q's visibility, filters
// and search, counted in one pass over the open tickets.
func (db *DB) InboxCounts(ctx context.Context, q InboxQuery) (map[string]int, error) {
	now, soon := q.now(), q.soon()
	me := q.Agent
	if me == "" {
		me = noneID
	}
	team := "1 = 0"
	args := []any{me}
	if q.Team != "" {
		team = "(team = ? OR assignee IN ?)"
		args = append(args, q.Team, nonEmpty(q.Members))
	}
	args = append(args, now, now, now, now, soon, soon)
	sel := `COALESCE(SUM(CASE WHEN assignee = ? THEN 1 ELSE 0 END), 0) AS mine,
		COALESCE(SUM(CASE WHEN assignee = '' THEN 1 ELSE 0 END), 0) AS unassigned,
		COALESCE(SUM(CASE WHEN ` + team + ` THEN 1 ELSE 0 END), 0) AS team,
		COALESCE(SUM(CASE WHEN ` + overdueSQL + ` THEN 1 ELSE 0 END), 0) AS overdue,
		COALESCE(SUM(CASE WHEN ` + dueSoonSQL + ` THEN 1 ELSE 0 END), 0) AS due_soon,
		COALESCE(SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), 0) AS waiting,
		COUNT(*) AS "all"`
	var c struct{ Mine, Unassigned, Team, Overdue, DueSoon, Waiting, All int }
	g := db.inboxBase(db.gdb.WithContext(ctx).Model(&ticket{}), q)
	if err := g.Select(sel, args...).Take(&c).Error; err != nil {
		return nil, fmt.Errorf("storage: inbox counts: %w", err)
	}
	return map[string]int{ViewMine: c.Mine, ViewUnassigned: c.Unassigned, ViewTeam: c.Team, ViewOverdue: c.Overdue,
		ViewDueSoon: c.DueSoon, ViewWaiting: c.Waiting, ViewAll: c.All}, nil
}

// InboxFilterValues returns the channels and categories tickets use, for the inbox's filter lists.
func (db *DB) InboxFilterValues(ctx context.Context) (channels, categories []string, err error) {
	g := db.gdb.WithContext(ctx)
	if err = g.Model(&ticket{}).Distinct("channel").Order("channel").Pluck("channel", &channels).Error; err != nil {
		return nil, nil, fmt.Errorf("storage: inbox channels: %w", err)
	}
	if err = g.Model(&ticket{}).Where("category <> ''").Distinct("category").Order("category").Pluck("category", &categories).Error; err != nil {
		return nil, nil, fmt.Errorf("storage: inbox categories: %w", err)
	}
	return channels, categories, nil
}

// TicketSLA is the SLA state of a ticket's clock the ticket page shows.
type TicketSLA struct {
	PausedSince *time.Time // waiting on the customer since (the clock is paused)
	AckedAt     *time.Time // a breach was acknowledged
	FirstMet    *bool      // whether the first response came in time (nil: not decided yet)
	ResMet      *bool
}

// TicketSLAState reads a ticket's SLA clock columns.
func (db *DB) TicketSLAState(ctx context.Context, ticketID int64) (TicketSLA, error) {
	var r slaRow
	if err := db.gdb.WithContext(ctx).Where("id = ?", ticketID).Take(&r).Error; err != nil {
		return TicketSLA{}, fmt.Errorf("storage: ticket %d sla: %w", ticketID, err)
	}
	return TicketSLA{PausedSince: r.SlaPendingSince, AckedAt: r.SlaAckedAt, FirstMet: r.SlaFirstResponseMet, ResMet: r.SlaResolutionMet}, nil
}

// noneID matches no agent id, team or hash (agent ids are "cli:…" or "slack:…"; PostgreSQL refuses
// a NUL byte in text, so it cannot be used as the impossible value).
const noneID = "!none"

// ConvMessage is one message of a customer's chats as the ticket page shows it.
type ConvMessage struct {
	ID             int64
	ConversationID int64
	Direction      string // "in" (the customer) | "out" (the bot or an agent)
	Channel        bot.Channel
	Kind           string
	Text           string
	Payload        string // a pressed button's payload (kefu's own codes, not personal data)
	Attachments    []bot.Attachment
	At             time.Time
}

// CustomerMessages returns the messages of every conversation of a customer (all channels) at or after
// since and, when until is set, at or before it, oldest first, at most limit (the newest of them).
func (db *DB) CustomerMessages(ctx context.Context, customerID int64, since time.Time, until *time.Time, limit int) ([]ConvMessage, error) {
	if limit <= 0 || limit > 1000 {
		limit = 300
	}
	g := db.gdb.WithContext(ctx).Where("conversation_id IN (SELECT id FROM conversations WHERE customer_id = ?) AND at >= ?", customerID, since.UTC())
	if until != nil {
		g = g.Where("at <= ?", until.UTC())
	}
	var ms []message
	if err := g.Order("id DESC").Limit(limit).Find(&ms).Error; err != nil {
		return nil, fmt.Errorf("storage: customer %d messages: %w", customerID, err)
	}
	slices.Reverse(ms)
	out := make([]ConvMessage, len(ms))
	for i, m := range ms {
		out[i] = ConvMessage{ID: m.ID, ConversationID: m.ConversationID, Direction: m.Direction, Channel: bot.Channel(m.Channel), Kind: m.Kind,
			Text: m.Text, Payload: m.Payload, Attachments: fromJSON[bot.Attachment](m.Attachments), At: m.At.UTC()}
	}
	return out, nil
}
