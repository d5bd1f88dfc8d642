-- Report indexes measured on a year of traffic (1,000,000 tickets; reports/EXPLAIN.md has the plans).
--
-- FCR: "no reopen and no hand-off" is a NOT EXISTS per resolved ticket. This partial index holds only
-- those events (a few percent of ticket_events); its predicate is written exactly as the query's
-- (reports.handoffEvent) so both PostgreSQL and SQLite use it, and the lookup never reads the table.
CREATE INDEX ticket_events_handoff ON ticket_events (ticket_id)
    WHERE kind = 'reopened' OR (kind = 'assigned' AND text NOT LIKE '->%');

-- Bot share and KB citation rate: each conversation's answers and whether one helped, read from the
-- index alone (faq_citations_conversation lacks helped, so every citation row was fetched).
CREATE INDEX faq_citations_conversation_helped ON faq_citations (conversation_id, helped);

-- Backlog: the open tickets only (a small slice of a year's tickets), covering status, priority and age.
CREATE INDEX tickets_open ON tickets (created_at, status, priority)
    WHERE status IN ('open', 'in_progress', 'pending');

-- FCR: "at most one agent replied" per ticket (MIN(actor) = MAX(actor)) from the replies alone.
CREATE INDEX ticket_events_replies ON ticket_events (ticket_id, actor) WHERE kind = 'agent_reply';

-- Bot share: the conversations started in the range and their ids from the index alone (the range of
-- ids bounds the ticket and citation lookups).
CREATE INDEX conversations_created_id ON conversations (created_at, id);
