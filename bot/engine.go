package bot

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kefu-dev/kefu/flows"
	"github.com/kefu-dev/kefu/kb"
	"github.com/kefu-dev/kefu/locales"
)

// Stepper is the conversation state machine (*flows.Machine).
type Stepper interface {
	Step(s flows.Session, in flows.Input) (flows.Session, []flows.Effect, error)
}

// Translator renders locale keys (*locales.Catalog).
type Translator interface {
	T(lang, key string, args map[string]any) string
}

// AgentConfig is a configured agent or supervisor. Only configured agents may act on tickets.
type AgentConfig struct {
	ID         string // "cli:alice", "slack:U123"
	Name       string
	Team       string // the agent's team: the console's team view and which tickets the agent may see
	Supervisor bool
}

// SLAPolicy gives the first-response and resolution targets per priority.
type SLAPolicy struct {
	FirstResponse map[Priority]time.Duration
	Resolution    map[Priority]time.Duration
}

// DefaultSLAPolicy is the seeds' policy: first response P0 30m, P1 2h, P2 24h. The seeds set no
// resolution targets; kefu's defaults are P0 4h, P1 24h, P2 72h.
func DefaultSLAPolicy() SLAPolicy {
	return SLAPolicy{
		FirstResponse: map[Priority]time.Duration{P0: 30 * time.Minute, P1: 2 * time.Hour, P2: 24 * time.Hour},
		Resolution:    map[Priority]time.Duration{P0: 4 * time.Hour, P1: 24 * time.Hour, P2: 72 * time.Hour},
	}
}

// Due returns the first-response and resolution due times of a ticket of priority p opened at from.
// Missing entries fall back to the default policy.
func (p SLAPolicy) Due(pr Priority, from time.Time) (firstResponse, resolution time.Time) {
	def := DefaultSLAPolicy()
	fr, ok := p.FirstResponse[pr]
	if !ok || fr <= 0 {
		fr = def.FirstResponse[pr]
		if fr == 0 {
			fr = def.FirstResponse[P2]
		}
	}
	rs, ok := p.Resolution[pr]
	if !ok || rs <= 0 {
		rs = def.Resolution[pr]
		if rs == 0 {
			rs = def.Resolution[P2]
		}
	}
	return from.Add(fr), from.Add(rs)
}

// Options configure an Engine. Store is required; the rest has defaults.
type Options struct {
	Store   Store
	Flows   Stepper    // default: flows.New(flows.Options{KB: KB})
	KB      kb.Matcher // looks up FAQ answers (AnswerFAQ); nil answers "faq.no_answer"
	Catalog Translator // default: locales.Default()
	Policy  SLAPolicy  // zero value: DefaultSLAPolicy
	// Due, when set, computes a ticket's due times instead of Policy (e.g. business hours and the
	// channel's own first-response promise from bot/sla: policy.Due(policy.OpenedOn(p, category,
	// channel, from))).
	Due func(p Priority, category string, channel Channel, from time.Time) (firstResponse, resolution time.Time)
	// Location is the time zone of ticket numbers and of times told to customers (default Asia/Shanghai).
	Location *time.Location
	// Agents may act on tickets. When empty, any CLI actor ("cli:…") may (zero-setup).
	Agents []AgentConfig
	// Vars are passed to every locale template (company, bot …); effect args override them.
	Vars   map[string]any
	Logger *slog.Logger
	Now    func() time.Time
	// OnEnqueue is called after a commit that wrote outbox rows (wire Dispatcher.Kick here).
	OnEnqueue func()
	// LinkCodeTTL is how long a /link code stays valid (default 10 minutes).
	LinkCodeTTL time.Duration
	// Complaints: levels, core points, responsible parties, standard solutions, return visits and
	// auto-closing (complaints.go, proposals.go, visits.go). Zero fields take the defaults.
	Complaints ComplaintConfig
	// ChannelCaps is what each channel tells the conversation (greeting/closing wording, intake in one
	// message); nil means DefaultChannelCaps. A channel missing from the map is online chat.
	ChannelCaps map[Channel]flows.Caps
	// Workdays counts the working days of return visits (wire the SLA calendar, *sla.Calendar);
	// default Monday to Friday, closing at 18:00 in Location.
	Workdays Workdays
}

// Engine runs customer conversations (Deliver) and agent actions (Desk) against a Store.
type Engine struct {
	store    Store
	flows    Stepper
	kb       kb.Matcher
	cat      Translator
	policy   SLAPolicy
	loc      *time.Location
	agents   map[string]AgentConfig
	vars     map[string]any
	log      *slog.Logger
	now      func() time.Time
	notify   func()
	linkTTL  time.Duration
	dueFn    func(Priority, string, Channel, time.Time) (time.Time, time.Time)
	cc       ComplaintConfig
	workdays Workdays
	chanCaps map[Channel]flows.Caps
	hints    *hints // per conversation: the state and language its last message left (prematch.go)
}

var (
	_ InlineSink = (*Engine)(nil)
	_ Desk       = (*Engine)(nil)
)

// New builds an Engine.
func New(o Options) (*Engine, error) {
	if o.Store == nil {
		return nil, errors.New("bot: new engine: Store is required")
	}
	e := &Engine{store: o.Store, flows: o.Flows, kb: o.KB, cat: o.Catalog, policy: o.Policy, loc: o.Location,
		vars: o.Vars, log: o.Logger, now: o.Now, notify: o.OnEnqueue, linkTTL: o.LinkCodeTTL, dueFn: o.Due, hints: newHints()}
	if e.flows == nil {
		m, err := flows.New(flows.Options{KB: o.KB})
		if err != nil {
			return nil, fmt.Errorf("bot: new engine: %w", err)
		}
		e.flows = m
	}
	if e.cat == nil {
		e.cat = locales.Default()
	}
	if e.policy.FirstResponse == nil && e.policy.Resolution == nil {
		e.policy = DefaultSLAPolicy()
	}
	if e.loc == nil {
		loc, err := time.LoadLocation("Asia/Shanghai")
		if err != nil {
			loc = time.FixedZone("CST", 8*3600)
		}
		e.loc = loc
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	e.log = e.log.With("component", "engine")
	if e.now == nil {
		e.now = time.Now
	}
	if e.notify == nil {
		e.notify = func() {}
	}
	if e.linkTTL <= 0 {
		e.linkTTL = 10 * time.Minute
	}
	if err := o.Complaints.Validate(); err != nil {
		return nil, fmt.Errorf("bot: new engine: %w", err)
	}
	e.cc = o.Complaints.withDefaults()
	e.workdays = o.Workdays
	e.chanCaps = o.ChannelCaps
	if e.chanCaps == nil {
		e.chanCaps = DefaultChannelCaps()
	}
	if e.workdays == nil {
		e.workdays = weekdays{loc: e.loc}
	}
	e.agents = make(map[string]AgentConfig, len(o.Agents))
	for _, a := range o.Agents {
		if a.ID == "" {
			return nil, errors.New("bot: new engine: agent with empty id")
		}
		e.agents[a.ID] = a
	}
	return e, nil
}

// turn is the context of applying one step's effects.
type turn struct {
	tx    Tx
	conv  Conversation
	sess  *flows.Session // the session being saved (effects may set TicketNo)
	ev    *Event         // the customer's event, nil for desk-triggered steps
	at    time.Time
	extra map[string]any // args for every Say of this turn (e.g. the resolution summary)
	out   []Reply        // replies to enqueue, in order, when the effects are done
	sent  int            // outbox rows written for the dispatcher
	// inline: replies to the event's own chat are recorded as delivered and collected in replies
	// (InlineSink).
	inline  bool
	replies []Reply
}

// own reports whether r goes to the chat of the turn's event and the adapter hands it over itself.
func (t *turn) own(r Reply) bool {
	return t.inline && t.ev != nil && r.Channel == t.ev.Channel && r.ChatID == t.ev.ChatID
}

// flush writes the turn's queued replies in order: one batch per run of replies that are (or are not)
// handed over inline.
func (t *turn) flush(ctx context.Context) error {
	for len(t.out) > 0 {
		own := t.own(t.out[0])
		n := 1
		for n < len(t.out) && t.own(t.out[n]) == own {
			n++
		}
		batch := t.out[:n]
		if own {
			ids, err := t.tx.EnqueueDelivered(ctx, t.at, batch...)
			if err != nil {
				return err
			}
			for i := range batch {
				batch[i].OutboxID = ids[i]
				t.replies = append(t.replies, batch[i])
			}
		} else {
			if _, err := t.tx.Enqueue(ctx, t.at, batch...); err != nil {
				return err
			}
			t.sent += n
		}
		t.out = t.out[n:]
	}
	return nil
}

// Deliver implements Sink: it stores ev once and runs one conversation step in one transaction
// (inbound message, session, tickets, audit events and outbox rows commit together). A duplicate
// (Channel, MsgID) is acknowledged without effect. When the step fails, the inbound message is still
// stored and the customer gets a localized apology, so nothing is lost.
func (e *Engine) Deliver(ctx context.Context, ev Event) error {
	_, err := e.deliver(ctx, ev, false)
	return err
}

// DeliverInline implements InlineSink: Deliver, with the replies to the event's chat recorded as
// delivered in the same transaction and returned.
func (e *Engine) DeliverInline(ctx context.Context, ev Event) ([]Reply, error) {
	return e.deliver(ctx, ev, true)
}

func (e *Engine) deliver(ctx context.Context, ev Event, inline bool) ([]Reply, error) {
	if ev.At.IsZero() {
		ev.At = e.now()
	}
	ev.Text = flows.Normalize(ev.Text)
	var sent int
	var replies []Reply
	var last flows.Session // the session the step left, for the hints
	pre := e.prematch(ev)
	txf := e.store.Tx
	if g, ok := e.store.(GroupCommitter); ok {
		txf = g.GroupTx // a customer's message: commits may be shared with other customers' messages
	}
	err := txf(ctx, func(tx Tx) error {
		sent, replies = 0, nil
		conv, err := tx.SaveInbound(ctx, ev)
		if err != nil {
			return err
		}
		fresh := func() flows.Session {
			lang := conv.Lang
			if lang == "" {
				lang = flows.DetectLang(ev.Text, ev.LangHint)
			}
			return flows.NewSession(lang)
		}
		s, err := tx.Session(ctx, conv.ID)
		switch {
		case errors.Is(err, ErrNotFound):
			s = fresh()
		case errors.Is(err, ErrBadSession):
			// A session no version of kefu can read again would otherwise answer every later message
			// with an apology: start the conversation over (tickets and history are kept).
			e.log.ErrorContext(ctx, "unreadable session reset", "conversation_id", conv.ID, "err", err)
			s = fresh()
		case err != nil:
			return fmt.Errorf("bot: load session %d: %w", conv.ID, err)
		}
		profile, err := tx.CustomerProfile(ctx, conv.CustomerID)
		if err != nil {
			return err
		}
		in := e.input(ev)
		in.Profile = &profile
		in.Prematched = pre
		next, effects, err := e.flows.Step(s, in)
		if errors.Is(err, flows.ErrUnknownState) {
			// A state this version does not know (written by a newer or older kefu): start over.
			e.log.ErrorContext(ctx, "session in an unknown state reset", "conversation_id", conv.ID, "state", s.State)
			s = fresh()
			next, effects, err = e.flows.Step(s, in)
		}
		if err != nil {
			return fmt.Errorf("bot: step in state %q: %w", s.State, err)
		}
		t := &turn{tx: tx, conv: conv, sess: &next, ev: &ev, at: ev.At, inline: inline}
		if err := e.applyEffects(ctx, t, effects); err != nil {
			return err
		}
		// The session before the replies: a store may write it together with them (PostgreSQL: one
		// round trip less on the waiting path, issue 14); both commit together either way.
		if err := tx.SaveSession(ctx, conv.ID, next, ev.At); err != nil {
			return err
		}
		if err := t.flush(ctx); err != nil {
			return fmt.Errorf("bot: enqueue replies: %w", err)
		}
		sent, replies, last = t.sent, t.replies, next
		return nil
	})
	if errors.Is(err, ErrDuplicate) {
		e.log.DebugContext(ctx, "duplicate event", "channel", ev.Channel, "msg_id", ev.MsgID)
		return nil, nil
	}
	if err == nil {
		e.hints.put(hintKey(ev), last.State, last.Lang)
		if sent > 0 {
			e.notify()
		}
		return replies, nil
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("bot: deliver: %w", err)
	}
	// The database is down (a store that can tell, see storage.DB.Down): nothing can be stored, not
	// even the apology; the store logs the outage once, the channel answers "try again" (web: 503).
	if d, ok := e.store.(interface{ Down(context.Context) bool }); ok && d.Down(ctx) {
		return nil, fmt.Errorf("bot: deliver during a database outage: %w", err)
	}
	e.log.ErrorContext(ctx, "deliver failed; storing the message and apologizing", "channel", ev.Channel,
		"chat_id", ev.ChatID, "msg_id", ev.MsgID, "err", err)
	ferr := txf(ctx, func(tx Tx) error {
		sent, replies = 0, nil
		conv, err := tx.SaveInbound(ctx, ev)
		if err != nil {
			return err
		}
		lang := conv.Lang
		if s, err := tx.Session(ctx, conv.ID); err == nil && s.Lang != "" {
			lang = s.Lang
		}
		if lang == "" {
			lang = flows.DetectLang(ev.Text, ev.LangHint)
		}
		t := &turn{tx: tx, conv: conv, ev: &ev, at: ev.At, inline: inline}
		t.out = []Reply{{ConversationID: conv.ID, Channel: conv.Channel, ChatID: conv.ChatID, Text: e.t(lang, "error.internal", nil)}}
		if err := t.flush(ctx); err != nil {
			return err
		}
		sent, replies = t.sent, t.replies
		return nil
	})
	if errors.Is(ferr, ErrDuplicate) {
		return nil, nil
	}
	if ferr != nil {
		// Nothing was stored: let the adapter leave the message unacknowledged so the platform retries.
		return nil, fmt.Errorf("bot: deliver: %w", errors.Join(err, ferr))
	}
	if sent > 0 {
		e.notify()
	}
	return replies, nil
}

// input turns an event into a flows.Input.
func (e *Engine) input(ev Event) flows.Input {
	// At in the configured zone: the customer's 「明天下午」 is tomorrow afternoon there.
	in := flows.Input{LangHint: ev.LangHint, At: ev.At.In(e.loc), Media: len(ev.Attachments) > 0, Caps: e.caps(ev.Channel)}
	switch ev.Kind {
	case KindButton:
		in.Button = ev.Payload
	case KindCommand:
		name := strings.ToLower(strings.TrimPrefix(ev.Payload, "/"))
		if name == "" {
			if n, args, ok := flows.ParseCommand(ev.Text); ok {
				in.Command, in.Args = n, args
				break
			}
			in.Text = ev.Text
			break
		}
		in.Command, in.Args = name, ev.Text
	default:
		if n, args, ok := flows.ParseCommand(ev.Text); ok {
			in.Command, in.Args = n, args
		} else {
			in.Text = ev.Text
		}
	}
	return in
}

// t renders key in lang with the engine's vars under args.
func (e *Engine) t(lang, key string, args map[string]any) string {
	if len(e.vars) == 0 {
		return e.cat.T(lang, key, args)
	}
	all := make(map[string]any, len(e.vars)+len(args))
	for k, v := range e.vars {
		all[k] = v
	}
	for k, v := range args {
		all[k] = v
	}
	return e.cat.T(lang, key, all)
}

// FormatTime renders t for a customer in the configured time zone: "2026-11-24 09:30" in Chinese
// (the company's local time), "2026-11-24 09:30 (UTC+08:00)" in English (zone abbreviations such
// as CST are ambiguous abroad).
func (e *Engine) FormatTime(t time.Time, lang string) string {
	lt := t.In(e.loc)
	if strings.HasPrefix(lang, "en") {
		return lt.Format("2006-01-02 15:04 (UTC-07:00)")
	}
	return lt.Format("2006-01-02 15:04")
}

// stamp renders t for agents' audit-trail texts and refusals: the configured zone, as `kefu ticket
// show`, the console and Slack show every other time ("2026-11-24 09:30").
func (e *Engine) stamp(t time.Time) string { return t.In(e.loc).Format("2006-01-02 15:04") }

// due returns the due times of a ticket of priority p and category opened at from on channel.
func (e *Engine) due(p Priority, category string, channel Channel, from time.Time) (time.Time, time.Time) {
	if e.dueFn != nil {
		return e.dueFn(p, category, channel, from)
	}
	return e.policy.Due(p, from)
}

// Location is the configured time zone.
func (e *Engine) Location() *time.Location { return e.loc }

func (e *Engine) say(ctx context.Context, t *turn, key string, args map[string]any, choices []flows.Choice) error {
	lang := t.sess.Lang
	if len(t.extra) > 0 {
		merged := make(map[string]any, len(t.extra)+len(args))
		for k, v := range t.extra {
			merged[k] = v
		}
		for k, v := range args {
			merged[k] = v
		}
		args = merged
	}
	r := Reply{ConversationID: t.conv.ID, Channel: t.conv.Channel, ChatID: t.conv.ChatID, Text: e.t(lang, key, args)}
	for _, c := range choices {
		label := c.Label
		if c.Key != "" {
			label = e.t(lang, c.Key, c.Args)
		}
		r.Buttons = append(r.Buttons, Button{Label: label, Payload: c.Payload})
	}
	return e.enqueue(ctx, t, r)
}

// enqueue queues r; apply writes the turn's replies in one batch at the end.
func (e *Engine) enqueue(_ context.Context, t *turn, r Reply) error {
	t.out = append(t.out, r)
	return nil
}

// apply carries out a step's effects in order, inside the turn's transaction.
func (e *Engine) apply(ctx context.Context, t *turn, effects []flows.Effect) error {
	if err := e.applyEffects(ctx, t, effects); err != nil {
		return err
	}
	if err := t.flush(ctx); err != nil {
		return fmt.Errorf("bot: enqueue replies: %w", err)
	}
	return nil
}

// applyEffects is apply without writing the replies: they wait in t.out for t.flush.
func (e *Engine) applyEffects(ctx context.Context, t *turn, effects []flows.Effect) error {
	for _, ef := range effects {
		if err := e.applyOne(ctx, t, ef); err != nil {
			return fmt.Errorf("bot: apply %T: %w", ef, err)
		}
	}
	if e.caps(t.conv.Channel).Batch {
		t.out = mergeReplies(t.out)
	}
	return nil
}

func (e *Engine) applyOne(ctx context.Context, t *turn, ef flows.Effect) error {
	lang := t.sess.Lang
	switch x := ef.(type) {
	case flows.Say:
		return e.say(ctx, t, x.Key, x.Args, x.Choices)
	case flows.AnswerFAQ:
		var entry *kb.Entry
		if e.kb != nil {
			entry = e.kb.Entry(x.EntryID, lang)
		}
		if entry == nil {
			e.log.WarnContext(ctx, "faq entry not found", "entry_id", x.EntryID, "lang", lang)
			return e.say(ctx, t, "faq.no_answer", nil, nil)
		}
		query := x.Query
		if query == "" && t.ev != nil {
			query = t.ev.Text
		}
		if err := t.tx.Cite(ctx, Citation{EntryID: entry.ID, ConversationID: t.conv.ID, Lang: lang, Query: query, At: t.at}); err != nil {
			return err
		}
		return e.enqueue(ctx, t, Reply{ConversationID: t.conv.ID, Channel: t.conv.Channel, ChatID: t.conv.ChatID, Text: entry.Answer})
	case flows.FAQFeedback:
		return t.tx.FAQFeedback(ctx, t.conv.ID, x.EntryID, x.Helped)
	case flows.Unanswered:
		return t.tx.SaveUnanswered(ctx, t.conv.ID, lang, x.Text, t.at)
	case flows.OpenTicket:
		return e.openTicket(ctx, t, x.Intake)
	case flows.DecideProposal:
		return e.decideProposal(ctx, t, x)
	case flows.AddToTicket:
		return e.addToTicket(ctx, t, x)
	case flows.ListTickets:
		return e.listTickets(ctx, t)
	case flows.ShowTicket:
		return e.showTicket(ctx, t, x.No)
	case flows.Reopen:
		return e.customerTicket(ctx, t, x.No, func(tk *Ticket) (EventKind, string, error) {
			if tk.Status != StatusResolved && tk.Status != StatusClosed {
				return "", "", nil // still open: nothing to reopen
			}
			tk.Status, tk.ResolvedAt, tk.ClosedAt = StatusOpen, nil, nil
			tk.Reopens++
			return EvReopened, x.Reason, nil
		})
	case flows.ConfirmSolved:
		return e.customerTicket(ctx, t, x.No, func(tk *Ticket) (EventKind, string, error) {
			if tk.Status == StatusClosed {
				return "", "", nil
			}
			at := t.at.UTC()
			tk.Status, tk.ClosedAt = StatusClosed, &at
			if tk.ResolvedAt == nil {
				tk.ResolvedAt = &at
			}
			return EvClosed, "confirmed solved by customer", nil
		})
	case flows.Rate:
		if x.Score < 1 || x.Score > 5 {
			return fmt.Errorf("%w: score %d", ErrBadInput, x.Score)
		}
		return e.customerTicket(ctx, t, x.No, func(tk *Ticket) (EventKind, string, error) {
			tk.Rating = x.Score
			if err := t.tx.SaveSurvey(ctx, tk.ID, tk.CustomerID, x.Score, "", t.at); err != nil {
				return "", "", err
			}
			if x.Score <= flows.LowRating {
				if err := e.lowRatingVisit(ctx, t, *tk); err != nil {
					return "", "", err
				}
			}
			return EvRated, fmt.Sprintf("%d", x.Score), nil
		})
	case flows.Comment:
		return e.customerTicket(ctx, t, x.No, func(tk *Ticket) (EventKind, string, error) {
			tk.RatingComment = truncateRunes(x.Text, 2000)
			if err := t.tx.SaveSurvey(ctx, tk.ID, tk.CustomerID, tk.Rating, tk.RatingComment, t.at); err != nil {
				return "", "", err
			}
			return EvRated, fmt.Sprintf("%d %s", tk.Rating, tk.RatingComment), nil
		})
	case flows.SetLang:
		return t.tx.SetCustomerLang(ctx, t.conv.CustomerID, x.Lang)
	case flows.IssueLinkCode:
		code, err := linkCode()
		if err != nil {
			return err
		}
		if err := t.tx.SaveLinkCode(ctx, code, t.conv.CustomerID, t.at.Add(e.linkTTL)); err != nil {
			return err
		}
		return e.say(ctx, t, "link.code", map[string]any{"code": displayLinkCode(code), "minutes": int(e.linkTTL / time.Minute)}, nil)
	case flows.UseLinkCode:
		target, err := t.tx.UseLinkCode(ctx, normalizeLinkCode(x.Code), t.conv.CustomerID, t.at)
		if errors.Is(err, ErrNotFound) {
			return e.say(ctx, t, "link.bad_code", nil, nil)
		}
		if err != nil {
			return err
		}
		t.conv.CustomerID = target
		return e.say(ctx, t, "link.done", nil, nil)
	default:
		e.log.WarnContext(ctx, "unknown effect ignored", "effect", fmt.Sprintf("%T", ef))
		return nil
	}
}

// linkAlphabet has no look-alike characters (0/O, 1/I/L), so codes survive being read out or retyped.
const linkAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// linkCode returns a one-time code of 12 characters from linkAlphabet (about 59 bits), stored without
// separators: guessing one within its lifetime is infeasible even without an attempt limit.
func linkCode() (string, error) {
	b := make([]byte, 12)
	max := big.NewInt(int64(len(linkAlphabet)))
	for i := range b {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", fmt.Errorf("link code: %w", err)
		}
		b[i] = linkAlphabet[n.Int64()]
	}
	return string(b), nil
}

// displayLinkCode groups a code for reading: "ABCD-EFGH-JKMN".
func displayLinkCode(code string) string {
	if len(code) != 12 {
		return code
	}
	return code[:4] + "-" + code[4:8] + "-" + code[8:]
}

// normalizeLinkCode undoes what people do to a code when they retype it: case, spaces, dashes.
func normalizeLinkCode(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		if r != '-' && r != ' ' && r != '\t' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}

// priorityOf maps an intake to a ticket priority: the flow's choice, else from urgency; complaints are
// at least P1.
func priorityOf(in flows.Intake) Priority {
	p := Priority(strings.ToUpper(in.Priority))
	switch p {
	case P0, P1, P2:
	default:
		switch in.Urgency {
		case "urgent":
			p = P0
		case "normal":
			p = P1
		default:
			p = P2
		}
	}
	if in.Complaint && p == P2 {
		p = P1
	}
	return p
}

func (e *Engine) openTicket(ctx context.Context, t *turn, in flows.Intake) error {
	pr := priorityOf(in)
	level, repeatOf, why := 0, "", ""
	if in.Complaint {
		lv, rep, reason, err := e.complaintLevel(ctx, t, in)
		if err != nil {
			return err
		}
		level, repeatOf, why, pr = lv.Level, rep, reason, higher(pr, lv.Priority)
	}
	first, res := e.due(pr, SLACategory(in.Category, level), t.conv.Channel, t.at)
	summary := in.Description
	if summary == "" {
		summary = in.FirstText
	}
	profile, err := e.rememberIntake(ctx, t, in)
	if err != nil {
		return err
	}
	tk := Ticket{
		ConversationID: t.conv.ID,
		CustomerID:     t.conv.CustomerID,
		Channel:        t.conv.Channel,
		CustomerName:   firstNonEmptyStr(profile.Name, t.conv.UserName),
		// The number given at intake, else one in the customer's words.
		CustomerPhone:    firstNonEmptyStr(profile.Phone, FirstPhone(in.Description+" "+in.FirstText)),
		ExpectedBy:       in.ExpectedBy(),
		Lang:             t.sess.Lang,
		Category:         in.Category,
		Priority:         pr,
		Status:           StatusOpen,
		Summary:          truncateRunes(summary, 200),
		Description:      in.Description,
		OrderNo:          in.OrderNo,
		Urgency:          in.Urgency,
		Complaint:        in.Complaint,
		Escalated:        in.Complaint,
		ComplaintLevel:   level,
		RepeatOf:         repeatOf,
		CreatedAt:        t.at,
		FirstResponseDue: first,
		ResolutionDue:    res,
	}
	if t.ev != nil {
		tk.Attachments = t.ev.Attachments
	}
	tk, err = t.tx.CreateTicket(ctx, tk, t.at.In(e.loc).Format("20060102"))
	if err != nil {
		return err
	}
	text := in.Description
	if text == "" {
		text = in.FirstText
	}
	if _, err := t.tx.AddEvent(ctx, TicketEvent{TicketID: tk.ID, TicketNo: tk.No, At: t.at, Actor: "customer",
		Kind: EvCreated, Text: text, Channel: t.conv.Channel, Attachments: tk.Attachments}); err != nil {
		return err
	}
	if in.Complaint {
		if _, err := t.tx.AddEvent(ctx, TicketEvent{TicketID: tk.ID, TicketNo: tk.No, At: t.at, Actor: "bot",
			Kind: EvEscalated, Text: "complaint", Channel: t.conv.Channel}); err != nil {
			return err
		}
		text := fmt.Sprintf("L%d %s", level, why)
		if repeatOf != "" {
			text += " repeat_of=" + repeatOf
		}
		if _, err := t.tx.AddEvent(ctx, TicketEvent{TicketID: tk.ID, TicketNo: tk.No, At: t.at, Actor: "bot",
			Kind: EvComplaintLevel, Text: text, Internal: true}); err != nil {
			return err
		}
	}
	t.sess.TicketNo = tk.No
	e.log.InfoContext(ctx, "ticket opened", "ticket_no", tk.No, "priority", tk.Priority, "conversation_id", t.conv.ID)
	return e.say(ctx, t, "ticket.opened", map[string]any{
		"no":          tk.No,
		"priority":    "priority." + string(tk.Priority),
		"due":         e.FormatTime(first, t.sess.Lang),
		"resolve_due": e.FormatTime(res, t.sess.Lang),
		"level":       level,
	}, nil)
}

func (e *Engine) addToTicket(ctx context.Context, t *turn, x flows.AddToTicket) error {
	no := t.sess.TicketNo
	if no == "" {
		e.log.WarnContext(ctx, "add to ticket without a ticket", "conversation_id", t.conv.ID)
		return nil
	}
	tk, err := t.tx.LockTicket(ctx, no)
	if err != nil {
		return err
	}
	if tk.CustomerID != t.conv.CustomerID {
		e.log.WarnContext(ctx, "session ticket belongs to another customer", "ticket_no", no, "conversation_id", t.conv.ID)
		return nil
	}
	if tk.Status == StatusPending {
		// The customer answered: the ticket is no longer waiting on them.
		tk.Status = StatusInProgress
		if err := t.tx.UpdateTicket(ctx, tk); err != nil {
			return err
		}
		if _, err := t.tx.AddEvent(ctx, TicketEvent{TicketID: tk.ID, TicketNo: tk.No, At: t.at, Actor: "customer",
			Kind: EvStatus, Text: string(StatusPending) + "->" + string(StatusInProgress), Channel: t.conv.Channel}); err != nil {
			return err
		}
	}
	if tk.Summary == "" && strings.TrimSpace(x.Text) != "" {
		// A ticket opened without a description (转人工, then a type tapped): the customer's first
		// words on it are its summary, not an empty line on every list and card.
		tk.Summary, tk.Description = truncateRunes(x.Text, 200), x.Text
		if err := t.tx.UpdateTicket(ctx, tk); err != nil {
			return err
		}
	}
	ev := TicketEvent{TicketID: tk.ID, TicketNo: tk.No, At: t.at, Actor: "customer", Kind: EvCustomerMessage,
		Text: x.Text, Channel: t.conv.Channel}
	if t.ev != nil {
		ev.Attachments = t.ev.Attachments
		if ev.Text == "" {
			ev.Text = t.ev.Text
		}
	}
	_, err = t.tx.AddEvent(ctx, ev)
	return err
}

// statusKey and friends turn ticket fields into locale keys ({{t .status}} renders them).
func statusKey(s Status) string     { return "status." + string(s) }
func priorityKey(p Priority) string { return "priority." + string(p) }
func categoryKey(c string) string {
	if c == "" {
		return "category.none"
	}
	if strings.Contains(c, ".") {
		return c
	}
	return "category." + c
}

func (e *Engine) listTickets(ctx context.Context, t *turn) error {
	tks, err := t.tx.ListTickets(ctx, TicketFilter{CustomerID: t.conv.CustomerID, Limit: 10,
		Statuses: []Status{StatusOpen, StatusInProgress, StatusPending, StatusResolved, StatusClosed}})
	if err != nil {
		return err
	}
	if len(tks) == 0 {
		return e.say(ctx, t, "ticket.list.empty", nil, nil)
	}
	lang := t.sess.Lang
	lines := []string{e.t(lang, "ticket.list.header", nil)}
	for _, tk := range tks {
		lines = append(lines, e.t(lang, "ticket.list.line", map[string]any{
			"no": tk.No, "status": statusKey(tk.Status), "category": categoryKey(tk.Category), "priority": priorityKey(tk.Priority),
		}))
	}
	return e.enqueue(ctx, t, Reply{ConversationID: t.conv.ID, Channel: t.conv.Channel, ChatID: t.conv.ChatID, Text: strings.Join(lines, "\n")})
}

// NormalizeTicketNo upper-cases and trims a ticket number typed by a person.
func NormalizeTicketNo(no string) string { return strings.ToUpper(strings.TrimSpace(no)) }

func (e *Engine) showTicket(ctx context.Context, t *turn, no string) error {
	no = NormalizeTicketNo(no)
	tk, err := t.tx.TicketByNo(ctx, no)
	if errors.Is(err, ErrUnknownTkt) || err == nil && tk.CustomerID != t.conv.CustomerID {
		// The same answer for "no such ticket" and "not yours": existence is not revealed.
		return e.say(ctx, t, "ticket.not_yours", map[string]any{"no": no}, nil)
	}
	if err != nil {
		return err
	}
	args := map[string]any{"no": tk.No, "status": statusKey(tk.Status), "category": categoryKey(tk.Category),
		"priority": priorityKey(tk.Priority), "description": tk.Description}
	if tk.Open() && tk.FirstResponseAt == nil {
		args["due"] = e.FormatTime(tk.FirstResponseDue, t.sess.Lang)
	}
	return e.say(ctx, t, "ticket.show", args, nil)
}

// customerTicket changes a ticket on the customer's behalf, only if it is theirs. change returns the
// audit event to write (an empty kind means nothing changed).
func (e *Engine) customerTicket(ctx context.Context, t *turn, no string, change func(*Ticket) (EventKind, string, error)) error {
	if no == "" {
		no = t.sess.TicketNo
	}
	no = NormalizeTicketNo(no)
	if no == "" {
		e.log.WarnContext(ctx, "ticket effect without a ticket number", "conversation_id", t.conv.ID)
		return nil
	}
	tk, err := t.tx.LockTicket(ctx, no)
	if errors.Is(err, ErrUnknownTkt) || err == nil && tk.CustomerID != t.conv.CustomerID {
		return e.say(ctx, t, "ticket.not_yours", map[string]any{"no": no}, nil)
	}
	if err != nil {
		return err
	}
	kind, text, err := change(&tk)
	if err != nil || kind == "" {
		return err
	}
	if err := t.tx.UpdateTicket(ctx, tk); err != nil {
		return err
	}
	_, err = t.tx.AddEvent(ctx, TicketEvent{TicketID: tk.ID, TicketNo: tk.No, At: t.at, Actor: "customer", Kind: kind,
		Text: text, Channel: t.conv.Channel})
	return err
}

// rememberIntake stores the intake fields the customer gave (name, phone, e-mail) and the fields they
// were asked on the customer, so later tickets do not ask again, and returns the profile.
func (e *Engine) rememberIntake(ctx context.Context, t *turn, in flows.Intake) (flows.Profile, error) {
	p, err := t.tx.CustomerProfile(ctx, t.conv.CustomerID)
	if err != nil {
		return p, err
	}
	changed := false
	for _, f := range []struct {
		dst *string
		v   string
	}{{&p.Name, in.Name}, {&p.Phone, in.Phone}, {&p.Email, in.Email}} {
		if f.v != "" && *f.dst != f.v {
			*f.dst, changed = f.v, true
		}
	}
	for _, f := range in.Asked {
		if f != flows.FieldExpected && !slices.Contains(p.Asked, f) {
			p.Asked, changed = append(p.Asked, f), true
		}
	}
	if !changed {
		return p, nil
	}
	return p, t.tx.SaveCustomerProfile(ctx, t.conv.CustomerID, p)
}
