-- Personal data under 个人信息保护法 (issue 13; storage/keys.go, storage/pii.go).
--
-- Personal-data columns stay TEXT and hold sealed values ("enc1:<key id>:<base64>"). Equality lookups
-- use a keyed hash (HMAC-SHA-256) in a "<column>_hash" twin, which storage fills on every write:
-- the platform user id of an identity, and phone numbers. The old unique index on the plain user id
-- gives way to one on its hash (rows written before this migration get their hash when a kefu process
-- opens the database; until then their hash is '' and the index skips them).
ALTER TABLE identities ADD COLUMN platform_user_id_hash TEXT NOT NULL DEFAULT '';
DROP INDEX identities_channel_user;
CREATE UNIQUE INDEX identities_channel_user_hash ON identities (channel, platform_user_id_hash) WHERE platform_user_id_hash <> '';

ALTER TABLE customers ADD COLUMN phone_hash TEXT NOT NULL DEFAULT '';
CREATE INDEX customers_phone_hash ON customers (phone_hash);

ALTER TABLE tickets ADD COLUMN customer_phone_hash TEXT NOT NULL DEFAULT '';
CREATE INDEX tickets_customer_phone_hash ON tickets (customer_phone_hash);
