-- Learning from use (kefu kb learn): a supervisor's decision on a customer's wording that was
-- confirmed for an FAQ entry (faq_citations with helped = TRUE). One row per citation; accepted rows
-- are added to the library as examples of their entry. text is the customer's own words: personal
-- data, kept only once accepted (a rejected row keeps no text).
CREATE TABLE faq_learned (
    id {{pk}},
    citation_id BIGINT NOT NULL,
    entry_id TEXT NOT NULL,
    lang TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    decided_by TEXT NOT NULL,
    decided_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX faq_learned_citation ON faq_learned (citation_id);
CREATE INDEX faq_citations_helped ON faq_citations (helped, at);
