package storage

import (
	"context"
	"database/sql"
)

// Prepared statements of the hot path on SQLite (issue 14). The driver (modernc.org/sqlite) keeps a
// compiled statement inside an *sql.Stmt; a statement run with ExecContext(sql) is parsed and compiled
// again every time, which was a quarter of the group-commit writer's time. The statements every
// customer's message runs are prepared once at Open (while every connection is free: preparing later
// could wait for a connection while the writer holds the write lock), and a transaction uses them
// through Tx.StmtContext, which compiles a statement on the transaction's own connection the first
// time and keeps it for that connection. PostgreSQL needs none of this: pgx caches statements itself.
const (
	sqlInsertInbound = `INSERT INTO messages (conversation_id, direction, channel, platform_msg_id, user_id, kind, text, payload, attachments, outbox_id, at, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`
	sqlInsertOutbox     = `INSERT INTO outbox (conversation_id, channel, chat_id, text, buttons, status, attempts, next_attempt_at, lease_until, claimed_by, last_error, platform_msg_id, created_at, sent_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	sqlInsertOutMessage = `INSERT INTO messages (conversation_id, direction, channel, platform_msg_id, user_id, kind, text, payload, attachments, outbox_id, at, created_at) VALUES (?, 'out', ?, NULL, '', 'text', ?, '', '', ?, ?, ?)`
	sqlInsertCitations  = "INSERT INTO faq_citations (entry_id, conversation_id, lang, query, helped, at) VALUES "
	sqlCitationRow      = "(?, ?, ?, ?, ?, ?)"
)

// prepareHot prepares the hot path's statements (SQLite). One that fails to prepare is left out: its
// statement then runs unprepared, as before.
func (db *DB) prepareHot(ctx context.Context) {
	sqlDB, err := db.gdb.DB()
	if err != nil {
		return
	}
	db.hot = map[string]*sql.Stmt{}
	known, _ := knownQuery(SQLite, "", "", db.keys.Hashes("x")) // the SQL depends only on the number of keys
	for _, q := range []string{sqlInsertInbound, sqlInsertOutbox, sqlInsertOutMessage, updateSession,
		sqlInsertCitations + sqlCitationRow, known} {
		st, err := sqlDB.PrepareContext(ctx, q)
		if err != nil {
			db.log.Debug("sqlite: statement not prepared; it runs unprepared", "err", err)
			continue
		}
		db.hot[q] = st
	}
}

func (db *DB) closeHot() {
	for _, st := range db.hot {
		st.Close()
	}
	db.hot = nil
}

// prepared is q's prepared statement on the transaction's connection, with the context to run it
// with (a group-commit batch's statements run detached from their callers' cancellation), or nil.
func (t *txStore) prepared(ctx context.Context, q string) (*sql.Stmt, context.Context) {
	st := t.hot[q]
	if st == nil {
		return nil, ctx
	}
	switch p := t.pool().(type) {
	case *sql.Tx:
		return p.StmtContext(ctx, st), ctx
	case detachedPool:
		ctx = context.WithoutCancel(ctx)
		return p.tx.StmtContext(ctx, st), ctx
	}
	return nil, ctx
}
