// Package improve closes the seeds' monthly loop (服务改进分析表): a top problem becomes an improvement
// record (改进记录) traced to its root cause with 5-Why, fixed by owned actions with a due date and an
// acceptance criterion, linked to the tickets that revealed it and checked for effect; supervisors set
// SMART targets per metric and period; thresholds on live numbers ping the supervisors once per
// crossing and once when it clears, and late actions ping their owner once per due date.
//
// Records are numbered IMP-yyyymm-seq (month in the configured time zone) from a counter row updated
// with one atomic upsert, like ticket numbers. Every change to a record or its actions is written to
// improve_events (the audit trail) in the same transaction. Bad input is a *Problem: a catalog key and
// its arguments, localized by the caller; nothing is stored then.
package improve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/storage"
)

// Problem is bad input: a locales key ("improve.err.…") and its template arguments. It unwraps to
// bot.ErrBadInput (or bot.ErrForbidden for permission problems).
type Problem struct {
	Key  string
	Args map[string]any
	kind error
}

func (p *Problem) Error() string {
	if len(p.Args) == 0 {
		return "improve: " + p.Key
	}
	keys := make([]string, 0, len(p.Args))
	for k := range p.Args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%v", k, p.Args[k])
	}
	return "improve: " + p.Key + b.String()
}

func (p *Problem) Unwrap() error { return p.kind }

func bad(key string, kv ...any) *Problem {
	return &Problem{Key: key, Args: args(kv), kind: bot.ErrBadInput}
}

func forbidden(key string, kv ...any) *Problem {
	return &Problem{Key: key, Args: args(kv), kind: bot.ErrForbidden}
}

func args(kv []any) map[string]any {
	if len(kv) == 0 {
		return nil
	}
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

// Translator renders a catalog key (locales.Catalog.T has this shape).
type Translator func(lang, key string, args map[string]any) string

// Message is err in lang when it is a *Problem, else err's text.
func Message(err error, t Translator, lang string) string {
	var p *Problem
	if errors.As(err, &p) && t != nil {
		return t(lang, p.Key, p.Args)
	}
	return err.Error()
}

// ErrNotFound is returned for an unknown record, action, target or threshold.
var ErrNotFound = fmt.Errorf("improve: %w", bot.ErrNotFound)

// Record states.
const (
	RecordOpen = "open"
	RecordDone = "done" // every action is done
)

// Action terms and states.
const (
	TermShort = "short"
	TermLong  = "long"

	StateOpen       = "open"
	StateInProgress = "in_progress"
	StateVerifying  = "verifying"
	StateDone       = "done"
)

// MaxWhys is the depth of a 5-Why analysis.
const MaxWhys = 5

// maxText bounds every free-text field (runes).
const maxText = 2000

// Record is an improvement record with its linked tickets, actions and audit trail.
type Record struct {
	ID         int64     `json:"-"`
	No         string    `json:"no"`
	Phenomenon string    `json:"phenomenon"`
	Whys       []string  `json:"whys"`
	RootCause  string    `json:"root_cause"`
	Category   string    `json:"category"`
	Status     string    `json:"status"`
	CreatedBy  string    `json:"created_by"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	Tickets    []string  `json:"tickets"`
	Actions    []Action  `json:"actions"`
	Events     []Event   `json:"events,omitempty"`
}

// Action is one short- or long-term measure of a record.
type Action struct {
	ID          int64      `json:"id"`
	RecordNo    string     `json:"record_no"`
	Term        string     `json:"term"`
	Description string     `json:"description"`
	Owner       string     `json:"owner"`
	Due         string     `json:"due"` // YYYY-MM-DD
	Acceptance  string     `json:"acceptance"`
	State       string     `json:"state"`
	DoneAt      *time.Time `json:"done_at,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
}

// Event is one line of a record's audit trail.
type Event struct {
	At       time.Time `json:"at"`
	Actor    string    `json:"actor"`
	Kind     string    `json:"kind"`
	ActionID int64     `json:"action_id,omitempty"`
	Text     string    `json:"text"`
}

// NewRecord is the input of Create.
type NewRecord struct {
	Phenomenon string
	Whys       []string // 1..5 non-empty answers, in order (empty strings are dropped)
	RootCause  string
	Category   string
	Tickets    []string // ticket numbers to link
}

// NewAction is the input of AddAction.
type NewAction struct {
	Term        string // short | long
	Description string
	Owner       string // a configured agent or supervisor id ("cli:alice", "slack:U…")
	Due         string // YYYY-MM-DD
	Acceptance  string
}

// Options configure a Service.
type Options struct {
	DB *storage.DB
	// Agents are the configured agents and supervisors: owners must be one of them, only they may
	// write records, only supervisors set targets and thresholds.
	Agents []bot.AgentConfig
	Loc    *time.Location   // record months and due dates (default UTC)
	Now    func() time.Time // default time.Now
	Metric *Registry        // default Metrics
}

// Service is the improvement loop on one database. It is safe for concurrent use; several processes
// may share a database.
type Service struct {
	db      *storage.DB
	g       *gorm.DB
	agents  map[string]bot.AgentConfig
	loc     *time.Location
	now     func() time.Time
	metrics *Registry
}

// New builds a Service.
func New(o Options) *Service {
	s := &Service{db: o.DB, g: o.DB.Gorm(), agents: map[string]bot.AgentConfig{}, loc: o.Loc, now: o.Now, metrics: o.Metric}
	for _, a := range o.Agents {
		s.agents[a.ID] = a
	}
	if s.loc == nil {
		s.loc = time.UTC
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.metrics == nil {
		s.metrics = Metrics
	}
	return s
}

// IsAgent reports whether id is a configured agent or supervisor.
func (s *Service) IsAgent(id string) bool { _, ok := s.agents[id]; return ok }

// IsSupervisor reports whether id is a configured supervisor.
func (s *Service) IsSupervisor(id string) bool { return s.agents[id].Supervisor }

// Supervisors are the configured supervisors' ids, sorted.
func (s *Service) Supervisors() []string {
	var out []string
	for id, a := range s.agents {
		if a.Supervisor {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

func (s *Service) mustAgent(actor string) error {
	if !s.IsAgent(actor) {
		return forbidden("improve.err.not_agent", "actor", actor)
	}
	return nil
}

// text trims v and checks its length; field names the field in the message.
func text(v, field string) (string, error) {
	v = strings.TrimSpace(v)
	if utf8.RuneCountInString(v) > maxText {
		return "", bad("improve.err.too_long", "field", field, "max", maxText)
	}
	return v, nil
}

// validateRecord normalizes in or returns the first problem.
func validateRecord(in NewRecord) (NewRecord, error) {
	var err error
	if in.Phenomenon, err = text(in.Phenomenon, "phenomenon"); err != nil {
		return in, err
	}
	if in.Phenomenon == "" {
		return in, bad("improve.err.phenomenon")
	}
	var whys []string
	for _, w := range in.Whys {
		w, err := text(w, "why")
		if err != nil {
			return in, err
		}
		if w != "" {
			whys = append(whys, w)
		}
	}
	if len(whys) == 0 {
		return in, bad("improve.err.whys_none")
	}
	if len(whys) > MaxWhys {
		return in, bad("improve.err.whys_max", "max", MaxWhys, "n", len(whys))
	}
	in.Whys = whys
	if in.RootCause, err = text(in.RootCause, "root_cause"); err != nil {
		return in, err
	}
	if in.Category = strings.TrimSpace(in.Category); in.Category == "" {
		return in, bad("improve.err.category")
	}
	if len(in.Category) > 100 {
		return in, bad("improve.err.too_long", "field", "category", "max", 100)
	}
	seen := map[string]bool{}
	var tks []string
	for _, no := range in.Tickets {
		no = strings.ToUpper(strings.TrimSpace(no))
		if no != "" && !seen[no] {
			seen[no] = true
			tks = append(tks, no)
		}
	}
	in.Tickets = tks
	return in, nil
}

// validDate parses YYYY-MM-DD.
func validDate(v string) bool {
	_, err := time.Parse("2006-01-02", v)
	return err == nil
}

func (s *Service) validateAction(in NewAction) (NewAction, error) {
	var err error
	in.Term = strings.TrimSpace(strings.ToLower(in.Term))
	if in.Term != TermShort && in.Term != TermLong {
		return in, bad("improve.err.term", "term", in.Term)
	}
	if in.Description, err = text(in.Description, "description"); err != nil {
		return in, err
	}
	if in.Description == "" {
		return in, bad("improve.err.description")
	}
	if in.Owner = strings.TrimSpace(in.Owner); in.Owner == "" {
		return in, bad("improve.err.owner_missing")
	}
	if !s.IsAgent(in.Owner) {
		return in, bad("improve.err.owner_unknown", "owner", in.Owner)
	}
	if in.Due = strings.TrimSpace(in.Due); in.Due == "" {
		return in, bad("improve.err.due_missing")
	}
	if !validDate(in.Due) {
		return in, bad("improve.err.due_format", "due", in.Due)
	}
	if in.Acceptance, err = text(in.Acceptance, "acceptance"); err != nil {
		return in, err
	}
	if in.Acceptance == "" {
		return in, bad("improve.err.acceptance")
	}
	return in, nil
}

// RecordNo formats a record number: IMP-yyyymm-seq with at least 3 digits.
func RecordNo(month string, seq int64) string { return fmt.Sprintf("IMP-%s-%03d", month, seq) }

// Create validates in and stores a new record numbered in the current month, with its linked tickets
// and a "created" audit event, in one transaction.
func (s *Service) Create(ctx context.Context, actor string, in NewRecord) (Record, error) {
	if err := s.mustAgent(actor); err != nil {
		return Record{}, err
	}
	in, err := validateRecord(in)
	if err != nil {
		return Record{}, err
	}
	now := s.now().UTC()
	month := now.In(s.loc).Format("200601")
	whys, _ := json.Marshal(in.Whys)
	var rec recordRow
	err = s.tx(ctx, func(tx *gorm.DB) error {
		for _, no := range in.Tickets {
			if err := ticketExists(tx, no); err != nil {
				return err
			}
		}
		var seq int64
		if err := tx.Raw(`INSERT INTO improve_counters (month, seq) VALUES (?, 1)
			ON CONFLICT (month) DO UPDATE SET seq = improve_counters.seq + 1 RETURNING seq`, month).Scan(&seq).Error; err != nil {
			return fmt.Errorf("allocate number: %w", err)
		}
		if seq <= 0 {
			return errors.New("allocate number: counter returned no sequence")
		}
		rec = recordRow{No: RecordNo(month, seq), Phenomenon: in.Phenomenon, Whys: string(whys), RootCause: in.RootCause,
			Category: in.Category, Status: RecordOpen, CreatedBy: actor, CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&rec).Error; err != nil {
			return err
		}
		if err := addEvent(tx, rec.ID, 0, now, actor, "created", in.Phenomenon); err != nil {
			return err
		}
		for _, no := range in.Tickets {
			if err := link(tx, rec.ID, no, now, actor); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Record{}, wrap("create record", err)
	}
	return s.Record(ctx, rec.No)
}

// LinkTicket links a ticket to a record (linking twice is a no-op).
func (s *Service) LinkTicket(ctx context.Context, actor, no, ticketNo string) error {
	if err := s.mustAgent(actor); err != nil {
		return err
	}
	ticketNo = strings.ToUpper(strings.TrimSpace(ticketNo))
	now := s.now().UTC()
	err := s.tx(ctx, func(tx *gorm.DB) error {
		rec, err := recordByNo(tx, no)
		if err != nil {
			return err
		}
		if err := ticketExists(tx, ticketNo); err != nil {
			return err
		}
		return link(tx, rec.ID, ticketNo, now, actor)
	})
	return wrap("link ticket", err)
}

// AddAction validates in and adds it to record no in state open; a record that was done opens again.
func (s *Service) AddAction(ctx context.Context, actor, no string, in NewAction) (Action, error) {
	if err := s.mustAgent(actor); err != nil {
		return Action{}, err
	}
	in, err := s.validateAction(in)
	if err != nil {
		return Action{}, err
	}
	now := s.now().UTC()
	var a actionRow
	err = s.tx(ctx, func(tx *gorm.DB) error {
		rec, err := recordByNo(tx, no)
		if err != nil {
			return err
		}
		a = actionRow{RecordID: rec.ID, Term: in.Term, Description: in.Description, Owner: in.Owner, DueDate: in.Due,
			Acceptance: in.Acceptance, State: StateOpen, CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&a).Error; err != nil {
			return err
		}
		if err := addEvent(tx, rec.ID, a.ID, now, actor, "action_added",
			fmt.Sprintf("#%d %s %s due %s: %s", a.ID, in.Term, in.Owner, in.Due, in.Description)); err != nil {
			return err
		}
		return refreshStatus(tx, rec.ID, now)
	})
	if err != nil {
		return Action{}, wrap("add action", err)
	}
	return a.toAction(strings.ToUpper(strings.TrimSpace(no))), nil
}

// next lists the states an action may move to from each state: forward one step, or back from
// verifying to in progress when the acceptance check fails.
var next = map[string][]string{
	StateOpen:       {StateInProgress},
	StateInProgress: {StateVerifying},
	StateVerifying:  {StateDone, StateInProgress},
}

// ValidState reports whether st is an action state.
func ValidState(st string) bool {
	switch st {
	case StateOpen, StateInProgress, StateVerifying, StateDone:
		return true
	}
	return false
}

// SetActionState moves an action along open → in_progress → verifying → done (verifying may go back
// to in_progress). Only the owner or a supervisor may.
func (s *Service) SetActionState(ctx context.Context, actor string, actionID int64, state string) (Action, error) {
	if err := s.mustAgent(actor); err != nil {
		return Action{}, err
	}
	state = strings.TrimSpace(state)
	if !ValidState(state) {
		return Action{}, bad("improve.err.state_unknown", "state", state)
	}
	now := s.now().UTC()
	var (
		a  actionRow
		no string
	)
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("id = ?", actionID).Take(&a).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return bad("improve.err.no_action", "id", actionID)
			}
			return err
		}
		if a.Owner != actor && !s.IsSupervisor(actor) {
			return forbidden("improve.err.not_owner", "id", actionID, "owner", a.Owner)
		}
		allowed := false
		for _, st := range next[a.State] {
			allowed = allowed || st == state
		}
		if !allowed {
			return bad("improve.err.state", "from", a.State, "to", state)
		}
		up := map[string]any{"state": state, "updated_at": now}
		if state == StateDone {
			up["done_at"] = now
		} else {
			up["done_at"] = nil
		}
		// The WHERE on the old state makes two concurrent moves from the same state a race one wins.
		res := tx.Model(&actionRow{}).Where("id = ? AND state = ?", a.ID, a.State).Updates(up)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return bad("improve.err.state", "from", a.State, "to", state)
		}
		if err := addEvent(tx, a.RecordID, a.ID, now, actor, "action_state", fmt.Sprintf("#%d %s -> %s", a.ID, a.State, state)); err != nil {
			return err
		}
		var rec recordRow
		if err := tx.Where("id = ?", a.RecordID).Take(&rec).Error; err != nil {
			return err
		}
		no = rec.No
		a.State = state
		if state == StateDone {
			a.DoneAt = &now
		} else {
			a.DoneAt = nil
		}
		return refreshStatus(tx, a.RecordID, now)
	})
	if err != nil {
		return Action{}, wrap("set action state", err)
	}
	return a.toAction(no), nil
}

// Action returns one action.
func (s *Service) Action(ctx context.Context, id int64) (Action, error) {
	var a actionRow
	if err := s.g.WithContext(ctx).Where("id = ?", id).Take(&a).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return Action{}, ErrNotFound
		}
		return Action{}, wrap("action", err)
	}
	var rec recordRow
	if err := s.g.WithContext(ctx).Where("id = ?", a.RecordID).Take(&rec).Error; err != nil {
		return Action{}, wrap("action", err)
	}
	return a.toAction(rec.No), nil
}

// Record returns record no with its tickets, actions and audit trail.
func (s *Service) Record(ctx context.Context, no string) (Record, error) {
	g := s.g.WithContext(ctx)
	m, err := recordByNo(g, no)
	if err != nil {
		return Record{}, err
	}
	r := m.toRecord()
	var links []ticketLink
	if err := g.Where("record_id = ?", m.ID).Order("added_at, ticket_no").Find(&links).Error; err != nil {
		return Record{}, wrap("record tickets", err)
	}
	for _, l := range links {
		r.Tickets = append(r.Tickets, l.TicketNo)
	}
	var acts []actionRow
	if err := g.Where("record_id = ?", m.ID).Order("id").Find(&acts).Error; err != nil {
		return Record{}, wrap("record actions", err)
	}
	for _, a := range acts {
		r.Actions = append(r.Actions, a.toAction(r.No))
	}
	var evs []eventRow
	if err := g.Where("record_id = ?", m.ID).Order("id").Find(&evs).Error; err != nil {
		return Record{}, wrap("record events", err)
	}
	for _, e := range evs {
		r.Events = append(r.Events, Event{At: e.At.UTC(), Actor: e.Actor, Kind: e.Kind, ActionID: e.ActionID, Text: e.Text})
	}
	return r, nil
}

// ListFilter selects records.
type ListFilter struct {
	Status   string // "" any, open, done
	Category string
	Limit    int // default 100
}

// List returns records, newest first, with their actions (not their events).
func (s *Service) List(ctx context.Context, f ListFilter) ([]Record, error) {
	g := s.g.WithContext(ctx).Model(&recordRow{})
	if f.Status != "" {
		g = g.Where("status = ?", f.Status)
	}
	if f.Category != "" {
		g = g.Where("category = ?", f.Category)
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	var ms []recordRow
	if err := g.Order("id DESC").Limit(f.Limit).Find(&ms).Error; err != nil {
		return nil, wrap("list records", err)
	}
	out := make([]Record, len(ms))
	ids := make([]int64, len(ms))
	idx := map[int64]int{}
	for i, m := range ms {
		out[i] = m.toRecord()
		ids[i] = m.ID
		idx[m.ID] = i
	}
	if len(ids) == 0 {
		return out, nil
	}
	var acts []actionRow
	if err := s.g.WithContext(ctx).Where("record_id IN ?", ids).Order("id").Find(&acts).Error; err != nil {
		return nil, wrap("list actions", err)
	}
	for _, a := range acts {
		i := idx[a.RecordID]
		out[i].Actions = append(out[i].Actions, a.toAction(out[i].No))
	}
	var links []ticketLink
	if err := s.g.WithContext(ctx).Where("record_id IN ?", ids).Order("added_at, ticket_no").Find(&links).Error; err != nil {
		return nil, wrap("list tickets", err)
	}
	for _, l := range links {
		i := idx[l.RecordID]
		out[i].Tickets = append(out[i].Tickets, l.TicketNo)
	}
	return out, nil
}

// Actions lists actions (owner "" = all), oldest due first; open only unless all.
func (s *Service) Actions(ctx context.Context, owner string, all bool) ([]Action, error) {
	type row struct {
		A  actionRow `gorm:"embedded"`
		No string
	}
	g := s.g.WithContext(ctx).Table("improve_actions a").Select("a.*, r.no AS no").Joins("JOIN improve_records r ON r.id = a.record_id")
	if owner != "" {
		g = g.Where("a.owner = ?", owner)
	}
	if !all {
		g = g.Where("a.state <> ?", StateDone)
	}
	var rows []row
	if err := g.Order("a.due_date, a.id").Limit(1000).Find(&rows).Error; err != nil {
		return nil, wrap("list actions", err)
	}
	out := make([]Action, len(rows))
	for i, r := range rows {
		out[i] = r.A.toAction(r.No)
	}
	return out, nil
}

// KnownIssues returns the numbers of the open records of category (for 「已知问题 IMP-…」 on tickets).
func (s *Service) KnownIssues(ctx context.Context, category string) ([]string, error) {
	return KnownIssues(ctx, s.db, category)
}

// KnownIssues is Service.KnownIssues without a service (ticket views that have only the database).
func KnownIssues(ctx context.Context, db *storage.DB, category string) ([]string, error) {
	if strings.TrimSpace(category) == "" {
		return nil, nil
	}
	var nos []string
	if err := db.Gorm().WithContext(ctx).Model(&recordRow{}).Where("category = ? AND status = ?", category, RecordOpen).
		Order("id").Limit(5).Pluck("no", &nos).Error; err != nil {
		return nil, wrap("known issues", err)
	}
	return nos, nil
}

// tx runs fn in a transaction (BEGIN IMMEDIATE on SQLite, so read-then-write never deadlocks).
func (s *Service) tx(ctx context.Context, fn func(*gorm.DB) error) error {
	return s.g.WithContext(ctx).Transaction(fn)
}

func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	var p *Problem
	if errors.As(err, &p) || errors.Is(err, ErrNotFound) {
		return err
	}
	return fmt.Errorf("improve: %s: %w", what, err)
}

func recordByNo(g *gorm.DB, no string) (recordRow, error) {
	var m recordRow
	no = strings.ToUpper(strings.TrimSpace(no))
	if err := g.Where("no = ?", no).Take(&m).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return m, bad("improve.err.no_record", "no", no)
		}
		return m, err
	}
	return m, nil
}

func ticketExists(g *gorm.DB, no string) error {
	var n int64
	if err := g.Table("tickets").Where("no = ?", no).Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return bad("improve.err.unknown_ticket", "no", no)
	}
	return nil
}

func link(tx *gorm.DB, recordID int64, no string, now time.Time, actor string) error {
	var n int64
	if err := tx.Model(&ticketLink{}).Where("record_id = ? AND ticket_no = ?", recordID, no).Count(&n).Error; err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if err := tx.Create(&ticketLink{RecordID: recordID, TicketNo: no, AddedAt: now}).Error; err != nil {
		return err
	}
	return addEvent(tx, recordID, 0, now, actor, "ticket_linked", no)
}

func addEvent(tx *gorm.DB, recordID, actionID int64, at time.Time, actor, kind, text string) error {
	return tx.Create(&eventRow{RecordID: recordID, ActionID: actionID, At: at, Actor: actor, Kind: kind, Text: text}).Error
}

// refreshStatus sets a record done when it has actions and all are done, open otherwise.
func refreshStatus(tx *gorm.DB, recordID int64, now time.Time) error {
	var total, done int64
	if err := tx.Model(&actionRow{}).Where("record_id = ?", recordID).Count(&total).Error; err != nil {
		return err
	}
	if err := tx.Model(&actionRow{}).Where("record_id = ? AND state = ?", recordID, StateDone).Count(&done).Error; err != nil {
		return err
	}
	st := RecordOpen
	if total > 0 && done == total {
		st = RecordDone
	}
	return tx.Model(&recordRow{}).Where("id = ?", recordID).Updates(map[string]any{"status": st, "updated_at": now}).Error
}

// Rows (migration 0060).

type recordRow struct {
	ID         int64 `gorm:"primaryKey"`
	No         string
	Phenomenon string
	Whys       string
	RootCause  string
	Category   string
	Status     string
	CreatedBy  string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

func (recordRow) TableName() string { return "improve_records" }

func (m recordRow) toRecord() Record {
	r := Record{ID: m.ID, No: m.No, Phenomenon: m.Phenomenon, RootCause: m.RootCause, Category: m.Category, Status: m.Status,
		CreatedBy: m.CreatedBy, CreatedAt: m.CreatedAt.UTC(), UpdatedAt: m.UpdatedAt.UTC()}
	_ = json.Unmarshal([]byte(m.Whys), &r.Whys)
	return r
}

type ticketLink struct {
	RecordID int64  `gorm:"primaryKey;autoIncrement:false"`
	TicketNo string `gorm:"primaryKey"`
	AddedAt  time.Time
}

func (ticketLink) TableName() string { return "improve_tickets" }

type actionRow struct {
	ID          int64 `gorm:"primaryKey"`
	RecordID    int64
	Term        string
	Description string
	Owner       string
	DueDate     string
	Acceptance  string
	State       string
	DoneAt      *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (actionRow) TableName() string { return "improve_actions" }

func (a actionRow) toAction(no string) Action {
	var done *time.Time
	if a.DoneAt != nil {
		d := a.DoneAt.UTC()
		done = &d
	}
	return Action{ID: a.ID, RecordNo: no, Term: a.Term, Description: a.Description, Owner: a.Owner, Due: a.DueDate,
		Acceptance: a.Acceptance, State: a.State, DoneAt: done, CreatedAt: a.CreatedAt.UTC()}
}

type eventRow struct {
	ID       int64 `gorm:"primaryKey"`
	RecordID int64
	ActionID int64
	At       time.Time
	Actor    string
	Kind     string
	Text     string
}

func (eventRow) TableName() string { return "improve_events" }

// Trusting returns a copy of s that also accepts id as an agent (a supervisor when supervisor is
// set): the console's signed-in accounts, whose role the console has checked.
func (s *Service) Trusting(id string, supervisor bool) *Service {
	c := *s
	c.agents = make(map[string]bot.AgentConfig, len(s.agents)+1)
	for k, v := range s.agents {
		c.agents[k] = v
	}
	a := c.agents[id]
	a.ID, a.Supervisor = id, a.Supervisor || supervisor
	c.agents[id] = a
	return &c
}

// Agents are the configured agents and supervisors (possible owners), by id.
func (s *Service) Agents() []bot.AgentConfig {
	out := make([]bot.AgentConfig, 0, len(s.agents))
	for _, a := range s.agents {
		if !strings.HasPrefix(a.ID, "console:") {
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// NextStates lists the states an action in state st may move to.
func NextStates(st string) []string { return append([]string(nil), next[st]...) }

// MetricNames lists the metrics targets and thresholds accept.
func (s *Service) MetricNames() []string { return s.metrics.Names() }
