-- Reports and the supervisors' console (package reports, package console).
--
-- Indexes for the report queries (reports/EXPLAIN.md shows the plans): every ticket panel reads the
-- cohort of tickets created in a date range; FCR looks up each ticket's reopen/hand-off/reply events;
-- the bot's share reads conversations started in a range and whether each has a ticket.
CREATE INDEX tickets_created_at ON tickets (created_at);
CREATE INDEX tickets_conversation ON tickets (conversation_id);
CREATE INDEX ticket_events_ticket_kind ON ticket_events (ticket_id, kind, actor);
CREATE INDEX conversations_created_at ON conversations (created_at);

-- Console accounts. role: agent | supervisor | admin. agent_id links an agent to the tickets they
-- hold (tickets.assignee, e.g. "cli:alice"); agents see only those numbers. password_hash is a
-- bcrypt hash (golang.org/x/crypto/bcrypt, "$2a$12$…").
CREATE TABLE console_users (
    id {{pk}},
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    agent_id TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    lang TEXT NOT NULL DEFAULT '',
    created_at {{ts}} NOT NULL,
    updated_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX console_users_name ON console_users (name);

-- Sessions: only the SHA-256 of the cookie's random token is stored.
CREATE TABLE console_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES console_users(id) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    created_at {{ts}} NOT NULL,
    expires_at {{ts}} NOT NULL
);
CREATE INDEX console_sessions_user ON console_sessions (user_id);

-- Failed sign-ins per key ("user:NAME", "ip:ADDR") for the login backoff.
CREATE TABLE console_login_failures (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL DEFAULT 0,
    last_at {{ts}} NOT NULL
);
