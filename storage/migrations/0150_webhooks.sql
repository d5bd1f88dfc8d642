-- Outbound webhook endpoints (issue 16). Deliveries are outbox rows of channel 'webhook' (chat id
-- "<endpoint id>:<ticket no>"), written with the ticket event that raises them. The signing secret
-- must be readable to sign, so it is sealed with the data keys (like personal data), not hashed.
CREATE TABLE webhook_endpoints (
    id {{pk}},
    name TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    events TEXT NOT NULL,
    created_at {{ts}} NOT NULL
);
