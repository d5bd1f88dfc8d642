-- Who has a ticket open in the console right now (issue 17's collision notice): each open ticket page
-- sends a heartbeat that moves expires_at forward; rows past it are gone. A table rather than memory so
-- that agents served by different replicas see each other.
CREATE TABLE console_presence (
    ticket_no TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES console_users(id) ON DELETE CASCADE,
    user_name TEXT NOT NULL,
    state TEXT NOT NULL,
    expires_at {{ts}} NOT NULL,
    PRIMARY KEY (ticket_no, user_id)
);
CREATE INDEX console_presence_expires ON console_presence (expires_at);
