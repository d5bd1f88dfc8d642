-- Follow-through tasks on a ticket (issue 11): a finance refund, a warehouse reship … with an owner
-- ("finance:li", "slack:U123") and a due time. state: open | done | cancelled. note can hold personal
-- data (sealed, storage/pii.go). A late open task pings once (sla_fired, kind 'task').
CREATE TABLE ticket_tasks (
    id {{pk}},
    ticket_id BIGINT NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    owner TEXT NOT NULL,
    due_at {{ts}} NOT NULL,
    state TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at {{ts}} NOT NULL,
    done_by TEXT NOT NULL DEFAULT '',
    done_at {{ts}}
);
CREATE INDEX ticket_tasks_ticket ON ticket_tasks (ticket_id, id);
-- Late open tasks, by due time: the housekeeping scan reads only these.
CREATE INDEX ticket_tasks_open_due ON ticket_tasks (due_at) WHERE state = 'open';
