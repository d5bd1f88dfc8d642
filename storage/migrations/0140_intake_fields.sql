-- Intake fields (issue 11): the name, e-mail address and phone number a customer gave at intake, and
-- which fields they were asked (answered or skipped: asked once per customer). Personal data is sealed
-- (storage/pii.go); the e-mail has a keyed-hash twin for lookups like the phone's. The expected
-- resolution time (期望解决时间) belongs to the ticket.
ALTER TABLE customers ADD COLUMN contact_name TEXT NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN email TEXT NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN email_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN intake_asked TEXT NOT NULL DEFAULT '';
CREATE INDEX customers_email_hash ON customers (email_hash);

ALTER TABLE tickets ADD COLUMN expected_by {{ts}};
