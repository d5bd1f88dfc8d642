-- Hardening (issue 15): an account whose password someone else set (the first admin's generated one)
-- must choose its own at the next sign-in before the console shows anything else.
ALTER TABLE console_users ADD COLUMN must_change BOOLEAN NOT NULL DEFAULT FALSE;
