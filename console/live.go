package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/storage"
)

// The inbox's live feed (issue 17): GET /console/inbox/events is a server-sent-events stream of ticket
// events for the signed-in user, and POST /console/tickets/{no}/presence the collision notice's
// heartbeat.
//
// One poll loop per console replica (liveHub) reads new ticket events from the database for every
// connected stream at once — one query per LivePoll, whatever the number of streams — and fans them
// out to the streams allowed to see them. Polling the database (not an in-process notification) is
// what makes it work with several replicas on PostgreSQL: every replica reads the same committed
// events in id order. The same loop checks, in one query per second, that every stream's session is
// still valid: a disabled account's streams end with a "signout" event.
//
// The stream carries no personal data: ticket number, event kind, actor id and the ticket's
// assignee/status/priority. Pages fetch what they show through their authenticated HTML endpoints.

// Live feed defaults.
const (
	defaultLivePoll      = 250 * time.Millisecond
	defaultLiveHeartbeat = 15 * time.Second
	defaultPresenceTTL   = 15 * time.Second
	liveBuffer           = 512  // events a stream may lag behind before it is dropped (and resumes)
	liveBatch            = 500  // events read per poll
	liveCatchUp          = 2000 // events a resuming stream may ask for; more: "reset" (reload)
)

// liveMsg is one message of a stream.
type liveMsg struct {
	event string // "ticket", "gone"
	ev    storage.LiveEvent
}

type liveSub struct {
	tokHash string
	user    storage.User // as of the last session check (guarded by liveHub.mu)
	ch      chan liveMsg
	done    chan struct{} // closed when the hub drops the stream; end says why
	end     string        // "signout" when the session ended; "" otherwise
}

type liveHub struct {
	c       *Console
	mu      sync.Mutex
	subs    map[*liveSub]bool
	cursor  int64
	running bool
	// polls counts the event queries (tests check one per interval for all streams).
	polls int64
}

func (c *Console) liveRoutes() {
	c.hub = &liveHub{c: c, subs: map[*liveSub]bool{}}
	c.mux.HandleFunc("GET /console/inbox/events", c.auth(RoleAgent, c.liveEvents))
	c.mux.HandleFunc("POST /console/tickets/{no}/presence", c.auth(RoleAgent, c.presence))
	if c.o.Desk != nil {
		c.mux.HandleFunc("GET /console/tickets/{no}/messages", c.auth(RoleAgent, c.ticketMessages))
	}
}

func (c *Console) livePoll() time.Duration {
	if c.o.LivePoll > 0 {
		return c.o.LivePoll
	}
	return defaultLivePoll
}

// subscribe registers a stream and returns the id it starts after (the hub's cursor).
func (h *liveHub) subscribe(ctx context.Context, s session) (*liveSub, int64, error) {
	sub := &liveSub{tokHash: hashToken(s.tok), user: s.user, ch: make(chan liveMsg, liveBuffer), done: make(chan struct{})}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.running {
		cur, err := h.c.o.DB.LastEventID(ctx)
		if err != nil {
			return nil, 0, err
		}
		h.cursor, h.running = cur, true
		go h.run()
	}
	h.subs[sub] = true
	return sub, h.cursor, nil
}

func (h *liveHub) unsubscribe(sub *liveSub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.drop(sub, "")
}

// drop removes sub (h.mu held).
func (h *liveHub) drop(sub *liveSub, why string) {
	if !h.subs[sub] {
		return
	}
	delete(h.subs, sub)
	sub.end = why
	close(sub.done)
}

// run is the shared poll loop; it stops when no stream is left.
func (h *liveHub) run() {
	ctx := context.Background()
	if h.c.o.Context != nil {
		ctx = h.c.o.Context
	}
	poll := h.c.livePoll()
	sessionEvery := max(time.Second, poll)
	t := time.NewTicker(poll)
	defer t.Stop()
	lastCheck := time.Now()
	for {
		select {
		case <-ctx.Done():
			h.mu.Lock()
			for sub := range h.subs {
				h.drop(sub, "")
			}
			h.running = false
			h.mu.Unlock()
			return
		case <-t.C:
		}
		h.mu.Lock()
		if len(h.subs) == 0 {
			h.running = false
			h.mu.Unlock()
			return
		}
		cur := h.cursor
		h.mu.Unlock()
		if time.Since(lastCheck) >= sessionEvery {
			lastCheck = time.Now()
			h.checkSessions(ctx)
		}
		for { // drain a burst in batches
			evs, err := h.c.o.DB.LiveEventsAfter(ctx, cur, liveBatch)
			h.mu.Lock()
			h.polls++
			h.mu.Unlock()
			if err != nil {
				if ctx.Err() == nil {
					h.c.log.WarnContext(ctx, "live feed poll failed", "err", err)
				}
				break
			}
			if len(evs) == 0 {
				break
			}
			h.broadcast(evs)
			cur = evs[len(evs)-1].Seq
			if len(evs) < liveBatch {
				break
			}
		}
	}
}

func (h *liveHub) broadcast(evs []storage.LiveEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for sub := range h.subs {
		for _, ev := range evs {
			m, ok := h.c.liveFor(sub.user, ev)
			if !ok {
				continue
			}
			select {
			case sub.ch <- m:
			default: // too far behind: the stream ends, EventSource reconnects and resumes from Last-Event-ID
				h.drop(sub, "")
			}
			if !h.subs[sub] {
				break
			}
		}
	}
	h.cursor = evs[len(evs)-1].Seq
}

// checkSessions ends the streams whose session is gone (signed out, expired, account disabled or
// deleted) and refreshes the others' accounts (a changed role or agent id applies at once).
func (h *liveHub) checkSessions(ctx context.Context) {
	h.mu.Lock()
	hashes := make([]string, 0, len(h.subs))
	for sub := range h.subs {
		hashes = append(hashes, sub.tokHash)
	}
	h.mu.Unlock()
	valid, err := h.c.o.DB.LiveSessions(ctx, hashes, h.c.o.Now())
	if err != nil {
		if ctx.Err() == nil {
			h.c.log.WarnContext(ctx, "live feed session check failed", "err", err)
		}
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for sub := range h.subs {
		u, ok := valid[sub.tokHash]
		if !ok {
			h.drop(sub, "signout")
			continue
		}
		sub.user = u
	}
}

// liveFor decides what user u is sent of ev: the event itself when u may see the ticket now, a bare
// "gone" notice when u could see it just before this event (it was claimed, assigned or queued away),
// nothing otherwise — a stream never names a ticket its user was not allowed to see.
func (c *Console) liveFor(u storage.User, ev storage.LiveEvent) (liveMsg, bool) {
	if c.mayView(u, ev.Assignee, ev.Team) {
		return liveMsg{event: "ticket", ev: ev}, true
	}
	before, team := ev.Assignee, ev.Team
	from, _, arrow := strings.Cut(ev.Detail, "->")
	switch bot.EventKind(ev.Kind) {
	case bot.EvClaimed: // a claim wins only on an unassigned ticket
		before = ""
	case bot.EvAssigned:
		if !arrow {
			return liveMsg{}, false
		}
		before = from
	case bot.EvTeam:
		if !arrow {
			return liveMsg{}, false
		}
		team = from
	default:
		return liveMsg{}, false
	}
	if c.mayView(u, before, team) {
		return liveMsg{event: "gone", ev: ev}, true
	}
	return liveMsg{}, false
}

// mayView reports whether u may see a ticket held by assignee and queued for team: the inbox's rule
// (ticketVisible: supervisors and admins every ticket; agents their own, the unassigned ones not queued
// for another team and their team's, or all with AgentsSeeAllTeams). Without a Desk (no inbox),
// agents see their own and the unassigned ones.
func (c *Console) mayView(u storage.User, assignee, team string) bool {
	if c.o.Desk != nil {
		return c.ticketVisible(session{user: u}, bot.Ticket{Assignee: assignee, Team: team})
	}
	if rank(u.Role) >= rank(RoleSupervisor) {
		return true
	}
	return assignee == "" || (u.AgentID != "" && assignee == u.AgentID)
}

// liveJSON is a stream message's data.
type liveJSON struct {
	ID       int64  `json:"id"`
	Ticket   string `json:"ticket"`
	Kind     string `json:"kind"`
	Actor    string `json:"actor,omitempty"`
	At       string `json:"at"`
	Internal bool   `json:"internal,omitempty"`
	Assignee string `json:"assignee,omitempty"`
	Status   string `json:"status,omitempty"`
	Priority string `json:"priority,omitempty"`
}

func writeLive(w http.ResponseWriter, m liveMsg) error {
	d := liveJSON{ID: m.ev.ID, Ticket: m.ev.TicketNo, Kind: m.ev.Kind, At: m.ev.At.Format(time.RFC3339Nano)}
	if m.event == "ticket" {
		d.Actor, d.Internal, d.Assignee, d.Status, d.Priority = m.ev.Actor, m.ev.Internal, m.ev.Assignee, m.ev.Status, m.ev.Priority
	}
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", m.ev.Seq, m.event, b) // the feed position: Last-Event-ID resumes from it
	return err
}

// liveEvents is the stream. A client that reconnects sends Last-Event-ID (EventSource does) and gets
// the events it missed first; without it the stream starts with the events after the connection.
func (c *Console) liveEvents(w http.ResponseWriter, r *http.Request, s session) {
	ctx := r.Context()
	rc := http.NewResponseController(w)
	heartbeat := c.o.LiveHeartbeat
	if heartbeat <= 0 {
		heartbeat = defaultLiveHeartbeat
	}
	// A stream outlives the server's read and write timeouts (meant for ordinary answers): each write
	// gets its own deadline instead.
	_ = rc.SetReadDeadline(time.Time{})
	deadline := func() { _ = rc.SetWriteDeadline(time.Now().Add(heartbeat + 30*time.Second)) }
	deadline()
	var last int64
	if v := r.Header.Get("Last-Event-ID"); v != "" {
		last, _ = strconv.ParseInt(v, 10, 64)
	} else if v := r.URL.Query().Get("after"); v != "" {
		last, _ = strconv.ParseInt(v, 10, 64)
	}
	sub, cursor, err := c.hub.subscribe(ctx, s)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	defer c.hub.unsubscribe(sub)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, "retry: 2000\n\n")
	if last > 0 && last < cursor {
		evs, err := c.o.DB.LiveEventsAfter(ctx, last, liveCatchUp)
		if err != nil {
			c.log.WarnContext(ctx, "live feed catch-up failed", "err", err)
			return
		}
		if len(evs) == liveCatchUp && evs[len(evs)-1].Seq < cursor {
			fmt.Fprintf(w, "event: reset\ndata: {}\n\n") // too much missed: the page reloads
			rc.Flush()
			return
		}
		for _, ev := range evs {
			if ev.Seq > cursor {
				break // the hub sends these
			}
			if m, ok := c.liveFor(s.user, ev); ok {
				if writeLive(w, m) != nil {
					return
				}
			}
		}
	}
	if rc.Flush() != nil {
		return
	}
	var done <-chan struct{}
	if c.o.Context != nil {
		done = c.o.Context.Done()
	}
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		var err error
		select {
		case <-ctx.Done():
			return
		case <-done:
			return
		case <-sub.done:
			if sub.end != "" {
				deadline()
				fmt.Fprintf(w, "event: %s\ndata: {}\n\n", sub.end)
				rc.Flush()
			}
			return
		case m := <-sub.ch:
			deadline()
			err = writeLive(w, m)
		drain:
			for err == nil {
				select {
				case m := <-sub.ch:
					err = writeLive(w, m)
				default:
					break drain
				}
			}
		case <-tick.C:
			deadline()
			_, err = fmt.Fprintf(w, ": ping\n\n")
		}
		if err == nil {
			err = rc.Flush()
		}
		if err != nil {
			return
		}
	}
}

// presenceTTL is how long a presence heartbeat lasts.
func (c *Console) presenceTTL() time.Duration {
	if c.o.PresenceTTL > 0 {
		return c.o.PresenceTTL
	}
	return defaultPresenceTTL
}

// PresenceEvery is how often (ms) live.js repeats the ticket page's presence heartbeat: three times
// per TTL, so one lost request does not hide the notice.
func (p page) PresenceEvery() int64 { return p.c.presenceTTL().Milliseconds() / 3 }

// presence is the collision notice's heartbeat: the ticket page posts state "viewing" or "replying"
// every few seconds (and "left" when it closes) and gets back who else has the ticket open.
func (c *Console) presence(w http.ResponseWriter, r *http.Request, s session) {
	ctx := r.Context()
	no := bot.NormalizeTicketNo(r.PathValue("no"))
	t, err := c.o.DB.TicketByNo(ctx, no)
	if errors.Is(err, bot.ErrUnknownTkt) || errors.Is(err, bot.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if !c.mayView(s.user, t.Assignee, t.Team) {
		c.forbidden(w, r, s)
		return
	}
	ttl := c.presenceTTL()
	state := r.PostFormValue("state")
	switch state {
	case storage.PresenceViewing, storage.PresenceReplying:
	case "left":
		ttl = 0
	default:
		http.Error(w, "state: viewing, replying or left", http.StatusBadRequest)
		return
	}
	others, err := c.o.DB.TouchPresence(ctx, t.No, s.user, state, c.o.Now(), ttl)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	type other struct {
		Name  string `json:"name"`
		State string `json:"state"`
	}
	out := struct {
		Others []other `json:"others"`
		Notice string  `json:"notice"`
	}{Others: []other{}}
	for _, o := range others {
		out.Others = append(out.Others, other{o.UserName, o.State})
	}
	out.Notice = c.collisionNotice(c.lang(r, s), others)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

// collisionNotice is the collision notice for the others who have a ticket open ("" when none): the
// heartbeat's answer for live.js and, on page load, the page itself (for plain-forms users).
func (c *Console) collisionNotice(lang string, others []storage.Presence) string {
	var viewing, replying []string
	for _, o := range others {
		if o.State == storage.PresenceReplying {
			replying = append(replying, o.UserName)
		} else {
			viewing = append(viewing, o.UserName)
		}
	}
	var parts []string
	if len(replying) > 0 {
		parts = append(parts, c.t(lang, "console.live.replying", "name", strings.Join(replying, c.t(lang, "console.live.and"))))
	}
	if len(viewing) > 0 {
		parts = append(parts, c.t(lang, "console.live.viewing", "name", strings.Join(viewing, c.t(lang, "console.live.and"))))
	}
	return strings.Join(parts, " ")
}

// ticketMessages is the ticket page's conversation fragment: the <li> items (as the page renders them,
// masked the same way) newer than ?after= (Unix milliseconds, the last item's data-at), for live.js to
// append when the stream says the ticket changed.
func (c *Console) ticketMessages(w http.ResponseWriter, r *http.Request, s session) {
	ctx := r.Context()
	t, evs, err := c.o.Desk.Ticket(ctx, r.PathValue("no"))
	if errors.Is(err, bot.ErrUnknownTkt) || errors.Is(err, bot.ErrNotFound) || (err == nil && !c.ticketVisible(s, t)) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	msgs, err := c.o.DB.CustomerMessages(ctx, t.CustomerID, t.CreatedAt.Add(-convSince), t.ClosedAt, 300)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	var items []convItem
	for _, it := range conversation(msgs, evs, t.Masker()) {
		if it.At.UnixMilli() > after {
			items = append(items, it)
		}
	}
	p := c.deskPage(r, s)
	p.Ticket = &ticketData{T: bot.Ticket{No: t.No}, Conv: items}
	c.render(w, r, http.StatusOK, "conv-items", p)
}
