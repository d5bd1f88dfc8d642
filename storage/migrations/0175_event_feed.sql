-- Issue 14: the ticket event feed (EventsAfter, LiveEventsAfter) on PostgreSQL follows a position
-- assigned at COMMIT instead of the id assigned at INSERT. Before, every event-writing transaction
-- took one advisory lock from its first event until its commit so that ids became visible in order,
-- and ticket openings committed one at a time. Now a deferred constraint trigger takes that lock only
-- while the transaction commits and gives each of its events the next position: a transaction
-- numbers its events only after every earlier-numbered one is visible, so a reader's cursor never
-- passes a position that commits later. SQLite has one writer at a time: its feed position is the id.
/* postgres */ CREATE SEQUENCE ticket_events_seq;
/* postgres */ ALTER TABLE ticket_events ADD COLUMN seq BIGINT;
/* postgres */ UPDATE ticket_events SET seq = id;
/* postgres */ SELECT setval('ticket_events_seq', COALESCE((SELECT MAX(id) FROM ticket_events), 0) + 1, false);
/* postgres */ CREATE UNIQUE INDEX ticket_events_feed ON ticket_events (seq);
/* postgres */ CREATE FUNCTION ticket_events_number() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- held until the transaction ends, i.e. until it is visible (locks go after the commit)
    PERFORM pg_advisory_xact_lock(7340418);
    UPDATE ticket_events SET seq = nextval('ticket_events_seq') WHERE id = NEW.id;
    RETURN NULL;
END
$$;
/* postgres */ CREATE CONSTRAINT TRIGGER ticket_events_number AFTER INSERT ON ticket_events
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ticket_events_number();
