-- Per-integration REST API tokens (issue 16). Only a SHA-256 hash of each token is stored: tokens are
-- 32 random bytes, so a fast hash cannot be brute-forced and a database leak reveals no usable token.
CREATE TABLE api_tokens (
    id {{pk}},
    name TEXT NOT NULL UNIQUE,
    token_hash TEXT NOT NULL UNIQUE,
    scope TEXT NOT NULL,
    act_as TEXT NOT NULL DEFAULT '',
    created_at {{ts}} NOT NULL,
    last_used_at {{ts}},
    revoked_at {{ts}}
);
