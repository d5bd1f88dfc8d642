-- Customers' files (issue 19): WeChat and WeCom delete temporary media after 3 days, so kefu keeps a
-- copy. data is the file, base64, sealed like every personal-data column (storage/pii.go); sha256 is
-- the keyed hash of the file's SHA-256 (a plain digest would tell who sent a known file), which
-- deduplicates a file sent twice.
CREATE TABLE attachment_blobs (
    id {{pk}},
    sha256 TEXT NOT NULL,
    mime TEXT NOT NULL DEFAULT '',
    size BIGINT NOT NULL,
    data TEXT NOT NULL,
    created_at {{ts}} NOT NULL
);
CREATE INDEX attachment_blobs_sha256 ON attachment_blobs (sha256);
