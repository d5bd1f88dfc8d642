-- Personal-data retention and erasure (issue 13, storage/privacy.go): when a ticket's personal fields
-- and the texts of its trail were blanked (retention after closing, or `kefu customer erase`). The
-- ticket itself stays for the reports.
ALTER TABLE tickets ADD COLUMN anonymized_at {{ts}};
CREATE INDEX tickets_closed_at ON tickets (closed_at) WHERE anonymized_at IS NULL;
