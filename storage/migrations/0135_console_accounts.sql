-- Console account administration (issue 17): an admin disables, re-enables, deletes and re-roles
-- accounts. disabled_at set: the account cannot sign in and its sessions are refused at once (they
-- are also deleted when it is disabled). Every change is written to console_account_audit.
ALTER TABLE console_users ADD COLUMN disabled_at {{ts}};

-- Who changed which account, when, and how. actor: "console:NAME" or "cli:NAME"; action: added,
-- disabled, enabled, deleted, role, agent_id, password; detail: e.g. "agent->admin" (never a password).
CREATE TABLE console_account_audit (
    id {{pk}},
    at {{ts}} NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX console_account_audit_target ON console_account_audit (target, id);
