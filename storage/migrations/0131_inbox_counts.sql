-- The inbox's counts per view (storage.InboxCounts) read every open ticket once: this covering index
-- holds each column they and the filters compare, so the count is an index-only scan of the open
-- tickets instead of a walk over their rows (which carry the sealed texts). It leads with status so
-- that SQLite, which plans without statistics, takes it over tickets_status for "status IN (…)"; its
-- predicate is the one the query writes (storage.openStatusSQL).
CREATE INDEX tickets_open_inbox ON tickets (status, assignee, team, first_response_at, first_response_due, resolution_due,
    priority, channel, category, complaint_level) WHERE status IN ('open', 'in_progress', 'pending');
