-- Report indexes measured on a year of traffic (1,000,000 tickets; reports/EXPLAIN.md has the plans).
--
-- FCR: "no reopen and no hand-off" is a NOT EXISTS per resolved ticket. This partial index holds only
-- those events (a few percent of ticket_events); its predicate is written exactly as the query's
-- (reports.handoffEvent) so both PostgreSQL and SQLite use it, and the lookup never reads the table.
CREATE INDEX ticket_events_handoff ON ticket_events (ticket_id)
    WHERE kind = 'reopened' OR (kind = 'assigned' AND text NOT LIKE '->%');

-- Bot share: "an FAQ answer not marked unhelpful" per conversation, without reading citation rows.
CREATE INDEX faq_citations_helpful ON faq_citations (conversation_id)
    WHERE helped IS NULL OR helped = TRUE;

-- Backlog: the open tickets only (a small slice of a year's tickets), covering status, priority and age.
CREATE INDEX tickets_open ON tickets (created_at, status, priority)
    WHERE status IN ('open', 'in_progress', 'pending');
