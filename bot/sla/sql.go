package sla

// How a SQL storage implements Store. The one implementation is storage.SLAStore (storage/sla.go,
// schema in storage/migrations/0002_sla.sql); its SQL is tested there, on SQLite and PostgreSQL,
// behind the real scanner (storage/sla_test.go, sla_once_test.go, sla_sql_test.go). This package
// keeps no copy of the statements, so no test can pass on SQL that production does not run.
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
