package storage

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/kefu-dev/kefu/bot"
)

// Hand-written SQL on the waiting path of a returning customer's message (issue 14): the statements
// TestDeliverStatementBudget counts — the identity+customer+conversation read (with the inbound
// INSERT on PostgreSQL), the inbound message, the citation, the reply rows and the session UPDATE —
// run through the transaction's own connection (gorm's Statement.ConnPool: the *sql.Tx, or the group
// commit's) and are scanned by hand. Why not gorm: per statement gorm builds a Statement, runs its
// callback chain, reflects over the model and renders the SQL text with regexps for its logger even
// when nothing logs; the CPU profiles of BenchmarkLoad put gorm's own share at about 0.1 ms per
// message on SQLite's single writer and more on PostgreSQL's handler (see the README's Throughput
// section for the A/B numbers). Everything else stays on gorm. Personal-data columns are sealed and
// opened with the functions gorm's `serializer:pii` uses (sealPII, openPII), and every statement is
// still reported to gorm's logger (trace), so statement logs and the budget test see them.

// pool is the connection the transaction's statements run on.
func (t *txStore) pool() gorm.ConnPool { return t.g.Statement.ConnPool }

// rebind turns "?" placeholders into PostgreSQL's "$n" (gorm does this for its own SQL); SQLite takes
// "?" as written. The SQL given must hold no "?" but placeholders.
func (t *txStore) rebind(q string) string {
	if t.dialect != Postgres {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// trace reports a statement to gorm's logger as gorm does for its own (the SQL text is built only if
// the logger asks for it).
func (t *txStore) trace(ctx context.Context, begin time.Time, q string, rows int64, err error) {
	t.g.Logger.Trace(ctx, begin, func() (string, int64) { return q, rows }, err)
}

func (t *txStore) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if err := t.writeHeld(ctx); err != nil {
		return nil, err
	}
	begin := time.Now()
	var res sql.Result
	var err error
	if st, sctx := t.prepared(ctx, q); st != nil {
		res, err = st.ExecContext(sctx, args...)
		st.Close()
	} else {
		res, err = t.pool().ExecContext(ctx, q, args...)
	}
	rows := int64(-1)
	if err == nil {
		rows, _ = res.RowsAffected()
	}
	t.trace(ctx, begin, q, rows, err)
	return res, err
}

func (t *txStore) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if err := t.writeHeld(ctx); err != nil {
		return nil, err
	}
	begin := time.Now()
	var rows *sql.Rows
	var err error
	if st, sctx := t.prepared(ctx, q); st != nil {
		rows, err = st.QueryContext(sctx, args...) // the transaction closes st when it ends
	} else {
		rows, err = t.pool().QueryContext(ctx, q, args...)
	}
	t.trace(ctx, begin, q, -1, err)
	return rows, err
}

// in appends "?, ?, …" for vs to b and vs to args (gorm's expansion of `IN ?`).
func in(b *strings.Builder, args []any, vs []string) []any {
	b.WriteByte('(')
	for i, v := range vs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('?')
		args = append(args, v)
	}
	if len(vs) == 0 {
		b.WriteString("NULL") // gorm renders an empty IN list as (NULL): matches nothing
	}
	b.WriteByte(')')
	return args
}

const knownCols = `c.id, c.channel, c.chat_id, c.customer_id, c.state, c.session, i.id AS identity_id,
  i.customer_id AS identity_customer_id, i.user_name AS user_name, cu.lang AS lang, cu.contact_name AS contact_name,
  cu.phone AS phone, cu.email AS email, cu.intake_asked AS intake_asked`

// knownFrom is the FROM of known and knownInsert: the identity's hashes go between its two parts.
const knownFrom1 = `
FROM conversations c
JOIN identities i ON i.channel = ? AND i.platform_user_id_hash IN `

const knownFrom2 = `
JOIN customers cu ON cu.id = i.customer_id
WHERE c.channel = ? AND c.chat_id = ?
ORDER BY i.id`

// scanKnown reads the first row of known/knownInsert (and its inserted count when withInserted),
// opening the personal-data columns; ok is false when there is none.
func (t *txStore) scanKnown(rows *sql.Rows, withInserted bool) (r knownRow, ok bool, err error) {
	defer rows.Close()
	if !rows.Next() {
		return r, false, rows.Err()
	}
	var session, userName, contact, phone, email string
	dst := []any{&r.Conv.ID, &r.Conv.Channel, &r.Conv.ChatID, &r.Conv.CustomerID, &r.Conv.State, &session,
		&r.IdentityID, &r.IdentityCustomerID, &userName, &r.Lang, &contact, &phone, &email, &r.IntakeAsked}
	if withInserted {
		dst = append(dst, &r.Inserted)
	}
	if err := rows.Scan(dst...); err != nil {
		return r, false, err
	}
	for _, f := range []struct {
		col      string
		src      string
		dst      *string
		fromConv bool
	}{
		{"session", session, &r.Conv.Session, true},
		{"user_name", userName, &r.UserName, false},
		{"contact_name", contact, &r.ContactName, false},
		{"phone", phone, &r.Phone, false},
		{"email", email, &r.Email, false},
	} {
		if *f.dst, err = openPII(t.keys, f.src); err != nil {
			table := "customers"
			if f.fromConv {
				table = "conversations"
			} else if f.col == "user_name" {
				table = "identities"
			}
			return r, false, fmt.Errorf("storage: %s.%s: %w", table, f.col, err)
		}
	}
	// Drain the rest (ORDER BY i.id: the first row is the one wanted) so rows.Err reports a failure.
	for rows.Next() {
	}
	return r, true, rows.Err()
}

// insertInbound writes the inbound message m (ON CONFLICT DO NOTHING, as gorm's Create with
// clause.OnConflict{DoNothing: true}) and sets m.ID; false means a duplicate (nothing written).
// On PostgreSQL it runs only for a first message (a returning customer's is written by knownInsert).
func (t *txStore) insertInbound(ctx context.Context, m *message) (bool, error) {
	const q = sqlInsertInbound
	args := []any{m.ConversationID, m.Direction, m.Channel, m.PlatformMsgID, sealPII(t.keys, m.UserID), m.Kind, sealPII(t.keys, m.Text),
		m.Payload, sealPII(t.keys, m.Attachments), m.OutboxID, m.At, m.CreatedAt}
	if t.dialect == SQLite {
		id, err := t.insertRow(ctx, q, args...)
		if err != nil || id == 0 {
			return false, err
		}
		m.ID = id
		return true, nil
	}
	rows, err := t.query(ctx, t.rebind(q+" RETURNING id"), args...)
	if err != nil {
		return false, err
	}
	ids, err := scanIDs(rows)
	if err != nil || len(ids) == 0 {
		return false, err
	}
	m.ID = ids[0]
	return true, nil
}

// insertRow runs a single-row INSERT on SQLite and returns the new row's id, 0 when ON CONFLICT DO
// NOTHING wrote nothing.
//
// Why not RETURNING or one multi-row INSERT, as on PostgreSQL: SQLite runs RETURNING as a temporary
// trigger, and a trigger or a multi-row VALUES makes a statement that may stop half-way (a unique
// index, a foreign key) keep a statement journal: a copy of every page it changes, so that a failure
// undoes only that statement. In the group-commit writer that copying and its memory were a third of
// the time of a FAQ message (pprof, BenchmarkLoad/sqlite/faq/16). A single-row INSERT needs none: its
// constraints are checked before it writes. kefu rolls back the whole transaction on any error, so a
// statement-level undo would buy nothing here.
func (t *txStore) insertRow(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := t.exec(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil || n == 0 {
		return 0, err
	}
	return res.LastInsertId()
}

// insertCitations writes citations in one INSERT (SQLite's Cite).
func (t *txStore) insertCitations(ctx context.Context, cs ...faqCitation) error {
	var q strings.Builder
	q.WriteString(sqlInsertCitations)
	args := make([]any, 0, 6*len(cs))
	for i, c := range cs {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(sqlCitationRow)
		args = append(args, c.EntryID, c.ConversationID, c.Lang, sealPII(t.keys, c.Query), c.Helped, c.At)
	}
	_, err := t.exec(ctx, t.rebind(q.String()), args...)
	return err
}

// insertOutbox writes outbox rows and then their outbound messages, one single-row INSERT each (see
// insertRow), and returns the rows' ids in order (SQLite's enqueue; PostgreSQL's is one statement,
// enqueuePG).
func (t *txStore) insertOutbox(ctx context.Context, rows []outboxRow) ([]int64, error) {
	const qo, qm = sqlInsertOutbox, sqlInsertOutMessage
	ids := make([]int64, len(rows))
	for i, r := range rows {
		sealed := sealPII(t.keys, r.Text)
		id, err := t.insertRow(ctx, qo, r.ConversationID, r.Channel, r.ChatID, sealed, r.Buttons, r.Status, r.Attempts,
			r.NextAttemptAt, r.LeaseUntil, r.ClaimedBy, r.LastError, r.PlatformMsgID, r.CreatedAt, r.SentAt)
		if err != nil {
			return nil, err
		}
		if id == 0 {
			return nil, fmt.Errorf("outbox: row %d not written", i)
		}
		ids[i] = id
		if r.ConversationID == 0 {
			continue
		}
		if _, err := t.exec(ctx, qm, r.ConversationID, r.Channel, sealed, id, r.CreatedAt, r.CreatedAt); err != nil {
			return nil, fmt.Errorf("messages: %w", err)
		}
	}
	return ids, nil
}

func scanIDs(rows *sql.Rows) ([]int64, error) {
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// On PostgreSQL, SaveSession of the conversation SaveInbound locked holds its UPDATE back, and the
// next statement of the transaction carries it: enqueuePG as one more data-modifying WITH (the engine
// saves the session right before it writes the replies: one round trip less per message), any other
// statement by writing it first (hand-written ones in exec/query, gorm's through the callback
// installHeldSessions registers), and at the latest Tx before COMMIT (flush). So every statement of
// the transaction sees the session saved, as if it had been written at once.

// heldSession is a session UPDATE not written yet.
type heldSession struct {
	id     int64
	sealed string
	state  string
	at     time.Time
}

const updateSession = "UPDATE conversations SET session = ?, state = ?, updated_at = ? WHERE id = ?"

// hold keeps the UPDATE of conversation id back; false when it must be written at once (SQLite, or a
// conversation this transaction has not locked and read, which may not exist).
func (t *txStore) hold(ctx context.Context, h heldSession) (bool, error) {
	if t.holds == nil || t.dialect != Postgres || t.cached == nil || t.cached.ID != h.id {
		return false, nil
	}
	tx, ok := t.pool().(*sql.Tx)
	if !ok {
		return false, nil
	}
	if t.held != nil && t.held.id != h.id {
		if err := t.writeHeld(ctx); err != nil {
			return false, err
		}
	}
	t.held, t.heldTx = &h, tx
	t.holds.Store(tx, t)
	return true, nil
}

// takeHeld returns the held UPDATE (nil when none) and forgets it: the caller writes it.
func (t *txStore) takeHeld() *heldSession {
	h := t.held
	t.dropHeld()
	return h
}

// dropHeld forgets the held UPDATE without writing it (the transaction ends).
func (t *txStore) dropHeld() {
	if t.heldTx != nil {
		t.holds.Delete(t.heldTx)
	}
	t.held, t.heldTx = nil, nil
}

// writeHeld writes the held UPDATE, if any.
func (t *txStore) writeHeld(ctx context.Context) error {
	h := t.takeHeld()
	if h == nil {
		return nil
	}
	res, err := t.exec(ctx, t.rebind(updateSession), h.sealed, h.state, h.at, h.id)
	if err != nil {
		return fmt.Errorf("storage: save session %d: %w", h.id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("storage: save session %d: %w", h.id, err)
	} else if n == 0 {
		return fmt.Errorf("storage: save session %d: %w", h.id, bot.ErrNotFound)
	}
	return nil
}

// installHeldSessions makes every gorm statement on a transaction that holds a session UPDATE back
// write it first.
func (db *DB) installHeldSessions() error {
	write := func(g *gorm.DB) {
		tx, ok := g.Statement.ConnPool.(*sql.Tx)
		if !ok {
			return
		}
		v, ok := db.holds.Load(tx)
		if !ok {
			return
		}
		ctx := g.Statement.Context
		if ctx == nil {
			ctx = context.Background()
		}
		if err := v.(*txStore).writeHeld(ctx); err != nil {
			g.AddError(err)
		}
	}
	cb := db.gdb.Callback()
	for _, err := range []error{
		cb.Create().Before("*").Register("kefu:held_session", write),
		cb.Query().Before("*").Register("kefu:held_session", write),
		cb.Update().Before("*").Register("kefu:held_session", write),
		cb.Delete().Before("*").Register("kefu:held_session", write),
		cb.Row().Before("*").Register("kefu:held_session", write),
		cb.Raw().Before("*").Register("kefu:held_session", write),
	} {
		if err != nil {
			return fmt.Errorf("storage: install held sessions: %w", err)
		}
	}
	return nil
}

// scanIDsCount reads rows of (id, n): the ids, and n (the query gives every row the same n).
func scanIDsCount(rows *sql.Rows) ([]int64, int64, error) {
	defer rows.Close()
	var ids []int64
	var n int64
	for rows.Next() {
		var id, c int64
		if err := rows.Scan(&id, &c); err != nil {
			return nil, 0, err
		}
		ids, n = append(ids, id), c
	}
	return ids, n, rows.Err()
}
