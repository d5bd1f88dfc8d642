-- Canned replies (macros) for the console's ticket page (issue 17). team '' is for every team. body may
-- hold the placeholders {{customer_name}}, {{ticket_no}}, {{agent_name}} and {{due}} (console/macros.go);
-- it is written by supervisors, never holds a customer's data, and so is stored plain.
CREATE TABLE macros (
    id {{pk}},
    team TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX macros_team_name ON macros (team, name);
