-- Continuous improvement (package improve): 5-Why records, their actions, linked tickets and audit
-- trail; SMART targets; threshold alerts and the pings they send (improve_pings is the exactly-once
-- queue shared by threshold crossings and late actions).

CREATE TABLE improve_counters (
    month TEXT PRIMARY KEY,
    seq BIGINT NOT NULL
);

-- whys: a JSON array of 1..5 strings. status: open | done (every action done).
CREATE TABLE improve_records (
    id {{pk}},
    no TEXT NOT NULL,
    phenomenon TEXT NOT NULL,
    whys TEXT NOT NULL,
    root_cause TEXT NOT NULL DEFAULT '',
    category TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at {{ts}} NOT NULL,
    updated_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX improve_records_no ON improve_records (no);
CREATE INDEX improve_records_category ON improve_records (category, status);

CREATE TABLE improve_tickets (
    record_id BIGINT NOT NULL REFERENCES improve_records(id),
    ticket_no TEXT NOT NULL,
    added_at {{ts}} NOT NULL,
    PRIMARY KEY (record_id, ticket_no)
);
CREATE INDEX improve_tickets_ticket ON improve_tickets (ticket_no);

-- term: short | long. due_date: YYYY-MM-DD in the configured time zone.
-- state: open | in_progress | verifying | done.
CREATE TABLE improve_actions (
    id {{pk}},
    record_id BIGINT NOT NULL REFERENCES improve_records(id),
    term TEXT NOT NULL,
    description TEXT NOT NULL,
    owner TEXT NOT NULL,
    due_date TEXT NOT NULL,
    acceptance TEXT NOT NULL,
    state TEXT NOT NULL,
    done_at {{ts}},
    created_at {{ts}} NOT NULL,
    updated_at {{ts}} NOT NULL
);
CREATE INDEX improve_actions_record ON improve_actions (record_id, id);
CREATE INDEX improve_actions_due ON improve_actions (state, due_date);

CREATE TABLE improve_events (
    id {{pk}},
    record_id BIGINT NOT NULL REFERENCES improve_records(id),
    action_id BIGINT NOT NULL DEFAULT 0,
    at {{ts}} NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL DEFAULT ''
);
CREATE INDEX improve_events_record ON improve_events (record_id, id);

-- period: YYYY-MM, YYYY-Qn or YYYY-Www (ISO week). op: <= | >=.
CREATE TABLE improve_targets (
    id {{pk}},
    metric TEXT NOT NULL,
    period TEXT NOT NULL,
    op TEXT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    owner TEXT NOT NULL,
    review_date TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at {{ts}} NOT NULL,
    updated_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX improve_targets_metric_period ON improve_targets (metric, period);

-- state: ok | firing; version counts transitions (each transition's ping key carries it).
CREATE TABLE improve_thresholds (
    id {{pk}},
    name TEXT NOT NULL,
    metric TEXT NOT NULL,
    op TEXT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    window_s BIGINT NOT NULL,
    state TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 0,
    last_value DOUBLE PRECISION,
    changed_at {{ts}},
    created_by TEXT NOT NULL,
    created_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX improve_thresholds_name ON improve_thresholds (name);

-- One row per notification, unique by key ("threshold:<id>:<version>", "late:<action id>:<due date>").
-- status: pending | sending (lease_until) | sent. args: JSON object for the text template.
CREATE TABLE improve_pings (
    id {{pk}},
    key TEXT NOT NULL,
    text_key TEXT NOT NULL,
    args TEXT NOT NULL DEFAULT '',
    recipients TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    lease_until {{ts}},
    created_at {{ts}} NOT NULL,
    sent_at {{ts}}
);
CREATE UNIQUE INDEX improve_pings_key ON improve_pings (key);
CREATE INDEX improve_pings_status ON improve_pings (status, id);
