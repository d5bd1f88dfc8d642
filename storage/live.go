package storage

import (
	"context"
	"fmt"
	"time"
)

// The console's live feed and presence (issue 17, migration 0136).

// LiveEvent is one ticket event as the live feed sends it: what happened to which ticket and the
// ticket's state now. It carries no text (the feed never holds personal data; pages fetch what they show).
type LiveEvent struct {
	ID       int64
	Seq      int64 // the feed position: LiveEventsAfter's cursor (see bot.TicketEvent.Seq)
	TicketID int64
	TicketNo string
	Kind     string
	Actor    string
	At       time.Time
	Internal bool
	// Detail is the text of the bookkeeping kinds that are stored plain ("a->b" of assigned and team,
	// the agent id of claimed, "open->pending" of status, "P2->P0" of priority); empty for every other kind.
	Detail string
	// the ticket now
	Assignee string
	Team     string
	Status   string
	Priority string
}

// LiveEventsAfter returns up to limit events with feed position (Seq) > after, in feed order, with their
// tickets' current assignee, status and priority: one query for every subscriber of a console replica
// (no texts are read or decrypted). Positions become visible in order (migration 0175 on PostgreSQL).
func (db *DB) LiveEventsAfter(ctx context.Context, after int64, limit int) ([]LiveEvent, error) {
	if limit <= 0 || limit > 5000 {
		limit = 500
	}
	col := db.r(ctx).feedCol()
	var rows []LiveEvent
	err := db.gdb.WithContext(ctx).Raw(`SELECT e.id, e.`+col+` AS seq, e.ticket_id, e.ticket_no, e.kind, e.actor, e.at, e.internal,
		CASE WHEN e.kind IN ('assigned', 'claimed', 'team', 'status', 'priority') THEN e.text ELSE '' END AS detail, t.assignee, t.team, t.status, t.priority
		FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id WHERE e.`+col+` > ? ORDER BY e.`+col+` LIMIT ?`, after, limit).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("storage: live events after %d: %w", after, err)
	}
	out := make([]LiveEvent, len(rows))
	for i, r := range rows {
		out[i] = r
		out[i].At = r.At.UTC()
	}
	return out, nil
}

// LastEventID is the newest ticket event's feed position (0 when there is none): where a live feed starts.
func (db *DB) LastEventID(ctx context.Context) (int64, error) {
	var id *int64
	if err := db.gdb.WithContext(ctx).Raw("SELECT MAX(" + db.r(ctx).feedCol() + ") FROM ticket_events").Scan(&id).Error; err != nil {
		return 0, fmt.Errorf("storage: last event id: %w", err)
	}
	if id == nil {
		return 0, nil
	}
	return *id, nil
}

// LiveSession is a session still valid, with its account as it is now.
type LiveSession struct {
	TokenHash string
	User      User
}

// LiveSessions returns which of the sessions (by token hash) are still valid at now: not expired,
// not signed out, account neither disabled nor deleted. Two queries for every stream of a replica.
func (db *DB) LiveSessions(ctx context.Context, tokenHashes []string, now time.Time) (map[string]User, error) {
	out := map[string]User{}
	if len(tokenHashes) == 0 {
		return out, nil
	}
	var rows []struct {
		TokenHash string
		UserID    int64
	}
	err := db.gdb.WithContext(ctx).Raw(`SELECT s.token_hash, s.user_id FROM console_sessions s JOIN console_users u ON u.id = s.user_id
		WHERE s.token_hash IN ? AND s.expires_at > ? AND u.disabled_at IS NULL`, tokenHashes, now.UTC()).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("storage: live sessions: %w", err)
	}
	if len(rows) == 0 {
		return out, nil
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.UserID
	}
	var us []consoleUser
	if err := db.gdb.WithContext(ctx).Where("id IN ?", ids).Find(&us).Error; err != nil {
		return nil, fmt.Errorf("storage: live sessions: %w", err)
	}
	byID := map[int64]User{}
	for _, u := range us {
		byID[u.ID] = u.toUser()
	}
	for _, r := range rows {
		if u, ok := byID[r.UserID]; ok {
			out[r.TokenHash] = u
		}
	}
	return out, nil
}

// Presence states.
const (
	PresenceViewing  = "viewing"
	PresenceReplying = "replying"
)

// Presence is another console user with a ticket open.
type Presence struct {
	UserID   int64
	UserName string
	State    string // PresenceViewing or PresenceReplying
}

type consolePresence struct {
	TicketNo  string `gorm:"primaryKey"`
	UserID    int64  `gorm:"primaryKey"`
	UserName  string
	State     string
	ExpiresAt time.Time
}

func (consolePresence) TableName() string { return "console_presence" }

// TouchPresence records that the user has ticket no open (state viewing or replying) until now+ttl,
// or, with ttl <= 0, that they left it; and returns the others who have it open now.
func (db *DB) TouchPresence(ctx context.Context, no string, u User, state string, now time.Time, ttl time.Duration) ([]Presence, error) {
	now = now.UTC()
	g := db.gdb.WithContext(ctx)
	if err := g.Exec("DELETE FROM console_presence WHERE expires_at < ?", now).Error; err != nil {
		return nil, fmt.Errorf("storage: presence: %w", err)
	}
	if ttl <= 0 {
		if err := g.Exec("DELETE FROM console_presence WHERE ticket_no = ? AND user_id = ?", no, u.ID).Error; err != nil {
			return nil, fmt.Errorf("storage: presence: %w", err)
		}
	} else {
		err := g.Exec(`INSERT INTO console_presence (ticket_no, user_id, user_name, state, expires_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (ticket_no, user_id) DO UPDATE SET user_name = excluded.user_name, state = excluded.state, expires_at = excluded.expires_at`,
			no, u.ID, u.Name, state, now.Add(ttl)).Error
		if err != nil {
			return nil, fmt.Errorf("storage: presence: %w", err)
		}
	}
	var ms []consolePresence
	if err := g.Where("ticket_no = ? AND user_id <> ? AND expires_at >= ?", no, u.ID, now).Order("user_name").Find(&ms).Error; err != nil {
		return nil, fmt.Errorf("storage: presence: %w", err)
	}
	out := make([]Presence, len(ms))
	for i, m := range ms {
		out[i] = Presence{UserID: m.UserID, UserName: m.UserName, State: m.State}
	}
	return out, nil
}
