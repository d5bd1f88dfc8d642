-- References to stored files (storage/blobs.go): a file is deduplicated by content, so several
-- customers may share one; each customer's use is a row here (customer_id 0: stored by an adapter, its
-- message not yet saved; SaveInbound claims it). Erasure and retention delete references, and a file
-- only once none is left. Files stored before this migration get one reference of unknown owner (-1),
-- which the erasure of any customer naming the file drops (the earlier rule) and retention ages out.
CREATE TABLE blob_refs (
    id {{pk}},
    blob_id BIGINT NOT NULL,
    customer_id BIGINT NOT NULL DEFAULT 0,
    created_at {{ts}} NOT NULL
);
CREATE INDEX blob_refs_blob ON blob_refs (blob_id);
CREATE INDEX blob_refs_customer ON blob_refs (customer_id);
INSERT INTO blob_refs (blob_id, customer_id, created_at) SELECT id, -1, created_at FROM attachment_blobs;
