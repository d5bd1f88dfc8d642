-- The knowledge loop (issue 11): draft FAQ entries made from resolved tickets, which a supervisor
-- publishes or rejects. question and answer have personal data removed, but are sealed all the same
-- (storage/pii.go): a draft is unreviewed text. status: draft | published | rejected.
CREATE TABLE faq_drafts (
    id {{pk}},
    ticket_no TEXT NOT NULL,
    lang TEXT NOT NULL DEFAULT '',
    category TEXT NOT NULL DEFAULT '',
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    status TEXT NOT NULL,
    entry_id TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at {{ts}} NOT NULL,
    decided_by TEXT NOT NULL DEFAULT '',
    decided_at {{ts}},
    reason TEXT NOT NULL DEFAULT ''
);
-- At most one draft per ticket waits for a decision.
CREATE UNIQUE INDEX faq_drafts_open_ticket ON faq_drafts (ticket_no) WHERE status = 'draft';
CREATE INDEX faq_drafts_status ON faq_drafts (status, id);

-- Deliberate changes to the FAQ library (a published draft, /kefu faq add|edit, kefu kb import of
-- changed entries): kefu kb stats counts the month's new and revised entries from here (the seeds ask
-- for at least 10 a month). change: new | revised. source: draft | slack | import.
CREATE TABLE faq_changes (
    id {{pk}},
    entry_id TEXT NOT NULL,
    lang TEXT NOT NULL DEFAULT '',
    change TEXT NOT NULL,
    source TEXT NOT NULL,
    actor TEXT NOT NULL DEFAULT '',
    at {{ts}} NOT NULL
);
CREATE INDEX faq_changes_at ON faq_changes (at);
