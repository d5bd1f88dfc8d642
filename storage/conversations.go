package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/flows"
)

// SaveInbound implements bot.Tx.
func (t *txStore) SaveInbound(ctx context.Context, ev bot.Event) (bot.Conversation, error) {
	g := t.g.WithContext(ctx)
	at := utc(ev.At)
	userID := ev.UserID
	if userID == "" {
		userID = ev.ChatID
	}
	if ev.Channel == "" || ev.ChatID == "" {
		return bot.Conversation{}, fmt.Errorf("storage: save inbound: %w: channel and chat id are required", bot.ErrBadInput)
	}
	m := message{
		Direction:   "in",
		Channel:     string(ev.Channel),
		UserID:      userID,
		Kind:        string(ev.Kind),
		Text:        ev.Text,
		Payload:     ev.Payload,
		Attachments: toJSON(ev.Attachments),
		At:          at,
		CreatedAt:   time.Now().UTC(),
	}
	if ev.MsgID != "" {
		msgID := ev.MsgID
		m.PlatformMsgID = &msgID
	}
	var (
		id       identity
		cust     customer
		conv     conversation
		found    bool
		inserted int64 = -1 // the message is not written yet
		err      error
	)
	if t.dialect == Postgres {
		id, cust, conv, inserted, err = t.knownInsert(ctx, string(ev.Channel), userID, ev.ChatID, m)
		found = inserted >= 0
	} else {
		id, cust, conv, found, err = t.known(ctx, string(ev.Channel), userID, ev.ChatID)
	}
	if err != nil {
		return bot.Conversation{}, fmt.Errorf("storage: save inbound: %w", err)
	}
	if inserted == 0 {
		return bot.Conversation{}, bot.ErrDuplicate
	}
	if !found {
		// A first message (of this customer or in this chat): create what is missing.
		if id, cust, err = t.identity(g, string(ev.Channel), userID, ev.UserName, at); err != nil {
			return bot.Conversation{}, fmt.Errorf("storage: save inbound: identity: %w", err)
		}
		if conv, err = t.conversation(g, string(ev.Channel), ev.ChatID, id.CustomerID, at); err != nil {
			return bot.Conversation{}, fmt.Errorf("storage: save inbound: conversation: %w", err)
		}
	} else if ev.UserName != "" && ev.UserName != id.UserName {
		if err := g.Model(&identity{}).Where("id = ?", id.ID).Update("user_name", ev.UserName).Error; err != nil {
			return bot.Conversation{}, fmt.Errorf("storage: save inbound: identity name: %w", err)
		}
		id.UserName = ev.UserName
	}
	t.cached = &conv
	if found || cust.ID == id.CustomerID {
		c := cust
		c.ID = id.CustomerID
		t.profile = &c
	}
	if inserted < 0 {
		m.ConversationID = conv.ID
		ok, err := t.insertInbound(ctx, &m)
		if err != nil {
			return bot.Conversation{}, fmt.Errorf("storage: save inbound: message: %w", err)
		}
		if !ok {
			return bot.Conversation{}, bot.ErrDuplicate
		}
	}
	if err := claimBlobRefs(g, conv.CustomerID, ev.Attachments, time.Now().UTC()); err != nil {
		return bot.Conversation{}, fmt.Errorf("storage: save inbound: %w", err)
	}
	if m.ID == 0 && needsMediaRetry(ev.Channel, ev.Attachments) {
		// Stored by knownInsert (PostgreSQL), which returns no id: the conversation row is locked for
		// this transaction, so its newest inbound message is this one.
		if err := g.Raw("SELECT MAX(id) FROM messages WHERE conversation_id = ? AND direction = 'in'", conv.ID).Scan(&m.ID).Error; err != nil {
			return bot.Conversation{}, fmt.Errorf("storage: save inbound: message id: %w", err)
		}
	}
	if err := enqueueMediaRetries(g, ev.Channel, m.ID, at, ev.Attachments); err != nil {
		return bot.Conversation{}, fmt.Errorf("storage: save inbound: %w", err)
	}
	return bot.Conversation{
		ID:         conv.ID,
		CustomerID: conv.CustomerID,
		Channel:    ev.Channel,
		ChatID:     ev.ChatID,
		UserName:   id.UserName,
		Lang:       cust.Lang,
	}, nil
}

// knownRow is the identity, its customer's language and the conversation of a returning customer.
type knownRow struct {
	Conv               conversation `gorm:"embedded"`
	IdentityID         int64
	IdentityCustomerID int64
	UserName           string `gorm:"serializer:pii"`
	Lang               string
	// The customer's intake fields (CustomerProfile reads them from here: no extra statement per turn).
	ContactName string `gorm:"serializer:pii"`
	Phone       string `gorm:"serializer:pii"`
	Email       string `gorm:"serializer:pii"`
	IntakeAsked string
	Inserted    int64 // knownInsert: how many inbound messages its INSERT wrote (0: a duplicate)
}

// known reads the identity (channel, userID), its customer's language and the conversation
// (channel, chatID) in one query, the conversation row locked on PostgreSQL like conversation does.
// found is false when either does not exist yet.
func (t *txStore) known(ctx context.Context, channel, userID, chatID string) (identity, customer, conversation, bool, error) {
	q, args := knownQuery(t.dialect, channel, chatID, t.keys.Hashes(userID))
	rows, err := t.query(ctx, t.rebind(q), args...)
	if err != nil {
		return identity{}, customer{}, conversation{}, false, err
	}
	r, ok, err := t.scanKnown(rows, false)
	if err != nil || !ok {
		return identity{}, customer{}, conversation{}, false, err
	}
	id, cust := r.parts(channel, userID)
	return id, cust, r.Conv, true, nil
}

// knownQuery is known's query and its arguments for the identity's hashes (one per key of the
// keyring).
func knownQuery(d Dialect, channel, chatID string, hashes []string) (string, []any) {
	var q strings.Builder
	q.WriteString("SELECT " + knownCols + knownFrom1)
	args := in(&q, append(make([]any, 0, 3+len(hashes)), channel), hashes)
	q.WriteString(knownFrom2)
	if d == Postgres {
		q.WriteString(" FOR UPDATE OF c")
	}
	return q.String(), append(args, channel, chatID)
}

// parts is the identity and the customer of a known row.
func (r knownRow) parts(channel, userID string) (identity, customer) {
	return identity{ID: r.IdentityID, Channel: channel, PlatformUserID: userID, CustomerID: r.IdentityCustomerID, UserName: r.UserName},
		customer{ID: r.IdentityCustomerID, Lang: r.Lang, ContactName: r.ContactName, Phone: r.Phone, Email: r.Email, IntakeAsked: r.IntakeAsked}
}

// knownInsert is known and the inbound message's INSERT in one statement (PostgreSQL's data-modifying
// WITH; one round trip less on the waiting path, issue 14). inserted is 1 when the message was
// stored, 0 when it is a duplicate (ON CONFLICT DO NOTHING, as SaveInbound's own INSERT), -1 when the
// identity or the conversation does not exist yet (nothing written: SaveInbound creates them first).
func (t *txStore) knownInsert(ctx context.Context, channel, userID, chatID string, m message) (identity, customer, conversation, int64, error) {
	var q strings.Builder
	q.WriteString("WITH k AS (SELECT " + knownCols + knownFrom1)
	args := in(&q, append(make([]any, 0, 15), channel), t.keys.Hashes(userID))
	q.WriteString(knownFrom2)
	q.WriteString(` LIMIT 1 FOR UPDATE OF c),
m AS (INSERT INTO messages (conversation_id, direction, channel, platform_msg_id, user_id, kind, text, payload, attachments, at, created_at)
  SELECT k.id, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM k ON CONFLICT DO NOTHING RETURNING id)
SELECT k.*, (SELECT COUNT(*) FROM m) AS inserted FROM k`)
	args = append(args, channel, chatID,
		m.Direction, m.Channel, m.PlatformMsgID, sealPII(t.keys, m.UserID), m.Kind, sealPII(t.keys, m.Text), m.Payload, sealPII(t.keys, m.Attachments), m.At, m.CreatedAt)
	rows, err := t.query(ctx, t.rebind(q.String()), args...)
	if err != nil {
		return identity{}, customer{}, conversation{}, -1, err
	}
	r, ok, err := t.scanKnown(rows, true)
	if err != nil || !ok {
		return identity{}, customer{}, conversation{}, -1, err
	}
	id, cust := r.parts(channel, userID)
	return id, cust, r.Conv, r.Inserted, nil
}

func (t *txStore) identity(g *gorm.DB, channel, userID, name string, at time.Time) (identity, customer, error) {
	var id identity
	hashes := t.keys.Hashes(userID)
	err := g.Where("channel = ? AND platform_user_id_hash IN ?", channel, hashes).Take(&id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		// Not found under the keys this process knows: a key rotation may have re-hashed the identity
		// under a key added since. Look again with the key file as it is now.
		t.keys.Fresh()
		if h := t.keys.Hashes(userID); !slices.Equal(h, hashes) {
			hashes = h
			err = g.Where("channel = ? AND platform_user_id_hash IN ?", channel, hashes).Take(&id).Error
		}
	}
	if errors.Is(err, gorm.ErrRecordNotFound) {
		c := customer{Name: name, CreatedAt: at, UpdatedAt: at}
		if err := g.Create(&c).Error; err != nil {
			return id, c, err
		}
		id = identity{Channel: channel, PlatformUserID: userID, CustomerID: c.ID, UserName: name, CreatedAt: at}
		res := g.Clauses(clause.OnConflict{DoNothing: true}).Create(&id)
		if res.Error != nil {
			return id, c, res.Error
		}
		if res.RowsAffected == 1 {
			return id, c, nil
		}
		// Lost a race with another transaction creating the same identity: use theirs.
		if err := g.Where("channel = ? AND platform_user_id_hash IN ?", channel, hashes).Take(&id).Error; err != nil {
			return id, c, err
		}
	} else if err != nil {
		return id, customer{}, err
	}
	if name != "" && name != id.UserName {
		if err := g.Model(&identity{}).Where("id = ?", id.ID).Update("user_name", name).Error; err != nil {
			return id, customer{}, err
		}
		id.UserName = name
	}
	var c customer
	if err := g.Select("id", "lang", "contact_name", "phone", "email", "intake_asked").Where("id = ?", id.CustomerID).Take(&c).Error; err != nil {
		return id, c, err
	}
	return id, c, nil
}

func (t *txStore) conversation(g *gorm.DB, channel, chatID string, customerID int64, at time.Time) (conversation, error) {
	var c conversation
	q := g
	if t.dialect == Postgres {
		// One step at a time per conversation: a second message of the same chat waits here until
		// the first one's transaction commits, then reads the session it saved.
		q = g.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	err := q.Where("channel = ? AND chat_id = ?", channel, chatID).Take(&c).Error
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, gorm.ErrRecordNotFound) {
		return c, err
	}
	c = conversation{Channel: channel, ChatID: chatID, CustomerID: customerID, CreatedAt: at, UpdatedAt: at}
	res := g.Clauses(clause.OnConflict{DoNothing: true}).Create(&c)
	if res.Error != nil {
		return c, res.Error
	}
	if res.RowsAffected == 1 {
		return c, nil
	}
	// Another transaction created it first: read it under the same row lock as above, so this step
	// still waits for any step of that chat in flight.
	c = conversation{}
	err = q.Where("channel = ? AND chat_id = ?", channel, chatID).Take(&c).Error
	return c, err
}

// LockConversation implements bot.Tx.
func (t *txStore) LockConversation(ctx context.Context, id int64) error {
	g := t.g.WithContext(ctx)
	if t.dialect == Postgres {
		g = g.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var c conversation
	if err := g.Select("id").Where("id = ?", id).Take(&c).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return bot.ErrNotFound
		}
		return fmt.Errorf("storage: lock conversation %d: %w", id, err)
	}
	return nil
}

// Conversation implements bot.Reader.
func (r reader) Conversation(ctx context.Context, id int64) (bot.Conversation, error) {
	g := r.g.WithContext(ctx)
	var c conversation
	if err := g.Where("id = ?", id).Take(&c).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return bot.Conversation{}, bot.ErrNotFound
		}
		return bot.Conversation{}, fmt.Errorf("storage: conversation %d: %w", id, err)
	}
	var cu customer
	if err := g.Where("id = ?", c.CustomerID).Take(&cu).Error; err != nil {
		return bot.Conversation{}, fmt.Errorf("storage: conversation %d: customer: %w", id, err)
	}
	var ids []identity // a slice: none is no error
	if err := g.Select("id", "user_name").
		Where("customer_id = ? AND channel = ?", c.CustomerID, c.Channel).Order("id").Limit(1).Find(&ids).Error; err != nil {
		return bot.Conversation{}, fmt.Errorf("storage: conversation %d: identity: %w", id, err)
	}
	var name string
	if len(ids) > 0 {
		name = ids[0].UserName
	}
	return bot.Conversation{ID: c.ID, CustomerID: c.CustomerID, Channel: bot.Channel(c.Channel), ChatID: c.ChatID, UserName: name, Lang: cu.Lang}, nil
}

// Session implements bot.Tx.
func (t *txStore) Session(ctx context.Context, conversationID int64) (flows.Session, error) {
	var c conversation
	if t.cached != nil && t.cached.ID == conversationID {
		// Read by SaveInbound in this transaction (the row is locked: SQLite's write lock, or the
		// PostgreSQL row lock taken below), so it is current.
		c = *t.cached
	} else if err := t.g.WithContext(ctx).Select("id", "session").Where("id = ?", conversationID).Take(&c).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return flows.Session{}, bot.ErrNotFound
		}
		return flows.Session{}, fmt.Errorf("storage: session %d: %w", conversationID, err)
	}
	if c.Session == "" {
		return flows.Session{}, bot.ErrNotFound
	}
	var s flows.Session
	if err := json.Unmarshal([]byte(c.Session), &s); err != nil {
		return flows.Session{}, fmt.Errorf("storage: session %d: decode: %w: %w", conversationID, bot.ErrBadSession, err)
	}
	return s, nil
}

// SaveSession implements bot.Tx.
func (t *txStore) SaveSession(ctx context.Context, conversationID int64, s flows.Session, at time.Time) error {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("storage: save session %d: %w", conversationID, err)
	}
	// Hand-written (hotpath.go); the session is sealed as gorm's map update of it was (sealMap).
	h := heldSession{id: conversationID, sealed: t.keys.Seal(string(b)), state: string(s.State), at: utc(at)}
	held, err := t.hold(ctx, h)
	if t.cached != nil && t.cached.ID == conversationID {
		t.cached.Session = string(b)
	}
	if held || err != nil {
		return err
	}
	res, err := t.exec(ctx, t.rebind(updateSession), h.sealed, h.state, h.at, h.id)
	if err != nil {
		return fmt.Errorf("storage: save session %d: %w", conversationID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("storage: save session %d: %w", conversationID, err)
	} else if n == 0 {
		return fmt.Errorf("storage: save session %d: %w", conversationID, bot.ErrNotFound)
	}
	return nil
}

// SetCustomerLang implements bot.Tx.
func (t *txStore) SetCustomerLang(ctx context.Context, customerID int64, lang string) error {
	err := t.g.WithContext(ctx).Model(&customer{}).Where("id = ?", customerID).
		Updates(map[string]any{"lang": lang, "updated_at": time.Now().UTC()}).Error
	if err != nil {
		return fmt.Errorf("storage: set customer %d lang: %w", customerID, err)
	}
	return nil
}

// Enqueue implements bot.Tx: one INSERT for the outbox rows and one for the outbound messages.
func (t *txStore) Enqueue(ctx context.Context, at time.Time, rs ...bot.Reply) ([]int64, error) {
	return t.enqueue(ctx, at, false, rs)
}

// EnqueueDelivered implements bot.Tx: Enqueue with the rows stored as sent (one attempt, sent at at).
func (t *txStore) EnqueueDelivered(ctx context.Context, at time.Time, rs ...bot.Reply) ([]int64, error) {
	return t.enqueue(ctx, at, true, rs)
}

func (t *txStore) enqueue(ctx context.Context, at time.Time, delivered bool, rs []bot.Reply) ([]int64, error) {
	if len(rs) == 0 {
		return nil, nil
	}
	at = utc(at)
	rows := make([]outboxRow, len(rs))
	for i, r := range rs {
		if r.Channel == "" || r.ChatID == "" {
			return nil, fmt.Errorf("storage: enqueue: %w: reply without channel or chat", bot.ErrBadInput)
		}
		rows[i] = outboxRow{
			ConversationID: r.ConversationID,
			Channel:        string(r.Channel),
			ChatID:         r.ChatID,
			Text:           r.Text,
			Buttons:        toJSON(r.Buttons),
			Status:         outboxPending,
			NextAttemptAt:  at,
			CreatedAt:      at,
		}
		if delivered || r.Channel == bot.ChannelAPI { // the integration reads them (bot.ChannelAPI)
			rows[i].Status, rows[i].Attempts, rows[i].SentAt = outboxSent, 1, &at
		}
	}
	if t.dialect == Postgres {
		return t.enqueuePG(ctx, rows)
	}
	ids, err := t.insertOutbox(ctx, rows)
	if err != nil {
		return nil, fmt.Errorf("storage: enqueue: %w", err)
	}
	return ids, nil
}

// enqueuePG writes the outbox rows and their outbound messages in one statement (one round trip on
// the waiting path, issue 14): the messages copy the rows' sealed text.
func (t *txStore) enqueuePG(ctx context.Context, rows []outboxRow) ([]int64, error) {
	var q strings.Builder
	args := make([]any, 0, 10*len(rows)+6*len(t.cites))
	q.WriteString("WITH ")
	if len(t.cites) > 0 {
		// The citations Cite held back (see there) ride along.
		q.WriteString("c AS (INSERT INTO faq_citations (entry_id, conversation_id, lang, query, helped, at) VALUES ")
		for i, c := range t.cites {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?, ?, ?)")
			args = append(args, c.EntryID, c.ConversationID, c.Lang, sealPII(t.keys, c.Query), c.Helped, c.At)
		}
		q.WriteString("), ")
	}
	q.WriteString(`o AS (INSERT INTO outbox (conversation_id, channel, chat_id, text, buttons, status, attempts, next_attempt_at, created_at, sent_at) VALUES `)
	for i, r := range rows {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
		args = append(args, r.ConversationID, r.Channel, r.ChatID, sealPII(t.keys, r.Text), r.Buttons, r.Status, r.Attempts, r.NextAttemptAt, r.CreatedAt, r.SentAt)
	}
	q.WriteString(` RETURNING id, conversation_id, channel, text, created_at),
m AS (INSERT INTO messages (conversation_id, direction, channel, kind, text, outbox_id, at, created_at)
  SELECT conversation_id, 'out', channel, 'text', text, id, created_at, created_at FROM o WHERE conversation_id <> 0)`)
	// The session SaveSession held back (see hotpath.go) rides along too; its row count comes back
	// with every id.
	h := t.takeHeld()
	if h != nil {
		q.WriteString(",\ns AS (" + updateSession + " RETURNING id)\nSELECT id, (SELECT COUNT(*) FROM s) FROM o ORDER BY id")
		args = append(args, h.sealed, h.state, h.at, h.id)
	} else {
		q.WriteString("\nSELECT id, 1 FROM o ORDER BY id")
	}
	rs, err := t.query(ctx, t.rebind(q.String()), args...)
	if err != nil {
		return nil, fmt.Errorf("storage: enqueue: %w", err)
	}
	ids, updated, err := scanIDsCount(rs)
	if err != nil {
		return nil, fmt.Errorf("storage: enqueue: %w", err)
	}
	if len(ids) != len(rows) {
		return nil, fmt.Errorf("storage: enqueue: %d ids for %d rows", len(ids), len(rows))
	}
	if h != nil && updated == 0 {
		return nil, fmt.Errorf("storage: save session %d: %w", h.id, bot.ErrNotFound)
	}
	t.cites = nil
	return ids, nil
}

// Transcript returns a conversation's messages, oldest first (for tools and tests).
func (db *DB) Transcript(ctx context.Context, conversationID int64) ([]Message, error) {
	var ms []message
	if err := db.gdb.WithContext(ctx).Where("conversation_id = ?", conversationID).Order("id").Find(&ms).Error; err != nil {
		return nil, fmt.Errorf("storage: transcript %d: %w", conversationID, err)
	}
	out := make([]Message, len(ms))
	for i, m := range ms {
		out[i] = Message{ID: m.ID, Direction: m.Direction, Channel: bot.Channel(m.Channel), Kind: m.Kind, Text: m.Text, Payload: m.Payload, At: m.At.UTC()}
		if m.PlatformMsgID != nil {
			out[i].PlatformMsgID = *m.PlatformMsgID
		}
	}
	return out, nil
}

// Message is one stored message (in or out).
type Message struct {
	ID            int64
	Direction     string // "in" | "out"
	Channel       bot.Channel
	PlatformMsgID string
	Kind          string
	Text          string
	Payload       string
	At            time.Time
}

// ConversationByChat finds a conversation by channel and chat id (ErrNotFound).
func (db *DB) ConversationByChat(ctx context.Context, ch bot.Channel, chatID string) (bot.Conversation, error) {
	var c conversation
	err := db.gdb.WithContext(ctx).Where("channel = ? AND chat_id = ?", string(ch), chatID).Take(&c).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return bot.Conversation{}, bot.ErrNotFound
	}
	if err != nil {
		return bot.Conversation{}, fmt.Errorf("storage: conversation by chat: %w", err)
	}
	return db.r(ctx).Conversation(ctx, c.ID)
}

// CustomerProfile implements bot.Tx (a customer row that does not exist has an empty profile).
func (t *txStore) CustomerProfile(ctx context.Context, customerID int64) (flows.Profile, error) {
	if c := t.profile; c != nil && c.ID == customerID {
		return profileOf(*c), nil
	}
	var cs []customer
	if err := t.g.WithContext(ctx).Select("id", "contact_name", "phone", "email", "intake_asked").
		Where("id = ?", customerID).Limit(1).Find(&cs).Error; err != nil {
		return flows.Profile{}, fmt.Errorf("storage: customer %d profile: %w", customerID, err)
	}
	if len(cs) == 0 {
		return flows.Profile{}, nil
	}
	return profileOf(cs[0]), nil
}

func profileOf(c customer) flows.Profile {
	p := flows.Profile{Name: c.ContactName, Phone: c.Phone, Email: c.Email}
	if c.IntakeAsked != "" {
		p.Asked = strings.Split(c.IntakeAsked, ",")
	}
	return p
}

// SaveCustomerProfile implements bot.Tx.
func (t *txStore) SaveCustomerProfile(ctx context.Context, customerID int64, p flows.Profile) error {
	res := t.g.WithContext(ctx).Model(&customer{}).Where("id = ?", customerID).Updates(map[string]any{
		"contact_name": p.Name, "phone": p.Phone, "email": p.Email, "intake_asked": strings.Join(p.Asked, ","),
		"updated_at": time.Now().UTC()})
	if res.Error != nil {
		return fmt.Errorf("storage: save customer %d profile: %w", customerID, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("storage: save customer %d profile: %w", customerID, bot.ErrNotFound)
	}
	if c := t.profile; c != nil && c.ID == customerID {
		c.ContactName, c.Phone, c.Email, c.IntakeAsked = p.Name, p.Phone, p.Email, strings.Join(p.Asked, ",")
	}
	return nil
}
