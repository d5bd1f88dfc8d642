package sla

import "time"

// The SQL the storage needs to implement Store. The statements are tested as written against SQLite
// (and PostgreSQL when KEFU_TEST_POSTGRES_DSN is set) in sql_test.go, behind a real sla.Store.
//
// Columns on tickets (TicketClock / Item fields in brackets). Times of sla_next_at are BIGINT unix
// milliseconds on both databases: the index stays small and there is no trap of text timestamps in
// mixed time zones on SQLite. The other times may use the storage's usual time type; durations are
// BIGINT nanoseconds.
//
//	sla_start_at            [Clock.Start]           resolution clock start (created, reopened, restart)
//	sla_priority_at         [Clock.PriorityAt]      last priority change
//	sla_paused_business_ns  [Clock.PausedBusiness]  NOT NULL DEFAULT 0
//	sla_paused_wall_ns      [Clock.PausedWall]      NOT NULL DEFAULT 0
//	sla_pending_since       [Clock.PendingSince]
//	sla_waiting_since       [Clock.WaitingSince]
//	sla_last_update_at      [Clock.LastUpdateAt]
//	sla_acked_at            [Item.AckedAt]
//	sla_version             [Item.Version]          NOT NULL DEFAULT 0, +1 with every change above
//	sla_next_at             BIGINT NULL             next check; NULL = nothing planned (closed, paused)
//	sla_first_response_met  BOOLEAN NULL            stamps for reports (NULL: not decided yet)
//	sla_resolution_met      BOOLEAN NULL
//
// plus the existing priority, category, status, created_at, first_response_at [Clock.FirstResponseAt],
// resolved_at [Clock.ResolvedAt], assignee, first_response_due and resolution_due (write them from
// Policy.Due with each change, for lists and `--overdue`).
//
// Why the scan costs what the due tickets cost: sla_next_at is NULL for every ticket with nothing
// planned (resolved, closed, paused), and the index is partial (WHERE sla_next_at IS NOT NULL), so
// a million closed tickets are not in it at all. The claim is one range scan of that index from its
// start to `now`, stopped by LIMIT: it reads the due entries and nothing else. Open tickets that are
// not due lie after `now` in the index and are never visited. Each handled ticket gets a later
// sla_next_at (Reschedule) or NULL, so it leaves the range.
//
// With each change of the clock fields the engine, in the same transaction, bumps sla_version and
// sets sla_next_at = Policy.Next(item, now) (or simply now, to let the scanner plan it).
// MarkFired inserts into sla_fired and, only when a row was inserted, writes the notification's
// effects in the same transaction: the EvSLA ticket event (Text: Notify.Text()), for
// KindCustomerUpdate the customer's outbox row and sla_last_update_at (Policy.CustomerUpdated), and
// for KindBreach of first_response/resolution the *_met = false stamp.

// PostgresSchema adds the SLA columns, the partial index and the fired-notification table.
const PostgresSchema = `
ALTER TABLE tickets
  ADD COLUMN IF NOT EXISTS sla_start_at timestamptz,
  ADD COLUMN IF NOT EXISTS sla_priority_at timestamptz,
  ADD COLUMN IF NOT EXISTS sla_paused_business_ns bigint NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS sla_paused_wall_ns bigint NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS sla_pending_since timestamptz,
  ADD COLUMN IF NOT EXISTS sla_waiting_since timestamptz,
  ADD COLUMN IF NOT EXISTS sla_last_update_at timestamptz,
  ADD COLUMN IF NOT EXISTS sla_acked_at timestamptz,
  ADD COLUMN IF NOT EXISTS sla_version bigint NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS sla_next_at bigint,
  ADD COLUMN IF NOT EXISTS sla_first_response_met boolean,
  ADD COLUMN IF NOT EXISTS sla_resolution_met boolean;
CREATE INDEX IF NOT EXISTS tickets_sla_next_at ON tickets (sla_next_at) WHERE sla_next_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS sla_fired (
  ticket_id bigint NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
  kind      text   NOT NULL,
  target    text   NOT NULL,
  level     int    NOT NULL,
  due_at    bigint NOT NULL, -- unix milliseconds of the deadline
  fired_at  timestamptz NOT NULL,
  PRIMARY KEY (ticket_id, kind, target, level, due_at)
);`

// SQLiteSchema is PostgresSchema for SQLite (one ALTER per column; run each once, in a numbered
// migration).
const SQLiteSchema = `
ALTER TABLE tickets ADD COLUMN sla_start_at datetime;
ALTER TABLE tickets ADD COLUMN sla_priority_at datetime;
ALTER TABLE tickets ADD COLUMN sla_paused_business_ns integer NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN sla_paused_wall_ns integer NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN sla_pending_since datetime;
ALTER TABLE tickets ADD COLUMN sla_waiting_since datetime;
ALTER TABLE tickets ADD COLUMN sla_last_update_at datetime;
ALTER TABLE tickets ADD COLUMN sla_acked_at datetime;
ALTER TABLE tickets ADD COLUMN sla_version integer NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN sla_next_at integer;
ALTER TABLE tickets ADD COLUMN sla_first_response_met boolean;
ALTER TABLE tickets ADD COLUMN sla_resolution_met boolean;
CREATE INDEX IF NOT EXISTS tickets_sla_next_at ON tickets (sla_next_at) WHERE sla_next_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS sla_fired (
  ticket_id integer NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
  kind      text    NOT NULL,
  target    text    NOT NULL,
  level     integer NOT NULL,
  due_at    integer NOT NULL,
  fired_at  datetime NOT NULL,
  PRIMARY KEY (ticket_id, kind, target, level, due_at)
);`

// PostgresClaim is DueForAction: $1 now (ms), $2 now+lease (ms), $3 limit. SKIP LOCKED lets several
// processes claim disjoint tickets at once without waiting on each other; the lease makes a
// ticket whose scanner died come back when it runs out. Add the ticket columns Item needs to
// RETURNING.
const PostgresClaim = `
UPDATE tickets AS t SET sla_next_at = $2
FROM (
  SELECT id FROM tickets
  WHERE sla_next_at IS NOT NULL AND sla_next_at <= $1
  ORDER BY sla_next_at
  LIMIT $3
  FOR UPDATE SKIP LOCKED
) AS due
WHERE t.id = due.id
RETURNING t.id`

// SQLiteClaim is DueForAction on SQLite (one writer at a time, so no SKIP LOCKED; RETURNING needs
// SQLite 3.35+): ?1 now (ms), ?2 now+lease (ms), ?3 limit.
const SQLiteClaim = `
UPDATE tickets SET sla_next_at = ?2
WHERE id IN (
  SELECT id FROM tickets
  WHERE sla_next_at IS NOT NULL AND sla_next_at <= ?1
  ORDER BY sla_next_at
  LIMIT ?3
)
RETURNING id`

// PostgresMarkFired is the first statement of MarkFired: one affected row means this call fired it.
const PostgresMarkFired = `
INSERT INTO sla_fired (ticket_id, kind, target, level, due_at, fired_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT DO NOTHING`

// SQLiteMarkFired is PostgresMarkFired for SQLite.
const SQLiteMarkFired = `
INSERT INTO sla_fired (ticket_id, kind, target, level, due_at, fired_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6)
ON CONFLICT DO NOTHING`

// PostgresReschedule is Reschedule: $1 id, $2 version, $3 next (ms, or NULL).
const PostgresReschedule = `UPDATE tickets SET sla_next_at = $3 WHERE id = $1 AND sla_version = $2`

// SQLiteReschedule is Reschedule on SQLite.
const SQLiteReschedule = `UPDATE tickets SET sla_next_at = ?3 WHERE id = ?1 AND sla_version = ?2`

// PruneFired deletes the fired rows of tickets closed before a cutoff ($1/?1: a time), so sla_fired
// stays the size of the open tickets' history. Run it daily.
const PruneFired = `
DELETE FROM sla_fired WHERE ticket_id IN (
  SELECT id FROM tickets WHERE status = 'closed' AND closed_at < $1
)`

// UnixMilli is how sla_next_at and sla_fired.due_at store a time.
func UnixMilli(t time.Time) int64 { return t.UnixMilli() }
