-- A customer's file whose download failed (issue 19): retried in the background with backoff until the
-- platform deletes its temporary media (WeChat, WeCom: 3 days; bot.MediaExpiry). One row per attachment
-- of an inbound message; file_id (the platform's media id) is sealed. state: pending | done | expired.
-- claimed_until is the claim of one process for one attempt (ClaimMediaRetries).
CREATE TABLE media_retries (
    id {{pk}},
    channel TEXT NOT NULL,
    message_id BIGINT NOT NULL,
    idx INTEGER NOT NULL,
    file_id TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'pending',
    next_at {{ts}} NOT NULL,
    expires_at {{ts}} NOT NULL,
    claimed_until {{ts}},
    created_at {{ts}} NOT NULL,
    UNIQUE (message_id, idx)
);
CREATE INDEX media_retries_due ON media_retries (channel, state, next_at);
