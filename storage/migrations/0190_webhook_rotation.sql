-- Webhook secret rotation (issue 16): the secret a rotation replaced, sealed like the current one,
-- keeps signing deliveries (as a second v1) until old_secret_until, so receivers switch without a gap.
ALTER TABLE webhook_endpoints ADD COLUMN old_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE webhook_endpoints ADD COLUMN old_secret_until {{ts}};
