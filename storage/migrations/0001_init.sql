-- kefu schema v1. Placeholders ({{pk}}, {{ts}}) are replaced per database by storage/migrate.go so
-- the same file runs on SQLite and PostgreSQL. All times are stored in UTC.

CREATE TABLE customers (
    id {{pk}},
    name TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    lang TEXT NOT NULL DEFAULT '',
    merged_into BIGINT,
    created_at {{ts}} NOT NULL,
    updated_at {{ts}} NOT NULL
);

CREATE TABLE identities (
    id {{pk}},
    channel TEXT NOT NULL,
    platform_user_id TEXT NOT NULL,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    user_name TEXT NOT NULL DEFAULT '',
    created_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX identities_channel_user ON identities (channel, platform_user_id);
CREATE INDEX identities_customer ON identities (customer_id);

CREATE TABLE conversations (
    id {{pk}},
    channel TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    state TEXT NOT NULL DEFAULT '',
    session TEXT NOT NULL DEFAULT '',
    created_at {{ts}} NOT NULL,
    updated_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX conversations_channel_chat ON conversations (channel, chat_id);
CREATE INDEX conversations_customer ON conversations (customer_id);

CREATE TABLE messages (
    id {{pk}},
    conversation_id BIGINT NOT NULL REFERENCES conversations(id),
    direction TEXT NOT NULL,
    channel TEXT NOT NULL,
    platform_msg_id TEXT,
    user_id TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL DEFAULT '',
    payload TEXT NOT NULL DEFAULT '',
    attachments TEXT NOT NULL DEFAULT '',
    outbox_id BIGINT,
    at {{ts}} NOT NULL,
    created_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX messages_channel_msg ON messages (channel, platform_msg_id);
CREATE INDEX messages_conversation ON messages (conversation_id, id);

CREATE TABLE ticket_counters (
    day TEXT PRIMARY KEY,
    seq BIGINT NOT NULL
);

CREATE TABLE tickets (
    id {{pk}},
    no TEXT NOT NULL,
    conversation_id BIGINT NOT NULL REFERENCES conversations(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    channel TEXT NOT NULL,
    customer_name TEXT NOT NULL DEFAULT '',
    customer_phone TEXT NOT NULL DEFAULT '',
    lang TEXT NOT NULL DEFAULT '',
    category TEXT NOT NULL DEFAULT '',
    priority TEXT NOT NULL,
    status TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    order_no TEXT NOT NULL DEFAULT '',
    urgency TEXT NOT NULL DEFAULT '',
    complaint BOOLEAN NOT NULL DEFAULT FALSE,
    escalated BOOLEAN NOT NULL DEFAULT FALSE,
    assignee TEXT NOT NULL DEFAULT '',
    reopens INTEGER NOT NULL DEFAULT 0,
    created_at {{ts}} NOT NULL,
    updated_at {{ts}} NOT NULL,
    first_response_due {{ts}} NOT NULL,
    resolution_due {{ts}} NOT NULL,
    first_response_at {{ts}},
    resolved_at {{ts}},
    closed_at {{ts}},
    rating INTEGER NOT NULL DEFAULT 0,
    rating_comment TEXT NOT NULL DEFAULT '',
    attachments TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX tickets_no ON tickets (no);
CREATE INDEX tickets_status ON tickets (status);
CREATE INDEX tickets_assignee ON tickets (assignee, status);
CREATE INDEX tickets_customer ON tickets (customer_id, id);
CREATE INDEX tickets_first_response_due ON tickets (first_response_due);
CREATE INDEX tickets_resolution_due ON tickets (resolution_due);

CREATE TABLE ticket_events (
    id {{pk}},
    ticket_id BIGINT NOT NULL REFERENCES tickets(id),
    ticket_no TEXT NOT NULL,
    at {{ts}} NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL DEFAULT '',
    channel TEXT NOT NULL DEFAULT '',
    internal BOOLEAN NOT NULL DEFAULT FALSE,
    attachments TEXT NOT NULL DEFAULT ''
);
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, id);

CREATE TABLE surveys (
    id {{pk}},
    ticket_id BIGINT NOT NULL REFERENCES tickets(id),
    customer_id BIGINT NOT NULL,
    score INTEGER NOT NULL DEFAULT 0,
    comment TEXT NOT NULL DEFAULT '',
    at {{ts}} NOT NULL
);
CREATE INDEX surveys_ticket ON surveys (ticket_id);

CREATE TABLE agents (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL DEFAULT '',
    supervisor BOOLEAN NOT NULL DEFAULT FALSE,
    created_at {{ts}} NOT NULL,
    updated_at {{ts}} NOT NULL
);

CREATE TABLE faq_entries (
    id {{pk}},
    entry_id TEXT NOT NULL,
    lang TEXT NOT NULL DEFAULT '',
    category TEXT NOT NULL DEFAULT '',
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    examples TEXT NOT NULL DEFAULT '',
    keywords TEXT NOT NULL DEFAULT '',
    updated_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX faq_entries_entry_lang ON faq_entries (entry_id, lang);

CREATE TABLE faq_citations (
    id {{pk}},
    entry_id TEXT NOT NULL,
    conversation_id BIGINT NOT NULL,
    lang TEXT NOT NULL DEFAULT '',
    query TEXT NOT NULL DEFAULT '',
    helped BOOLEAN,
    at {{ts}} NOT NULL
);
CREATE INDEX faq_citations_entry ON faq_citations (entry_id);
CREATE INDEX faq_citations_conversation ON faq_citations (conversation_id, entry_id, id);

CREATE TABLE unanswered_questions (
    id {{pk}},
    conversation_id BIGINT NOT NULL,
    lang TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL,
    at {{ts}} NOT NULL
);
CREATE INDEX unanswered_questions_at ON unanswered_questions (at);

CREATE TABLE outbox (
    id {{pk}},
    conversation_id BIGINT NOT NULL DEFAULT 0,
    channel TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    text TEXT NOT NULL DEFAULT '',
    buttons TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at {{ts}} NOT NULL,
    lease_until {{ts}},
    last_error TEXT NOT NULL DEFAULT '',
    platform_msg_id TEXT NOT NULL DEFAULT '',
    created_at {{ts}} NOT NULL,
    sent_at {{ts}}
);
CREATE INDEX outbox_status_next ON outbox (status, next_attempt_at);
CREATE INDEX outbox_chat ON outbox (channel, chat_id, status, id);

CREATE TABLE web_sessions (
    id TEXT PRIMARY KEY,
    lang TEXT NOT NULL DEFAULT '',
    created_at {{ts}} NOT NULL
);

CREATE TABLE link_codes (
    code TEXT PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    expires_at {{ts}} NOT NULL,
    created_at {{ts}} NOT NULL
);

CREATE TABLE kv (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL DEFAULT '',
    updated_at {{ts}} NOT NULL
);
