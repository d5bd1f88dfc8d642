-- SLA clock of each ticket (bot/sla.TicketClock) and the notifications fired, as bot/sla/sql.go
-- describes. sla_next_at and sla_fired.due_at are unix milliseconds; durations are nanoseconds.
-- sla_status / sla_priority are the status and priority the clock last saw, so the store can tell
-- a change from the ticket row it follows.

ALTER TABLE tickets ADD COLUMN sla_status TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN sla_priority TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN sla_start_at {{ts}};
ALTER TABLE tickets ADD COLUMN sla_priority_at {{ts}};
ALTER TABLE tickets ADD COLUMN sla_paused_business_ns BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN sla_paused_wall_ns BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN sla_pending_since {{ts}};
ALTER TABLE tickets ADD COLUMN sla_waiting_since {{ts}};
ALTER TABLE tickets ADD COLUMN sla_last_update_at {{ts}};
ALTER TABLE tickets ADD COLUMN sla_acked_at {{ts}};
ALTER TABLE tickets ADD COLUMN sla_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN sla_next_at BIGINT;
ALTER TABLE tickets ADD COLUMN sla_first_response_met BOOLEAN;
ALTER TABLE tickets ADD COLUMN sla_resolution_met BOOLEAN;
CREATE INDEX tickets_sla_next_at ON tickets (sla_next_at) WHERE sla_next_at IS NOT NULL;

CREATE TABLE sla_fired (
    ticket_id BIGINT NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    level INTEGER NOT NULL,
    due_at BIGINT NOT NULL,
    fired_at {{ts}} NOT NULL,
    PRIMARY KEY (ticket_id, kind, target, level, due_at)
);
