-- The agents' inbox (issue 17): a ticket may be queued for a team, and the inbox pages through the
-- open tickets newest first (keyset on id) per view, so each view's filter has an index ending in id.
ALTER TABLE tickets ADD COLUMN team TEXT NOT NULL DEFAULT '';

-- Open tickets by assignee (mine, unassigned, a team's members) and by team, newest first.
CREATE INDEX tickets_open_assignee_id ON tickets (assignee, id) WHERE status IN ('open', 'in_progress', 'pending');
CREATE INDEX tickets_open_team_id ON tickets (team, id) WHERE status IN ('open', 'in_progress', 'pending');
-- Every open ticket newest first (all, overdue, due soon, waiting: filtered while walking the index).
CREATE INDEX tickets_open_id ON tickets (id) WHERE status IN ('open', 'in_progress', 'pending');
