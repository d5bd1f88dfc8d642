-- Who saw or handled personal data unmasked (issue 13): every supervisor reveal (`kefu ticket show
-- --reveal`, the console's reveal button), every `kefu customer export` and `kefu customer erase`,
-- and every retention run. Kept apart from ticket_events so the tickets' audit trail (and reports)
-- stay as they are. detail never holds personal data.
CREATE TABLE pii_audit (
    id {{pk}},
    at {{ts}} NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    via TEXT NOT NULL DEFAULT '',
    ticket_no TEXT NOT NULL DEFAULT '',
    customer_id BIGINT NOT NULL DEFAULT 0,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX pii_audit_at ON pii_audit (at);
CREATE INDEX pii_audit_customer ON pii_audit (customer_id);
