-- Outbox claims by live dispatchers (issue 14). A dispatcher claims whole conversations: it sets
-- claimed_by to its owner id and keeps a heartbeat row in outbox_owners; the claims of an owner whose
-- heartbeat ran out are freed by the others within seconds (no fixed lease to sit out).
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;

CREATE TABLE outbox_owners (
    id TEXT PRIMARY KEY,
    alive_until {{ts}} NOT NULL
);

-- Unclaimed pending rows in id order: the claim scan walks only these.
CREATE INDEX outbox_unclaimed ON outbox (id) WHERE status = 'pending' AND claimed_by IS NULL;
-- Pending rows per conversation: "is there an older pending row" and "claim the conversation".
CREATE INDEX outbox_pending_chat ON outbox (channel, chat_id, id) WHERE status = 'pending';
-- Replaced by the two partial indexes above; the outbox is mostly delivered rows, which no claim reads.
DROP INDEX outbox_status_next;
