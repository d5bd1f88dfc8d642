-- Complaints (issue 11): the complaint level and a repeat flag on the ticket; the complaint's core
-- points, verification and responsible party; standard-solution proposals to the customer; return
-- visits. Texts that can hold personal data (verification, notes, reasons) are sealed (storage/pii.go).

ALTER TABLE tickets ADD COLUMN complaint_level INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN repeat_of TEXT NOT NULL DEFAULT '';
CREATE INDEX tickets_customer_complaints ON tickets (customer_id, complaint, created_at);

-- Customer flags that raise a complaint's level ("vip", "media"), comma-separated.
ALTER TABLE customers ADD COLUMN flags TEXT NOT NULL DEFAULT '';

CREATE TABLE complaint_details (
    ticket_id BIGINT PRIMARY KEY REFERENCES tickets(id) ON DELETE CASCADE,
    core_points TEXT NOT NULL DEFAULT '',
    verification TEXT NOT NULL DEFAULT '',
    responsible TEXT NOT NULL DEFAULT '',
    updated_by TEXT NOT NULL DEFAULT '',
    updated_at {{ts}} NOT NULL
);

-- status: approval (above the proposer's limit, waiting for a supervisor) | offered (sent to the
-- customer) | accepted | declined (by the customer, with reason) | rejected (by the supervisor).
-- amount is in fen (0.01 yuan).
CREATE TABLE proposals (
    id {{pk}},
    ticket_id BIGINT NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    solution TEXT NOT NULL,
    amount BIGINT NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    proposed_by TEXT NOT NULL,
    approved_by TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    created_at {{ts}} NOT NULL,
    decided_at {{ts}}
);
CREATE INDEX proposals_ticket ON proposals (ticket_id, id);

-- reason: complaint (3 working days after resolution) | low_rating (24 h after a score <= 3).
-- outcome: '' (due) | satisfied | not_satisfied.
CREATE TABLE return_visits (
    id {{pk}},
    ticket_id BIGINT NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    reason TEXT NOT NULL,
    owner TEXT NOT NULL DEFAULT '',
    due_at {{ts}} NOT NULL,
    outcome TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    done_by TEXT NOT NULL DEFAULT '',
    done_at {{ts}},
    created_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX return_visits_ticket_reason ON return_visits (ticket_id, reason);
CREATE INDEX return_visits_due ON return_visits (due_at);
